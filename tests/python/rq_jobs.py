"""Job functions for test_rq.py: RQ workers import them by dotted name, so
they live in a module of their own."""


def add(a, b):
    return a + b


def divide_by_zero():
    return 1 / 0


def record(key, value, url):
    import redis

    redis.Redis.from_url(url).rpush(key, value)
    return value.upper()
