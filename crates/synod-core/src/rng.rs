//! The seeded random number generator every core carries.

use rand::SeedableRng;

/// The RNG type of all cores: fast, portable and fully determined by its seed.
pub type CoreRng = rand_chacha::ChaCha8Rng;

/// A core's RNG, derived from the config's seed and the node's id so that
/// nodes sharing one seed still draw different timeouts.
pub(crate) fn core_rng(seed: u64, node: u64) -> CoreRng {
    let mixed = seed ^ node.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    CoreRng::seed_from_u64(mixed)
}
