//! Retry delays: exponential, capped, jittered.
//!
//! Many clients retrying a failed request on the same schedule hit the venue
//! together again (and the venue answers bursts with 429, then a 418 IP ban),
//! so each delay is randomised. The randomness is injected through [`Jitter`]
//! so the schedule is reproducible in tests and in the simulator.

use std::time::Duration;

/// A source of uniform numbers in `[0, 1)`.
pub trait Jitter {
    /// The next number in `[0, 1)`.
    fn next_unit(&mut self) -> f64;
}

/// A fixed value, for tests and for deterministic replays.
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn next_unit(&mut self) -> f64 {
        self.0.clamp(0.0, 1.0 - f64::EPSILON)
    }
}

/// SplitMix64: tiny, fast and good enough to de-synchronise retries; seed
/// it from the clock in production and from a constant in tests.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl Jitter for SplitMix64 {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The retry schedule from `max_retries`, `retry_delay_secs` (base) and
/// `retry_delay_max_secs` (cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// Delay scale of the first retry.
    pub base: Duration,
    /// No delay exceeds this, however many retries came before.
    pub cap: Duration,
}

impl Backoff {
    /// Delay before retry number `attempt` (1 = first retry), or `None` when
    /// the retries are used up.
    ///
    /// The un-jittered delay is `min(cap, base × 2^(attempt-1))`; the returned
    /// delay is uniform in `[d/2, d)` ("equal jitter"): never shorter than half,
    /// so a burst of failures cannot collapse into an immediate hammering.
    pub fn delay(&self, attempt: u32, jitter: &mut impl Jitter) -> Option<Duration> {
        if attempt == 0 || attempt > self.max_retries {
            return None;
        }
        let base = self.base.as_nanos();
        let cap = self.cap.as_nanos();
        let shift = (attempt - 1).min(64);
        let raw = base.checked_shl(shift).unwrap_or(u128::MAX);
        let d = raw.min(cap).min(u64::MAX as u128) as u64;
        let half = d / 2;
        let spread = ((d - half) as f64 * jitter.next_unit()) as u64;
        Some(Duration::from_nanos(half + spread.min(d - half)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> Backoff {
        Backoff {
            max_retries: 5,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(5),
        }
    }

    #[test]
    fn doubles_then_caps() {
        let mut top = FixedJitter(1.0);
        let got: Vec<_> = (1..=5).map(|n| b().delay(n, &mut top).unwrap()).collect();
        // Jitter just below 1 gives (almost) the full delay.
        let secs: Vec<u64> = got
            .iter()
            .map(|d| (d.as_millis() + 1) as u64 / 1000)
            .collect();
        assert_eq!(secs, vec![1, 2, 4, 5, 5]);
        assert_eq!(b().delay(6, &mut top), None);
        assert_eq!(b().delay(0, &mut top), None);
    }

    #[test]
    fn zero_jitter_is_half() {
        let mut zero = FixedJitter(0.0);
        assert_eq!(b().delay(1, &mut zero), Some(Duration::from_millis(500)));
        assert_eq!(b().delay(3, &mut zero), Some(Duration::from_secs(2)));
    }

    #[test]
    fn same_seed_same_schedule_and_within_bounds() {
        let mut a = SplitMix64(42);
        let mut c = SplitMix64(42);
        for n in 1..=5 {
            let x = b().delay(n, &mut a).unwrap();
            assert_eq!(Some(x), b().delay(n, &mut c));
            let full = Duration::from_secs(1 << (n - 1)).min(Duration::from_secs(5));
            assert!(x >= full / 2 && x <= full, "attempt {n}: {x:?}");
        }
    }

    #[test]
    fn huge_attempts_do_not_overflow() {
        let big = Backoff {
            max_retries: u32::MAX,
            ..b()
        };
        let mut j = FixedJitter(0.5);
        let d = big.delay(u32::MAX, &mut j).unwrap();
        assert!(d <= Duration::from_secs(5));
    }
}
