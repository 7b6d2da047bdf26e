//! φ from a normal model of the next heartbeat's arrival.
//!
//! Paper §3–4: with the inter-arrival times modelled as a normal
//! distribution N(μ, σ²), the probability that a heartbeat is still to come
//! `t` ms after the last one is `P_later(t) = 1 − Φ((t − μ) / σ)`, and
//! `φ(t) = −log10(P_later(t))`.
//!
//! Φ has no closed form. We use the logistic approximation of Bowling,
//! Khasawneh, Kaewkuekool and Cho ("A logistic approximation to the
//! cumulative normal distribution", Journal of Industrial Engineering and
//! Management 2(1), 2009; maximum absolute error 1.4·10⁻⁴), which Akka's
//! phi-accrual detector also uses:
//!
//! ```text
//! Φ(y) ≈ 1 / (1 + e^(−z)),   z = 1.5976·y + 0.070566·y³
//! ```
//!
//! so `P_later = 1 / (1 + e^z)` and `φ = log10(1 + e^z)`. Evaluating that
//! as written overflows `e^z` for z > 709; here it is computed as a
//! "softplus" that switches to `z` itself where `e^(−z)` is below the
//! rounding error, so it never overflows and never yields NaN. Every step
//! is monotone in `t`, which keeps φ non-decreasing as silence grows.

/// The largest φ reported. Overflow in the cubic (a σ floor of 10⁻³⁰⁰ ms
/// with a silence of years) is capped here, so φ is always finite.
pub const PHI_MAX: f64 = f64::MAX;

/// Logistic approximation coefficients (Bowling et al. 2009).
const LINEAR: f64 = 1.5976;
const CUBIC: f64 = 0.070566;

/// Beyond this, `ln(1 + e^z)` and `z` are the same `f64` (e^−40 ≈ 4·10⁻¹⁸
/// is far below the unit in the last place of 40).
const SOFTPLUS_LINEAR_FROM: f64 = 40.0;

/// φ for a silence of `elapsed_ms` given the window's mean and standard
/// deviation (both in ms, `std_ms` > 0).
pub(crate) fn phi(elapsed_ms: f64, mean_ms: f64, std_ms: f64) -> f64 {
    debug_assert!(std_ms > 0.0, "σ is floored above zero by Config::validate");
    let y = (elapsed_ms - mean_ms) / std_ms;
    // y³ as (y·y)·y: for negative y this is −(y²·|y|), a product of two
    // shrinking non-negative factors, so rounding cannot make it wobble.
    let cube = (y * y) * y;
    let z = LINEAR * y + CUBIC * cube;
    (softplus(z) / std::f64::consts::LN_10).min(PHI_MAX)
}

/// `ln(1 + e^z)` without overflow; `+∞` stays `+∞`, `−∞` gives 0.
fn softplus(z: f64) -> f64 {
    if z > SOFTPLUS_LINEAR_FROM {
        z
    } else {
        z.exp().ln_1p()
    }
}
