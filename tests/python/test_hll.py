"""Unique visitors the way web analytics count them with HyperLogLog:
PFADD every visitor id per page and day, PFCOUNT per page/day, PFCOUNT over
several days and PFMERGE into a weekly key. Estimates must be within 3
standard errors (3 * 0.81%) of the exact counts, small counts exact, and every
reply -- and the sketches' raw bytes -- identical to what a real Redis 7.0
answers to the same calls ($RUSSET_REFERENCE_SERVER, default redis-server)."""

import os
import random
import shutil

import pytest

from conftest import PARSERS, make_client, start_server

TOLERANCE = 3 * 1.04 / 16384 ** 0.5
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# page -> (visitor pool size, visits per day)
PAGES = {"home": (60_000, 12_000), "pricing": (3_000, 900), "careers": (40, 6)}


@pytest.fixture
def reference():
    """A real redis-server answering the same calls."""
    name = os.environ.get("RUSSET_REFERENCE_SERVER", "redis-server")
    binary = shutil.which(name)
    if binary is None:
        pytest.fail(f"reference server {name} not found (apt-get install redis-server)")
    srv = start_server(binary=binary)
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(srv.dir, ignore_errors=True)


def visits():
    """Deterministic traffic: (page, day) -> list of visitor ids (with repeats)."""
    rnd = random.Random(2026)
    out = {}
    for page, (pool, per_day) in PAGES.items():
        for day in DAYS:
            out[page, day] = [f"visitor:{rnd.randrange(pool)}" for _ in range(per_day)]
    return out


def record(r, traffic):
    """PFADD in batches through a pipeline, as a tracking endpoint would;
    returns the PFADD replies."""
    pipe = r.pipeline(transaction=False)
    for (page, day), ids in traffic.items():
        for i in range(0, len(ids), 250):
            pipe.pfadd(f"visits:{page}:{day}", *ids[i : i + 250])
    return pipe.execute()


def assert_close(estimate, exact):
    assert abs(estimate - exact) <= TOLERANCE * exact, (estimate, exact)


@pytest.mark.parametrize("proto", PARSERS)
def test_unique_visitors_per_day_and_week(server, reference, proto):
    protocol, parser = proto
    ours = make_client(server, protocol, parser)
    theirs = make_client(reference, protocol, parser)
    traffic = visits()
    assert record(ours, traffic) == record(theirs, traffic)

    for page in PAGES:
        day_keys = [f"visits:{page}:{d}" for d in DAYS]
        for day, key in zip(DAYS, day_keys):
            exact = len(set(traffic[page, day]))
            count = ours.pfcount(key)
            assert count == theirs.pfcount(key)
            assert_close(count, exact)
            if exact < 100:
                # Few registers set: the estimate is the exact count.
                assert count == exact
            # PFCOUNT stored its result in the sketch: same bytes as Redis.
            assert ours.get(key) == theirs.get(key)

        week = set().union(*(traffic[page, d] for d in DAYS))
        union = ours.pfcount(*day_keys)
        assert union == theirs.pfcount(*day_keys)
        assert_close(union, len(week))

        for r in (ours, theirs):
            assert r.pfmerge(f"visits:{page}:week", *day_keys)
        assert ours.get(f"visits:{page}:week") == theirs.get(f"visits:{page}:week")
        assert ours.pfcount(f"visits:{page}:week") == union

    # A visitor seen again changes nothing; a new one usually does.
    assert ours.pfadd("visits:careers:mon", traffic["careers", "mon"][0]) == 0
    assert ours.pfadd("visits:careers:mon", "visitor:new") == theirs.pfadd(
        "visits:careers:mon", "visitor:new"
    )
    assert ours.pfcount("visits:careers:mon") == theirs.pfcount("visits:careers:mon")

    # Site-wide weekly uniques across pages.
    weeks = [f"visits:{p}:week" for p in PAGES]
    assert ours.pfcount(*weeks) == theirs.pfcount(*weeks)

    # A sketch is a string: what Redis stored counts the same here.
    ours.set("imported", theirs.get("visits:home:week"))
    assert ours.pfcount("imported") == theirs.pfcount("visits:home:week")
    assert ours.type("imported") == b"string"


def test_errors_match_redis(server, reference):
    import redis

    ours, theirs = make_client(server), make_client(reference)
    for r in (ours, theirs):
        r.set("plain", "not a sketch")
        r.rpush("list", "x")
    for args in [("pfadd", "plain", "a"), ("pfcount", "plain"), ("pfadd", "list", "a"),
                 ("pfmerge", "dest", "plain")]:
        errors = []
        for r in (ours, theirs):
            with pytest.raises(redis.ResponseError) as e:
                r.execute_command(*args)
            errors.append(str(e.value))
        assert errors[0] == errors[1], args
    assert not ours.exists("dest")
