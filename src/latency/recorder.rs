//! Per-thread latency recorder: one preallocated histogram per path.

use hdrhistogram::Histogram;

/// Lowest trackable value: 1 ns.
pub const MIN_NS: u64 = 1;
/// Highest trackable value: 60 s. Anything slower is a failure to report,
/// not a latency to resolve finely.
pub const MAX_NS: u64 = 60_000_000_000;
/// Significant digits kept (0.1 % relative error).
pub const SIGFIG: u8 = 3;

/// The measured paths of an order's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LatencyPath {
    /// Request written on the wire → venue acknowledgement received.
    SubmitToAck,
    /// Fill event received from the socket → delivered to the strategy.
    FillToStrategy,
    /// Strategy decision → request bytes written on the wire.
    StrategyToWire,
    /// Bytes read from the wire → event delivered to the strategy.
    WireToStrategy,
    /// The measurement floor (empty work), for benchmarks.
    Floor,
}

impl LatencyPath {
    /// Every path, in report order.
    pub const ALL: [LatencyPath; 5] = [
        LatencyPath::SubmitToAck,
        LatencyPath::FillToStrategy,
        LatencyPath::StrategyToWire,
        LatencyPath::WireToStrategy,
        LatencyPath::Floor,
    ];
    /// Number of paths.
    pub const COUNT: usize = Self::ALL.len();

    /// Stable snake-case name (JSON, file names).
    pub fn as_str(self) -> &'static str {
        match self {
            LatencyPath::SubmitToAck => "submit_to_ack",
            LatencyPath::FillToStrategy => "fill_to_strategy",
            LatencyPath::StrategyToWire => "strategy_to_wire",
            LatencyPath::WireToStrategy => "wire_to_strategy",
            LatencyPath::Floor => "floor",
        }
    }

    /// Index into per-path arrays.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A histogram with the crate's fixed bounds and auto-resize off, so that
/// recording never allocates.
pub(crate) fn new_histogram() -> Histogram<u64> {
    let mut h = Histogram::<u64>::new_with_bounds(MIN_NS, MAX_NS, SIGFIG)
        .unwrap_or_else(|e| unreachable!("constant histogram bounds are valid: {e}"));
    h.auto(false);
    h
}

/// Records latencies for one thread. Not shared: no atomics, no locks; the
/// owner hands it (or a clone) to a [`super::LatencyReport`] to merge.
#[derive(Clone)]
pub struct LatencyRecorder {
    hists: Vec<Histogram<u64>>,
    clamped: [u64; LatencyPath::COUNT],
}

impl std::fmt::Debug for LatencyRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts: Vec<(&str, u64)> = LatencyPath::ALL
            .iter()
            .map(|p| (p.as_str(), self.count(*p)))
            .collect();
        f.debug_struct("LatencyRecorder")
            .field("counts", &counts)
            .field("clamped", &self.clamped)
            .finish()
    }
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    /// Allocates all histograms up front (about 200 KiB per path).
    pub fn new() -> Self {
        LatencyRecorder {
            hists: (0..LatencyPath::COUNT).map(|_| new_histogram()).collect(),
            clamped: [0; LatencyPath::COUNT],
        }
    }

    /// Records one latency in nanoseconds. Values outside 1 ns..60 s are
    /// clamped to the bounds and counted in [`Self::clamped`]; never
    /// allocates, never fails.
    #[inline]
    pub fn record(&mut self, path: LatencyPath, ns: u64) {
        let i = path.index();
        let v = if !(MIN_NS..=MAX_NS).contains(&ns) {
            if let Some(c) = self.clamped.get_mut(i) {
                *c += 1;
            }
            ns.clamp(MIN_NS, MAX_NS)
        } else {
            ns
        };
        if let Some(h) = self.hists.get_mut(i) {
            // In range by construction; the only other failure is a count
            // overflow at 2^64 samples.
            let _ = h.record(v);
        }
    }

    /// Records `end_ns - start_ns` (monotonic [`super::now_ns`] values); an
    /// end before the start records as clamped.
    #[inline]
    pub fn record_between(&mut self, path: LatencyPath, start_ns: u64, end_ns: u64) {
        self.record(path, end_ns.saturating_sub(start_ns));
    }

    /// Samples recorded on `path`.
    pub fn count(&self, path: LatencyPath) -> u64 {
        self.hists.get(path.index()).map_or(0, |h| h.len())
    }

    /// Samples that were clamped into range on `path`.
    pub fn clamped(&self, path: LatencyPath) -> u64 {
        self.clamped.get(path.index()).copied().unwrap_or(0)
    }

    /// The histogram of `path`.
    pub fn histogram(&self, path: LatencyPath) -> Option<&Histogram<u64>> {
        self.hists.get(path.index())
    }

    /// Clears all samples, keeping the allocation (for interval reports).
    pub fn reset(&mut self) {
        for h in &mut self.hists {
            h.reset();
        }
        self.clamped = [0; LatencyPath::COUNT];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_clamps() {
        let mut r = LatencyRecorder::new();
        r.record(LatencyPath::SubmitToAck, 1_000_000);
        r.record(LatencyPath::SubmitToAck, 0);
        r.record(LatencyPath::SubmitToAck, 120_000_000_000);
        r.record_between(LatencyPath::Floor, 10, 5);
        assert_eq!(r.count(LatencyPath::SubmitToAck), 3);
        assert_eq!(r.clamped(LatencyPath::SubmitToAck), 2);
        assert_eq!(r.clamped(LatencyPath::Floor), 1);
        assert_eq!(r.count(LatencyPath::FillToStrategy), 0);
        let h = r.histogram(LatencyPath::SubmitToAck).unwrap();
        assert!(h.max() >= MAX_NS && h.max() <= MAX_NS + MAX_NS / 1000);
        assert_eq!(h.min(), 1);
        r.reset();
        assert_eq!(r.count(LatencyPath::SubmitToAck), 0);
        assert_eq!(r.clamped(LatencyPath::SubmitToAck), 0);
    }

    #[test]
    fn precision_is_three_digits() {
        let mut r = LatencyRecorder::new();
        r.record(LatencyPath::Floor, 123_456_789);
        let h = r.histogram(LatencyPath::Floor).unwrap();
        let v = h.value_at_quantile(1.0);
        assert!(v.abs_diff(123_456_789) * 1000 <= 123_456_789, "{v}");
    }
}
