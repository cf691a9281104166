//! One keyspace entry = one heap block: the chain link, a small header, the
//! optional expiry, the key bytes and, for strings, the value bytes. Keeping
//! key and small value together makes a typical string key cost one
//! allocation (Redis needs a dict entry, an object and two sds strings).
//!
//! Block layout (offsets in bytes, the block is 8-aligned):
//! ```text
//!  0  next     Option<Entry>   chain link, owned by the Dict
//!  8  key_len  u32
//! 12  val_len  u32             payload bytes (8 for Int and Obj)
//! 16  lru      u32             access clock (seconds), for OBJECT IDLETIME
//! 20  kind     u8              Str | Int | Obj
//! 21  flags    u8              HAS_EXPIRE
//! 22  [expire  i64, unaligned] only when HAS_EXPIRE
//!     key bytes, then payload: string bytes, an i64, or a Box<Value> pointer
//! ```

use super::value::Value;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

const OFF_KEY_LEN: usize = 8;
const OFF_VAL_LEN: usize = 12;
const OFF_LRU: usize = 16;
const OFF_KIND: usize = 20;
const OFF_FLAGS: usize = 21;
const HEADER: usize = 22;

const KIND_STR: u8 = 0;
const KIND_INT: u8 = 1;
const KIND_OBJ: u8 = 2;

const HAS_EXPIRE: u8 = 1;

/// What to store: borrowed string bytes are copied into the block.
pub enum NewValue<'a> {
    Str(&'a [u8]),
    Int(i64),
    Obj(Value),
}

impl<'a> NewValue<'a> {
    /// A string, kept as an integer when Redis would use the `int` encoding.
    pub fn string(bytes: &'a [u8]) -> NewValue<'a> {
        match crate::util::parse_i64(bytes) {
            Some(n) => NewValue::Int(n),
            None => NewValue::Str(bytes),
        }
    }
}

pub enum ValueRef<'a> {
    Str(&'a [u8]),
    Int(i64),
    Obj(&'a Value),
}

/// An owned entry. The dict links entries through their `next` field.
#[repr(transparent)]
pub struct Entry {
    ptr: NonNull<u8>,
}

// SAFETY: an Entry owns its block exclusively, like a Box.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

impl Entry {
    pub fn new(key: &[u8], value: NewValue<'_>, expire: Option<i64>, lru: u32) -> Entry {
        let payload_len = match &value {
            NewValue::Str(s) => s.len(),
            NewValue::Int(_) | NewValue::Obj(_) => 8,
        };
        let kind = match &value {
            NewValue::Str(_) => KIND_STR,
            NewValue::Int(_) => KIND_INT,
            NewValue::Obj(_) => KIND_OBJ,
        };
        let size = HEADER + if expire.is_some() { 8 } else { 0 } + key.len() + payload_len;
        let layout = block_layout(size);
        // SAFETY: layout has non-zero size; every field written below lies
        // inside the `size` bytes just allocated.
        unsafe {
            let raw = alloc(layout);
            let Some(ptr) = NonNull::new(raw) else {
                handle_alloc_error(layout)
            };
            std::ptr::write(raw as *mut Option<Entry>, None);
            (raw.add(OFF_KEY_LEN) as *mut u32).write(key.len() as u32);
            (raw.add(OFF_VAL_LEN) as *mut u32).write(payload_len as u32);
            (raw.add(OFF_LRU) as *mut u32).write(lru);
            raw.add(OFF_KIND).write(kind);
            let mut at = HEADER;
            if let Some(when) = expire {
                raw.add(OFF_FLAGS).write(HAS_EXPIRE);
                (raw.add(at) as *mut i64).write_unaligned(when);
                at += 8;
            } else {
                raw.add(OFF_FLAGS).write(0);
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), raw.add(at), key.len());
            at += key.len();
            match value {
                NewValue::Str(s) => std::ptr::copy_nonoverlapping(s.as_ptr(), raw.add(at), s.len()),
                NewValue::Int(n) => (raw.add(at) as *mut i64).write_unaligned(n),
                NewValue::Obj(v) => {
                    (raw.add(at) as *mut *mut Value).write_unaligned(Box::into_raw(Box::new(v)))
                }
            }
            Entry { ptr }
        }
    }

    #[inline]
    fn read_u32(&self, off: usize) -> u32 {
        // SAFETY: off is one of the 4-aligned header fields inside the block.
        unsafe { (self.ptr.as_ptr().add(off) as *const u32).read() }
    }

    #[inline]
    fn byte(&self, off: usize) -> u8 {
        // SAFETY: header bytes are always initialised.
        unsafe { self.ptr.as_ptr().add(off).read() }
    }

    #[inline]
    fn key_offset(&self) -> usize {
        HEADER + if self.has_expire() { 8 } else { 0 }
    }

    #[inline]
    fn payload_offset(&self) -> usize {
        self.key_offset() + self.read_u32(OFF_KEY_LEN) as usize
    }

    fn size(&self) -> usize {
        self.payload_offset() + self.read_u32(OFF_VAL_LEN) as usize
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        // SAFETY: key_len bytes at key_offset were initialised in `new`.
        unsafe {
            std::slice::from_raw_parts(
                self.ptr.as_ptr().add(self.key_offset()),
                self.read_u32(OFF_KEY_LEN) as usize,
            )
        }
    }

    #[inline]
    pub fn has_expire(&self) -> bool {
        self.byte(OFF_FLAGS) & HAS_EXPIRE != 0
    }

    /// Absolute expiry in Unix milliseconds.
    #[inline]
    pub fn expire(&self) -> Option<i64> {
        if self.has_expire() {
            // SAFETY: HAS_EXPIRE means 8 expiry bytes follow the header.
            Some(unsafe { (self.ptr.as_ptr().add(HEADER) as *const i64).read_unaligned() })
        } else {
            None
        }
    }

    #[inline]
    pub fn is_expired(&self, now: i64) -> bool {
        matches!(self.expire(), Some(when) if when <= now)
    }

    /// Changes the deadline of an entry that already has one.
    pub fn update_expire_in_place(&mut self, when: i64) -> bool {
        if !self.has_expire() {
            return false;
        }
        // SAFETY: as in `expire`.
        unsafe { (self.ptr.as_ptr().add(HEADER) as *mut i64).write_unaligned(when) };
        true
    }

    /// Replaces an integer value without reallocating; false if the entry
    /// does not hold an integer.
    pub fn set_int_in_place(&mut self, n: i64) -> bool {
        if self.byte(OFF_KIND) != KIND_INT {
            return false;
        }
        let at = self.payload_offset();
        // SAFETY: KIND_INT blocks hold 8 payload bytes at `at`.
        unsafe { (self.ptr.as_ptr().add(at) as *mut i64).write_unaligned(n) };
        true
    }

    pub fn lru(&self) -> u32 {
        self.read_u32(OFF_LRU)
    }

    pub fn set_lru(&mut self, clock: u32) {
        // SAFETY: 4-aligned header field.
        unsafe { (self.ptr.as_ptr().add(OFF_LRU) as *mut u32).write(clock) }
    }

    #[inline]
    pub fn value(&self) -> ValueRef<'_> {
        let at = self.payload_offset();
        // SAFETY: the payload matches `kind`, as written in `new`.
        unsafe {
            let p = self.ptr.as_ptr().add(at);
            match self.byte(OFF_KIND) {
                KIND_STR => ValueRef::Str(std::slice::from_raw_parts(
                    p,
                    self.read_u32(OFF_VAL_LEN) as usize,
                )),
                KIND_INT => ValueRef::Int((p as *const i64).read_unaligned()),
                _ => ValueRef::Obj(&*(p as *const *mut Value).read_unaligned()),
            }
        }
    }

    /// The boxed value, for types that are mutated in place.
    pub fn obj_mut(&mut self) -> Option<&mut Value> {
        if self.byte(OFF_KIND) != KIND_OBJ {
            return None;
        }
        let at = self.payload_offset();
        // SAFETY: KIND_OBJ blocks hold a live Box<Value> pointer; &mut self
        // guarantees exclusive access.
        unsafe { Some(&mut *(self.ptr.as_ptr().add(at) as *const *mut Value).read_unaligned()) }
    }

    /// Heap bytes this entry accounts for (block plus boxed value header).
    pub fn block_size(&self) -> usize {
        self.size()
    }

    /// A new entry with the same key and `value`, keeping this one's expiry.
    pub fn with_value(&self, value: NewValue<'_>) -> Entry {
        Entry::new(self.key(), value, self.expire(), self.lru())
    }

    /// A new entry with the same key and value and another expiry.
    pub fn with_expire(mut self, expire: Option<i64>) -> Entry {
        if let (Some(when), true) = (expire, self.has_expire()) {
            self.update_expire_in_place(when);
            return self;
        }
        if expire.is_none() && !self.has_expire() {
            return self;
        }
        let lru = self.lru();
        let key = self.key().to_vec();
        let mut scratch = Vec::new();
        let value = self.take_value();
        Entry::new(&key, value.into_new(&mut scratch), expire, lru)
    }

    /// Moves the value out (the entry is left holding an empty string).
    pub fn take_value(&mut self) -> OwnedValue {
        let owned = match self.value() {
            ValueRef::Str(s) => OwnedValue::Str(s.to_vec()),
            ValueRef::Int(n) => OwnedValue::Int(n),
            ValueRef::Obj(_) => {
                let at = self.payload_offset();
                // SAFETY: take the Box out and mark the block as an empty
                // string so Drop does not free it twice.
                unsafe {
                    let p = self.ptr.as_ptr();
                    let b = Box::from_raw((p.add(at) as *const *mut Value).read_unaligned());
                    p.add(OFF_KIND).write(KIND_STR);
                    (p.add(OFF_VAL_LEN) as *mut u32).write(0);
                    OwnedValue::Obj(*b)
                }
            }
        };
        owned
    }

    // ---- chain link, for the Dict only ----

    #[inline]
    pub(super) fn next(&self) -> &Option<Entry> {
        // SAFETY: offset 0 holds an initialised, 8-aligned Option<Entry>.
        unsafe { &*(self.ptr.as_ptr() as *const Option<Entry>) }
    }

    #[inline]
    pub(super) fn next_mut(&mut self) -> &mut Option<Entry> {
        // SAFETY: as above, and &mut self gives exclusive access.
        unsafe { &mut *(self.ptr.as_ptr() as *mut Option<Entry>) }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        debug_assert!(
            self.next().is_none(),
            "entries are unlinked before they are dropped"
        );
        let size = self.size();
        // SAFETY: the block was allocated with this layout; a KIND_OBJ payload
        // is a Box we own.
        unsafe {
            if self.byte(OFF_KIND) == KIND_OBJ {
                drop(Box::from_raw(
                    (self.ptr.as_ptr().add(self.payload_offset()) as *const *mut Value)
                        .read_unaligned(),
                ));
            }
            dealloc(self.ptr.as_ptr(), block_layout(size));
        }
    }
}

/// A value moved out of an entry.
pub enum OwnedValue {
    Str(Vec<u8>),
    Int(i64),
    Obj(Value),
}

impl OwnedValue {
    pub fn into_new(self, scratch: &mut Vec<u8>) -> NewValue<'_> {
        match self {
            OwnedValue::Str(s) => {
                *scratch = s;
                NewValue::Str(scratch)
            }
            OwnedValue::Int(n) => NewValue::Int(n),
            OwnedValue::Obj(v) => NewValue::Obj(v),
        }
    }
}

fn block_layout(size: usize) -> Layout {
    // A block is at most a few bytes over a bulk string, which the protocol
    // limit keeps far below isize::MAX.
    Layout::from_size_align(size.max(8), 8).unwrap_or(Layout::new::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_key_value_and_expiry_in_one_block() {
        let e = Entry::new(b"key:1", NewValue::Str(b"hello"), None, 7);
        assert_eq!(e.key(), b"key:1");
        assert!(matches!(e.value(), ValueRef::Str(b"hello")));
        assert_eq!(e.expire(), None);
        assert_eq!(e.lru(), 7);
        let e = e.with_expire(Some(1234));
        assert_eq!(e.expire(), Some(1234));
        assert_eq!(e.key(), b"key:1");
        assert!(matches!(e.value(), ValueRef::Str(b"hello")));
        let e = e.with_expire(None);
        assert_eq!(e.expire(), None);
        let n = Entry::new(b"", NewValue::string(b"-42"), Some(9), 0);
        assert!(matches!(n.value(), ValueRef::Int(-42)));
        assert!(n.is_expired(9) && !n.is_expired(8));
    }

    #[test]
    fn boxed_values_survive_rebuilds() {
        let e = Entry::new(b"k", NewValue::Obj(Value::Str(b"raw".to_vec())), None, 0);
        let mut e = e.with_expire(Some(5));
        match e.obj_mut() {
            Some(Value::Str(s)) => s.extend_from_slice(b"!"),
            _ => panic!("expected a boxed string"),
        }
        assert!(matches!(e.value(), ValueRef::Obj(Value::Str(s)) if s == b"raw!"));
    }
}
