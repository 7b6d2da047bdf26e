//! The byte format of a KV snapshot:
//!
//! ```text
//! magic "synodkv1" | crc32 of body (LE) | body
//! body = postcard(applied: u64) | count: u64 LE | count × postcard((key, StoredValue))
//! ```
//!
//! Pairs are in strictly increasing key order. The whole body is
//! checksummed, so garbage is rejected before any state is touched; the
//! decoder then checks the structure as well.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::result::StoredValue;

const MAGIC: &[u8; 8] = b"synodkv1";
const HEADER_LEN: usize = MAGIC.len() + 4;

/// Builds a snapshot: call [`push`](Self::push) in key order, then
/// [`finish`](Self::finish).
#[derive(Debug)]
pub(crate) struct SnapshotWriter {
    buf: Vec<u8>,
    count_at: usize,
    count: u64,
}

impl SnapshotWriter {
    /// A snapshot of a state that applied up to `applied`.
    pub fn new(applied: u64) -> SnapshotWriter {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&[0; 4]);
        buf = extend(buf, &applied);
        // The count is patched in by `finish` as a fixed-width u64.
        let count_at = buf.len();
        buf.extend_from_slice(&[0; 8]);
        SnapshotWriter { buf, count_at, count: 0 }
    }

    /// Appends one key; keys must come in strictly increasing order.
    pub fn push(&mut self, key: &[u8], value: &StoredValue) {
        self.buf = extend(std::mem::take(&mut self.buf), &(key, value));
        self.count += 1;
    }

    /// The finished snapshot bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf[self.count_at..self.count_at + 8].copy_from_slice(&self.count.to_le_bytes());
        let crc = crc32fast::hash(&self.buf[HEADER_LEN..]);
        self.buf[MAGIC.len()..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
        self.buf
    }
}

fn extend<T: Serialize + ?Sized>(buf: Vec<u8>, value: &T) -> Vec<u8> {
    postcard::to_extend(value, buf).expect("postcard serializes into a Vec infallibly")
}

/// Reads a snapshot back, checking it as it goes.
#[derive(Debug)]
pub(crate) struct SnapshotReader<'a> {
    rest: &'a [u8],
    /// The applied index the snapshot was taken at.
    pub applied: u64,
    remaining: u64,
    last_key: Option<Vec<u8>>,
}

impl<'a> SnapshotReader<'a> {
    /// Checks the magic and checksum and reads the header.
    pub fn new(data: &'a [u8]) -> Result<SnapshotReader<'a>, String> {
        if data.len() < HEADER_LEN || &data[..MAGIC.len()] != MAGIC {
            return Err("not a KV snapshot (bad magic)".into());
        }
        let stored = u32::from_le_bytes(data[MAGIC.len()..HEADER_LEN].try_into().expect("4 bytes"));
        let body = &data[HEADER_LEN..];
        if stored != crc32fast::hash(body) {
            return Err("checksum mismatch".into());
        }
        let (applied, rest) = take::<u64>(body, "applied index")?;
        let Some((count, rest)) = rest.split_first_chunk::<8>() else {
            return Err("truncated before the key count".into());
        };
        Ok(SnapshotReader { rest, applied, remaining: u64::from_le_bytes(*count), last_key: None })
    }

    /// The next key and value, `None` after the last; errors on anything
    /// out of place.
    pub fn next_pair(&mut self) -> Result<Option<(Vec<u8>, StoredValue)>, String> {
        if self.remaining == 0 {
            return match self.rest.len() {
                0 => Ok(None),
                n => Err(format!("{n} trailing bytes")),
            };
        }
        let ((key, value), rest) = take::<(Vec<u8>, StoredValue)>(self.rest, "a key")?;
        if self.last_key.as_ref().is_some_and(|last| *last >= key) {
            return Err("keys out of order".into());
        }
        if !value.is_consistent(self.applied) {
            return Err(format!(
                "inconsistent revisions for key {:?}",
                key.escape_ascii().to_string()
            ));
        }
        self.rest = rest;
        self.remaining -= 1;
        self.last_key = Some(key.clone());
        Ok(Some((key, value)))
    }
}

fn take<'a, T: DeserializeOwned>(bytes: &'a [u8], what: &str) -> Result<(T, &'a [u8]), String> {
    postcard::take_from_bytes(bytes).map_err(|e| format!("cannot decode {what}: {e}"))
}
