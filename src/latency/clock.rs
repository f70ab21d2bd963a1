//! Clocks for latency measurement.
//!
//! Intervals inside the process use a monotonic clock ([`now_ns`]): wall
//! time can step (NTP) and would produce negative or huge latencies. Venue
//! timestamps (`E`, `T`, `updateTime`) are wall-clock milliseconds, so
//! comparing with them needs [`wall_ns`] (and the engine's offset estimate).

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static START: OnceLock<Instant> = OnceLock::new();

/// Monotonic nanoseconds since the first call in this process. Cheap
/// (one `Instant::now`), never goes backwards, fits u64 for 584 years.
#[inline]
pub fn now_ns() -> u64 {
    let start = *START.get_or_init(Instant::now);
    // Never 0 once called, so 0 can mean "not stamped yet" in order timestamps.
    u64::try_from(start.elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The `Instant` matching a [`now_ns`] timestamp, for APIs that take
/// `Instant`s (the HTTP pool's deadlines). Saturates far in the future
/// instead of overflowing.
pub fn instant_at(ns: u64) -> Instant {
    let start = *START.get_or_init(Instant::now);
    start
        .checked_add(std::time::Duration::from_nanos(ns))
        .unwrap_or_else(|| start + std::time::Duration::from_secs(86_400 * 365 * 100))
}

/// Wall-clock nanoseconds since the Unix epoch, for comparison with venue
/// timestamps; 0 if the system clock is before 1970.
#[inline]
pub fn wall_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_wall_plausible() {
        let a = now_ns();
        let b = now_ns();
        assert!(b >= a);
        // After 2020-01-01 and before 2100-01-01.
        let w = wall_ns();
        assert!(w > 1_577_836_800_000_000_000 && w < 4_102_444_800_000_000_000);
    }
}
