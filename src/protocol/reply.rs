//! Reply writer. Commands append to the connection's output buffer through
//! this type, which knows the client's protocol version so that every command
//! writes each reply once and the RESP2/RESP3 difference lives here only.

use crate::util::format_double;

pub struct Reply<'a> {
    pub buf: &'a mut Vec<u8>,
    pub resp: u8,
}

impl<'a> Reply<'a> {
    pub fn new(buf: &'a mut Vec<u8>, resp: u8) -> Self {
        Reply { buf, resp }
    }

    #[inline]
    fn header(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        let mut b = itoa::Buffer::new();
        self.buf.extend_from_slice(b.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        self.simple_bytes(s.as_bytes());
    }

    /// A status line; CR and LF would break the protocol, so they become spaces.
    pub fn simple_bytes(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend(
            s.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `msg` includes the code (`ERR ...`, `WRONGTYPE ...`).
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        self.buf.extend(
            msg.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `-ERR <msg>`.
    pub fn err(&mut self, msg: &str) {
        self.buf.extend_from_slice(b"-ERR ");
        self.buf.extend(
            msg.bytes()
                .map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    #[inline]
    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(n).as_bytes());
    }

    /// The null bulk string (`$-1` in RESP2, `_` in RESP3).
    #[inline]
    pub fn null(&mut self) {
        if self.resp >= 3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array (`*-1` in RESP2, `_` in RESP3).
    pub fn null_array(&mut self) {
        if self.resp >= 3 {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    #[inline]
    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map of `len` pairs: `%` in RESP3, a flat array of 2*len in RESP2.
    pub fn map(&mut self, len: usize) {
        if self.resp >= 3 {
            self.header(b'%', len as i64);
        } else {
            self.header(b'*', 2 * len as i64);
        }
    }

    /// A set: `~` in RESP3, an array in RESP2.
    pub fn set(&mut self, len: usize) {
        self.header(if self.resp >= 3 { b'~' } else { b'*' }, len as i64);
    }

    /// A push message: `>` in RESP3, an array in RESP2.
    pub fn push(&mut self, len: usize) {
        self.header(if self.resp >= 3 { b'>' } else { b'*' }, len as i64);
    }

    /// A double: `,` in RESP3, a bulk string in RESP2, printed as `%.17g`.
    pub fn double(&mut self, v: f64) {
        let mut tmp = [0u8; 32];
        self.double_text(format_double(v, &mut tmp));
    }

    /// A double already printed (GEOPOS's `%.17Lf` coordinates).
    pub fn double_text(&mut self, text: &[u8]) {
        if self.resp >= 3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, 1/0 in RESP2.
    pub fn boolean(&mut self, v: bool) {
        if self.resp >= 3 {
            self.buf
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(v as i64);
        }
    }

    /// A verbatim string (`=` with a 3-letter format in RESP3, bulk in RESP2).
    pub fn verbatim(&mut self, format: &str, data: &[u8]) {
        if self.resp >= 3 {
            self.header(b'=', (data.len() + 4) as i64);
            self.buf.extend_from_slice(format.as_bytes());
            self.buf.push(b':');
            self.buf.extend_from_slice(data);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(data);
        }
    }

    pub fn bulks<'b, I: IntoIterator<Item = &'b [u8]>>(&mut self, items: I)
    where
        I::IntoIter: ExactSizeIterator,
    {
        let it = items.into_iter();
        self.array(it.len());
        for item in it {
            self.bulk(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_both_protocol_versions() {
        let mut b = Vec::new();
        let mut r = Reply::new(&mut b, 2);
        r.null();
        r.map(1);
        r.double(1.5);
        r.boolean(true);
        assert_eq!(b, b"$-1\r\n*2\r\n$3\r\n1.5\r\n:1\r\n");
        let mut b = Vec::new();
        let mut r = Reply::new(&mut b, 3);
        r.null();
        r.map(1);
        r.double(1.5);
        r.boolean(true);
        r.verbatim("txt", b"hi");
        assert_eq!(b, b"_\r\n%1\r\n,1.5\r\n#t\r\n=6\r\ntxt:hi\r\n");
    }
}
