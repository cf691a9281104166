"""Django sessions stored in the cache (SESSION_ENGINE =
"django.contrib.sessions.backends.cache"), with both Redis cache backends."""

import time

import pytest

KEY_PREFIX = ":1:django.contrib.sessions.cache"


@pytest.fixture(params=["django", "django_redis"])
def SessionStore(request, django_cache_factory):
    django_cache_factory(request.param)
    from django.contrib.sessions.backends.cache import SessionStore

    return SessionStore


def test_session_lifecycle(SessionStore, raw):
    s = SessionStore()
    s["user_id"] = 42
    s["cart"] = ["apple", "pear"]
    s.save()
    key = s.session_key
    assert key and len(key) == 32
    # it lives in the server, with Django's default 2-week expiry
    assert raw.exists(KEY_PREFIX + key) == 1
    assert 1209590 <= raw.ttl(KEY_PREFIX + key) <= 1209600

    loaded = SessionStore(session_key=key)
    assert loaded["user_id"] == 42
    assert loaded["cart"] == ["apple", "pear"]
    assert loaded.exists(key) is True

    loaded["user_id"] = 43
    del loaded["cart"]
    loaded.save()
    again = SessionStore(session_key=key)
    assert again["user_id"] == 43
    assert "cart" not in again

    again.flush()
    assert again.session_key is None
    assert raw.exists(KEY_PREFIX + key) == 0
    assert SessionStore(session_key=key).load() == {}
    assert SessionStore().exists(key) is False


def test_session_create_delete_cycle_key(SessionStore, raw):
    s = SessionStore()
    s.create()
    first = s.session_key
    assert raw.exists(KEY_PREFIX + first) == 1
    s["x"] = 1
    s.cycle_key()
    second = s.session_key
    assert second != first
    assert raw.exists(KEY_PREFIX + first) == 0
    assert raw.exists(KEY_PREFIX + second) == 1
    assert SessionStore(session_key=second)["x"] == 1
    s.delete()
    assert raw.exists(KEY_PREFIX + second) == 0
    assert raw.dbsize() == 0


def test_session_expiry_for_real(SessionStore, raw):
    s = SessionStore()
    s["v"] = "soon gone"
    s.set_expiry(1)
    s.save()
    key = s.session_key
    assert 0 < raw.pttl(KEY_PREFIX + key) <= 1000
    deadline = time.monotonic() + 3.0
    while raw.exists(KEY_PREFIX + key) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert raw.exists(KEY_PREFIX + key) == 0
    assert SessionStore(session_key=key).load() == {}


def test_unknown_session_key_gets_new_key(SessionStore, raw):
    s = SessionStore(session_key="x" * 32)
    assert s.load() == {}
    s["a"] = 1
    s.save()
    assert s.session_key != "x" * 32
    assert raw.exists(KEY_PREFIX + s.session_key) == 1
    assert raw.exists(KEY_PREFIX + "x" * 32) == 0
