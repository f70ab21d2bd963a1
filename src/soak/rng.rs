//! A tiny seeded generator (SplitMix64) so a soak run is reproducible from
//! its `--seed`: the same seed gives the same order mix and fault schedule.

use crate::sim::venue::rng::SplitMix64;

/// The simulator's splitmix64 with the soak's helpers on top: small, fast,
/// good enough for picking actions and delays, and one generator for the
/// whole crate.
#[derive(Debug, Clone)]
pub struct SoakRng(SplitMix64);

impl SoakRng {
    /// A generator seeded with `seed` (0 is fine).
    pub fn new(seed: u64) -> Self {
        SoakRng(SplitMix64::new(seed ^ 0x5eed_50a4_0000_0001))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Uniform in `lo..=hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_ranges_hold() {
        let mut a = SoakRng::new(7);
        let mut b = SoakRng::new(7);
        let mut c = SoakRng::new(8);
        let xa: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
        for _ in 0..1000 {
            let v = a.range(3, 5);
            assert!((3..=5).contains(&v));
        }
        assert_eq!(a.below(0), 0);
    }
}
