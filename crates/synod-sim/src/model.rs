//! Stateright model of the Raft core.
