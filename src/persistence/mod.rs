//! Redis's serialization formats. `rdb` holds the RDB primitives (lengths,
//! strings, CRC64, the DUMP footer) that FUNCTION DUMP/RESTORE use today and
//! RDB files and key DUMP/RESTORE will build on; `lzf` is Redis's liblzf.

pub mod lzf;
pub mod rdb;
