//! Latency percentiles for the endpoint without computing them on a trading
//! thread.
//!
//! A percentile walks the whole histogram (tens of thousands of buckets per
//! path), which has no place between two order events. So the histograms are
//! *copied* instead: a [`LatencyTap`] lives on each recording thread and a
//! [`TapSink`] on the metrics thread. The sink lends the thread one
//! preallocated snapshot at a time; the thread copies its histograms into it
//! at its own periodic tick (a memcpy per path that has new samples, no
//! allocation) and sends it back; the metrics thread computes the
//! percentiles into the [`Metrics`] registry and lends the buffer again a
//! second later. A thread that is never lent a buffer does nothing more
//! than one failed `try_recv` per tick.

use super::registry::Metrics;
use crate::latency::recorder::new_histogram;
use crate::latency::{LatencyPath, LatencyRecorder, wall_ns};
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// How often a sink lends its buffer out: the freshness of the published
/// percentiles, and the rate of the copies on the recording thread.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// A copy of one thread's histograms, allocated once.
pub struct LatencySnapshot {
    hists: Vec<Histogram<u64>>,
}

impl std::fmt::Debug for LatencySnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts: Vec<(&str, u64)> = LatencyPath::ALL
            .iter()
            .zip(&self.hists)
            .map(|(p, h)| (p.as_str(), h.len()))
            .collect();
        f.debug_struct("LatencySnapshot")
            .field("counts", &counts)
            .finish()
    }
}

impl Default for LatencySnapshot {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencySnapshot {
    /// Allocates one histogram per path (the recorder's bounds).
    pub fn new() -> Self {
        LatencySnapshot {
            hists: (0..LatencyPath::COUNT).map(|_| new_histogram()).collect(),
        }
    }

    /// Makes this a copy of `rec`. Paths whose sample count did not change
    /// since the last copy are skipped (a recorder only grows), so an idle
    /// path costs nothing. Never allocates: same bounds, no auto-resize.
    pub fn copy_from(&mut self, rec: &LatencyRecorder) {
        for (path, dst) in LatencyPath::ALL.iter().zip(self.hists.iter_mut()) {
            let Some(src) = rec.histogram(*path) else {
                continue;
            };
            if src.len() == dst.len() {
                continue;
            }
            dst.reset();
            // Same bounds on both sides, so this is a plain copy and cannot
            // fail; on a failure the path keeps its reset (empty) state and
            // is simply not published.
            let _ = dst.add(src);
        }
    }

    /// The copied histogram of `path`.
    pub fn histogram(&self, path: LatencyPath) -> Option<&Histogram<u64>> {
        self.hists.get(path.index())
    }
}

/// The recording thread's end: offer your recorder at your periodic tick.
#[derive(Debug)]
pub struct LatencyTap {
    lent: Receiver<Box<LatencySnapshot>>,
    back: Sender<Box<LatencySnapshot>>,
}

impl LatencyTap {
    /// Copies `rec` into the lent buffer and hands it back, if a buffer is
    /// lent right now; returns whether it copied. Lock-free and
    /// allocation-free either way. Call it from the thread's periodic tick,
    /// never per event.
    pub fn offer(&self, rec: &LatencyRecorder) -> bool {
        match self.lent.try_recv() {
            Ok(mut snap) => {
                snap.copy_from(rec);
                // Capacity 1 and only one buffer exists, so this cannot be
                // full; if the sink is gone the buffer is dropped with it.
                let _ = self.back.try_send(snap);
                true
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => false,
        }
    }
}

/// The metrics thread's end: lends the buffer, publishes what comes back.
#[derive(Debug)]
pub struct TapSink {
    lend: Sender<Box<LatencySnapshot>>,
    returned: Receiver<Box<LatencySnapshot>>,
    /// The buffer while it is at home.
    home: Option<Box<LatencySnapshot>>,
    next_lend: Instant,
}

/// A connected tap/sink pair with its one snapshot buffer (allocated here,
/// off the hot path).
pub fn latency_tap() -> (LatencyTap, TapSink) {
    let (lend, lent) = crossbeam_channel::bounded(1);
    let (back, returned) = crossbeam_channel::bounded(1);
    (
        LatencyTap { lent, back },
        TapSink {
            lend,
            returned,
            home: Some(Box::new(LatencySnapshot::new())),
            next_lend: Instant::now(),
        },
    )
}

impl TapSink {
    /// Publishes a returned snapshot into `m` and lends the buffer again
    /// when due. Returns whether something was published. Runs on the
    /// metrics thread, where computing percentiles is harmless.
    pub fn poll(&mut self, m: &Metrics, now: Instant) -> bool {
        let mut published = false;
        if let Ok(snap) = self.returned.try_recv() {
            publish(m, &snap);
            self.home = Some(snap);
            published = true;
        }
        if now >= self.next_lend
            && let Some(snap) = self.home.take()
        {
            match self.lend.try_send(snap) {
                Ok(()) => self.next_lend = now + PUBLISH_EVERY,
                Err(e) => self.home = Some(e.into_inner()),
            }
        }
        published
    }
}

/// Publishes every path of `snap` that has samples (a thread's snapshot
/// leaves the paths it does not record empty, and those belong to another
/// thread's snapshot).
pub fn publish(m: &Metrics, snap: &LatencySnapshot) {
    for path in LatencyPath::ALL {
        if let Some(h) = snap.histogram(path)
            && !h.is_empty()
        {
            m.publish_histogram(path, h);
        }
    }
    m.mark_published(u64::try_from(wall_ns()).unwrap_or(0));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::LatencyStat;

    #[test]
    fn lend_copy_return_publish() {
        let (tap, mut sink) = latency_tap();
        let m = Metrics::new();
        let mut rec = LatencyRecorder::new();
        for i in 1..=100u64 {
            rec.record(LatencyPath::SubmitToAck, i * 1_000);
        }
        // Nothing lent yet: the thread does nothing.
        assert!(!tap.offer(&rec));
        let t0 = Instant::now();
        assert!(!sink.poll(&m, t0)); // lends
        assert!(tap.offer(&rec)); // copies and returns
        assert!(!tap.offer(&rec)); // only one buffer
        assert!(sink.poll(&m, t0)); // publishes; not due to lend again yet
        assert_eq!(m.latency_count(LatencyPath::SubmitToAck), 100);
        let max = m.latency_ns(LatencyPath::SubmitToAck, LatencyStat::Max);
        assert!(max.abs_diff(100_000) <= 100, "{max}");
        assert_eq!(m.latency_count(LatencyPath::WireToStrategy), 0);
        assert!(!tap.offer(&rec));
        // Next period: new samples show up, unchanged paths are skipped.
        rec.record(LatencyPath::SubmitToAck, 5_000);
        sink.poll(&m, t0 + PUBLISH_EVERY);
        assert!(tap.offer(&rec));
        assert!(sink.poll(&m, t0 + PUBLISH_EVERY));
        assert_eq!(m.latency_count(LatencyPath::SubmitToAck), 101);
    }

    #[test]
    fn a_gone_sink_or_tap_is_harmless() {
        let (tap, sink) = latency_tap();
        drop(sink);
        assert!(!tap.offer(&LatencyRecorder::new()));
        let (tap, mut sink) = latency_tap();
        drop(tap);
        assert!(!sink.poll(&Metrics::new(), Instant::now()));
    }
}
