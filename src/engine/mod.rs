//! Engine: network, execution and strategy threads, and the pure building
//! blocks they share (waiting and pinning, venue clock, local rate limits,
//! crash-safe order journal).

pub mod clock;
pub mod journal;
pub mod ratelimit;
pub mod wait;
