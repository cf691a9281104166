"""A game leaderboard the way Python services build one on a sorted set:
scores posted with ZADD, bumped with ZINCRBY, the top N read with ZREVRANGE
WITHSCORES, a player's position with ZREVRANK/ZRANK, score bands with
ZCOUNT, and a report joined with player hashes through SORT ... BY/GET."""

import pytest


def pairs(result):
    """(member, score) tuples whatever the protocol's pair shape."""
    return [(m.decode(), s) for m, s in result]


def test_leaderboard_flow(r):
    board = "lb:season1"
    assert r.zadd(board, {"alice": 1200, "bob": 950, "carol": 1430, "dave": 950}) == 4
    # Re-posting an unchanged score adds nothing; NX/XX/GT behave as documented.
    assert r.zadd(board, {"alice": 1200}) == 0
    assert r.zadd(board, {"erin": 700}, nx=True) == 1
    assert r.zadd(board, {"erin": 10}, gt=True, ch=True) == 0
    assert r.zadd(board, {"bob": 1000}, xx=True, ch=True) == 1

    # Matches played: increments, including a fractional bonus and a penalty.
    assert r.zincrby(board, 75, "alice") == 1275.0
    assert r.zincrby(board, 12.5, "dave") == 962.5
    assert r.zincrby(board, -200, "carol") == 1230.0
    assert r.zincrby(board, 300, "frank") == 300.0

    assert pairs(r.zrevrange(board, 0, 2, withscores=True)) == [
        ("alice", 1275.0),
        ("carol", 1230.0),
        ("bob", 1000.0),
    ]
    assert pairs(r.zrevrange(board, 3, -1, withscores=True)) == [
        ("dave", 962.5),
        ("erin", 700.0),
        ("frank", 300.0),
    ]
    assert [m.decode() for m in r.zrevrange(board, 0, -1)] == [
        "alice", "carol", "bob", "dave", "erin", "frank",
    ]

    assert r.zrevrank(board, "alice") == 0
    assert r.zrevrank(board, "dave") == 3
    assert r.zrank(board, "frank") == 0
    assert r.zrank(board, "alice") == 5
    assert r.zrevrank(board, "nobody") is None
    assert r.zscore(board, "dave") == 962.5
    assert r.zscore(board, "nobody") is None

    # Score bands: gold >= 1200, silver [900, 1200), the rest.
    assert r.zcount(board, 1200, "+inf") == 2
    assert r.zcount(board, 900, "(1200") == 2
    assert r.zcount(board, "-inf", "(900") == 2
    assert r.zcard(board) == 6

    # Ties: equal scores rank by member name, in both directions.
    r.zadd(board, {"gina": 1000})
    assert [m.decode() for m in r.zrevrange(board, 2, 3)] == ["gina", "bob"]
    assert r.zrank(board, "bob") < r.zrank(board, "gina")

    # A player leaves; the ranks below close up.
    assert r.zrem(board, "carol") == 1
    assert r.zrevrank(board, "gina") == 1

    # Report: the top 3 joined with profile hashes through SORT.
    for name, country in [("alice", "FR"), ("gina", "BR"), ("bob", "JP")]:
        r.hset(f"player:{name}", mapping={"country": country})
    report = r.sort(
        board, by="nosort", desc=True, start=0, num=3,
        get=["#", "player:*->country"],
    )
    assert [x.decode() if x is not None else None for x in report] == [
        "alice", "FR", "gina", "BR", "bob", "JP",
    ]
    # Snapshot the ranking into a list for a season archive.
    assert r.sort(board, by="nosort", desc=True, store="lb:season1:final") == 6
    assert [m.decode() for m in r.lrange("lb:season1:final", 0, -1)] == [
        "alice", "gina", "bob", "dave", "erin", "frank",
    ]


def test_leaderboard_errors(r):
    r.zadd("lb", {"a": 1})
    with pytest.raises(Exception, match="not a valid float"):
        r.zincrby("lb", "many", "a")
    r.set("plain", "x")
    with pytest.raises(Exception, match="WRONGTYPE"):
        r.zadd("plain", {"a": 1})
    with pytest.raises(Exception, match="WRONGTYPE"):
        r.sort("plain")
