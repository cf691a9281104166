"""Deduplication with a Bloom filter through redis-py's `r.bf()` client (the
RedisBloom commands Redis 8 ships): a crawler that must not fetch the same URL
twice reserves a filter, records every URL it fetches, and checks new ones
against it. Replies are asserted exactly; RESP3 answers booleans where RESP2
answers 0/1 (equal in Python) and a map for BF.INFO."""

import pytest
import redis

from conftest import PARSERS, make_client


def info_fields(r, key):
    info = r.bf().info(key)
    if isinstance(info, dict):  # RESP3: the raw map
        return {k.decode(): v for k, v in info.items()}
    return {
        "Capacity": info.capacity,
        "Size": info.size,
        "Number of filters": info.filterNum,
        "Number of items inserted": info.insertedNum,
        "Expansion rate": info.expansionRate,
    }


@pytest.mark.parametrize("proto", PARSERS)
def test_crawler_dedup(server, proto):
    protocol, parser = proto
    r = make_client(server, protocol, parser)
    bf = r.bf()

    assert bf.reserve("seen", 0.001, 1000) is True
    with pytest.raises(redis.ResponseError, match="item exists"):
        bf.reserve("seen", 0.001, 1000)

    frontier = [f"https://example.com/page/{i % 700}" for i in range(1000)]
    fetched = []
    for url in frontier:
        if bf.add("seen", url):
            fetched.append(url)
    # 700 distinct URLs; at 0.1% a false positive may skip at most a couple.
    assert 695 <= len(fetched) <= 700
    assert len(set(fetched)) == len(fetched)
    assert bf.card("seen") == len(fetched)

    # No false negatives: everything fetched is reported seen.
    assert all(v == 1 for v in bf.mexists("seen", *fetched))
    assert bf.exists("seen", fetched[0]) == 1
    new = [f"https://example.org/{i}" for i in range(200)]
    assert sum(bf.mexists("seen", *new)) <= 2

    assert bf.madd("seen", fetched[0], "https://example.org/fresh") == [0, 1]
    assert bf.exists("seen", "https://example.org/fresh") == 1

    info = info_fields(r, "seen")
    assert info["Capacity"] == 1000
    assert info["Number of filters"] == 1
    assert info["Number of items inserted"] == len(fetched) + 1
    assert info["Expansion rate"] == 2
    # 1000 items at 0.0005 need 15820 bits: 1984 bytes, plus headers.
    assert info["Size"] == 48 + 64 + 1984
    assert r.type("seen") == b"MBbloom--"


@pytest.mark.parametrize("proto", PARSERS)
def test_insert_and_errors(server, proto):
    protocol, parser = proto
    r = make_client(server, protocol, parser)
    bf = r.bf()

    # BF.INSERT creates with its options, then only adds.
    assert bf.insert("f", ["a", "b", "a"], capacity=2, error=0.01, noScale=True) == [1, 1, 0]
    res = bf.insert("f", ["c"])
    assert len(res) == 1 and isinstance(res[0], redis.ResponseError)
    assert str(res[0]) == "non scaling filter is full"
    assert info_fields(r, "f")["Expansion rate"] is None
    assert bf.card("f") == 2

    with pytest.raises(redis.ResponseError, match="not found"):
        bf.insert("missing", ["x"], noCreate=True)
    assert r.exists("missing") == 0
    assert bf.exists("missing", "x") == 0
    assert bf.card("missing") == 0
    with pytest.raises(redis.ResponseError, match="not found"):
        bf.info("missing")

    assert bf.insert("g", ["x", "y"], capacity=10, expansion=4) == [1, 1]
    assert info_fields(r, "g")["Expansion rate"] == 4
    with pytest.raises(redis.ResponseError, match="bad error rate"):
        bf.reserve("h", "abc", 10)
    with pytest.raises(redis.ResponseError, match="capacity should be larger than 0"):
        bf.reserve("h", 0.01, 0)

    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        bf.add("s", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.get("g")
