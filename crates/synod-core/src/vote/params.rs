//! Parameters of a proposal's decision algorithm.

use std::collections::BTreeMap;

use super::Participant;
use super::VoteError;

/// The parameters of every built-in algorithm, plus free-form ones for
/// custom algorithms.
///
/// One typed struct rather than a string map: the built-in parameters are
/// checked once, by type, and encode compactly in the log. Each algorithm
/// reads only its own fields and refuses a proposal that sets any other
/// ([`VoteError::ParamNotApplicable`]): a client that sends `weights` to
/// `quorum` meant something the algorithm would silently ignore.
///
/// Percentages are whole numbers and compared with integer arithmetic, so
/// every replica reaches the same decision bit for bit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Params {
    /// `quorum` and `weighted`: approve when the share in favour is
    /// strictly more than this percentage (0–99, default 50).
    pub threshold_percent: Option<u8>,
    /// `weighted`: the weight of every participant (and of nobody else).
    /// Empty means "no weights".
    pub weights: BTreeMap<Participant, u32>,
    /// `score`: the average score must be at least this (0–100,
    /// default 70).
    pub min_average_score: Option<u8>,
    /// `score`: the votes in favour must be at least this percentage of
    /// the participants (0–100, default 50).
    pub min_approval_percent: Option<u8>,
    /// Parameters of custom algorithms, which parse them themselves.
    pub custom: BTreeMap<String, String>,
}

/// A parameter, as named in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    Threshold,
    Weights,
    MinAverageScore,
    MinApproval,
}

impl Param {
    fn name(self) -> &'static str {
        match self {
            Param::Threshold => "threshold_percent",
            Param::Weights => "weights",
            Param::MinAverageScore => "min_average_score",
            Param::MinApproval => "min_approval_percent",
        }
    }
}

impl Params {
    /// Refuses any built-in parameter outside `allowed` and any custom one.
    pub(crate) fn allow_only(&self, algorithm: &str, allowed: &[Param]) -> Result<(), VoteError> {
        let set = [
            (Param::Threshold, self.threshold_percent.is_some()),
            (Param::Weights, !self.weights.is_empty()),
            (Param::MinAverageScore, self.min_average_score.is_some()),
            (Param::MinApproval, self.min_approval_percent.is_some()),
        ];
        let stray = set.iter().find(|(p, given)| *given && !allowed.contains(p));
        let stray = stray.map(|(p, _)| p.name().to_owned());
        match stray.or_else(|| self.custom.keys().next().cloned()) {
            Some(param) => {
                Err(VoteError::ParamNotApplicable { algorithm: algorithm.to_owned(), param })
            }
            None => Ok(()),
        }
    }

    /// `value` or `default`, refused when outside `min..=max`.
    pub(crate) fn percent(
        algorithm: &str,
        param: Param,
        value: Option<u8>,
        default: u8,
        (min, max): (u8, u8),
    ) -> Result<u8, VoteError> {
        let value = value.unwrap_or(default);
        if (min..=max).contains(&value) {
            return Ok(value);
        }
        let (algorithm, param) = (algorithm.to_owned(), param.name());
        Err(VoteError::ParamOutOfRange { algorithm, param, value, min, max })
    }

    /// Bytes of the custom parameters' keys and values.
    pub(crate) fn custom_bytes(&self) -> usize {
        self.custom.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}
