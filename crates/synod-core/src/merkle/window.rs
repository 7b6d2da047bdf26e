//! Digest windows: the 8 bytes of a 32-byte digest that an anti-entropy
//! session compares while it looks for differences.
//!
//! Why 8 bytes are enough. Windows only decide *where to look*; the signed
//! root stays 32 bytes, and a key found to differ is repaired with full
//! digests and full state. Two different digests show the same window with
//! probability 2^-64; then the session takes a differing subtree or key
//! for equal and skips it. That only delays the repair: which of the
//! digest's four windows a session compares depends on its id, so a later
//! session compares another window and sees the difference (unless the
//! digests also agree there, another 2^-64). Making it happen on purpose
//! takes a second preimage of 64 bits of SHA-256 (2^64 work) and buys one
//! session's delay; keeping a difference hidden takes a full 256-bit second
//! preimage. Peers, moreover, are authenticated by mTLS and sign their
//! roots, and a peer that meant to withhold state could simply not send it.

use super::Digest;

/// Bytes in a [`Window`].
pub const WINDOW_BYTES: usize = 8;

/// Windows a digest is cut into (a power of two).
const WINDOWS: u64 = (32 / WINDOW_BYTES) as u64;

/// [`WINDOW_BYTES`] consecutive bytes of a digest.
pub type Window = [u8; WINDOW_BYTES];

/// The window of `digest` that session `session` compares: one of its four
/// 8-byte quarters, chosen by the session id.
pub fn window_of(digest: &Digest, session: u64) -> Window {
    let at = window_offset(session);
    digest[at..at + WINDOW_BYTES].try_into().expect("a window lies inside the digest")
}

/// Where session `session`'s window starts: the top two bits of the id
/// times 2^64 / phi (Fibonacci hashing), rather than `id mod 4`, because a
/// node numbers all its sessions from one counter — with four peers taken
/// in turn, `id mod 4` would give one peer the same window every time.
fn window_offset(session: u64) -> usize {
    let mixed = session.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> (64 - WINDOWS.trailing_zeros())) as usize * WINDOW_BYTES
}

/// What a session knows of a peer's entry digest for a key: one window of
/// it. Passed to
/// [`Replica::delta_for_partial`](crate::antientropy::Replica::delta_for_partial).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartialDigest {
    offset: usize,
    window: Window,
}

impl PartialDigest {
    /// The window `window` as session `session` cut it.
    pub fn new(session: u64, window: Window) -> PartialDigest {
        PartialDigest { offset: window_offset(session), window }
    }

    /// The window of `digest` that session `session` compares.
    pub fn of(digest: &Digest, session: u64) -> PartialDigest {
        PartialDigest::new(session, window_of(digest, session))
    }

    /// Whether `digest` shows this window at this offset: certainly when it
    /// is the digest the window was cut from, and with probability 2^-64
    /// for any other.
    pub fn matches(&self, digest: &Digest) -> bool {
        digest[self.offset..self.offset + WINDOW_BYTES] == self.window
    }

    /// Where the window starts in the digest.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The window's bytes.
    pub fn window(&self) -> &Window {
        &self.window
    }
}
