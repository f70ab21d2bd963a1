//! The engine's monotonic clock: the one in [`crate::latency::clock`], so
//! order timestamps and latency histograms subtract values of the same clock.
pub use crate::latency::clock::now_ns as mono_ns;
