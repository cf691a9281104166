//! Shared helpers for the `integration_*` test binaries.
//!
//! Every test starts its own in-process russet server on an ephemeral port
//! (`start` / `start_with`). Setting `RUSSET_IT_REFERENCE=/usr/bin/redis-server`
//! runs the same tests against a real Redis instead, which is how the expected
//! values in these tests were checked.
//!
//! Two client flavours are offered: the `redis` crate (`Server::con`) and a
//! raw RESP connection (`Conn`) that returns every reply as a parsed `Resp`
//! so that exact error texts and RESP3 types can be asserted.

#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Read timeout used on every raw socket so that a missing reply fails the
/// test instead of hanging it.
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Server {
    pub addr: SocketAddr,
    handle: Option<russet::ServerHandle>,
    child: Option<Child>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(h) = self.handle.take() {
            h.shutdown();
        }
    }
}

/// Starts a server with the default configuration.
pub fn start() -> Server {
    start_with(&[])
}

/// Starts a server with the given redis.conf style options, e.g.
/// `&[("requirepass", &["secret"])]`.
pub fn start_with(opts: &[(&str, &[&str])]) -> Server {
    if let Ok(bin) = std::env::var("RUSSET_IT_REFERENCE") {
        return start_reference(&bin, opts);
    }
    let mut c = russet::Config::default();
    for (name, args) in opts {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        c.set_startup(name, &args)
            .unwrap_or_else(|e| panic!("config {name}: {e:?}"));
    }
    let handle = russet::start_background(c).expect("start russet");
    let addr = handle.addr;
    let s = Server {
        addr,
        handle: Some(handle),
        child: None,
    };
    s.wait_ready();
    s
}

/// Starts the reference Redis (`RUSSET_REFERENCE_SERVER`, else
/// /usr/bin/redis-server) for tests that exchange data with Redis itself.
pub fn start_redis() -> Server {
    let bin = std::env::var("RUSSET_REFERENCE_SERVER")
        .unwrap_or_else(|_| "/usr/bin/redis-server".to_string());
    assert!(
        std::path::Path::new(&bin).is_file(),
        "{bin} not found: install redis-server (apt-get install redis-server)"
    );
    start_reference(&bin, &[])
}

/// Starts the real redis-server `bin` on an ephemeral port (tests that
/// exchange data with Redis itself).
pub fn start_reference(bin: &str, opts: &[(&str, &[&str])]) -> Server {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cmd = Command::new(bin);
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    cmd.args(["--dir", "/tmp"]);
    for (name, args) in opts {
        cmd.arg(format!("--{name}"));
        cmd.args(args.iter());
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn reference");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let s = Server {
        addr,
        handle: None,
        child: Some(child),
    };
    s.wait_ready();
    s
}

impl Server {
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect(self.addr).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server did not come up at {}",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn is_reference(&self) -> bool {
        self.child.is_some()
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).unwrap()
    }

    /// A `redis` crate connection (RESP2).
    pub fn con(&self) -> redis::Connection {
        let c = self.client().get_connection().expect("connect");
        c.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        c
    }

    /// A raw TCP stream with a read timeout.
    pub fn tcp(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect");
        s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }

    /// A raw RESP connection.
    pub fn conn(&self) -> Conn {
        Conn::new(self.tcp())
    }
}

// ---------------------------------------------------------------------------
// RESP parsing
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    /// `$-1` (RESP2 null bulk) is `Bulk(None)`.
    Bulk(Option<Vec<u8>>),
    /// `*-1` (RESP2 null array) is `Array(None)`.
    Array(Option<Vec<Resp>>),
    /// RESP3 `_`.
    Null,
    Double(String),
    Bool(bool),
    BigNum(String),
    BlobError(String),
    Verbatim(String, Vec<u8>),
    Map(Vec<(Resp, Resp)>),
    Set(Vec<Resp>),
    Push(Vec<Resp>),
    Attr(Vec<(Resp, Resp)>),
}

impl Resp {
    pub fn bulk(s: impl AsRef<[u8]>) -> Resp {
        Resp::Bulk(Some(s.as_ref().to_vec()))
    }
    pub fn ok() -> Resp {
        Resp::Simple("OK".into())
    }
    pub fn simple(s: &str) -> Resp {
        Resp::Simple(s.into())
    }
    pub fn err(s: &str) -> Resp {
        Resp::Error(s.into())
    }
    pub fn arr(v: Vec<Resp>) -> Resp {
        Resp::Array(Some(v))
    }
    pub fn bulks(v: &[&str]) -> Resp {
        Resp::Array(Some(v.iter().map(Resp::bulk).collect()))
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Resp::Error(_) | Resp::BlobError(_))
    }

    /// Error text, panicking if this is not an error.
    pub fn error_text(&self) -> &str {
        match self {
            Resp::Error(s) | Resp::BlobError(s) => s,
            other => panic!("expected an error reply, got {other:?}"),
        }
    }

    pub fn as_int(&self) -> i64 {
        match self {
            Resp::Int(i) => *i,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    /// Bytes of a bulk / simple / verbatim string.
    pub fn as_bytes(&self) -> Vec<u8> {
        match self {
            Resp::Bulk(Some(b)) => b.clone(),
            Resp::Simple(s) => s.as_bytes().to_vec(),
            Resp::Verbatim(_, b) => b.clone(),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }

    pub fn as_str(&self) -> String {
        String::from_utf8(self.as_bytes()).expect("utf8 reply")
    }

    pub fn as_array(&self) -> &Vec<Resp> {
        match self {
            Resp::Array(Some(v)) | Resp::Set(v) | Resp::Push(v) => v,
            other => panic!("expected an array reply, got {other:?}"),
        }
    }

    /// Array of bulk strings as Strings.
    pub fn as_strings(&self) -> Vec<String> {
        self.as_array().iter().map(|r| r.as_str()).collect()
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Resp::Null | Resp::Bulk(None) | Resp::Array(None))
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    if buf.len() < 2 {
        return None;
    }
    (from..buf.len() - 1).find(|&i| buf[i] == b'\r' && buf[i + 1] == b'\n')
}

/// Parses one reply from the front of `buf`. `Ok(None)` means incomplete.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Resp, usize)>, String> {
    parse_at(buf, 0)
}

fn parse_at(buf: &[u8], pos: usize) -> Result<Option<(Resp, usize)>, String> {
    if pos >= buf.len() {
        return Ok(None);
    }
    let Some(eol) = find_crlf(buf, pos + 1) else {
        return Ok(None);
    };
    // Simple strings and errors are not guaranteed to be UTF-8 (an unknown
    // command name is echoed back verbatim), so decode lossily.
    let line = String::from_utf8_lossy(&buf[pos + 1..eol]).into_owned();
    let after = eol + 2;
    let num = |s: &str| -> Result<i64, String> {
        s.parse::<i64>().map_err(|_| format!("bad number {s:?}"))
    };
    let blob = |len: i64| -> Result<Option<(Vec<u8>, usize)>, String> {
        let len = len as usize;
        if buf.len() < after + len + 2 {
            return Ok(None);
        }
        if &buf[after + len..after + len + 2] != b"\r\n" {
            return Err("blob not terminated by CRLF".into());
        }
        Ok(Some((buf[after..after + len].to_vec(), after + len + 2)))
    };
    let agg = |n: usize, mut p: usize| -> Result<Option<(Vec<Resp>, usize)>, String> {
        let mut items = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            match parse_at(buf, p)? {
                None => return Ok(None),
                Some((r, np)) => {
                    items.push(r);
                    p = np;
                }
            }
        }
        Ok(Some((items, p)))
    };
    let pairs = |v: Vec<Resp>| -> Vec<(Resp, Resp)> {
        let mut out = Vec::new();
        let mut it = v.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            out.push((k, v));
        }
        out
    };
    let r = match buf[pos] {
        b'+' => (Resp::Simple(line), after),
        b'-' => (Resp::Error(line), after),
        b':' => (Resp::Int(num(&line)?), after),
        b'_' => (Resp::Null, after),
        b',' => (Resp::Double(line), after),
        b'(' => (Resp::BigNum(line), after),
        b'#' => (Resp::Bool(line == "t"), after),
        b'$' => {
            let n = num(&line)?;
            if n < 0 {
                (Resp::Bulk(None), after)
            } else {
                match blob(n)? {
                    None => return Ok(None),
                    Some((b, p)) => (Resp::Bulk(Some(b)), p),
                }
            }
        }
        b'!' => match blob(num(&line)?)? {
            None => return Ok(None),
            Some((b, p)) => (Resp::BlobError(String::from_utf8_lossy(&b).into_owned()), p),
        },
        b'=' => match blob(num(&line)?)? {
            None => return Ok(None),
            Some((b, p)) => {
                if b.len() < 4 || b[3] != b':' {
                    return Err("verbatim string without format prefix".into());
                }
                (
                    Resp::Verbatim(
                        String::from_utf8_lossy(&b[..3]).into_owned(),
                        b[4..].to_vec(),
                    ),
                    p,
                )
            }
        },
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = num(&line)?;
            if n < 0 {
                (Resp::Array(None), after)
            } else {
                let count = if matches!(buf[pos], b'%' | b'|') {
                    n as usize * 2
                } else {
                    n as usize
                };
                match agg(count, after)? {
                    None => return Ok(None),
                    Some((items, p)) => {
                        let r = match buf[pos] {
                            b'*' => Resp::Array(Some(items)),
                            b'~' => Resp::Set(items),
                            b'>' => Resp::Push(items),
                            b'%' => Resp::Map(pairs(items)),
                            _ => {
                                // Attribute: followed by the actual reply.
                                match parse_at(buf, p)? {
                                    None => return Ok(None),
                                    Some((_inner, p2)) => {
                                        return Ok(Some((Resp::Attr(pairs(items)), p2)))
                                    }
                                }
                            }
                        };
                        (r, p)
                    }
                }
            }
        }
        other => {
            return Err(format!(
                "unknown RESP type byte {:?} in {:?}",
                other as char,
                preview(&buf[pos..])
            ))
        }
    };
    Ok(Some(r))
}

pub fn preview(b: &[u8]) -> String {
    let n = b.len().min(200);
    String::from_utf8_lossy(&b[..n]).into_owned()
}

/// Encodes a command as a RESP multibulk.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

pub fn encode_str(args: &[&str]) -> Vec<u8> {
    let v: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    encode(&v)
}

/// Writes `data` and reads exactly one full reply, returning its raw bytes.
/// Panics on timeout or EOF before a full reply arrived.
pub fn send_raw(s: &mut TcpStream, data: &[u8]) -> Vec<u8> {
    s.write_all(data).expect("write");
    read_raw_reply(s)
}

/// Reads one full reply (byte-exact; reads byte by byte after the first
/// chunk only as needed, so nothing past the reply is consumed as long as
/// the server sends one reply at a time).
pub fn read_raw_reply(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1];
    loop {
        if let Some((_, n)) =
            parse_reply(&buf).unwrap_or_else(|e| panic!("bad reply {e}: {:?}", preview(&buf)))
        {
            assert_eq!(n, buf.len());
            return buf;
        }
        match s.read(&mut chunk) {
            Ok(0) => panic!("EOF before a full reply; got {:?}", preview(&buf)),
            Ok(_) => buf.push(chunk[0]),
            Err(e) => panic!(
                "read error {e} before a full reply; got {:?}",
                preview(&buf)
            ),
        }
    }
}

/// Reads until the peer closes the connection (or errors). Returns everything
/// read. Panics if the connection is still open after `within`.
pub fn read_until_closed(s: &mut TcpStream, within: Duration) -> Vec<u8> {
    let deadline = Instant::now() + within;
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut out = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
            Err(_) => return out, // reset counts as closed
        }
        assert!(
            Instant::now() < deadline,
            "connection still open after {within:?}; received so far {:?}",
            preview(&out)
        );
    }
}

/// True if the connection is closed: a read returns EOF / reset, or a write
/// followed by a read fails. Waits at most `within`.
pub fn is_closed(s: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
        if Instant::now() >= deadline {
            return false;
        }
    }
}

/// A raw RESP connection with an internal buffer so that pipelined replies
/// can be read one by one.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, data: &[u8]) {
        self.stream.write_all(data).expect("write");
    }

    /// Reads the next reply; panics on EOF / timeout.
    pub fn read(&mut self) -> Resp {
        self.try_read().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads the next reply; Err on EOF / timeout / error.
    pub fn try_read(&mut self) -> Result<Resp, String> {
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            if let Some((r, n)) = parse_reply(&self.buf)? {
                self.buf.drain(..n);
                return Ok(r);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(format!(
                        "EOF before a full reply; buffered {:?}",
                        preview(&self.buf)
                    ))
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("read error {e}; buffered {:?}", preview(&self.buf))),
            }
        }
    }

    /// Sends a command (binary-safe arguments) and reads its reply.
    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Resp {
        self.send(&encode(args));
        self.read()
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Resp {
        self.send(&encode_str(args));
        self.read()
    }

    /// Splits a command line on spaces (no quoting) and runs it.
    pub fn run(&mut self, line: &str) -> Resp {
        let args: Vec<&str> = line.split(' ').filter(|s| !s.is_empty()).collect();
        self.cmd(&args)
    }

    /// Runs a command and asserts the reply is exactly `+OK`.
    pub fn ok(&mut self, line: &str) {
        let r = self.run(line);
        assert_eq!(r, Resp::ok(), "{line}");
    }

    /// Runs a command and returns its integer reply.
    pub fn int(&mut self, line: &str) -> i64 {
        match self.run(line) {
            Resp::Int(i) => i,
            other => panic!("{line}: expected an integer, got {other:?}"),
        }
    }

    /// Runs a command and returns its bulk reply (None for null).
    pub fn get(&mut self, line: &str) -> Option<String> {
        match self.run(line) {
            Resp::Bulk(b) => b.map(|b| String::from_utf8(b).unwrap()),
            Resp::Null => None,
            other => panic!("{line}: expected a bulk string, got {other:?}"),
        }
    }

    /// Runs a command and returns its error text (panics if not an error).
    pub fn err(&mut self, line: &str) -> String {
        match self.run(line) {
            Resp::Error(e) | Resp::BlobError(e) => e,
            other => panic!("{line}: expected an error, got {other:?}"),
        }
    }

    /// True if the server closed the connection (within `within`).
    pub fn closed_within(&mut self, within: Duration) -> bool {
        is_closed(&mut self.stream, within)
    }
}

/// Polls `f` every 20 ms until it returns true or `within` elapses.
pub fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// FNV-1a 64-bit, for comparing large values without keeping two copies.
pub fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Small deterministic PRNG (xorshift64*), so failures are reproducible.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545F4914F6CDD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Current unix time in seconds / milliseconds.
pub fn unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
