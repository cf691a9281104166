"""redis-py synchronous client: strings, counters, expiry, keys, connection and
server commands, over RESP2 and RESP3 with the pure-Python and hiredis parsers.

Not covered yet (command families the server does not have yet):
- WRONGTYPE errors: need a non-string key, i.e. list/hash/set commands.
- Lua scripting (EVAL/EVALSHA/SCRIPT), lists, hashes, sets, sorted sets.
"""

import time

import pytest
import redis

from conftest import PARSERS, make_client


# --------------------------------------------------------------------------
# strings
# --------------------------------------------------------------------------

def test_parser_and_protocol_in_use(r, request):
    assert r.ping() is True
    conn = r.connection_pool.get_connection("PING")
    try:
        protocol, parser = request.node.callspec.params["r"]
        assert type(conn._parser) is parser
        assert int(conn.protocol) == protocol
    finally:
        r.connection_pool.release(conn)


def test_set_get(r):
    assert r.get("missing") is None
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", "v2") is True
    assert r.get("k") == b"v2"
    assert r.set("empty", "") is True
    assert r.get("empty") == b""
    assert r.strlen("empty") == 0


def test_mset_mget(r):
    assert r.mset({"a": "1", "b": "2", "c": "3"}) is True
    assert r.mget("a", "b", "missing", "c") == [b"1", b"2", None, b"3"]
    assert r.mget(["c", "a"]) == [b"3", b"1"]
    assert r.msetnx({"a": "x", "new": "y"}) is False
    assert r.get("new") is None and r.get("a") == b"1"
    assert r.msetnx({"new": "y", "new2": "z"}) is True
    assert r.mget("new", "new2") == [b"y", b"z"]


def test_incr_decr(r):
    assert r.incr("n") == 1
    assert r.incr("n") == 2
    assert r.incrby("n", 10) == 12
    assert r.incr("n", -20) == -8
    assert r.decr("n") == -9
    assert r.decrby("n", 11) == -20
    assert r.get("n") == b"-20"
    r.set("big", "9223372036854775806")
    assert r.incr("big") == 9223372036854775807
    with pytest.raises(redis.ResponseError) as e:
        r.incr("big")
    assert str(e.value) == "increment or decrement would overflow"
    assert r.get("big") == b"9223372036854775807"


def test_incr_errors(r):
    r.set("s", "abc")
    with pytest.raises(redis.ResponseError) as e:
        r.incr("s")
    assert str(e.value) == "value is not an integer or out of range"
    r.set("sp", " 1")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.incr("sp")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.incrby("n", "1.5")
    r.set("f", "1.5")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.incr("f")
    assert r.get("s") == b"abc"


def test_incrbyfloat(r):
    assert r.incrbyfloat("f", 1.5) == 1.5
    assert r.incrbyfloat("f", 2.25) == 3.75
    assert r.get("f") == b"3.75"
    assert r.incrbyfloat("f", -3.75) == 0
    assert r.get("f") == b"0"
    r.set("i", "10")
    assert r.incrbyfloat("i", 0.1) == pytest.approx(10.1)
    assert r.get("i") == b"10.1"
    r.set("e", "5.0e3")
    assert r.incrbyfloat("e", 200) == 5200
    assert r.get("e") == b"5200"
    r.set("s", "abc")
    with pytest.raises(redis.ResponseError) as e:
        r.incrbyfloat("s", 1)
    assert str(e.value) == "value is not a valid float"


def test_append_strlen_getrange_setrange(r):
    assert r.append("s", "Hello") == 5
    assert r.append("s", " World") == 11
    assert r.get("s") == b"Hello World"
    assert r.strlen("s") == 11
    assert r.strlen("missing") == 0
    assert r.getrange("s", 0, 4) == b"Hello"
    assert r.getrange("s", -5, -1) == b"World"
    assert r.getrange("s", 6, 1000) == b"World"
    assert r.getrange("s", 5, 3) == b""
    assert r.getrange("missing", 0, -1) == b""
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == b"Hello Redis"
    assert r.setrange("pad", 5, "x") == 6
    assert r.get("pad") == b"\x00\x00\x00\x00\x00x"
    with pytest.raises(redis.ResponseError, match="^offset is out of range$"):
        r.setrange("s", -1, "x")


def test_setnx_setex_psetex(r):
    assert r.setnx("k", "1") is True
    assert r.setnx("k", "2") is False
    assert r.get("k") == b"1"
    assert r.setex("ex", 100, "v") is True
    assert 98 <= r.ttl("ex") <= 100
    assert r.psetex("pex", 100000, "v") is True
    assert 98000 <= r.pttl("pex") <= 100000
    assert r.get("pex") == b"v"
    with pytest.raises(redis.ResponseError) as e:
        r.setex("bad", 0, "v")
    assert str(e.value) == "invalid expire time in 'setex' command"
    with pytest.raises(redis.ResponseError) as e:
        r.psetex("bad", -5, "v")
    assert str(e.value) == "invalid expire time in 'psetex' command"
    assert r.exists("bad") == 0


def test_getset_getdel_getex(r):
    assert r.getset("k", "a") is None
    assert r.getset("k", "b") == b"a"
    assert r.get("k") == b"b"
    assert r.getdel("k") == b"b"
    assert r.exists("k") == 0
    assert r.getdel("k") is None
    r.set("g", "v")
    assert r.getex("g", ex=100) == b"v"
    assert 98 <= r.ttl("g") <= 100
    assert r.getex("g", px=50000) == b"v"
    assert 48000 <= r.pttl("g") <= 50000
    assert r.getex("g", persist=True) == b"v"
    assert r.ttl("g") == -1
    assert r.getex("g") == b"v"
    assert r.getex("missing", ex=10) is None
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'getex' command$"):
        r.getex("g", ex=0)
    # setting a ttl with an absolute unix time
    assert r.getex("g", exat=int(time.time()) + 100) == b"v"
    assert 98 <= r.ttl("g") <= 100


def test_set_options(r):
    assert r.set("k", "v", ex=100) is True
    assert 98 <= r.ttl("k") <= 100
    assert r.set("k", "v", px=200000) is True
    assert 198000 <= r.pttl("k") <= 200000
    assert r.set("k", "v2", keepttl=True) is True
    assert r.get("k") == b"v2"
    assert 198000 <= r.pttl("k") <= 200000
    assert r.set("k", "v3") is True
    assert r.ttl("k") == -1  # plain SET clears the TTL
    assert r.set("k", "nx", nx=True) is None
    assert r.get("k") == b"v3"
    assert r.set("new", "xx", xx=True) is None
    assert r.exists("new") == 0
    assert r.set("new", "nx", nx=True) is True
    assert r.set("new", "xx", xx=True) is True
    assert r.get("new") == b"xx"
    assert r.set("new", "with-get", get=True) == b"xx"
    assert r.set("absent", "with-get", get=True) is None
    assert r.get("absent") == b"with-get"
    assert r.set("k", "v", exat=int(time.time()) + 50) is True
    assert 48 <= r.ttl("k") <= 50
    assert r.set("k", "v", pxat=int(time.time() * 1000) + 50000) is True
    assert 48000 <= r.pttl("k") <= 50000


def test_set_option_errors(r):
    with pytest.raises(redis.ResponseError) as e:
        r.set("k", "v", nx=True, xx=True)
    assert str(e.value) == "syntax error"
    with pytest.raises(redis.ResponseError) as e:
        r.set("k", "v", ex=0)
    assert str(e.value) == "invalid expire time in 'set' command"
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("SET", "k", "v", "EX", "10", "KEEPTTL")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("SET", "k", "v", "EX", "ten")
    assert r.exists("k") == 0


def test_binary_safe_values(r):
    blob = bytes(range(256)) + b"\x00\r\n\xff\x00"
    key = b"bin\x00key\xff\r\n"
    assert r.set(key, blob) is True
    assert r.get(key) == blob
    assert r.strlen(key) == len(blob)
    assert r.append(key, b"\x00\xff") == len(blob) + 2
    assert r.get(key) == blob + b"\x00\xff"
    assert r.getrange(key, 0, 2) == b"\x00\x01\x02"
    assert r.exists(key) == 1
    assert r.exists(b"bin") == 0
    assert key in r.keys("bin*")
    big = b"\xff\x00" * 300_000  # 600 kB, larger than any single read buffer
    assert r.set("big", big) is True
    assert r.get("big") == big


# --------------------------------------------------------------------------
# expiry
# --------------------------------------------------------------------------

def test_expire_ttl_persist(r):
    assert r.ttl("missing") == -2
    assert r.pttl("missing") == -2
    assert r.expire("missing", 10) is False
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.pttl("k") == -1
    assert r.expire("k", 100) is True
    assert 98 <= r.ttl("k") <= 100
    assert r.pexpire("k", 50000) is True
    assert 48000 <= r.pttl("k") <= 50000
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert r.ttl("k") == -1
    assert r.expireat("k", int(time.time()) + 100) is True
    assert 98 <= r.ttl("k") <= 100
    assert r.pexpireat("k", int(time.time() * 1000) + 100000) is True
    assert 98 <= r.ttl("k") <= 100
    # expiring in the past deletes the key
    assert r.expireat("k", int(time.time()) - 10) is True
    assert r.exists("k") == 0
    r.set("k2", "v")
    assert r.expire("k2", -1) is True
    assert r.get("k2") is None


def test_key_with_ttl_disappears(r):
    r.set("short", "v", ex=1)
    r.set("shortpx", "v", px=300)
    r.set("long", "v", ex=100)
    r.set("forever", "v")
    assert r.get("short") == b"v"
    assert 0 < r.pttl("short") <= 1000
    deadline = time.monotonic() + 3.0
    while r.exists("short") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert time.monotonic() < deadline, "key with 1s TTL still exists after 3s"
    assert r.get("short") is None
    assert r.get("shortpx") is None
    assert r.ttl("short") == -2
    assert r.get("long") == b"v"
    assert r.get("forever") == b"v"
    assert r.dbsize() == 2


def test_expired_keys_are_actively_removed(r):
    # keys never touched again must still be reclaimed (active expire cycle)
    for i in range(50):
        r.set(f"tmp:{i}", "v", px=100)
    r.set("keep", "v")
    deadline = time.monotonic() + 3.0
    while r.dbsize() > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert r.dbsize() == 1
    assert r.keys("*") == [b"keep"]


# --------------------------------------------------------------------------
# keyspace
# --------------------------------------------------------------------------

def test_exists_delete_unlink_type(r):
    r.mset({"a": "1", "b": "2", "c": "3"})
    assert r.exists("a") == 1
    assert r.exists("a", "b", "missing", "a") == 3
    assert r.type("a") == b"string"
    assert r.type("missing") == b"none"
    assert r.delete("a", "missing") == 1
    assert r.delete("a") == 0
    assert r.unlink("b", "c", "missing") == 2
    assert r.dbsize() == 0


def test_rename_renamenx_copy(r):
    r.set("a", "1", ex=100)
    assert r.rename("a", "b") is True
    assert r.exists("a") == 0
    assert r.get("b") == b"1"
    assert 98 <= r.ttl("b") <= 100  # TTL travels with RENAME
    with pytest.raises(redis.ResponseError) as e:
        r.rename("missing", "x")
    assert str(e.value) == "no such key"
    r.set("c", "3")
    assert r.renamenx("b", "c") is False
    assert r.get("c") == b"3" and r.get("b") == b"1"
    assert r.renamenx("b", "d") is True
    assert r.get("d") == b"1"
    assert r.copy("d", "e") is True
    assert r.get("e") == b"1"
    assert 98 <= r.ttl("e") <= 100
    assert r.copy("d", "c") is False
    assert r.get("c") == b"3"
    assert r.copy("d", "c", replace=True) is True
    assert r.get("c") == b"1"
    assert r.copy("d", "d2", destination_db=1) is True
    assert r.exists("d2") == 0
    r.execute_command("SELECT", 1)
    assert r.get("d2") == b"1"


def test_keys_and_scan_iter(r):
    names = {f"user:{i}".encode() for i in range(300)}
    r.mset({n: "x" for n in names})
    r.mset({"other:1": "y", "u?er": "z"})
    assert set(r.keys("user:*")) == names
    assert set(r.keys("*")) == names | {b"other:1", b"u?er"}
    assert set(r.keys("user:1?")) == {f"user:1{i}".encode() for i in range(10)}
    assert set(r.keys("user:[12]")) == {b"user:1", b"user:2"}
    assert r.keys("u\\?er") == [b"u?er"]
    assert r.keys("nomatch*") == []
    # SCAN may return an element more than once, but must return every key
    scanned = list(r.scan_iter(match="user:*", count=17))
    assert set(scanned) == names
    assert set(r.scan_iter()) == names | {b"other:1", b"u?er"}
    cursor, batch = r.scan(0, match="other:*", count=1000)
    assert cursor == 0 and batch == [b"other:1"]
    assert set(r.scan_iter(_type="string")) == names | {b"other:1", b"u?er"}


def test_dbsize_flushdb_select(r, server):
    r.mset({"a": "1", "b": "2"})
    assert r.dbsize() == 2
    other = redis.Redis(host=server.host, port=server.port, db=3)
    try:
        assert other.dbsize() == 0
        other.set("a", "db3")
        assert other.get("a") == b"db3"
        assert r.get("a") == b"1"
        assert r.flushdb() is True
        assert r.dbsize() == 0
        assert other.get("a") == b"db3"  # FLUSHDB only touches the selected db
        assert other.flushall() is True
        assert other.dbsize() == 0
    finally:
        other.close()
    assert r.execute_command("SELECT", 15) in (True, b"OK", "OK")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("SELECT", 16)
    assert str(e.value) == "DB index is out of range"


def test_pipeline_1000_commands(r):
    with r.pipeline(transaction=False) as p:
        for i in range(500):
            p.set(f"k{i}", i)
        for i in range(500):
            p.incr(f"k{i}")
        results = p.execute()
    assert len(results) == 1000
    assert results[:500] == [True] * 500
    assert results[500:] == list(range(1, 501))
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.get(f"k{i}")
        got = p.execute()
    assert got[:500] == [str(i + 1).encode() for i in range(500)]
    assert got[500:] == [None] * 500


def test_pipeline_errors_are_per_command(r):
    r.set("s", "abc")
    with r.pipeline(transaction=False) as p:
        p.set("a", "1")
        p.incr("s")
        p.get("a")
        results = p.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], redis.ResponseError)
    assert "value is not an integer or out of range" in str(results[1])
    assert results[2] == b"1"


def test_generic_errors(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("FOOBAR", "a", "b")
    assert str(e.value) == "unknown command 'FOOBAR', with args beginning with: 'a' 'b' "
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("GET")
    assert str(e.value) == "wrong number of arguments for 'get' command"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("SET", "k")
    assert str(e.value) == "wrong number of arguments for 'set' command"
    # the connection is still usable after errors
    assert r.ping() is True


# --------------------------------------------------------------------------
# connection / server
# --------------------------------------------------------------------------

def test_ping_echo(r):
    assert r.ping() is True
    assert r.echo("hello") == b"hello"
    assert r.echo(b"\x00\xff") == b"\x00\xff"
    # redis-py maps PING replies to (reply == "PONG"): PING <msg> must echo msg
    assert r.execute_command("PING", "msg") is False
    assert r.execute_command("PING", "PONG") is True


def test_client_setname_getname_id_list(r):
    assert r.client_getname() is None
    assert r.client_setname("pytest-conn") is True
    assert r.client_getname() == b"pytest-conn" or r.client_getname() == "pytest-conn"
    cid = r.client_id()
    assert isinstance(cid, int) and cid > 0
    assert r.client_id() == cid  # same pooled connection
    clients = r.client_list()
    assert isinstance(clients, list) and clients
    mine = [c for c in clients if int(c["id"]) == cid]
    assert len(mine) == 1
    assert mine[0]["name"] == "pytest-conn"
    assert mine[0]["addr"].startswith("127.0.0.1:")
    assert mine[0]["cmd"] in ("client|list", "client")
    with pytest.raises(redis.ResponseError):
        r.client_setname("has space")


def test_client_id_differs_between_connections(server):
    a = redis.Redis(host=server.host, port=server.port)
    b = redis.Redis(host=server.host, port=server.port)
    try:
        ida, idb = a.client_id(), b.client_id()
        assert ida != idb
        ids = {int(c["id"]) for c in a.client_list()}
        assert {ida, idb} <= ids
    finally:
        a.close()
        b.close()


def test_info(r):
    info = r.info()
    assert isinstance(info, dict)
    assert str(info["redis_version"]).startswith("7.")
    assert "connected_clients" in info and int(info["connected_clients"]) >= 1
    assert "used_memory" in info
    assert int(info["tcp_port"]) == r.connection_pool.connection_kwargs["port"]
    r.mset({"a": "1", "b": "2"})
    r.set("c", "3", ex=100)
    ks = r.info("keyspace")
    assert ks["db0"]["keys"] == 3
    assert ks["db0"]["expires"] == 1
    server = r.info("server")
    assert "redis_version" in server and "used_memory" not in server


def test_time(r):
    secs, micros = r.time()
    assert isinstance(secs, int) and isinstance(micros, int)
    assert abs(secs + micros / 1e6 - time.time()) < 5
    assert 0 <= micros < 1_000_000


def test_select_db_isolation(server):
    for protocol, parser in [p.values[0] for p in PARSERS]:
        c = make_client(server, protocol, parser, db=2)
        try:
            c.set("k", f"{protocol}")
            assert c.get("k") == f"{protocol}".encode()
        finally:
            c.close()
    d0 = redis.Redis(host=server.host, port=server.port)
    try:
        assert d0.get("k") is None
        assert d0.dbsize() == 0
        d0.execute_command("SELECT", 2)
        assert d0.get("k") in (b"2", b"3")
    finally:
        d0.close()


def test_decode_responses(server):
    c = redis.Redis(host=server.host, port=server.port, decode_responses=True, protocol=3)
    try:
        c.set("ключ", "значение")
        assert c.get("ключ") == "значение"
        assert c.strlen("ключ") == len("значение".encode())
        assert c.keys("*") == ["ключ"]
    finally:
        c.close()
