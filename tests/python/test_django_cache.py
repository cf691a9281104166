"""Django cache backends against the server: Django's built-in
django.core.cache.backends.redis.RedisCache and django-redis.

Notes on what the libraries send:
- set_many (both backends) and django-redis delete_pattern use a redis-py
  pipeline with transaction=True, i.e. MULTI ... EXEC. Those tests carry the
  `transactions` marker (deselect with -m "not transactions"); every other
  test sets its data up with plain set() so it does not depend on MULTI/EXEC.
- django-redis incr/decr and lock() run EVAL/EVALSHA: they are tested in
  test_scripting.py.
"""

import time

import pytest

BOTH = ["django", "django_redis"]


def wait_gone(cache, key, limit=3.0):
    """Poll (bounded) until cache.get(key) is None; returns seconds waited."""
    start = time.monotonic()
    while cache.get(key) is not None and time.monotonic() - start < limit:
        time.sleep(0.1)
    return time.monotonic() - start


@pytest.fixture(params=BOTH)
def cache(request, django_cache_factory):
    return django_cache_factory(request.param)


@pytest.fixture
def dj_cache(django_cache_factory):
    return django_cache_factory("django")


@pytest.fixture
def djr_cache(django_cache_factory):
    return django_cache_factory("django_redis")


def test_set_get_add(cache, raw):
    assert cache.get("missing") is None
    assert cache.get("missing", "dflt") == "dflt"
    cache.set("k", "value")
    assert cache.get("k") == "value"
    cache.set("obj", {"a": [1, 2, 3], "b": b"\x00\xff", "c": None})
    assert cache.get("obj") == {"a": [1, 2, 3], "b": b"\x00\xff", "c": None}
    assert cache.add("k", "other") is False
    assert cache.get("k") == "value"
    assert cache.add("new", "added") is True
    assert cache.get("new") == "added"
    # really stored in the server under Django's key format (prefix:version:key)
    assert raw.exists(":1:k", ":1:obj", ":1:new") == 3
    assert 295 <= raw.ttl(":1:k") <= 300
    # integers are stored unpickled by both backends
    cache.set("n", 42)
    assert raw.get(":1:n") == b"42"
    assert cache.get("n") == 42


def set_each(cache, data, timeout=300):
    for k, v in data.items():
        cache.set(k, v, timeout=timeout)


def test_get_many(cache):
    set_each(cache, {"a": 1, "b": "two", "c": [3]})
    assert cache.get_many(["a", "b", "c", "missing"]) == {"a": 1, "b": "two", "c": [3]}
    assert cache.get_many(["missing"]) == {}


@pytest.mark.transactions
def test_set_many(cache, raw):
    # Django returns the list of failed keys, django-redis returns None
    assert cache.set_many({"a": 1, "b": "two", "c": [3]}) in ([], None)
    assert cache.get_many(["a", "b", "c", "missing"]) == {"a": 1, "b": "two", "c": [3]}
    assert 295 <= raw.ttl(":1:a") <= 300
    cache.set_many({"p": "x"}, timeout=None)
    assert raw.ttl(":1:p") == -1


def test_delete_delete_many_has_key(cache, raw):
    set_each(cache, {"a": 1, "b": 2, "c": 3})
    assert cache.has_key("a") is True
    assert cache.has_key("zzz") is False
    assert cache.delete("a") is True
    assert cache.delete("a") is False
    assert cache.has_key("a") is False
    cache.delete_many(["b", "c", "missing"])
    assert cache.get_many(["b", "c"]) == {}
    assert raw.dbsize() == 0


def test_touch_and_persistent(cache, raw):
    cache.set("k", "v", timeout=None)
    assert raw.ttl(":1:k") == -1
    assert cache.touch("k", 100) is True
    assert 98 <= raw.ttl(":1:k") <= 100
    assert cache.touch("k", None) is True
    assert raw.ttl(":1:k") == -1
    assert cache.touch("missing", 10) is False


def test_timeout_expires_for_real(cache, raw):
    cache.set("short", "v", timeout=1)
    cache.add("short_add", "v", timeout=1)
    cache.set("long", "v", timeout=100)
    assert cache.get("short") == "v"
    waited = wait_gone(cache, "short")
    assert waited < 3.0, "key set with timeout=1 still present after 3s"
    assert cache.get("short_add") is None
    assert cache.has_key("short") is False
    assert cache.get("long") == "v"
    assert raw.exists(":1:short", ":1:short_add") == 0


def test_timeout_zero_means_not_stored(cache):
    cache.set("k", "v")
    cache.set("k", "v2", timeout=0)
    assert cache.get("k") is None


def test_clear(cache, raw):
    set_each(cache, {"a": 1, "b": 2})
    raw.set("not-django", "x")
    cache.clear()
    assert raw.dbsize() == 0
    assert cache.get("a") is None


def test_get_or_set(cache):
    assert cache.get_or_set("k", "first") == "first"
    assert cache.get_or_set("k", "second") == "first"
    assert cache.get_or_set("callable", lambda: 7) == 7
    assert cache.get("callable") == 7


def test_versions_and_prefix(django_cache_factory, raw):
    c = django_cache_factory("django")
    c.set("k", "v1", version=1)
    c.set("k", "v2", version=2)
    assert c.get("k") == "v1"
    assert c.get("k", version=2) == "v2"
    assert c.incr_version("k") == 2  # moves v1 to version 2
    assert c.get("k", version=2) == "v1"
    assert raw.exists(":1:k") == 0 and raw.exists(":2:k") == 1


def test_builtin_incr_decr(dj_cache, raw):
    dj_cache.set("n", 10)
    assert dj_cache.incr("n") == 11
    assert dj_cache.incr("n", 9) == 20
    assert dj_cache.decr("n", 25) == -5
    assert raw.get(":1:n") == b"-5"
    with pytest.raises(ValueError):
        dj_cache.incr("missing")
    assert raw.exists(":1:missing") == 0


# ---------------------------------------------------------------- django-redis only

def test_djr_ttl_expire_persist(djr_cache, raw):
    djr_cache.set("k", "v", timeout=100)
    assert 98 <= djr_cache.ttl("k") <= 100
    assert 98000 <= djr_cache.pttl("k") <= 100000
    assert djr_cache.ttl("missing") == 0
    assert djr_cache.persist("k") is True
    assert djr_cache.ttl("k") is None
    assert raw.ttl(":1:k") == -1
    assert djr_cache.expire("k", 50) is True
    assert 48 <= djr_cache.ttl("k") <= 50
    assert djr_cache.expire("missing", 50) is False
    djr_cache.set("p", "v", timeout=None)
    assert djr_cache.ttl("p") is None


def test_djr_expire_for_real(djr_cache):
    djr_cache.set("k", "v", timeout=None)
    assert djr_cache.expire("k", 1) is True
    assert wait_gone(djr_cache, "k") < 3.0
    assert djr_cache.ttl("k") == 0


def test_djr_keys_iter_keys(djr_cache, raw):
    set_each(djr_cache, {f"user:{i}": i for i in range(40)})
    set_each(djr_cache, {"session:a": 1, "session:b": 2})
    assert sorted(djr_cache.keys("session:*")) == ["session:a", "session:b"]
    assert sorted(djr_cache.keys("user:*")) == sorted(f"user:{i}" for i in range(40))
    assert sorted(djr_cache.iter_keys("user:*", itersize=7)) == sorted(f"user:{i}" for i in range(40))
    assert djr_cache.keys("nothing*") == []
    assert raw.dbsize() == 42


@pytest.mark.transactions
def test_djr_delete_pattern(djr_cache, raw):
    set_each(djr_cache, {f"user:{i}": i for i in range(40)})
    set_each(djr_cache, {"session:a": 1, "session:b": 2})
    assert djr_cache.delete_pattern("user:*") == 40
    assert djr_cache.keys("user:*") == []
    assert raw.dbsize() == 2
    assert djr_cache.delete_pattern("user:*") == 0


def test_djr_set_nx_and_add(djr_cache, raw):
    assert djr_cache.set("k", "v", nx=True) is True
    assert djr_cache.set("k", "v2", nx=True) is False
    assert djr_cache.get("k") == "v"
    assert djr_cache.set("k", "v3", xx=True) is True
    assert djr_cache.get("k") == "v3"
    assert djr_cache.set("absent", "v", xx=True) is False
    assert raw.exists(":1:absent") == 0


def test_djr_delete_many_count(djr_cache):
    set_each(djr_cache, {"a": 1, "b": 2})
    assert djr_cache.delete_many(["a", "b", "c"]) == 2
    assert djr_cache.delete("a") is False


def test_djr_touch_for_real(djr_cache):
    djr_cache.set("k", "v", timeout=None)
    assert djr_cache.touch("k", 1) is True
    assert wait_gone(djr_cache, "k") < 3.0
