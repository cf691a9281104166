"""redis.asyncio client over RESP2 and RESP3, pure-Python and hiredis parsers:
a subset of the sync tests, plus concurrent use of several connections.

Not covered yet (command families the server does not have yet): Lua
scripting, lists, hashes, sets, pub/sub.
"""

import asyncio
import time

import pytest
import redis
import redis.asyncio

from conftest import ASYNC_PARSERS, make_async_client


@pytest.fixture(params=ASYNC_PARSERS)
async def ar(request, server):
    protocol, parser = request.param
    client = make_async_client(server, protocol, parser)
    yield client
    await client.aclose()
    await client.connection_pool.disconnect()


async def test_parser_in_use(ar, request):
    assert await ar.ping() is True
    conn = await ar.connection_pool.get_connection("PING")
    try:
        protocol, parser = request.node.callspec.params["ar"]
        assert type(conn._parser) is parser
        assert int(conn.protocol) == protocol
    finally:
        await ar.connection_pool.release(conn)


async def test_strings_and_counters(ar):
    assert await ar.set("k", "v") is True
    assert await ar.get("k") == b"v"
    assert await ar.get("missing") is None
    assert await ar.mset({"a": "1", "b": b"\x00\xff"}) is True
    assert await ar.mget("a", "b", "missing") == [b"1", b"\x00\xff", None]
    assert await ar.incr("n") == 1
    assert await ar.incrby("n", 41) == 42
    assert await ar.decr("n") == 41
    assert await ar.incrbyfloat("n", 0.5) == 41.5
    assert await ar.append("k", "w") == 2
    assert await ar.strlen("k") == 2
    assert await ar.getrange("k", 1, 1) == b"w"
    assert await ar.setnx("k", "x") is False
    assert await ar.getset("k", "new") == b"vw"
    assert await ar.getdel("k") == b"new"
    assert await ar.exists("k") == 0
    assert await ar.set("k", "v", nx=True, get=True) is None
    assert await ar.set("k", "v2", xx=True, get=True) == b"v"


async def test_errors(ar):
    await ar.set("s", "abc")
    with pytest.raises(redis.ResponseError) as e:
        await ar.incr("s")
    assert str(e.value) == "value is not an integer or out of range"
    with pytest.raises(redis.ResponseError) as e:
        await ar.rename("missing", "x")
    assert str(e.value) == "no such key"
    assert await ar.ping() is True


async def test_expiry(ar):
    assert await ar.set("k", "v", ex=100) is True
    assert 98 <= await ar.ttl("k") <= 100
    assert await ar.pexpire("k", 5000) is True
    assert 4000 <= await ar.pttl("k") <= 5000
    assert await ar.persist("k") is True
    assert await ar.ttl("k") == -1
    await ar.set("short", "v", px=1000)
    await asyncio.sleep(1.2)
    assert await ar.get("short") is None
    assert await ar.exists("short") == 0
    assert await ar.get("k") == b"v"


async def test_keys_scan_type_rename(ar):
    await ar.mset({f"k:{i}": i for i in range(50)})
    assert len(await ar.keys("k:*")) == 50
    seen = [k async for k in ar.scan_iter(match="k:*", count=7)]
    assert sorted(seen) == sorted(f"k:{i}".encode() for i in range(50))
    assert await ar.type("k:1") == b"string"
    assert await ar.rename("k:1", "renamed") is True
    assert await ar.get("renamed") == b"1"
    assert await ar.dbsize() == 50
    assert await ar.delete("renamed", "k:2") == 2
    assert await ar.flushdb() is True
    assert await ar.dbsize() == 0


async def test_pipeline_1000(ar):
    async with ar.pipeline(transaction=False) as p:
        for i in range(1000):
            p.set(f"p{i}", i)
        res = await p.execute()
    assert res == [True] * 1000
    async with ar.pipeline(transaction=False) as p:
        for i in range(1000):
            p.incrby(f"p{i}", i)
        res = await p.execute()
    assert res == [2 * i for i in range(1000)]


async def test_concurrent_clients(ar):
    # 20 concurrent tasks share the pool (several connections at once)
    async def worker(n):
        for _ in range(50):
            await ar.incr("counter")
        await ar.set(f"w{n}", n)

    await asyncio.wait_for(asyncio.gather(*(worker(n) for n in range(20))), timeout=30)
    assert await ar.get("counter") == b"1000"
    assert await ar.mget(*(f"w{n}" for n in range(20))) == [str(n).encode() for n in range(20)]


async def test_connection_and_server(ar):
    assert await ar.echo("hi") == b"hi"
    assert await ar.client_setname("async-conn") is True
    assert await ar.client_getname() in (b"async-conn", "async-conn")
    cid = await ar.client_id()
    assert cid > 0
    clients = await ar.client_list()
    assert any(int(c["id"]) == cid and c["name"] == "async-conn" for c in clients)
    info = await ar.info()
    assert str(info["redis_version"]).startswith("7.")
    secs, micros = await ar.time()
    assert abs(secs + micros / 1e6 - time.time()) < 5
    await ar.execute_command("SELECT", 5)
    await ar.set("in5", "x")
    await ar.execute_command("SELECT", 0)
    assert await ar.get("in5") is None
