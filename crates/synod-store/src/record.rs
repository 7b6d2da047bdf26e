//! Checksummed records: every value this crate stores is
//! `[crc32 (little endian) | payload]`, where the CRC covers the record's
//! key bytes followed by its payload — so a payload that moved under another
//! key fails the check as surely as a flipped bit.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Location, StoreError};

/// Bytes of the checksum that precedes every payload.
pub(crate) const CRC_LEN: usize = 4;

/// CRC-32 of `key` then `payload`.
pub(crate) fn checksum(key: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(key);
    hasher.update(payload);
    hasher.finalize()
}

/// Writes the checksum of `record[CRC_LEN..]` under `key` into its first bytes.
pub(crate) fn seal(record: &mut [u8], key: &[u8]) {
    let crc = checksum(key, &record[CRC_LEN..]);
    record[..CRC_LEN].copy_from_slice(&crc.to_le_bytes());
}

/// Encodes `value` with postcard into `buf` (cleared first) as a sealed record.
pub(crate) fn encode_into<T: Serialize>(buf: &mut Vec<u8>, key: &[u8], value: &T) {
    buf.clear();
    buf.extend_from_slice(&[0; CRC_LEN]);
    let out = postcard::to_extend(value, std::mem::take(buf))
        .expect("postcard serializes these types into a Vec infallibly");
    *buf = out;
    seal(buf, key);
}

/// A sealed record holding `value`.
pub(crate) fn encode<T: Serialize>(key: &[u8], value: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_into(&mut buf, key, value);
    buf
}

/// The payload of `record` stored under `key`, after checking its checksum.
/// `name` describes the record in errors.
pub(crate) fn open<'r>(
    loc: Location<'_>,
    name: impl fmt::Display,
    key: &[u8],
    record: &'r [u8],
) -> Result<&'r [u8], StoreError> {
    if record.len() < CRC_LEN {
        return Err(loc.corrupt(name));
    }
    let (crc, payload) = record.split_at(CRC_LEN);
    let stored = u32::from_le_bytes(crc.try_into().expect("CRC_LEN bytes"));
    if stored != checksum(key, payload) {
        return Err(loc.corrupt(name));
    }
    Ok(payload)
}

/// Checks and decodes a record written by [`encode`]; the payload must be
/// exactly one postcard value.
pub(crate) fn decode<T: DeserializeOwned>(
    loc: Location<'_>,
    name: impl fmt::Display,
    key: &[u8],
    record: &[u8],
) -> Result<T, StoreError> {
    let payload = open(loc, &name, key, record)?;
    match postcard::take_from_bytes(payload) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(loc.invalid(name, format!("{} trailing bytes", rest.len()))),
        Err(e) => Err(loc.invalid(name, e)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn loc() -> Location<'static> {
        Location { file: Path::new("/data/x.redb"), table: "t" }
    }

    #[test]
    fn round_trip() {
        let record = encode(b"k", &(7u64, String::from("v")));
        let back: (u64, String) = decode(loc(), "k", b"k", &record).unwrap();
        assert_eq!(back, (7, "v".to_string()));
    }

    #[test]
    fn any_flipped_bit_is_detected() {
        let record = encode(b"k", &vec![1u8, 2, 3, 4, 5]);
        for byte in 0..record.len() {
            for bit in 0..8 {
                let mut bad = record.clone();
                bad[byte] ^= 1 << bit;
                let err = open(loc(), "k", b"k", &bad).unwrap_err();
                assert!(matches!(err, StoreError::Corrupt { .. }), "byte {byte} bit {bit}");
            }
        }
    }

    #[test]
    fn a_record_under_another_key_is_detected() {
        let record = encode(b"a", &1u8);
        let err = open(loc(), "key b", b"b", &record).unwrap_err();
        assert_eq!(err.to_string(), "checksum mismatch in /data/x.redb, table t, record key b");
    }

    #[test]
    fn short_records_are_corrupt() {
        assert!(matches!(open(loc(), "k", b"k", &[1, 2]), Err(StoreError::Corrupt { .. })));
    }
}
