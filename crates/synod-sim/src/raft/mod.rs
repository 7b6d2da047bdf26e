//! Raft simulation.
