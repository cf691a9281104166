"""Lua scripting through real client libraries: redis-py's Lock and
register_script, python-redis-lock, and django-redis lock() and incr()
(both run EVAL/EVALSHA)."""

import threading
import time

import pytest
import redis
import redis_lock
from redis.exceptions import LockError, LockNotOwnedError, NoScriptError, ResponseError


def test_register_script_loads_once_then_uses_evalsha(r):
    r.script_flush()
    add = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert add(keys=["n"], args=[5]) == 5
    assert r.script_exists(add.sha) == [True]
    assert add(keys=["n"], args=[2]) == 7
    r.script_flush()
    # The Script object reloads the script after NOSCRIPT.
    assert add(keys=["n"], args=[1]) == 8
    with pytest.raises(NoScriptError):
        r.evalsha("0" * 40, 0)


def test_script_errors_reach_the_client(r):
    r.set("s", "text")
    with pytest.raises(ResponseError, match="value is not an integer"):
        r.eval("return redis.call('incr', KEYS[1])", 1, "s")
    # pcall returns the error table, which the script passes on as an error reply.
    with pytest.raises(ResponseError, match="value is not an integer"):
        r.eval("return redis.pcall('incr', KEYS[1])", 1, "s")
    with pytest.raises(ResponseError, match="nonexistent global variable 'x'"):
        r.eval("return x", 0)


def test_script_return_types(r):
    assert r.eval("return {1, 'two', {3}}", 0) == [1, b"two", [3]]
    assert r.eval("return 3.9", 0) == 3
    assert r.eval("return false", 0) is None
    assert r.eval("return redis.status_reply('FINE')", 0) in (b"FINE", "FINE")


def test_redis_py_lock_acquire_extend_release(r):
    lock = r.lock("res", timeout=5)
    assert lock.acquire(blocking=False)
    assert lock.owned()
    other = r.lock("res", timeout=5)
    assert not other.acquire(blocking=False)
    assert lock.extend(10)
    assert 5000 < r.pttl("res") <= 15000
    assert lock.reacquire()
    # reacquire resets the TTL to the lock's own timeout.
    assert 4000 < r.pttl("res") <= 5000
    lock.release()
    assert r.get("res") is None
    assert other.acquire(blocking=False)
    other.release()


def test_redis_py_lock_blocking_acquire_with_timeout(r):
    holder = r.lock("res", timeout=0.5)
    assert holder.acquire()
    waiter = r.lock("res", timeout=5, blocking_timeout=0.1)
    start = time.monotonic()
    assert not waiter.acquire()
    assert time.monotonic() - start < 2
    # Once the holder's lock expires the waiter gets it.
    waiter = r.lock("res", timeout=5, sleep=0.05, blocking_timeout=3)
    assert waiter.acquire()
    waiter.release()


def test_redis_py_lock_release_by_wrong_token_fails(r):
    lock = r.lock("res", timeout=5)
    assert lock.acquire(blocking=False)
    r.set("res", "someone-else", px=5000)
    with pytest.raises(LockNotOwnedError):
        lock.extend(5)
    with pytest.raises(LockNotOwnedError):
        lock.release()
    assert r.get("res") == b"someone-else"
    with pytest.raises(LockError):
        r.lock("never-acquired").release()


def test_redis_py_lock_mutual_exclusion_across_threads(raw):
    counter = {"n": 0, "inside": 0, "overlap": False}

    def worker():
        for _ in range(20):
            with raw.lock("mutex", timeout=5, sleep=0.005):
                counter["inside"] += 1
                if counter["inside"] != 1:
                    counter["overlap"] = True
                counter["n"] += 1
                counter["inside"] -= 1

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter["n"] == 80
    assert not counter["overlap"]


def test_python_redis_lock(raw):
    lock = redis_lock.Lock(raw, "job", expire=5)
    assert lock.acquire(blocking=False)
    assert lock.locked()
    other = redis_lock.Lock(raw, "job", expire=5)
    assert not other.acquire(blocking=False)
    lock.extend(expire=10)
    assert 5 < raw.ttl("lock:job") <= 10
    lock.release()
    assert not lock.locked()
    assert other.acquire(blocking=False)
    with pytest.raises(redis_lock.NotAcquired):
        redis_lock.Lock(raw, "job", id=b"intruder").release()
    other.release()


def test_python_redis_lock_wakes_a_blocked_waiter(raw, server):
    import redis as redis_mod

    holder = redis_lock.Lock(raw, "job", expire=10)
    assert holder.acquire()
    got = {}

    def wait():
        c = redis_mod.Redis(host=server.host, port=server.port)
        l2 = redis_lock.Lock(c, "job", expire=10)
        start = time.monotonic()
        got["ok"] = l2.acquire(timeout=5)
        got["waited"] = time.monotonic() - start
        l2.release()
        c.close()

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.3)
    # release() runs a script that LPUSHes the signal key the waiter BLPOPs.
    holder.release()
    t.join(10)
    assert got["ok"]
    assert got["waited"] < 4


def test_python_redis_lock_reset_all(raw):
    a = redis_lock.Lock(raw, "a", expire=5)
    b = redis_lock.Lock(raw, "b", expire=5)
    assert a.acquire() and b.acquire()
    redis_lock.reset_all(raw)
    assert not a.locked() and not b.locked()


def test_django_redis_lock_and_incr(django_cache_factory):
    cache = django_cache_factory("django_redis")
    cache.set("counter", 10)
    assert cache.incr("counter") == 11
    assert cache.incr("counter", 5) == 16
    assert cache.decr("counter", 6) == 10
    with pytest.raises(ValueError):
        cache.incr("missing")
    lock = cache.lock("dj-lock", timeout=5)
    assert lock.acquire(blocking=False)
    assert not cache.lock("dj-lock", timeout=5).acquire(blocking=False)
    lock.release()
    with cache.lock("dj-lock", timeout=5):
        assert cache.get("counter") == 10
