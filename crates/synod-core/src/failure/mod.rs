//! The φ accrual failure detector (Hayashibara, Défago, Yared, Katayama:
//! "The φ Accrual Failure Detector", SRDS 2004).
//!
//! A classic detector answers "alive or dead?" after a fixed timeout, so
//! one timeout must suit both a quiet LAN and a congested WAN. An accrual
//! detector instead outputs a continuous suspicion level φ: it learns the
//! distribution of heartbeat inter-arrival times over a sliding window and
//! reports `φ = −log10(P_later)`, the improbability that a heartbeat is
//! still on its way after the current silence (paper §3). Each user picks
//! its own threshold: φ = 1 means a 10 % chance of being wrong, φ = 8
//! about 10⁻⁸ (paper §3.2). SWIM's membership layer uses it to decide
//! when to start suspecting a peer it hears from directly.
//!
//! The normal CDF is approximated with the logistic function of Bowling et
//! al. (2009), as Akka does; see the `phi` module docs for the derivation
//! and the overflow handling.
//!
//! [`PhiAccrualDetector`] watches one peer; [`FailureDetectors`] keeps one
//! per peer. Both are sans-IO: heartbeats and queries carry the caller's
//! [`Time`](crate::Time).
//!
//! ```
//! use synod_core::failure::{Config, FailureDetectors};
//! use synod_core::{NodeId, Time};
//!
//! let mut detectors = FailureDetectors::new(Config::default()).unwrap();
//! // Both peers beat every second for a minute; then n2 falls silent.
//! for s in 0..60 {
//!     detectors.heartbeat(NodeId(1), Time(s * 1_000));
//!     detectors.heartbeat(NodeId(2), Time(s * 1_000));
//! }
//! detectors.heartbeat(NodeId(1), Time(60_000));
//! let now = Time(60_500);
//! assert!(detectors.phi(&NodeId(1), now).unwrap() < 1.0);
//! assert!(detectors.suspects(now).is_empty());
//! // Two and a half seconds after n2's last beat, φ is far past 8.
//! let later = Time(61_500);
//! assert_eq!(detectors.suspects(later), vec![NodeId(2)]);
//! ```

mod config;
mod detector;
mod phi;
mod table;
mod window;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use config::{Config, ConfigError};
pub use detector::PhiAccrualDetector;
pub use phi::PHI_MAX;
pub use table::FailureDetectors;
