//! Sealing SWIM datagrams: ChaCha20-Poly1305 with the cluster's shared key,
//! so that only members that hold the key can speak the membership
//! protocol, and a datagram changed in flight is dropped.
//!
//! Layout: `[version: 1 byte][nonce: 12 bytes][ciphertext | tag: 16 bytes]`
//! with version 1, or `[0][plaintext]` when no key is configured. The
//! version byte is authenticated as associated data. Nonces are random
//! (96 bits): at a few thousand datagrams per second per node the chance
//! of a repeat stays negligible for the life of a key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ring::rand::{SecureRandom, SystemRandom};

/// Version byte of a plaintext datagram.
const PLAIN: u8 = 0;
/// Version byte of a sealed datagram.
const SEALED: u8 = 1;
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;

/// Bytes sealing adds to a payload.
pub const SEAL_OVERHEAD_BYTES: usize = 1 + NONCE_BYTES + TAG_BYTES;

/// Why a datagram was dropped. Each reason is counted separately.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Empty datagram.
    #[error("empty datagram")]
    Empty,
    /// A version byte this node does not know.
    #[error("unknown datagram version {0}")]
    UnknownVersion(u8),
    /// A plaintext datagram reached a node that requires sealing.
    #[error("unsealed datagram while a cluster key is configured")]
    Unsealed,
    /// A sealed datagram reached a node without a key.
    #[error("sealed datagram but no cluster key is configured")]
    NoKey,
    /// Too short to hold a nonce and a tag.
    #[error("sealed datagram of {0} bytes is truncated")]
    Truncated(usize),
    /// The tag does not verify: another key, or bytes changed in flight.
    #[error("datagram does not authenticate (wrong cluster key or tampered)")]
    BadTag,
}

impl OpenError {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            OpenError::Empty => "empty",
            OpenError::UnknownVersion(_) => "unknown_version",
            OpenError::Unsealed => "unsealed",
            OpenError::NoKey => "no_key",
            OpenError::Truncated(_) => "truncated",
            OpenError::BadTag => "bad_tag",
        }
    }
}

/// Seals and opens datagrams with an optional cluster key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Option<ChaCha20Poly1305>,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").field("sealed", &self.cipher.is_some()).finish()
    }
}

impl Sealer {
    /// With `key`, every datagram is sealed and only sealed datagrams are
    /// accepted; without, datagrams travel in the clear.
    pub fn new(key: Option<[u8; 32]>) -> Sealer {
        let cipher = key.map(|k| ChaCha20Poly1305::new(Key::from_slice(&k)));
        Sealer { cipher, random: SystemRandom::new() }
    }

    /// Whether a key is configured.
    pub fn is_sealed(&self) -> bool {
        self.cipher.is_some()
    }

    /// The datagram carrying `payload`.
    pub fn seal(&self, payload: &[u8]) -> Vec<u8> {
        let Some(cipher) = &self.cipher else {
            let mut out = Vec::with_capacity(1 + payload.len());
            out.push(PLAIN);
            out.extend_from_slice(payload);
            return out;
        };
        let mut nonce = [0u8; NONCE_BYTES];
        self.random.fill(&mut nonce).expect("the system random source works");
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: payload, aad: &[SEALED] })
            .expect("ChaCha20-Poly1305 encrypts any payload of datagram size");
        let mut out = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        out.push(SEALED);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The payload of `datagram`, or why it must be dropped.
    pub fn open(&self, datagram: &[u8]) -> Result<Vec<u8>, OpenError> {
        let (&version, rest) = datagram.split_first().ok_or(OpenError::Empty)?;
        match (version, &self.cipher) {
            (PLAIN, None) => Ok(rest.to_vec()),
            (PLAIN, Some(_)) => Err(OpenError::Unsealed),
            (SEALED, None) => Err(OpenError::NoKey),
            (SEALED, Some(cipher)) => {
                if rest.len() < NONCE_BYTES + TAG_BYTES {
                    return Err(OpenError::Truncated(datagram.len()));
                }
                let (nonce, sealed) = rest.split_at(NONCE_BYTES);
                cipher
                    .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: &[SEALED] })
                    .map_err(|_| OpenError::BadTag)
            }
            (other, _) => Err(OpenError::UnknownVersion(other)),
        }
    }
}

/// Parses a cluster key: 64 hex digits (32 bytes).
pub fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "a cluster key is 64 hex digits (32 bytes); got {} characters",
            text.len()
        ));
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("checked hex digits");
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_round_trip_and_every_bit_flip_is_caught() {
        let sealer = Sealer::new(Some([7; 32]));
        let datagram = sealer.seal(b"ping");
        assert_eq!(datagram.len(), 4 + SEAL_OVERHEAD_BYTES);
        assert_eq!(sealer.open(&datagram).unwrap(), b"ping");
        for byte in 0..datagram.len() {
            let mut bad = datagram.clone();
            bad[byte] ^= 0x10;
            assert!(sealer.open(&bad).is_err(), "flip in byte {byte} accepted");
        }
    }

    #[test]
    fn wrong_key_missing_key_and_plaintext_are_refused() {
        let ours = Sealer::new(Some([7; 32]));
        let theirs = Sealer::new(Some([8; 32]));
        let plain = Sealer::new(None);
        assert_eq!(ours.open(&theirs.seal(b"x")), Err(OpenError::BadTag));
        assert_eq!(ours.open(&plain.seal(b"x")), Err(OpenError::Unsealed));
        assert_eq!(plain.open(&ours.seal(b"x")), Err(OpenError::NoKey));
        assert_eq!(plain.open(&plain.seal(b"x")).unwrap(), b"x");
        assert_eq!(ours.open(&[]), Err(OpenError::Empty));
        assert_eq!(ours.open(&[1, 2, 3]), Err(OpenError::Truncated(3)));
        assert_eq!(ours.open(&[9, 2, 3]), Err(OpenError::UnknownVersion(9)));
    }

    #[test]
    fn keys_parse_from_hex_only() {
        let hex = "00".repeat(31) + "ff";
        assert_eq!(parse_key(&hex).unwrap()[31], 0xff);
        assert!(parse_key("abc").unwrap_err().contains("64 hex digits"));
        assert!(parse_key(&"zz".repeat(32)).is_err());
    }
}
