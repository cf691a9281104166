"""cmsgpack and struct inside scripts, the way applications use them:
records packed server-side and read by a Python msgpack/struct decoder,
and Python-packed payloads taken apart by a script. Exact bytes are
checked against the MessagePack spec, not only round trips."""

import struct

import msgpack
import pytest
from redis.exceptions import ResponseError

SNAPSHOT = """
local cart = redis.call('HGETALL', KEYS[1])
local items = {}
for i = 1, #cart, 2 do
    items[#items + 1] = {cart[i], tonumber(cart[i + 1])}
end
table.sort(items, function(a, b) return a[1] < b[1] end)
return cmsgpack.pack({owner = ARGV[1]}, items, 1.5, true)
"""


def test_server_side_snapshot_decodes_in_python(r):
    r.hset("cart:7", mapping={"apple": 3, "pear": 300})
    packed = r.eval(SNAPSHOT, 1, "cart:7", "ann")
    assert packed == (
        b"\x81\xa5owner\xa3ann"  # fixmap {owner = "ann"}
        b"\x92\x92\xa5apple\x03\x92\xa4pear\xcd\x01\x2c"  # fixarray of pairs; 300 is uint16
        b"\xca\x3f\xc0\x00\x00"  # 1.5 fits a float32
        b"\xc3"
    )
    unpacker = msgpack.Unpacker(raw=False)
    unpacker.feed(packed)
    assert list(unpacker) == [{"owner": "ann"}, [["apple", 3], ["pear", 300]], 1.5, True]


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("127", b"\x7f"),
        ("-32", b"\xe0"),
        ("255", b"\xcc\xff"),
        ("-129", b"\xd1\xff\x7f"),
        ("2^32", b"\xcf" + struct.pack(">Q", 2**32)),
        ("-2^63", b"\xd3" + struct.pack(">q", -(2**63))),
        ("0.1", b"\xcb" + struct.pack(">d", 0.1)),
        # Below mlua's integer-detection epsilon: must stay a double.
        ("1e-20", b"\xcb" + struct.pack(">d", 1e-20)),
        ("string.rep('x', 40)", b"\xd9\x28" + b"x" * 40),
        ("{}", b"\x90"),
        ("{[1]=1, [3]=3}", b"\x82\x01\x01\x03\x03"),
    ],
)
def test_number_and_container_encodings(r, expr, expected):
    packed = r.eval(f"return cmsgpack.pack({expr})", 0)
    assert packed == expected
    assert msgpack.unpackb(packed, strict_map_key=False) == msgpack.unpackb(expected, strict_map_key=False)


def test_python_payload_is_unpacked_by_a_script(r):
    job = {"id": 7, "score": 2.5, "tags": ["a", "b"], "big": 2**40, "neg": -70000}
    script = """
    local job = cmsgpack.unpack(ARGV[1])
    redis.call('HSET', KEYS[1], 'id', job.id, 'score', tostring(job.score),
        'tags', table.concat(job.tags, ','), 'big', string.format('%.0f', job.big),
        'neg', job.neg)
    return redis.call('HGETALL', KEYS[1])
    """
    r.eval(script, 1, "job:7", msgpack.packb(job))
    assert r.hgetall("job:7") == {
        b"id": b"7",
        b"score": b"2.5",
        b"tags": b"a,b",
        b"big": b"1099511627776",
        b"neg": b"-70000",
    }


def test_stream_of_messages_with_unpack_one(r):
    stream = b"".join(msgpack.packb(m) for m in ["first", 2, [3, 4], {"k": "v"}])
    script = """
    local offset, n = 0, 0
    while offset ~= -1 do
        local value
        offset, value = cmsgpack.unpack_one(ARGV[1], offset)
        redis.call('RPUSH', KEYS[1], type(value))
        n = n + 1
    end
    return n
    """
    assert r.eval(script, 1, "types", stream) == 4
    assert r.lrange("types", 0, -1) == [b"string", b"number", b"table", b"table"]
    with pytest.raises(ResponseError, match="Missing bytes in input"):
        r.eval("return cmsgpack.unpack(ARGV[1])", 0, stream[:-1])


def test_struct_records_match_python_struct(r):
    append = "return redis.call('APPEND', KEYS[1], struct.pack('>I4h', ARGV[1], ARGV[2]))"
    r.eval(append, 1, "log", 1_700_000_000, -2)
    r.eval(append, 1, "log", 42, 300)
    assert list(struct.iter_unpack(">Ih", r.get("log"))) == [(1_700_000_000, -2), (42, 300)]
    read = "local a, b, nxt = struct.unpack('<Hd', ARGV[1]) return {a, tostring(b), nxt}"
    assert r.eval(read, 0, struct.pack("<Hd", 513, 0.25)) == [513, b"0.25", 11]
    assert r.eval("return struct.size('!8 b d')", 0) == 16
    with pytest.raises(ResponseError, match="invalid format option 'z'"):
        r.eval("return struct.pack('z', 1)", 0)


def test_libraries_are_read_only_and_stay_intact(r):
    with pytest.raises(ResponseError, match="Attempt to modify a readonly table"):
        r.eval("cmsgpack.pack = nil", 0)
    with pytest.raises(ResponseError, match="Attempt to modify a readonly table"):
        r.eval("cjson = nil", 0)
    assert r.eval("return cmsgpack.pack(cjson.decode('[1]'))", 0) == b"\x91\x01"
