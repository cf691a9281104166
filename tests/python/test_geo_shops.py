""""Shops near me" the way Python services build it on Redis geo: shops
indexed with GEOADD, a user's position searched with GEOSEARCH (radius and
box, nearest first, with distances and coordinates), a per-user result cached
with GEOSEARCHSTORE, and distances between shops with GEODIST."""

import pytest

SHOPS = [
    # (longitude, latitude, name) around central Paris
    (2.3522, 48.8566, "hotel-de-ville-bakery"),
    (2.3376, 48.8606, "louvre-books"),
    (2.2945, 48.8584, "eiffel-coffee"),
    (2.3499, 48.8530, "notre-dame-crepes"),
    (2.3431, 48.8867, "montmartre-art"),
    (2.1301, 48.8049, "versailles-garden"),
]


def load(r):
    values = []
    for lon, lat, name in SHOPS:
        values.extend([lon, lat, name])
    return r.geoadd("shops", values)


def test_shops_near_me(r):
    assert load(r) == 6
    # Moving a shop is an update, not an addition (CH counts it).
    assert r.geoadd("shops", [2.3500, 48.8531, "notre-dame-crepes"], ch=True) == 1
    assert r.geoadd("shops", [2.0, 48.0, "new-shop"], xx=True) == 0
    assert r.zcard("shops") == 6

    me = (2.3470, 48.8580)
    near = r.geosearch(
        "shops", longitude=me[0], latitude=me[1], radius=1.5, unit="km",
        sort="ASC", withdist=True,
    )
    assert [(n.decode(), d) for n, d in near] == [
        ("hotel-de-ville-bakery", 0.4111),
        ("notre-dame-crepes", 0.5876),
        ("louvre-books", 0.7461),
    ]

    top2 = r.geosearch(
        "shops", longitude=me[0], latitude=me[1], radius=10, unit="km",
        sort="ASC", count=2, withcoord=True,
    )
    assert [n.decode() for n, _ in top2] == ["hotel-de-ville-bakery", "notre-dame-crepes"]
    lon, lat = top2[0][1]
    assert (round(lon, 6), round(lat, 6)) == (2.352198, 48.8566)

    # A 5 km x 2 km box around the Louvre: the centre, not Montmartre (3 km
    # north) nor the Eiffel tower (3 km west).
    boxed = r.geosearch(
        "shops", member="louvre-books", width=5, height=2, unit="km", sort="ASC",
    )
    assert [n.decode() for n in boxed] == [
        "louvre-books", "hotel-de-ville-bakery", "notre-dame-crepes",
    ]

    # Cache one user's nearby shops (distance as score) for a few minutes.
    stored = r.geosearchstore(
        "near:user42", "shops", longitude=me[0], latitude=me[1],
        radius=1, unit="km", storedist=True,
    )
    assert stored == 3
    r.expire("near:user42", 300)
    cached = r.zrange("near:user42", 0, -1, withscores=True)
    assert [(n.decode(), round(s, 4)) for n, s in cached] == [
        ("hotel-de-ville-bakery", 0.4111),
        ("notre-dame-crepes", 0.5876),
        ("louvre-books", 0.7461),
    ]

    assert r.geodist("shops", "eiffel-coffee", "montmartre-art", unit="km") == 4.7487
    assert r.geodist("shops", "eiffel-coffee", "nowhere") is None
    hashes = r.geohash("shops", "eiffel-coffee", "nowhere")
    assert [h.decode() if isinstance(h, bytes) else h for h in hashes] == ["u09tunquc90", None]
    pos = r.geopos("shops", "versailles-garden", "nowhere")
    assert pos[1] is None
    assert (round(pos[0][0], 4), round(pos[0][1], 4)) == (2.1301, 48.8049)

    # Legacy API still used by older code.
    legacy = r.georadiusbymember("shops", "louvre-books", 2, unit="km", sort="DESC")
    assert [n.decode() for n in legacy] == [
        "notre-dame-crepes", "hotel-de-ville-bakery", "louvre-books",
    ]


def test_geo_errors(r):
    with pytest.raises(Exception, match="invalid longitude,latitude pair 200.000000,10.000000"):
        r.geoadd("shops", [200, 10, "nowhere"])
    load(r)
    with pytest.raises(Exception, match="could not decode requested zset member"):
        r.geosearch("shops", member="nowhere", radius=1, unit="km")
    with pytest.raises(Exception, match="unsupported unit provided"):
        r.execute_command("GEODIST", "shops", "eiffel-coffee", "louvre-books", "au")
