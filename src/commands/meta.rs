//! Per-command documentation metadata captured from Redis 7.0.15.
//!
//! `COMMAND INFO` elements 8 (tips) and 9 (key specifications) and the whole
//! `COMMAND DOCS` value of every command and subcommand are pure
//! documentation data. `scripts/gen_command_meta.py` records them from a
//! reference `redis-server` as the raw RESP3 bytes it sent, into `meta.dat`
//! (format documented in that script: magic `RMD1`, u32 LE count, then per
//! record a u16 LE name length + lowercase full name, and three u32 LE
//! length-prefixed RESP3 values: tips, key specs, docs; sorted by name).
//!
//! Notes on the captured values:
//! * tips is a RESP3 set (`~n` of bulk strings), usually `~0`;
//! * key specs is a RESP3 *set* of maps (`~n`, Redis uses a set here);
//! * docs is a map; a parent command's docs (e.g. `config`) contains a
//!   `subcommands` map of full name -> docs, which Redis emits in random
//!   (per-process dict) order and which we store sorted by full name.
//!
//! `write_converted` downgrades a value to RESP2 the way Redis does.

use std::collections::HashMap;
use std::sync::OnceLock;

static DATA: &[u8] = include_bytes!("meta.dat");

/// RESP3 bytes of one (sub)command's metadata, exactly as Redis sends them.
#[derive(Debug)]
pub struct Meta {
    /// `COMMAND INFO` element index 7 (a set of strings).
    pub tips: &'static [u8],
    /// `COMMAND INFO` element index 8 (a set of maps).
    pub key_specs: &'static [u8],
    /// The value that follows the name in a `COMMAND DOCS` reply (a map).
    pub docs: &'static [u8],
}

fn index() -> &'static HashMap<&'static str, Meta> {
    static INDEX: OnceLock<HashMap<&'static str, Meta>> = OnceLock::new();
    INDEX.get_or_init(|| parse(DATA).unwrap_or_default())
}

/// Parse the whole data file; `None` if it is malformed.
fn parse(data: &'static [u8]) -> Option<HashMap<&'static str, Meta>> {
    let mut r = Reader { data, pos: 0 };
    if r.take(4)? != b"RMD1" {
        return None;
    }
    let count = r.u32()? as usize;
    let mut map = HashMap::with_capacity(count);
    for _ in 0..count {
        let name_len = r.u16()? as usize;
        let name = std::str::from_utf8(r.take(name_len)?).ok()?;
        let tips = r.chunk()?;
        let key_specs = r.chunk()?;
        let docs = r.chunk()?;
        map.insert(
            name,
            Meta {
                tips,
                key_specs,
                docs,
            },
        );
    }
    (r.pos == data.len()).then_some(map)
}

struct Reader {
    data: &'static [u8],
    pos: usize,
}

impl Reader {
    fn take(&mut self, n: usize) -> Option<&'static [u8]> {
        let data: &'static [u8] = self.data;
        let end = self.pos.checked_add(n)?;
        let s = data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn chunk(&mut self) -> Option<&'static [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Metadata of a command or subcommand by lowercase full name (`"get"`,
/// `"config|get"`).
pub fn get(fullname: &str) -> Option<&'static Meta> {
    index().get(fullname)
}

/// Number of (sub)commands with metadata.
pub fn len() -> usize {
    index().len()
}

/// Appends the RESP3-encoded value `resp3` to `out`, converted for a client
/// speaking protocol `resp` (2 or 3).
///
/// For `resp >= 3` the bytes are validated and copied as is. For RESP2 every
/// RESP3 type is downgraded as Redis does: map `%n` -> flat array `*2n`,
/// set `~n` and push `>n` -> `*n`, null `_` -> `$-1`, double `,` and big
/// number `(` -> bulk string, boolean `#t`/`#f` -> `:1`/`:0`, verbatim
/// `=` -> bulk string without its 4-byte `txt:` prefix, blob error `!` ->
/// simple error, attributes `|` are dropped. (The captured metadata only
/// uses `* ~ % $ + :`; none of it contains nulls.)
///
/// `resp3` must hold exactly one well-formed value. If it does not, nothing
/// is appended and `false` is returned.
pub fn write_converted(out: &mut Vec<u8>, resp3: &[u8], resp: u8) -> bool {
    let start = out.len();
    let ok = if resp >= 3 {
        match skip(resp3, 0, 0) {
            Some(end) if end == resp3.len() => {
                out.extend_from_slice(resp3);
                true
            }
            _ => false,
        }
    } else {
        matches!(convert(out, resp3, 0, 0), Some(end) if end == resp3.len())
    };
    if !ok {
        out.truncate(start);
    }
    ok
}

const MAX_DEPTH: usize = 128;

/// Returns (type byte, header text, offset after the header line).
fn header(buf: &[u8], pos: usize) -> Option<(u8, &[u8], usize)> {
    let t = *buf.get(pos)?;
    let rest = buf.get(pos + 1..)?;
    let nl = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((t, &rest[..nl], pos + 1 + nl + 2))
}

fn parse_len(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Payload of a length-prefixed blob whose header ended at `next`; returns
/// (payload, offset after the trailing CRLF).
fn blob(buf: &[u8], next: usize, n: i64) -> Option<(&[u8], usize)> {
    let n = usize::try_from(n).ok()?;
    let end = next.checked_add(n)?;
    let payload = buf.get(next..end)?;
    if buf.get(end..end + 2)? != b"\r\n" {
        return None;
    }
    Some((payload, end + 2))
}

/// Offset after the value starting at `pos` (validating it).
fn skip(buf: &[u8], pos: usize, depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (t, head, next) = header(buf, pos)?;
    match t {
        b'#' => matches!(head, b"t" | b"f").then_some(next),
        b'+' | b'-' | b':' | b'_' | b',' | b'(' => Some(next),
        b'$' | b'!' | b'=' => {
            let n = parse_len(head)?;
            if n < 0 {
                return Some(next);
            }
            blob(buf, next, n).map(|(_, e)| e)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = parse_len(head)?;
            if n < 0 {
                return Some(next);
            }
            let items = if matches!(t, b'%' | b'|') {
                n.checked_mul(2)?
            } else {
                n
            };
            let mut p = next;
            for _ in 0..items {
                p = skip(buf, p, depth + 1)?;
            }
            if t == b'|' {
                p = skip(buf, p, depth + 1)?;
            }
            Some(p)
        }
        _ => None,
    }
}

fn put_len(out: &mut Vec<u8>, t: u8, n: i64) {
    out.push(t);
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn put_bulk(out: &mut Vec<u8>, s: &[u8]) {
    put_len(out, b'$', s.len() as i64);
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// Converts the value at `pos` to RESP2, returning the offset after it.
fn convert(out: &mut Vec<u8>, buf: &[u8], pos: usize, depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (t, head, next) = header(buf, pos)?;
    match t {
        b'+' | b'-' | b':' => {
            out.extend_from_slice(buf.get(pos..next)?);
            Some(next)
        }
        b'_' => {
            out.extend_from_slice(b"$-1\r\n");
            Some(next)
        }
        b',' | b'(' => {
            put_bulk(out, head);
            Some(next)
        }
        b'#' => {
            out.extend_from_slice(match head {
                b"t" => b":1\r\n",
                b"f" => b":0\r\n",
                _ => return None,
            });
            Some(next)
        }
        b'$' => {
            let n = parse_len(head)?;
            if n < 0 {
                out.extend_from_slice(b"$-1\r\n");
                return Some(next);
            }
            let (_, end) = blob(buf, next, n)?;
            out.extend_from_slice(buf.get(pos..end)?);
            Some(end)
        }
        b'=' => {
            let (payload, end) = blob(buf, next, parse_len(head)?)?;
            put_bulk(out, payload.get(4..)?);
            Some(end)
        }
        b'!' => {
            let (payload, end) = blob(buf, next, parse_len(head)?)?;
            if payload.contains(&b'\r') || payload.contains(&b'\n') {
                return None;
            }
            out.push(b'-');
            out.extend_from_slice(payload);
            out.extend_from_slice(b"\r\n");
            Some(end)
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n = parse_len(head)?;
            if n < 0 {
                out.extend_from_slice(b"*-1\r\n");
                return Some(next);
            }
            let items = if t == b'%' { n.checked_mul(2)? } else { n };
            put_len(out, b'*', items);
            let mut p = next;
            for _ in 0..items {
                p = convert(out, buf, p, depth + 1)?;
            }
            Some(p)
        }
        b'|' => {
            // RESP2 has no attributes: drop it, convert the value it annotates.
            let p = skip(buf, pos, depth)?;
            let attr_end = {
                let n = parse_len(head)?.checked_mul(2)?;
                let mut q = next;
                for _ in 0..n {
                    q = skip(buf, q, depth + 1)?;
                }
                q
            };
            let end = convert(out, buf, attr_end, depth + 1)?;
            (end == p).then_some(end)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(resp3: &[u8], resp: u8) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(write_converted(&mut out, resp3, resp), "malformed");
        out
    }

    #[test]
    fn data_parses() {
        assert!(len() > 300);
        for name in ["get", "set", "config", "config|get", "client|list"] {
            assert!(get(name).is_some(), "{name}");
        }
        assert!(get("nosuch").is_none());
        // Every stored value is one well-formed RESP3 value.
        for (name, m) in index() {
            for v in [m.tips, m.key_specs, m.docs] {
                assert_eq!(skip(v, 0, 0), Some(v.len()), "{name}");
                let mut out = Vec::new();
                assert!(write_converted(&mut out, v, 2), "{name}");
            }
        }
    }

    // Golden RESP2 bytes captured from redis-server 7.0.15.
    #[test]
    fn get_golden() {
        let m = get("get").unwrap();
        assert_eq!(m.tips, b"~0\r\n");
        assert_eq!(conv(m.tips, 2), b"*0\r\n");
        assert_eq!(
            conv(m.key_specs, 2),
            &b"*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n\
*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n"[..]
        );
        assert_eq!(
            conv(m.docs, 2),
            &b"*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n\
$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n\
$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n\
$14\r\nkey_spec_index\r\n:0\r\n"[..]
        );
        assert_eq!(conv(m.docs, 3), m.docs);
    }

    #[test]
    fn mset_golden() {
        let m = get("mset").unwrap();
        assert_eq!(
            m.tips,
            b"~2\r\n$26\r\nrequest_policy:multi_shard\r\n$29\r\nresponse_policy:all_succeeded\r\n"
        );
        assert_eq!(
            conv(m.tips, 2),
            b"*2\r\n$26\r\nrequest_policy:multi_shard\r\n$29\r\nresponse_policy:all_succeeded\r\n"
        );
        assert_eq!(
            m.key_specs,
            &b"~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n\
%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
%3\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:2\r\n$5\r\nlimit\r\n:0\r\n"[..]
        );
        assert_eq!(
            conv(m.key_specs, 2),
            &b"*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n\
*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:2\r\n$5\r\nlimit\r\n:0\r\n"[..]
        );
    }

    #[test]
    fn scalar_types() {
        assert_eq!(conv(b"_\r\n", 2), b"$-1\r\n");
        assert_eq!(conv(b",1.5\r\n", 2), b"$3\r\n1.5\r\n");
        assert_eq!(conv(b"(123\r\n", 2), b"$3\r\n123\r\n");
        assert_eq!(conv(b"#t\r\n", 2), b":1\r\n");
        assert_eq!(conv(b"#f\r\n", 2), b":0\r\n");
        assert_eq!(conv(b"=7\r\ntxt:abc\r\n", 2), b"$3\r\nabc\r\n");
        assert_eq!(conv(b">2\r\n:1\r\n_\r\n", 2), b"*2\r\n:1\r\n$-1\r\n");
        assert_eq!(conv(b"|1\r\n+a\r\n+b\r\n:5\r\n", 2), b":5\r\n");
        assert_eq!(
            conv(b"%1\r\n+a\r\n~1\r\n#t\r\n", 2),
            b"*2\r\n+a\r\n*1\r\n:1\r\n"
        );
    }

    #[test]
    fn malformed() {
        for bad in [
            &b""[..],
            b"*2\r\n:1\r\n",
            b"$5\r\nab\r\n",
            b"?\r\n",
            b":1\r\n:2\r\n",
            b"%1\r\n+a\r\n",
            b"#x\r\n",
            b"$3\r\nabcd\r\n",
        ] {
            for resp in [2, 3] {
                let mut out = b"keep".to_vec();
                assert!(!write_converted(&mut out, bad, resp), "{bad:?}");
                assert_eq!(out, b"keep");
            }
        }
    }
}

/// A RESP3 value, decoded just enough to read key specifications.
#[derive(Debug)]
enum Node<'a> {
    Text(&'a [u8]),
    Int(i64),
    List(Vec<Node<'a>>),
}

fn decode(buf: &[u8], pos: usize, depth: usize) -> Option<(Node<'_>, usize)> {
    if depth > 64 {
        return None;
    }
    let (t, line, next) = header(buf, pos)?;
    match t {
        b'+' => Some((Node::Text(line), next)),
        b':' => Some((Node::Int(parse_len(line)?), next)),
        b'$' => {
            let (s, end) = blob(buf, next, parse_len(line)?)?;
            Some((Node::Text(s), end))
        }
        b'*' | b'~' | b'%' => {
            let n = parse_len(line)? * if t == b'%' { 2 } else { 1 };
            let mut items = Vec::new();
            let mut at = next;
            for _ in 0..n {
                let (item, end) = decode(buf, at, depth + 1)?;
                items.push(item);
                at = end;
            }
            Some((Node::List(items), at))
        }
        _ => None,
    }
}

/// A key specification of the simple kind (begin at an index, a range of
/// keys) with its access flags: what COMMAND GETKEYSANDFLAGS reports.
pub struct RangeKeySpec {
    pub flags: Vec<String>,
    pub begin: i64,
    pub last_key: i64,
    pub step: i64,
}

fn field<'n, 'a>(map: &'n [Node<'a>], name: &str) -> Option<&'n Node<'a>> {
    map.chunks(2)
        .find(|kv| matches!(&kv[0], Node::Text(k) if *k == name.as_bytes()))
        .map(|kv| &kv[1])
}

/// The command's range key specs, in order; empty if it has none or other kinds.
pub fn range_key_specs(fullname: &str) -> Vec<RangeKeySpec> {
    let Some(m) = get(fullname) else {
        return Vec::new();
    };
    let Some((Node::List(specs), _)) = decode(m.key_specs, 0, 0) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for spec in &specs {
        let Node::List(spec) = spec else { continue };
        let flags = match field(spec, "flags") {
            Some(Node::List(f)) => f
                .iter()
                .filter_map(|n| match n {
                    Node::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let inner_int = |outer: &str, name: &str| -> Option<i64> {
            let Some(Node::List(m)) = field(spec, outer) else {
                return None;
            };
            let Some(Node::List(s)) = field(m, "spec") else {
                return None;
            };
            match field(s, name) {
                Some(Node::Int(v)) => Some(*v),
                _ => None,
            }
        };
        // A "keynum" spec (SINTERCARD numkeys key...): its keys run from
        // just after the count; the caller already knows where they end.
        if let (Some(index), Some(first), Some(step)) = (
            inner_int("begin_search", "index"),
            inner_int("find_keys", "firstkey"),
            inner_int("find_keys", "keystep"),
        ) {
            out.push(RangeKeySpec {
                flags,
                begin: index + first,
                last_key: -1,
                step,
            });
            continue;
        }
        if let (Some(begin), Some(last_key), Some(step)) = (
            inner_int("begin_search", "index"),
            inner_int("find_keys", "lastkey"),
            inner_int("find_keys", "keystep"),
        ) {
            out.push(RangeKeySpec {
                flags,
                begin,
                last_key,
                step,
            });
        }
    }
    out
}
