//! RDB encoding primitives, byte-compatible with Redis 7.0 (`rdb.c`):
//! lengths, strings (integer and LZF encodings included), opcodes, and the
//! DUMP payload footer (RDB version + CRC64).
//!
//! FUNCTION DUMP/RESTORE are their first users. The RDB persistence to come
//! (SAVE/BGSAVE files, loading at startup) and key DUMP/RESTORE are meant to
//! build on the same `Writer` and `Reader`: a value is a type byte followed
//! by lengths and strings written here, and a DUMP payload is one such value
//! wrapped by `Writer::into_dump_payload` and checked by `verify_dump_payload`.

use super::lzf;

/// The RDB version Redis 7.0 writes (and the newest it accepts).
pub const RDB_VERSION: u16 = 10;

/// A DUMP payload ends with the RDB version (2 bytes) and the CRC64 (8).
pub const DUMP_FOOTER_LEN: usize = 10;

/// A function library in the 7.0 release candidates' format (name, engine,
/// optional description, code without its `#!` line).
pub const OPCODE_FUNCTION_PRE_GA: u8 = 246;
/// A function library: its code, `#!` line included.
pub const OPCODE_FUNCTION2: u8 = 245;

/// Length prefixes: the top two bits of the first byte.
const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
/// An encoded value; the low six bits say which encoding.
const ENCVAL: u8 = 3;
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;

const ENC_INT8: u64 = 0;
const ENC_INT16: u64 = 1;
const ENC_INT32: u64 = 2;
const ENC_LZF: u64 = 3;

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Redis's CRC64 (Jones polynomial, reflected, no final xor).
pub fn crc64(data: &[u8]) -> u64 {
    CRC64.checksum(data)
}

/// Builds RDB-encoded data.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    pub fn save_type(&mut self, t: u8) {
        self.buf.push(t);
    }

    pub fn save_len(&mut self, len: u64) {
        if len < 1 << 6 {
            self.buf.push((LEN_6BIT << 6) | len as u8);
        } else if len < 1 << 14 {
            self.buf
                .extend_from_slice(&[(LEN_14BIT << 6) | (len >> 8) as u8, len as u8]);
        } else if let Ok(len) = u32::try_from(len) {
            self.buf.push(LEN_32BIT);
            self.buf.extend_from_slice(&len.to_be_bytes());
        } else {
            self.buf.push(LEN_64BIT);
            self.buf.extend_from_slice(&len.to_be_bytes());
        }
    }

    /// A string as Redis saves it with `rdbcompression yes`: a canonical
    /// integer of up to 32 bits as an integer encoding, more than 20 bytes
    /// LZF-compressed when that saves at least 4 bytes, else verbatim.
    pub fn save_string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(v) = canonical_int(s) {
                let enc = |e: u64| (ENCVAL << 6) | e as u8;
                if let Ok(v) = i8::try_from(v) {
                    self.buf.extend_from_slice(&[enc(ENC_INT8), v as u8]);
                    return;
                }
                if let Ok(v) = i16::try_from(v) {
                    self.buf.push(enc(ENC_INT16));
                    self.buf.extend_from_slice(&v.to_le_bytes());
                    return;
                }
                if let Ok(v) = i32::try_from(v) {
                    self.buf.push(enc(ENC_INT32));
                    self.buf.extend_from_slice(&v.to_le_bytes());
                    return;
                }
            }
        }
        if s.len() > 20 {
            if let Some(c) = lzf::compress(s, s.len() - 4) {
                self.buf.push((ENCVAL << 6) | ENC_LZF as u8);
                self.save_len(c.len() as u64);
                self.save_len(s.len() as u64);
                self.buf.extend_from_slice(&c);
                return;
            }
        }
        self.save_len(s.len() as u64);
        self.buf.extend_from_slice(s);
    }

    /// A function library record (`rdbSaveFunctions`).
    pub fn save_function(&mut self, code: &[u8]) {
        self.save_type(OPCODE_FUNCTION2);
        self.save_string(code);
    }

    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    /// Appends the DUMP footer: the RDB version (2 bytes, little-endian) and
    /// the CRC64 of everything before the checksum (8 bytes, little-endian).
    pub fn into_dump_payload(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(&self.buf);
        self.buf.extend_from_slice(&crc.to_le_bytes());
        self.buf
    }
}

/// `s` as an integer if it is exactly how Redis prints that integer.
fn canonical_int(s: &[u8]) -> Option<i64> {
    let v = crate::util::parse_i64(s)?;
    (itoa::Buffer::new().format(v).as_bytes() == s).then_some(v)
}

/// The DUMP footer's RDB version, if the version is one this server reads
/// and the checksum matches (Redis's `verifyDumpPayload`).
pub fn verify_dump_payload(payload: &[u8]) -> Option<u16> {
    let footer = payload.len().checked_sub(DUMP_FOOTER_LEN)?;
    let version = u16::from_le_bytes([payload[footer], payload[footer + 1]]);
    if version > RDB_VERSION {
        return None;
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&payload[footer + 2..]);
    (crc64(&payload[..footer + 2]) == u64::from_le_bytes(crc)).then_some(version)
}

/// Reads RDB-encoded data. Every read returns None when the data is
/// truncated or malformed (what Redis's loaders report as corruption), so
/// a reader never panics on hostile input.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: u64) -> Option<&'a [u8]> {
        let n = usize::try_from(n).ok().filter(|&n| n <= self.remaining())?;
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Some(s)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N as u64)?.try_into().ok()
    }

    pub fn load_type(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    /// A length, and whether it is rather an encoding (`11xxxxxx`: the
    /// value is then the encoding number).
    pub fn load_len(&mut self) -> Option<(u64, bool)> {
        let first = self.load_type()?;
        match first >> 6 {
            LEN_6BIT => Some((u64::from(first & 0x3f), false)),
            LEN_14BIT => {
                let next = self.load_type()?;
                Some(((u64::from(first & 0x3f) << 8) | u64::from(next), false))
            }
            ENCVAL => Some((u64::from(first & 0x3f), true)),
            _ => match first {
                LEN_32BIT => Some((u64::from(u32::from_be_bytes(self.array()?)), false)),
                LEN_64BIT => Some((u64::from_be_bytes(self.array()?), false)),
                _ => None,
            },
        }
    }

    /// A string in any of its encodings, decoded.
    pub fn load_string(&mut self) -> Option<Vec<u8>> {
        let (len, encoded) = self.load_len()?;
        if !encoded {
            return self.take(len).map(<[u8]>::to_vec);
        }
        let int = match len {
            ENC_INT8 => i64::from(i8::from_le_bytes(self.array()?)),
            ENC_INT16 => i64::from(i16::from_le_bytes(self.array()?)),
            ENC_INT32 => i64::from(i32::from_le_bytes(self.array()?)),
            ENC_LZF => return self.load_lzf(),
            _ => return None,
        };
        Some(itoa::Buffer::new().format(int).as_bytes().to_vec())
    }

    /// The code of a function library record whose opcode (`OPCODE_FUNCTION2`
    /// or `OPCODE_FUNCTION_PRE_GA`) was just read; Err is Redis's message.
    pub fn load_function(&mut self, opcode: u8) -> Result<Vec<u8>, &'static str> {
        if opcode == OPCODE_FUNCTION2 {
            return self.load_string().ok_or("Failed loading library payload");
        }
        let name = self.load_string().ok_or("Failed loading library name")?;
        let engine = self.load_string().ok_or("Failed loading engine name")?;
        let (has_description, _) = self
            .load_len()
            .ok_or("Failed loading library description indicator")?;
        if has_description != 0 {
            self.load_string()
                .ok_or("Failed loading library description")?;
        }
        let body = self.load_string().ok_or("Failed loading library blob")?;
        // The release candidates kept the engine and name out of the code.
        let mut code = b"#!".to_vec();
        code.extend_from_slice(&engine);
        code.extend_from_slice(b" name=");
        code.extend_from_slice(&name);
        code.push(b'\n');
        code.extend_from_slice(&body);
        Ok(code)
    }

    fn load_lzf(&mut self) -> Option<Vec<u8>> {
        let (clen, _) = self.load_len()?;
        let (len, _) = self.load_len()?;
        let compressed = self.take(clen)?;
        // liblzf reports failure as 0 output bytes, so Redis accepts any
        // stream announced as decompressing to nothing.
        if len == 0 {
            return Some(Vec::new());
        }
        lzf::decompress(compressed, usize::try_from(len).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(s: &[u8]) -> Vec<u8> {
        let mut w = Writer::new();
        w.save_string(s);
        w.into_inner()
    }

    fn loaded(b: &[u8]) -> Option<Vec<u8>> {
        let mut r = Reader::new(b);
        let s = r.load_string()?;
        (r.remaining() == 0).then_some(s)
    }

    /// Encodings as Redis 7.0's DUMP shows them.
    #[test]
    fn strings_encode_like_redis() {
        assert_eq!(saved(b"123"), b"\xc0{");
        assert_eq!(saved(b"-129"), b"\xc1\x7f\xff");
        assert_eq!(saved(b"2147483647"), b"\xc2\xff\xff\xff\x7f");
        assert_eq!(saved(b"2147483648"), b"\x0a2147483648");
        assert_eq!(saved(b"00"), b"\x0200");
        assert_eq!(saved(b"+1"), b"\x02+1");
        assert_eq!(saved(&[b'a'; 30]), b"\xc3\x09\x1e\x01aa\xe0\x11\x00\x01aa");
        let mut long = saved(&[b'x'; 100]);
        long.truncate(1);
        assert_eq!(long, b"\xc3");
    }

    #[test]
    fn lengths_round_trip() {
        for len in [
            0u64,
            63,
            64,
            16383,
            16384,
            u32::MAX as u64,
            1 << 32,
            u64::MAX,
        ] {
            let mut w = Writer::new();
            w.save_len(len);
            let b = w.into_inner();
            assert_eq!(Reader::new(&b).load_len(), Some((len, false)));
        }
    }

    #[test]
    fn strings_round_trip() {
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"0".to_vec(),
            b"-2147483648".to_vec(),
            b"hello".to_vec(),
            vec![b'z'; 20],
            vec![b'z'; 21],
            (0..=255u8).cycle().take(70_000).collect(),
        ];
        for s in cases {
            assert_eq!(loaded(&saved(&s)), Some(s));
        }
    }

    #[test]
    fn malformed_strings_are_rejected() {
        for b in [
            &b""[..],
            b"\x05abc",
            b"\x40",
            b"\x82",
            b"\xc4",
            b"\xc1\x01",
            b"\xc3\x05\x10ab",
            b"\x81\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\xc3\x01\x81\xff\xff\xff\xff\xff\xff\xff\xff\x00",
        ] {
            assert_eq!(loaded(b), None, "{b:?}");
        }
        assert_eq!(loaded(b"\xc3\x02\x00\xff\xff"), Some(Vec::new()));
    }

    #[test]
    fn dump_payload_footer() {
        let mut w = Writer::new();
        w.save_type(OPCODE_FUNCTION2);
        w.save_string(b"x");
        let p = w.into_dump_payload();
        assert_eq!(verify_dump_payload(&p), Some(RDB_VERSION));
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
        for i in 0..p.len() {
            let mut bad = p.clone();
            bad[i] ^= 1;
            assert_eq!(verify_dump_payload(&bad), None);
        }
        assert_eq!(verify_dump_payload(&p[1..]), None);
        assert_eq!(verify_dump_payload(&[]), None);
    }
}
