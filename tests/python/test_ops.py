"""Sharded pub/sub, MONITOR and SLOWLOG through redis-py: ssubscribe() and
get_sharded_message(), r.monitor(), slowlog_get().
"""

import threading
import time

import pytest
import redis

from conftest import PARSERS, make_client


@pytest.fixture(params=PARSERS)
def r(request, server):
    protocol, parser = request.param
    if parser is redis.connection._RESP3Parser:
        # Same redis-py 5.2.1 bug as in test_pubsub.py (pushes are lost).
        pytest.skip("redis-py's pure-Python RESP3 parser loses pub/sub pushes")
    client = make_client(server, protocol, parser)
    yield client
    client.close()


def next_sharded(p, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_sharded_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no sharded message")


def test_ssubscribe_and_get_sharded_message(r):
    p = r.pubsub()
    p.ssubscribe("orders")
    confirm = next_sharded(p)
    assert confirm["type"] == "ssubscribe"
    assert confirm["channel"] == b"orders"
    assert r.pubsub_shardnumsub("orders") == [(b"orders", 1)]
    assert r.pubsub_shardchannels() == [b"orders"]
    # Plain PUBLISH on the same name is another namespace.
    assert r.publish("orders", "plain") == 0
    assert r.spublish("orders", "o1") == 1
    m = next_sharded(p)
    assert m["type"] == "smessage"
    assert (m["channel"], m["data"]) == (b"orders", b"o1")
    p.sunsubscribe("orders")
    assert next_sharded(p)["type"] == "sunsubscribe"
    assert r.pubsub_shardnumsub("orders") == [(b"orders", 0)]
    p.close()


def test_sharded_message_handler(r):
    got = []
    p = r.pubsub()
    p.ssubscribe(**{"jobs": lambda m: got.append(m["data"])})
    next_sharded(p)
    for i in range(3):
        r.spublish("jobs", str(i))
    deadline = time.monotonic() + 5
    while len(got) < 3 and time.monotonic() < deadline:
        p.get_sharded_message(timeout=0.1)
    assert got == [b"0", b"1", b"2"]
    p.close()


def test_monitor_sees_commands(server):
    r = redis.Redis(host=server.host, port=server.port)
    seen = []
    ready = threading.Event()

    def watch():
        with r.monitor() as m:
            ready.set()
            for cmd in m.listen():
                seen.append(cmd)
                if cmd["command"] == "GET done":
                    return

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    assert ready.wait(5)
    # MONITOR is attached once the server replied OK to it.
    time.sleep(0.2)
    other = redis.Redis(host=server.host, port=server.port)
    other.set("k", "a b")
    other.eval("return redis.call('get', KEYS[1])", 1, "k")
    other.get("done")
    t.join(5)
    commands = [c["command"] for c in seen]
    assert "SET k a b" in commands
    assert "EVAL return redis.call('get', KEYS[1]) 1 k" in commands
    lua = [c for c in seen if c["client_type"] == "lua"]
    assert [c["command"] for c in lua] == ["get k"]
    client = [c for c in seen if c["command"] == "SET k a b"][0]
    assert client["db"] == 0 and client["client_type"] == "tcp"
    assert abs(client["time"] - time.time()) < 60


def test_slowlog(server):
    r = redis.Redis(host=server.host, port=server.port)
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    r.client_setname("py")
    r.set("x", "y")
    log = r.slowlog_get(2)
    assert [e["command"] for e in log] == [b"SET x y", b"CLIENT SETNAME py"]
    assert log[0]["client_name"] == b"py"
    assert log[0]["duration"] >= 0
    assert r.slowlog_len() >= 2
