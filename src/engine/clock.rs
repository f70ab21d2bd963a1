//! Venue clock estimation: what time the exchange thinks it is.
//!
//! Signed requests carry a `timestamp` the venue accepts only when
//! `timestamp < serverTime + 1000` and `serverTime − timestamp ≤ recvWindow`
//! (otherwise `-1021`). A local clock a second fast rejects every order, so
//! the engine stamps requests with its estimate of venue time, not its own.
//!
//! The estimate comes from `GET /fapi/v1/time` round trips: the server read its
//! clock somewhere between our send and receive, most likely in the middle, so
//! `offset = serverTime − (t_send + t_recv) / 2`, with an error of at most half
//! the round trip. The sample with the smallest round trip among recent ones
//! is kept, because its error bound is the tightest.
//!
//! The same offset converts venue event times (`T`, `E`) into local time, so
//! latency histograms measure venue-to-us delay instead of clock skew.

/// The engine's monotonic clock is the one in [`crate::latency::clock`], so
/// order timestamps and latency histograms subtract values of the same clock.
pub use crate::latency::clock::now_ns as mono_ns;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Samples kept for the minimum-round-trip choice.
pub const SAMPLE_RING: usize = 8;

/// Extra milliseconds subtracted when stamping a request, on top of the
/// half-round-trip uncertainty, to absorb clock drift between syncs.
pub const DEFAULT_SAFETY_MARGIN_MS: i64 = 20;

/// Samples older than this many sync intervals no longer count: the local
/// clock drifts (and NTP steps it), so an old tight sample can be wrong.
pub const SAMPLE_MAX_AGE_INTERVALS: u32 = 4;

/// Why a time sample was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The receive time is before the send time: the local wall clock was
    /// stepped during the request; the sample says nothing.
    #[error(
        "time sample received ({t_recv_ms}) before it was sent ({t_send_ms}); local clock stepped"
    )]
    NegativeRoundTrip {
        /// Local wall ms at send.
        t_send_ms: i64,
        /// Local wall ms at receive.
        t_recv_ms: i64,
    },
    /// `serverTime` is not a plausible epoch time in milliseconds.
    #[error("implausible serverTime {0}")]
    BadServerTime(i64),
}

/// What to do after a `-1021` (timestamp outside recvWindow) reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampAction {
    /// Resync now, then send the request once more with a fresh timestamp
    /// and signature.
    ResyncAndRetry,
    /// Resync, but this request already had its one retry: fail it.
    ResyncAndFail,
}

/// One `GET /fapi/v1/time` round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSample {
    /// Local wall clock (ms since epoch) just before sending.
    pub t_send_ms: i64,
    /// Local wall clock (ms since epoch) just after the reply was read.
    pub t_recv_ms: i64,
    /// The venue's `serverTime`.
    pub server_ms: i64,
    /// Local monotonic time of receipt, to age the sample.
    pub at: Instant,
}

impl TimeSample {
    /// Round trip in ms.
    pub fn rtt_ms(&self) -> i64 {
        self.t_recv_ms - self.t_send_ms
    }

    /// `serverTime − midpoint`, rounded toward negative infinity.
    pub fn offset_ms(&self) -> i64 {
        let twice = self.server_ms * 2 - (self.t_send_ms + self.t_recv_ms);
        twice.div_euclid(2)
    }
}

/// A pairing of the wall clock and the monotonic clock read together, so a
/// wall-clock instant can be placed on the monotonic axis latencies use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallMonoAnchor {
    /// Wall clock, ns since the Unix epoch.
    pub wall_ns: i64,
    /// Monotonic clock, ns since the caller's epoch `Instant`.
    pub mono_ns: i64,
}

impl WallMonoAnchor {
    /// Reads both clocks now; `epoch` is the `Instant` the latency recorder
    /// measures from.
    pub fn capture(epoch: Instant) -> Self {
        let mono = Instant::now().saturating_duration_since(epoch);
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        WallMonoAnchor {
            wall_ns: i64::try_from(wall.as_nanos()).unwrap_or(i64::MAX),
            mono_ns: i64::try_from(mono.as_nanos()).unwrap_or(i64::MAX),
        }
    }
}

/// Current local wall clock in ms since the epoch (0 if the clock is before
/// 1970, which only a broken machine reports).
pub fn local_wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The engine's estimate of venue time, refreshed from `/fapi/v1/time`.
#[derive(Debug, Clone)]
pub struct ClockSync {
    ring: [Option<TimeSample>; SAMPLE_RING],
    next: usize,
    best: Option<TimeSample>,
    last_sync: Option<Instant>,
    interval: Duration,
    forced: bool,
    discard_on_next: bool,
    safety_margin_ms: i64,
}

impl ClockSync {
    /// A clock that wants a sync every `interval` (the config's
    /// `clock_sync_interval_secs`); it needs one immediately.
    pub fn new(interval: Duration) -> Self {
        ClockSync {
            ring: [None; SAMPLE_RING],
            next: 0,
            best: None,
            last_sync: None,
            interval,
            forced: true,
            discard_on_next: false,
            safety_margin_ms: DEFAULT_SAFETY_MARGIN_MS,
        }
    }

    /// Overrides the drift margin subtracted from request timestamps.
    pub fn with_safety_margin_ms(mut self, ms: i64) -> Self {
        self.safety_margin_ms = ms.max(0);
        self
    }

    /// Records a round trip and returns the offset now in use.
    pub fn add_sample(&mut self, s: TimeSample) -> Result<i64, ClockError> {
        if s.t_recv_ms < s.t_send_ms {
            return Err(ClockError::NegativeRoundTrip {
                t_send_ms: s.t_send_ms,
                t_recv_ms: s.t_recv_ms,
            });
        }
        // Before 2001 or beyond year ~2286 is a garbage value, not a clock.
        if !(1_000_000_000_000..=9_999_999_999_999).contains(&s.server_ms) {
            return Err(ClockError::BadServerTime(s.server_ms));
        }
        if self.discard_on_next {
            self.ring = [None; SAMPLE_RING];
            self.discard_on_next = false;
        }
        if let Some(slot) = self.ring.get_mut(self.next) {
            *slot = Some(s);
        }
        self.next = (self.next + 1) % SAMPLE_RING;
        self.last_sync = Some(s.at);
        self.forced = false;
        self.choose_best(s.at);
        Ok(self.offset_ms())
    }

    fn choose_best(&mut self, now: Instant) {
        let max_age = self.interval.saturating_mul(SAMPLE_MAX_AGE_INTERVALS);
        self.best = self
            .ring
            .iter()
            .flatten()
            .filter(|s| now.saturating_duration_since(s.at) <= max_age)
            .min_by_key(|s| (s.rtt_ms(), std::cmp::Reverse(s.at)))
            .copied();
    }

    /// Venue minus local wall clock, in ms (0 until the first sample).
    pub fn offset_ms(&self) -> i64 {
        self.best.map_or(0, |s| s.offset_ms())
    }

    /// Half the round trip of the sample in use: how wrong the offset can be.
    pub fn uncertainty_ms(&self) -> i64 {
        self.best.map_or(0, |s| (s.rtt_ms() + 1) / 2)
    }

    /// True once at least one sample has been accepted.
    pub fn is_synced(&self) -> bool {
        self.best.is_some()
    }

    /// The timestamp to sign a request with at local wall time
    /// `local_wall_ms`.
    ///
    /// The estimate is lowered by the offset's uncertainty plus a drift margin,
    /// so the timestamp is at most the venue's true time when signed, and
    /// therefore below `serverTime + 1000` when checked; the margin is small
    /// against `recvWindow`, so the other bound holds too.
    pub fn venue_now_ms(&self, local_wall_ms: i64) -> i64 {
        local_wall_ms + self.offset_ms() - self.uncertainty_ms() - self.safety_margin_ms
    }

    /// True when a resync is due: never synced, forced by a `-1021`, or the
    /// interval has passed since the last sample.
    pub fn needs_sync(&self, now: Instant) -> bool {
        match self.last_sync {
            _ if self.forced => true,
            None => true,
            Some(t) => now.saturating_duration_since(t) >= self.interval,
        }
    }

    /// The venue rejected a timestamp (`-1021`): force a resync now, and allow
    /// one re-signed retry per request (`retries_so_far` is that request's
    /// count of -1021 retries). A second failure means the clock problem is
    /// not what a resync fixes, and resending would loop.
    pub fn on_timestamp_error(&mut self, retries_so_far: u32) -> TimestampAction {
        self.forced = true;
        // The samples behind the rejected offset must not win again on their
        // small round trip; they are dropped when the fresh sample arrives
        // (until then the old offset is still the best guess we have).
        self.discard_on_next = true;
        if retries_so_far == 0 {
            TimestampAction::ResyncAndRetry
        } else {
            TimestampAction::ResyncAndFail
        }
    }

    /// Converts a venue time `T` (ms since epoch, venue clock) into local
    /// monotonic ns on the axis of `anchor`, so the latency histograms can
    /// subtract it from local receive times without clock skew.
    pub fn venue_ms_to_local_mono_ns(&self, venue_ms: i64, anchor: &WallMonoAnchor) -> i64 {
        let local_wall_ns =
            (venue_ms.saturating_sub(self.offset_ms()) as i128).saturating_mul(1_000_000);
        let delta = local_wall_ns - anchor.wall_ns as i128;
        let mono = anchor.mono_ns as i128 + delta;
        mono.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }
}
