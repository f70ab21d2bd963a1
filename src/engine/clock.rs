//! The engine's monotonic clock.
//!
//! Order timestamps (created, submitted, acked) are compared to measure
//! latency, so they must come from a clock that never jumps back: the OS
//! monotonic clock, as nanoseconds since the first call in this process.

use std::sync::OnceLock;
use std::time::Instant;

static ANCHOR: OnceLock<Instant> = OnceLock::new();

/// Monotonic nanoseconds since the process's first call (never 0 after the
/// first call returns, so 0 can mean "not yet" in order timestamps).
#[inline]
pub fn mono_ns() -> u64 {
    let anchor = *ANCHOR.get_or_init(Instant::now);
    let ns = anchor.elapsed().as_nanos();
    u64::try_from(ns).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn monotonic_and_nonzero() {
        let a = super::mono_ns();
        let b = super::mono_ns();
        assert!(a >= 1 && b >= a);
    }
}
