//! A tiny RESP2/RESP3 client over `std::net::TcpStream`: encodes commands as
//! arrays of bulk strings and reads back exactly one complete reply, keeping
//! its raw bytes (for byte-for-byte comparison) and a parsed tree (for the
//! "by meaning" comparisons).

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One parsed reply. Attributes (`|`) are kept as a wrapper around the
/// reply they precede.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1`, `*-1` or `_`
    Nil(u8),
    Array(Vec<Value>),
    Double(Vec<u8>),
    Bool(bool),
    BigNum(Vec<u8>),
    BlobError(Vec<u8>),
    Verbatim(Vec<u8>),
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    Push(Vec<Value>),
    Attr(Vec<(Value, Value)>, Box<Value>),
}

impl Value {
    /// Elements of an aggregate reply (arrays, sets, pushes), if it is one.
    pub fn elements(&self) -> Option<&[Value]> {
        match self {
            Value::Array(v) | Value::Set(v) | Value::Push(v) => Some(v),
            Value::Attr(_, inner) => inner.elements(),
            _ => None,
        }
    }
}

/// A reply: raw bytes as received plus the parsed value.
#[derive(Debug, Clone)]
pub struct Reply {
    pub raw: Vec<u8>,
    pub value: Value,
}

pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

pub fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl Conn {
    pub fn connect(port: u16, timeout: Duration) -> io::Result<Conn> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let s = TcpStream::connect_timeout(&addr, timeout)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        s.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    pub fn send(&mut self, args: &[Vec<u8>]) -> io::Result<()> {
        self.writer.write_all(&encode(args))
    }

    pub fn read_reply(&mut self) -> io::Result<Reply> {
        let mut raw = Vec::new();
        let value = read_value(&mut self.reader, &mut raw, 0)?;
        Ok(Reply { raw, value })
    }

    pub fn call(&mut self, args: &[Vec<u8>]) -> io::Result<Reply> {
        self.send(args)?;
        self.read_reply()
    }

    /// Call with string arguments (for harness-internal commands).
    pub fn call_str(&mut self, args: &[&str]) -> io::Result<Reply> {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        self.call(&v)
    }
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Reads one CRLF-terminated line, appending it (with CRLF) to `raw`;
/// returns the line without CRLF.
fn read_line<R: BufRead>(r: &mut R, raw: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let n = r.read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    raw.extend_from_slice(&line);
    if line.len() < 2 || line[line.len() - 2] != b'\r' {
        return Err(bad(format!("line not CRLF-terminated: {}", escape(&line))));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn parse_int(b: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad integer {}", escape(b))))
}

fn read_blob<R: BufRead>(r: &mut R, raw: &mut Vec<u8>, len: i64) -> io::Result<Vec<u8>> {
    if !(0..=1 << 30).contains(&len) {
        return Err(bad(format!("bad blob length {len}")));
    }
    let mut buf = vec![0u8; len as usize + 2];
    r.read_exact(&mut buf)?;
    raw.extend_from_slice(&buf);
    if &buf[len as usize..] != b"\r\n" {
        return Err(bad("blob not CRLF-terminated".into()));
    }
    buf.truncate(len as usize);
    Ok(buf)
}

fn read_value<R: BufRead>(r: &mut R, raw: &mut Vec<u8>, depth: usize) -> io::Result<Value> {
    if depth > 64 {
        return Err(bad("reply nested too deeply".into()));
    }
    let line = read_line(r, raw)?;
    if line.is_empty() {
        return Err(bad("empty reply line".into()));
    }
    let (t, rest) = (line[0], &line[1..]);
    let agg = |r: &mut R, raw: &mut Vec<u8>, n: i64| -> io::Result<Vec<Value>> {
        if !(0..=1 << 24).contains(&n) {
            return Err(bad(format!("bad aggregate length {n}")));
        }
        (0..n).map(|_| read_value(r, raw, depth + 1)).collect()
    };
    let pairs = |r: &mut R, raw: &mut Vec<u8>, n: i64| -> io::Result<Vec<(Value, Value)>> {
        let flat = agg(r, raw, n.checked_mul(2).unwrap_or(-1))?;
        let mut it = flat.into_iter();
        let mut out = Vec::new();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            out.push((k, v));
        }
        Ok(out)
    };
    Ok(match t {
        b'+' => Value::Simple(rest.to_vec()),
        b'-' => Value::Error(rest.to_vec()),
        b':' => Value::Int(parse_int(rest)?),
        b'_' => Value::Nil(b'_'),
        b',' => Value::Double(rest.to_vec()),
        b'#' => match rest {
            b"t" => Value::Bool(true),
            b"f" => Value::Bool(false),
            _ => return Err(bad(format!("bad boolean {}", escape(rest)))),
        },
        b'(' => Value::BigNum(rest.to_vec()),
        b'$' | b'!' | b'=' => {
            let n = parse_int(rest)?;
            if n == -1 && t == b'$' {
                Value::Nil(b'$')
            } else {
                let blob = read_blob(r, raw, n)?;
                match t {
                    b'$' => Value::Bulk(blob),
                    b'!' => Value::BlobError(blob),
                    _ => Value::Verbatim(blob),
                }
            }
        }
        b'*' | b'~' | b'>' => {
            let n = parse_int(rest)?;
            if n == -1 && t == b'*' {
                Value::Nil(b'*')
            } else {
                let v = agg(r, raw, n)?;
                match t {
                    b'*' => Value::Array(v),
                    b'~' => Value::Set(v),
                    _ => Value::Push(v),
                }
            }
        }
        b'%' => Value::Map(pairs(r, raw, parse_int(rest)?)?),
        b'|' => {
            let attrs = pairs(r, raw, parse_int(rest)?)?;
            let inner = read_value(r, raw, depth + 1)?;
            Value::Attr(attrs, Box::new(inner))
        }
        _ => return Err(bad(format!("unknown reply type {}", escape(&line)))),
    })
}

/// Escapes bytes for display: printable ASCII as is, `\r` `\n` `\t` `\\`
/// `\"` escaped, everything else as `\xHH`.
pub fn escape(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &[u8]) -> (Value, usize) {
        let mut raw = Vec::new();
        let mut r = BufReader::new(b);
        let v = read_value(&mut r, &mut raw, 0).unwrap();
        (v, raw.len())
    }

    #[test]
    fn parses_nested_resp3() {
        let reply: &[u8] = b"|1\r\n+a\r\n:1\r\n%2\r\n$1\r\nk\r\n*3\r\n,1.5\r\n#t\r\n(12\r\n~1\r\n_\r\n>2\r\n=7\r\ntxt:abc\r\n!3\r\nERR\r\n";
        let mut input = reply.to_vec();
        input.extend_from_slice(b"*-1\r\n");
        let (v, n) = parse(&input);
        assert_eq!(n, reply.len());
        match v {
            Value::Attr(_, inner) => assert!(matches!(*inner, Value::Map(ref m) if m.len() == 2)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn encodes() {
        assert_eq!(
            encode(&[b"GET".to_vec(), b"".to_vec()]),
            b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n".to_vec()
        );
    }
}
