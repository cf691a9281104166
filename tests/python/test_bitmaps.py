"""Daily active users the way analytics code keeps them on Redis bitmaps:
one bitmap per day, SETBIT at the user id when the user shows up, BITCOUNT
for the daily figure, BITOP AND/OR across days for retention and weekly
actives, BITPOS for the first active id, BITFIELD for per-user counters.

1000 users; on day d (0..6) user u is active when u % (d + 2) == 0, so every
figure below is known exactly."""

import pytest

from conftest import PARSERS, make_client

USERS = 1000
DAYS = 7


def day_key(d):
    return f"active:2026-11-{d + 1:02d}"


def record_week(r):
    pipe = r.pipeline(transaction=False)
    for d in range(DAYS):
        for uid in range(USERS):
            if uid % (d + 2) == 0:
                pipe.setbit(day_key(d), uid, 1)
    pipe.execute()


@pytest.mark.parametrize("proto", PARSERS)
def test_daily_active_users_and_retention(server, proto):
    protocol, parser = proto
    r = make_client(server, protocol, parser)
    record_week(r)

    daily = [r.bitcount(day_key(d)) for d in range(DAYS)]
    assert daily == [500, 334, 250, 200, 167, 143, 125]
    # A bitmap is a plain string of ceil(1000 / 8) bytes at most.
    assert r.strlen(day_key(0)) == 125
    assert r.type(day_key(0)) in (b"string", "string")

    # Retention: active on day 1 and again on day 2 (multiples of 6).
    assert r.bitop("AND", "retained:1-2", day_key(0), day_key(1)) == 125
    assert r.bitcount("retained:1-2") == 167
    # Weekly actives: active on any day.
    assert r.bitop("OR", "weekly", *[day_key(d) for d in range(DAYS)]) == 125
    assert r.bitcount("weekly") == 772
    # Active every single day: multiples of 840 below 1000.
    assert r.bitop("AND", "loyal", *[day_key(d) for d in range(DAYS)]) == 125
    assert r.bitcount("loyal") == 2
    assert r.getbit("loyal", 0) == 1 and r.getbit("loyal", 840) == 1
    assert r.getbit("loyal", 420) == 0
    # Churned after day 1: active on day 1, not on day 2.
    r.bitop("NOT", "not-day2", day_key(1))
    r.bitop("AND", "churned", day_key(0), "not-day2")
    assert r.bitcount("churned") == 333
    # Exactly one of the two days.
    r.bitop("XOR", "one-of", day_key(0), day_key(1))
    assert r.bitcount("one-of") == 500

    # A day nobody visited counts as all zeros.
    assert r.bitcount("active:2026-12-25") == 0
    assert r.bitop("AND", "empty", day_key(0), "active:2026-12-25") == 125
    assert r.bitcount("empty") == 0
    assert r.bitop("OR", "empty", "active:2026-12-25") == 0
    assert r.exists("empty") == 0

    # First active user of each day and of the loyal set after user 0.
    assert r.bitpos(day_key(6), 1) == 0
    assert r.bitpos(day_key(6), 1, 1) == 8
    assert r.bitpos(day_key(6), 1, -1) == 992
    assert r.bitpos("loyal", 1, 1) == 840
    assert r.bitpos("loyal", 0) == 1
    # Counting the first 8 users of day 1 with a BIT range.
    assert r.bitcount(day_key(0), 0, 7, mode="BIT") == 4
    assert r.bitcount(day_key(0), 0, 0) == 4


@pytest.mark.parametrize("proto", PARSERS)
def test_bitfield_counters_per_user(server, proto):
    protocol, parser = proto
    r = make_client(server, protocol, parser)
    # An 8-bit visit counter per user that saturates instead of wrapping.
    for _ in range(300):
        bf = r.bitfield("visits")
        bf.overflow("SAT").incrby("u8", "#7", 1).incrby("u8", "#3", 2)
        bf.execute()
    got = r.bitfield_ro("visits", "u8", "#7", items=[("u8", "#3"), ("u8", "#0")])
    assert got == [255, 255, 0]
    bf = r.bitfield("visits", default_overflow="FAIL")
    assert bf.incrby("u8", "#7", 1).incrby("u8", "#5", 10).execute() == [None, 10]
    bf = r.bitfield("visits")
    assert bf.set("i16", "#3", -300).get("i16", "#3").execute() == [255, -300]
    assert r.strlen("visits") == 8
