//! Incremental request parser. It works on the connection's read buffer in
//! place: arguments are byte ranges into that buffer, so parsing a command
//! allocates nothing once the span vector has warmed up, and a bulk payload is
//! copied only when a command stores it. Parsing resumes where it stopped when
//! a command arrives in pieces, so a huge command costs linear time.

use crate::util::parse_i64;

/// Longest inline command or `*`/`$` header line Redis accepts (PROTO_INLINE_MAX_SIZE).
const MAX_INLINE: usize = 64 * 1024;

#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    pub max_bulk_len: i64,
    /// Before AUTH on a password-protected server, Redis accepts only tiny requests.
    pub unauthenticated: bool,
}

/// A protocol violation: Redis answers `-ERR Protocol error: <msg>` and closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Arguments are `spans` into the buffer the command was parsed from.
    Multibulk,
    /// Arguments are owned, in `inline_args`.
    Inline,
    /// An empty line or `*0`: nothing to run.
    Empty,
}

#[derive(Default)]
pub struct RequestParser {
    /// Argument byte ranges, relative to the start of the command.
    pub spans: Vec<(usize, usize)>,
    pub inline_args: Vec<Vec<u8>>,
    /// Arguments still expected by a partially received multibulk command.
    pending: usize,
    /// Where to resume in a partially received multibulk command.
    pos: usize,
    in_multibulk: bool,
}

impl RequestParser {
    /// Bytes already known to belong to the command being received, so that the
    /// connection can reserve room for a large bulk in one step.
    pub fn resume_hint(&self) -> usize {
        self.pos
    }

    /// Parses one command at the start of `buf`. `Ok(None)`: more bytes needed.
    /// On success returns the frame kind and the bytes it used.
    pub fn parse(
        &mut self,
        buf: &[u8],
        limits: ParseLimits,
    ) -> Result<Option<(Frame, usize)>, ProtocolError> {
        if buf.is_empty() {
            return Ok(None);
        }
        if !self.in_multibulk {
            if buf[0] != b'*' {
                return self.parse_inline(buf);
            }
            let Some((count, next)) = header_line(buf, 0, "too big mbulk count string")? else {
                return Ok(None);
            };
            let count = match parse_i64(count) {
                Some(n) if n <= i32::MAX as i64 => n,
                _ => return Err(proto("invalid multibulk length")),
            };
            if count > 10 && limits.unauthenticated {
                return Err(proto("unauthenticated multibulk length"));
            }
            if count <= 0 {
                return Ok(Some((Frame::Empty, next)));
            }
            self.spans.clear();
            // Reserve for what the client announced, but never trust it blindly.
            self.spans.reserve((count as usize).min(1024));
            self.pending = count as usize;
            self.pos = next;
            self.in_multibulk = true;
        }
        while self.pending > 0 {
            if self.pos >= buf.len() {
                return Ok(None);
            }
            if buf[self.pos] != b'$' {
                // Redis only reports this once the whole header line is in.
                if find_cr(buf, self.pos).is_none() {
                    if buf.len() - self.pos > MAX_INLINE {
                        return Err(self.fail("too big bulk count string"));
                    }
                    return Ok(None);
                }
                let got = buf[self.pos] as char;
                return Err(self.fail(&format!("expected '$', got '{}'", got)));
            }
            let Some((len, data_start)) = header_line(buf, self.pos, "too big bulk count string")
                .inspect_err(|_e| {
                self.reset();
            })?
            else {
                return Ok(None);
            };
            let len = match parse_i64(len) {
                Some(n) if n >= 0 && n <= limits.max_bulk_len => n as usize,
                _ => return Err(self.fail("invalid bulk length")),
            };
            if len > 16384 && limits.unauthenticated {
                return Err(self.fail("unauthenticated bulk length"));
            }
            // Like Redis, the two bytes after the payload are skipped unchecked.
            let end = data_start + len + 2;
            if buf.len() < end {
                return Ok(None);
            }
            self.spans.push((data_start, data_start + len));
            self.pos = end;
            self.pending -= 1;
        }
        let used = self.pos;
        self.reset();
        Ok(Some((Frame::Multibulk, used)))
    }

    fn reset(&mut self) {
        self.in_multibulk = false;
        self.pending = 0;
        self.pos = 0;
    }

    fn fail(&mut self, msg: &str) -> ProtocolError {
        self.reset();
        proto(msg)
    }

    fn parse_inline(&mut self, buf: &[u8]) -> Result<Option<(Frame, usize)>, ProtocolError> {
        let Some(nl) = memchr(b'\n', buf) else {
            if buf.len() > MAX_INLINE {
                return Err(proto("too big inline request"));
            }
            return Ok(None);
        };
        let mut line = &buf[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        self.inline_args.clear();
        split_args(line, &mut self.inline_args)
            .ok_or_else(|| proto("unbalanced quotes in request"))?;
        let frame = if self.inline_args.is_empty() {
            Frame::Empty
        } else {
            Frame::Inline
        };
        Ok(Some((frame, nl + 1)))
    }
}

fn proto(msg: &str) -> ProtocolError {
    ProtocolError(format!("Protocol error: {}", msg))
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

fn find_cr(buf: &[u8], from: usize) -> Option<usize> {
    memchr(b'\r', &buf[from..]).map(|i| from + i)
}

/// The number after a `*` or `$` at `at`, and where the line after it starts.
fn header_line<'a>(
    buf: &'a [u8],
    at: usize,
    too_big: &str,
) -> Result<Option<(&'a [u8], usize)>, ProtocolError> {
    match find_cr(buf, at) {
        None => {
            if buf.len() - at > MAX_INLINE {
                Err(proto(too_big))
            } else {
                Ok(None)
            }
        }
        Some(cr) => {
            if cr + 1 >= buf.len() {
                return Ok(None);
            }
            Ok(Some((&buf[at + 1..cr], cr + 2)))
        }
    }
}

/// Redis's `sdssplitargs`: whitespace-separated words, "double quotes" with
/// C-style and \xHH escapes, 'single quotes' with \' only. None if unbalanced.
pub fn split_args(line: &[u8], out: &mut Vec<Vec<u8>>) -> Option<()> {
    let is_space = |c: u8| matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c);
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Some(());
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = line.get(i).copied();
            if in_dq {
                match c {
                    None => return None,
                    Some(b'\\')
                        if line.get(i + 1) == Some(&b'x')
                            && line.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit())
                            && line.get(i + 3).is_some_and(|c| c.is_ascii_hexdigit()) =>
                    {
                        let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                        cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                        i += 3;
                    }
                    Some(b'\\') if i + 1 < line.len() => {
                        i += 1;
                        cur.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        // The closing quote must be followed by a space or the end.
                        if line.get(i + 1).is_some_and(|&c| !is_space(c)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => cur.push(c),
                }
            } else if in_sq {
                match c {
                    None => return None,
                    Some(b'\\') if line.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        cur.push(b'\'');
                    }
                    Some(b'\'') => {
                        if line.get(i + 1).is_some_and(|&c| !is_space(c)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(c) => cur.push(c),
                }
            } else {
                match c {
                    None => break,
                    Some(c) if is_space(c) => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(c) => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ParseLimits = ParseLimits {
        max_bulk_len: 512 * 1024 * 1024,
        unauthenticated: false,
    };

    fn args(p: &RequestParser, buf: &[u8]) -> Vec<Vec<u8>> {
        p.spans.iter().map(|&(s, e)| buf[s..e].to_vec()).collect()
    }

    #[test]
    fn parses_pipelined_commands_and_resumes_partial_ones() {
        let mut p = RequestParser::default();
        let buf = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n";
        let (f, used) = p.parse(buf, LIMITS).unwrap().unwrap();
        assert_eq!(f, Frame::Multibulk);
        assert_eq!(args(&p, buf), vec![b"GET".to_vec(), b"k".to_vec()]);
        let (_, used2) = p.parse(&buf[used..], LIMITS).unwrap().unwrap();
        assert_eq!(used + used2, buf.len());

        let full = b"*2\r\n$3\r\nSET\r\n$10\r\n0123456789\r\n";
        for cut in 1..full.len() {
            let mut p = RequestParser::default();
            assert!(
                p.parse(&full[..cut], LIMITS).unwrap().is_none(),
                "cut {}",
                cut
            );
            let (_, used) = p.parse(full, LIMITS).unwrap().unwrap();
            assert_eq!(used, full.len());
            assert_eq!(args(&p, full)[1], b"0123456789");
        }
    }

    #[test]
    fn reports_redis_protocol_errors() {
        let err = |b: &[u8]| RequestParser::default().parse(b, LIMITS).unwrap_err().0;
        assert_eq!(err(b"*x\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(
            err(b"*1\r\n+PING\r\n"),
            "Protocol error: expected '$', got '+'"
        );
        assert_eq!(err(b"*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(
            err(b"*1\r\n$536870913\r\n"),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"SET \"a b\"c\r\n"),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            err(&vec![b'a'; 70000]),
            "Protocol error: too big inline request"
        );
        let locked = ParseLimits {
            unauthenticated: true,
            ..LIMITS
        };
        let e = RequestParser::default()
            .parse(b"*11\r\n", locked)
            .unwrap_err()
            .0;
        assert_eq!(e, "Protocol error: unauthenticated multibulk length");
    }

    #[test]
    fn splits_inline_commands_like_sdssplitargs() {
        let mut p = RequestParser::default();
        let (f, _) = p
            .parse(b"set \"a\\x41\\n\" 'it\\'s' plain\r\n", LIMITS)
            .unwrap()
            .unwrap();
        assert_eq!(f, Frame::Inline);
        assert_eq!(
            p.inline_args,
            vec![
                b"set".to_vec(),
                b"aA\n".to_vec(),
                b"it's".to_vec(),
                b"plain".to_vec()
            ]
        );
        assert_eq!(p.parse(b"\r\n", LIMITS).unwrap(), Some((Frame::Empty, 2)));
        assert_eq!(p.parse(b"*0\r\n", LIMITS).unwrap(), Some((Frame::Empty, 4)));
    }
}
