#!/usr/bin/env python3
"""Capture Redis's per-command metadata into src/commands/meta.dat.

russet prints its own command table (name, arity, flags, key positions, ACL
categories) but takes the documentation-like parts of `COMMAND INFO` and
`COMMAND DOCS` verbatim from a reference Redis 7.0 server:

  * tips       -- element 8 (index 7) of a COMMAND INFO entry (RESP3 set)
  * key specs  -- element 9 (index 8) of a COMMAND INFO entry (array of maps)
  * docs       -- the value following the command's name in COMMAND DOCS (map)

Everything is recorded as the raw RESP3 bytes the server sent, for every
command and every subcommand (full name such as "config|get"); russet
downgrades them to RESP2 at runtime (src/commands/meta.rs, write_converted).

Usage (python3 stdlib only, this script starts nothing itself):

    redis-server --port 6399 --save '' --appendonly no &
    python3 scripts/gen_command_meta.py [--port 6399] [--out src/commands/meta.dat]

Determinism: Redis iterates its command dicts in a per-process random order,
so the only order-dependent part we store -- the "subcommands" map inside a
parent command's docs (e.g. `config`) -- is rewritten sorted by full name.
Records are written sorted by full name.  The script cross-checks each
recorded docs value against `COMMAND DOCS <name>` and each tips/key-specs
value against `COMMAND INFO <name>` (modulo that subcommand order).

meta.dat format (all integers little-endian):

    magic   4 bytes  b"RMD1"
    count   u32      number of records
    count x record:
        name_len  u16, name  (lowercase full name, e.g. b"config|get")
        tips_len  u32, tips  (RESP3 bytes of COMMAND INFO element index 7)
        ks_len    u32, ks    (RESP3 bytes of COMMAND INFO element index 8)
        docs_len  u32, docs  (RESP3 bytes of the COMMAND DOCS value)
"""

import argparse
import socket
import struct
import sys


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("server closed the connection")
        self.buf += data

    def call(self, *args):
        """Send a command, return the raw bytes of exactly one reply."""
        self.sock.sendall(encode(args))
        while True:
            end = skip(self.buf, 0)
            if end is not None:
                raw, self.buf = self.buf[:end], self.buf[end:]
                return raw
            self._fill()


def line_end(buf, pos):
    i = buf.find(b"\r\n", pos)
    return None if i < 0 else i


def skip(buf, pos):
    """Return the end offset of the RESP value starting at pos, or None if
    buf does not hold all of it yet."""
    e = line_end(buf, pos)
    if e is None:
        return None
    t = buf[pos : pos + 1]
    head = buf[pos + 1 : e]
    nxt = e + 2
    if t in b"+-:_,#(":
        return nxt
    if t in b"$!=":
        n = int(head)
        if n < 0:
            return nxt
        return nxt + n + 2 if len(buf) >= nxt + n + 2 else None
    if t in b"*~>%|":
        n = int(head)
        if n < 0:
            return nxt
        if t in b"%|":
            n *= 2
        for _ in range(n):
            nxt = skip(buf, nxt)
            if nxt is None:
                return None
        if t == b"|":  # attribute: followed by the actual value
            return skip(buf, nxt)
        return nxt
    raise ValueError("bad RESP type byte %r at %d" % (t, pos))


def children(buf):
    """Split an aggregate's raw bytes into (header, [raw child values])."""
    e = line_end(buf, 0)
    head = buf[: e + 2]
    t = buf[:1]
    n = int(buf[1:e])
    if t == b"%":
        n *= 2
    assert t in b"*~>%", t
    items, pos = [], e + 2
    for _ in range(n):
        end = skip(buf, pos)
        items.append(buf[pos:end])
        pos = end
    assert pos == len(buf)
    return head, items


def bulk_str(raw):
    assert raw[:1] in b"$+", raw[:20]
    if raw[:1] == b"+":
        return raw[1:-2].decode()
    e = line_end(raw, 0)
    return raw[e + 2 : -2].decode()


def record_info(entry, meta):
    _, el = children(entry)
    assert len(el) == 10, len(el)
    name = bulk_str(el[0]).lower()
    meta.setdefault(name, {})
    meta[name]["tips"] = el[7]
    meta[name]["ks"] = el[8]
    _, subs = children(el[9])
    for sub in subs:
        record_info(sub, meta)


def canonical_docs(name, docs, meta):
    """Record docs for name and its subcommands; return docs with any
    "subcommands" map sorted by full name."""
    head, kv = children(docs)
    assert head[:1] == b"%", head
    out = [head]
    for i in range(0, len(kv), 2):
        key, val = kv[i], kv[i + 1]
        if bulk_str(key) == "subcommands":
            shead, skv = children(val)
            pairs = []
            for j in range(0, len(skv), 2):
                sname = bulk_str(skv[j]).lower()
                sdocs = canonical_docs(sname, skv[j + 1], meta)
                pairs.append((sname, skv[j], sdocs))
            pairs.sort()
            val = shead + b"".join(k + v for _, k, v in pairs)
        out.append(key)
        out.append(val)
    res = b"".join(out)
    meta.setdefault(name, {})["docs"] = res
    return res


def sorted_subcommands(docs):
    """Normalise a docs value received from the server (for comparison)."""
    return canonical_docs("", docs, {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6399)
    ap.add_argument("--out", default="src/commands/meta.dat")
    ap.add_argument("--no-verify", action="store_true")
    opts = ap.parse_args()

    c = Conn(opts.host, opts.port)
    hello = c.call("HELLO", "3")
    if hello[:1] != b"%":
        sys.exit("HELLO 3 failed: %r" % hello[:200])
    _, kv = children(hello)
    info = {bulk_str(kv[i]): kv[i + 1] for i in range(0, len(kv), 2)}
    print("reference server version", bulk_str(info["version"]), file=sys.stderr)

    meta = {}
    _, entries = children(c.call("COMMAND"))
    for entry in entries:
        record_info(entry, meta)

    _, kv = children(c.call("COMMAND", "DOCS"))
    for i in range(0, len(kv), 2):
        canonical_docs(bulk_str(kv[i]).lower(), kv[i + 1], meta)

    for name, m in meta.items():
        missing = {"tips", "ks", "docs"} - set(m)
        if missing:
            sys.exit("%s: missing %s" % (name, missing))

    if not opts.no_verify:
        for name, m in sorted(meta.items()):
            r = c.call("COMMAND", "DOCS", name)
            _, kv = children(r)
            assert len(kv) == 2 and bulk_str(kv[0]).lower() == name, name
            assert sorted_subcommands(kv[1]) == m["docs"], name
            _, el = children(c.call("COMMAND", "INFO", name))
            _, fields = children(el[0])
            assert fields[7] == m["tips"] and fields[8] == m["ks"], name

    out = [b"RMD1", struct.pack("<I", len(meta))]
    for name in sorted(meta):
        m = meta[name]
        nb = name.encode()
        out.append(struct.pack("<H", len(nb)) + nb)
        for k in ("tips", "ks", "docs"):
            out.append(struct.pack("<I", len(m[k])) + m[k])
    data = b"".join(out)
    with open(opts.out, "wb") as f:
        f.write(data)
    print("wrote %s: %d records, %d bytes" % (opts.out, len(meta), len(data)), file=sys.stderr)


if __name__ == "__main__":
    main()
