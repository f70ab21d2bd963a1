//! The counters and gauges: fixed tables of atomics, written by the engine
//! threads with relaxed stores and read by the scrape thread.
//!
//! Everything is sized at construction, so an increment or a latency
//! publish is a handful of atomic operations: no lock, no allocation, no
//! syscall on the hot path. Scrapes may see counters from slightly
//! different instants; Prometheus tolerates that by design.

use crate::engine::net_thread::StreamKind;
use crate::latency::{LatencyPath, LatencyRecorder, LatencyReport, ReportRow};
use crate::model::OrderType;
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};

/// What happened to an order, the `event` label of
/// `binance_exec_orders_total`. Counted per order type, so a dashboard can
/// tell "our post-only quotes are being rejected" from "our IOCs expire".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderFlow {
    /// Accepted by the engine and sent to the venue.
    Submitted,
    /// Acknowledged by the venue (NEW, or algo NEW for conditional types).
    Acked,
    /// Completely filled.
    Filled,
    /// A fill that left quantity open.
    PartiallyFilled,
    /// Canceled (by us or the venue).
    Canceled,
    /// Expired: IOC/FOK/GTX remainder, GTD, STP, reduce-only knock-out.
    Expired,
    /// Rejected, by the venue or locally with the venue's code.
    Rejected,
}

impl OrderFlow {
    /// Every flow, in exposition order.
    pub const ALL: [OrderFlow; 7] = [
        OrderFlow::Submitted,
        OrderFlow::Acked,
        OrderFlow::Filled,
        OrderFlow::PartiallyFilled,
        OrderFlow::Canceled,
        OrderFlow::Expired,
        OrderFlow::Rejected,
    ];
    /// Number of flows.
    pub const COUNT: usize = Self::ALL.len();

    /// The `event` label value.
    pub fn label(self) -> &'static str {
        match self {
            OrderFlow::Submitted => "submitted",
            OrderFlow::Acked => "acked",
            OrderFlow::Filled => "filled",
            OrderFlow::PartiallyFilled => "partially_filled",
            OrderFlow::Canceled => "canceled",
            OrderFlow::Expired => "expired",
            OrderFlow::Rejected => "rejected",
        }
    }
}

/// Order types with their own `type` label; a type the venue adds later
/// lands in `other`, so the series count stays fixed.
pub const ORDER_TYPES: [OrderType; 8] = [
    OrderType::Market,
    OrderType::Limit,
    OrderType::Stop,
    OrderType::StopMarket,
    OrderType::TakeProfit,
    OrderType::TakeProfitMarket,
    OrderType::TrailingStopMarket,
    OrderType::Liquidation,
];
/// Slots per flow: one per listed type plus `other`.
pub const ORDER_TYPE_SLOTS: usize = ORDER_TYPES.len() + 1;

/// The `type` label of slot `i` (the venue's spelling, or `other`).
pub fn order_type_label(i: usize) -> &'static str {
    match ORDER_TYPES.get(i) {
        Some(OrderType::Market) => "MARKET",
        Some(OrderType::Limit) => "LIMIT",
        Some(OrderType::Stop) => "STOP",
        Some(OrderType::StopMarket) => "STOP_MARKET",
        Some(OrderType::TakeProfit) => "TAKE_PROFIT",
        Some(OrderType::TakeProfitMarket) => "TAKE_PROFIT_MARKET",
        Some(OrderType::TrailingStopMarket) => "TRAILING_STOP_MARKET",
        Some(OrderType::Liquidation) => "LIQUIDATION",
        _ => "other",
    }
}

fn order_type_slot(t: &OrderType) -> usize {
    match t {
        OrderType::Market => 0,
        OrderType::Limit => 1,
        OrderType::Stop => 2,
        OrderType::StopMarket => 3,
        OrderType::TakeProfit => 4,
        OrderType::TakeProfitMarket => 5,
        OrderType::TrailingStopMarket => 6,
        OrderType::Liquidation => 7,
        OrderType::Unknown(_) => ORDER_TYPES.len(),
    }
}

/// Engine counters without an order type (each rendered as `<name>_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Orders whose outcome became ambiguous (timeout, 503, -1006/-1007).
    UnknownOrders,
    /// Orders in the Unknown state resolved by a query or a stream event.
    UnknownResolved,
    /// Requests retried after a failure that certainly did not execute.
    Retries,
    /// Times a rate limit (429, -1003 or the local limiter) made a request wait.
    RateLimitBackoffs,
    /// Orders skipped for insufficient margin or balance (-2019/-2018).
    SkippedInsufficientMargin,
}

impl Counter {
    /// Every counter, in exposition order.
    pub const ALL: [Counter; 5] = [
        Counter::UnknownOrders,
        Counter::UnknownResolved,
        Counter::Retries,
        Counter::RateLimitBackoffs,
        Counter::SkippedInsufficientMargin,
    ];
    /// Number of counters.
    pub const COUNT: usize = Self::ALL.len();

    /// Metric name without the `_total` suffix.
    pub fn name(self) -> &'static str {
        match self {
            Counter::UnknownOrders => "binance_exec_unknown_orders",
            Counter::UnknownResolved => "binance_exec_unknown_orders_resolved",
            Counter::Retries => "binance_exec_retries",
            Counter::RateLimitBackoffs => "binance_exec_rate_limit_backoffs",
            Counter::SkippedInsufficientMargin => "binance_exec_skipped_insufficient_margin",
        }
    }

    /// `# HELP` text.
    pub fn help(self) -> &'static str {
        match self {
            Counter::UnknownOrders => {
                "Orders whose outcome became unknown (timeout, 503, -1006/-1007); queried, never resent."
            }
            Counter::UnknownResolved => {
                "Orders in the Unknown state resolved by querying the venue or a stream event."
            }
            Counter::Retries => "Requests retried after a failure that certainly did not execute.",
            Counter::RateLimitBackoffs => {
                "Times a rate limit (429, -1003 or the local limiter) made a request wait."
            }
            Counter::SkippedInsufficientMargin => {
                "Orders skipped for insufficient margin or balance (-2019/-2018)."
            }
        }
    }
}

/// Rate-limit usage gauges, as last reported by the limiter or the venue's
/// `X-MBX-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateGauge {
    /// Request weight used in the current 1-minute window.
    WeightPerMinute,
    /// Orders placed in the current 10-second window.
    OrdersPer10s,
    /// Orders placed in the current 1-minute window.
    OrdersPerMinute,
}

impl RateGauge {
    /// Every gauge, in exposition order.
    pub const ALL: [RateGauge; 3] = [
        RateGauge::WeightPerMinute,
        RateGauge::OrdersPer10s,
        RateGauge::OrdersPerMinute,
    ];
    /// Number of gauges.
    pub const COUNT: usize = Self::ALL.len();

    /// `(counter, window)` label values.
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            RateGauge::WeightPerMinute => ("request_weight", "1m"),
            RateGauge::OrdersPer10s => ("orders", "10s"),
            RateGauge::OrdersPerMinute => ("orders", "1m"),
        }
    }
}

/// Venue error codes with their own reject series. Anything else lands in
/// the `other` bucket, so a new code can never grow the table (or the
/// scrape) without bound.
pub const REJECT_CODES: [i32; 38] = [
    -1001, -1003, -1007, -1008, -1013, -1015, -1021, -1022, -1102, -1106, -1111, -1116, -1121,
    -2010, -2011, -2013, -2014, -2015, -2018, -2019, -2021, -2022, -2027, -2028, -4003, -4004,
    -4005, -4014, -4015, -4016, -4024, -4061, -4120, -4131, -4164, -5021, -5022, -5028,
];
/// Slots in the reject table: one per preset code plus `other`.
pub const REJECT_SLOTS: usize = REJECT_CODES.len() + 1;

/// Streams with a reconnect counter.
pub const STREAMS: [StreamKind; 3] = [StreamKind::User, StreamKind::Market, StreamKind::WsApi];

/// The label value of a stream.
pub fn stream_label(s: StreamKind) -> &'static str {
    match s {
        StreamKind::User => "user",
        StreamKind::Market => "market",
        StreamKind::WsApi => "ws_api",
    }
}

fn stream_index(s: StreamKind) -> usize {
    match s {
        StreamKind::User => 0,
        StreamKind::Market => 1,
        StreamKind::WsApi => 2,
    }
}

/// The latency statistics published per path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LatencyStat {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 99th percentile.
    P99,
    /// 99.9th percentile.
    P999,
    /// Maximum.
    Max,
}

impl LatencyStat {
    /// Every statistic, in exposition order.
    pub const ALL: [LatencyStat; 5] = [
        LatencyStat::P50,
        LatencyStat::P90,
        LatencyStat::P99,
        LatencyStat::P999,
        LatencyStat::Max,
    ];
    /// Number of statistics.
    pub const COUNT: usize = Self::ALL.len();

    /// The quantile (1.0 for the maximum).
    pub fn quantile(self) -> f64 {
        match self {
            LatencyStat::P50 => 0.5,
            LatencyStat::P90 => 0.9,
            LatencyStat::P99 => 0.99,
            LatencyStat::P999 => 0.999,
            LatencyStat::Max => 1.0,
        }
    }

    /// The `quantile` label value.
    pub fn label(self) -> &'static str {
        match self {
            LatencyStat::P50 => "0.5",
            LatencyStat::P90 => "0.9",
            LatencyStat::P99 => "0.99",
            LatencyStat::P999 => "0.999",
            LatencyStat::Max => "1",
        }
    }
}

/// One path's published numbers, in ns.
#[derive(Debug, Default)]
pub(crate) struct LatencySlot {
    pub(crate) stats: [AtomicU64; LatencyStat::COUNT],
    pub(crate) count: AtomicU64,
}

/// Kinds of the `binance_exec_bad_input_total` family.
const BAD_INPUT_KINDS: usize = 7;

/// The registry the engine increments and the scrape thread reads. Share it
/// as `Arc<Metrics>`; every method takes `&self`.
#[derive(Debug)]
pub struct Metrics {
    pub(crate) orders: [[AtomicU64; ORDER_TYPE_SLOTS]; OrderFlow::COUNT],
    pub(crate) counters: [AtomicU64; Counter::COUNT],
    pub(crate) unknown_open: AtomicU64,
    pub(crate) rejects: [AtomicU64; REJECT_SLOTS],
    pub(crate) reconnects: [AtomicU64; STREAMS.len()],
    pub(crate) bad_input: [AtomicU64; BAD_INPUT_KINDS],
    pub(crate) rate: [AtomicU64; RateGauge::COUNT],
    pub(crate) rate_limit: [AtomicU64; RateGauge::COUNT],
    pub(crate) latency: [LatencySlot; LatencyPath::COUNT],
    pub(crate) latency_published_ns: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            orders: Default::default(),
            counters: Default::default(),
            unknown_open: AtomicU64::new(0),
            // Longer than the 32 elements `Default` covers for arrays.
            rejects: std::array::from_fn(|_| AtomicU64::new(0)),
            reconnects: Default::default(),
            bad_input: Default::default(),
            rate: Default::default(),
            rate_limit: Default::default(),
            latency: Default::default(),
            latency_published_ns: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// An empty registry (all zeros).
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one `flow` event of an order of type `t`.
    #[inline]
    pub fn order(&self, flow: OrderFlow, t: &OrderType) {
        if let Some(a) = self
            .orders
            .get(flow as usize)
            .and_then(|row| row.get(order_type_slot(t)))
        {
            a.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `flow` events counted for orders of type `t`.
    pub fn orders(&self, flow: OrderFlow, t: &OrderType) -> u64 {
        self.orders
            .get(flow as usize)
            .and_then(|row| row.get(order_type_slot(t)))
            .map_or(0, |a| a.load(Ordering::Relaxed))
    }

    /// `flow` events over every order type.
    pub fn orders_total(&self, flow: OrderFlow) -> u64 {
        self.orders
            .get(flow as usize)
            .map_or(0, |row| row.iter().map(|a| a.load(Ordering::Relaxed)).sum())
    }

    /// Sets counter `c` to `v`: for counts whose owner already keeps a plain
    /// total (the execution thread's summary counters) and mirrors it here
    /// at its periodic tick instead of on the hot path. Only ever raise it.
    #[inline]
    pub fn set(&self, c: Counter, v: u64) {
        if let Some(a) = self.counters.get(c as usize) {
            a.store(v, Ordering::Relaxed);
        }
    }

    /// Sets the number of orders whose fate is unknown right now.
    #[inline]
    pub fn set_unknown_open(&self, n: u64) {
        self.unknown_open.store(n, Ordering::Relaxed);
    }

    /// Orders whose fate is unknown right now.
    pub fn unknown_open(&self) -> u64 {
        self.unknown_open.load(Ordering::Relaxed)
    }

    /// Adds one to `c`.
    #[inline]
    pub fn inc(&self, c: Counter) {
        self.add(c, 1);
    }

    /// Adds `n` to `c`.
    #[inline]
    pub fn add(&self, c: Counter, n: u64) {
        if let Some(a) = self.counters.get(c as usize) {
            a.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Current value of `c`.
    pub fn get(&self, c: Counter) -> u64 {
        self.counters
            .get(c as usize)
            .map_or(0, |a| a.load(Ordering::Relaxed))
    }

    /// Counts one venue reject with `code` (the preset table, else `other`).
    /// Does not bump [`Counter::OrdersRejected`]: a reject of a cancel is not
    /// a rejected order, so the caller decides.
    #[inline]
    pub fn reject(&self, code: i32) {
        if let Some(a) = self.rejects.get(reject_slot(code)) {
            a.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Rejects counted under `code` (any code outside the preset list reads
    /// the shared `other` bucket).
    pub fn rejects(&self, code: i32) -> u64 {
        self.rejects
            .get(reject_slot(code))
            .map_or(0, |a| a.load(Ordering::Relaxed))
    }

    /// Mirrors the engine's bad-input counters (kept by the execution
    /// thread, published with the other summary counters).
    pub fn set_bad_input(&self, b: &crate::engine::bad_input::BadInput) {
        for (slot, (_, v)) in self.bad_input.iter().zip(b.by_kind()) {
            slot.store(v, Ordering::Relaxed);
        }
    }

    /// `(kind, count)` of the bad-input family, in exposition order.
    pub fn bad_input(&self) -> [(&'static str, u64); BAD_INPUT_KINDS] {
        let names = crate::engine::bad_input::BadInput::default().by_kind();
        std::array::from_fn(|i| {
            let name = names.get(i).map_or("", |(n, _)| n);
            let v = self
                .bad_input
                .get(i)
                .map_or(0, |a| a.load(Ordering::Relaxed));
            (name, v)
        })
    }

    /// Counts one reconnect of `stream`.
    #[inline]
    pub fn reconnect(&self, stream: StreamKind) {
        if let Some(a) = self.reconnects.get(stream_index(stream)) {
            a.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Reconnects of `stream` so far.
    pub fn reconnects(&self, stream: StreamKind) -> u64 {
        self.reconnects
            .get(stream_index(stream))
            .map_or(0, |a| a.load(Ordering::Relaxed))
    }

    /// Sets a rate-limit usage gauge.
    #[inline]
    pub fn set_rate(&self, g: RateGauge, used: u64) {
        if let Some(a) = self.rate.get(g as usize) {
            a.store(used, Ordering::Relaxed);
        }
    }

    /// Sets the limit of a rate-limit window (from exchangeInfo, or the
    /// documented defaults), so dashboards can plot used against limit.
    #[inline]
    pub fn set_rate_limit(&self, g: RateGauge, limit: u64) {
        if let Some(a) = self.rate_limit.get(g as usize) {
            a.store(limit, Ordering::Relaxed);
        }
    }

    /// The limit of a rate-limit window (0 = not known).
    pub fn rate_limit(&self, g: RateGauge) -> u64 {
        self.rate_limit
            .get(g as usize)
            .map_or(0, |a| a.load(Ordering::Relaxed))
    }

    /// Current value of a rate-limit gauge.
    pub fn rate(&self, g: RateGauge) -> u64 {
        self.rate
            .get(g as usize)
            .map_or(0, |a| a.load(Ordering::Relaxed))
    }

    /// Publishes the latency percentiles of every path in `report`. Reads
    /// the histograms in place (no `rows()` vector), so it does not allocate.
    pub fn publish_report(&self, report: &LatencyReport, now_wall_ns: u64) {
        for path in LatencyPath::ALL {
            if let Some(h) = report.histogram(path) {
                self.publish_histogram(path, h);
            }
        }
        self.mark_published(now_wall_ns);
    }

    /// Publishes one thread's recorder directly (no merge needed when the
    /// execution thread owns the only recorder of interest).
    pub fn publish_recorder(&self, rec: &LatencyRecorder, now_wall_ns: u64) {
        for path in LatencyPath::ALL {
            if let Some(h) = rec.histogram(path) {
                self.publish_histogram(path, h);
            }
        }
        self.mark_published(now_wall_ns);
    }

    /// Publishes an already computed row.
    pub fn publish_row(&self, row: &ReportRow) {
        if let Some(slot) = self.latency.get(row.path.index()) {
            let vals = [row.p50_ns, row.p90_ns, row.p99_ns, row.p999_ns, row.max_ns];
            for (a, v) in slot.stats.iter().zip(vals) {
                a.store(v, Ordering::Relaxed);
            }
            slot.count.store(row.count, Ordering::Relaxed);
        }
    }

    /// Publishes `path`'s statistics from a histogram of nanoseconds.
    pub fn publish_histogram(&self, path: LatencyPath, h: &Histogram<u64>) {
        let Some(slot) = self.latency.get(path.index()) else {
            return;
        };
        let count = h.len();
        for (a, stat) in slot.stats.iter().zip(LatencyStat::ALL) {
            let v = match (count, stat) {
                (0, _) => 0,
                (_, LatencyStat::Max) => h.max(),
                (_, s) => h.value_at_quantile(s.quantile()),
            };
            a.store(v, Ordering::Relaxed);
        }
        slot.count.store(count, Ordering::Relaxed);
    }

    /// Records the wall-clock time of a latency publish.
    pub(crate) fn mark_published(&self, now_wall_ns: u64) {
        self.latency_published_ns
            .store(now_wall_ns, Ordering::Relaxed);
    }

    /// Samples behind the last published statistics of `path`.
    pub fn latency_count(&self, path: LatencyPath) -> u64 {
        self.latency
            .get(path.index())
            .map_or(0, |s| s.count.load(Ordering::Relaxed))
    }

    /// The last published value of `stat` on `path`, in ns.
    pub fn latency_ns(&self, path: LatencyPath, stat: LatencyStat) -> u64 {
        self.latency
            .get(path.index())
            .and_then(|s| s.stats.get(stat as usize))
            .map_or(0, |a| a.load(Ordering::Relaxed))
    }
}

/// Slot of `code` in the reject table: linear over a few dozen codes, which is
/// faster than hashing and never allocates.
pub(crate) fn reject_slot(code: i32) -> usize {
    REJECT_CODES
        .iter()
        .position(|&c| c == code)
        .unwrap_or(REJECT_CODES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_table_has_other_bucket() {
        let m = Metrics::new();
        m.reject(-2019);
        m.reject(-2019);
        m.reject(-9_999_999);
        m.reject(-4999);
        assert_eq!(m.rejects(-2019), 2);
        assert_eq!(m.rejects(-1021), 0);
        assert_eq!(m.rejects(12345), 2, "unknown codes share `other`");
    }

    #[test]
    fn publish_from_recorder() {
        let mut rec = LatencyRecorder::new();
        for i in 1..=1000u64 {
            rec.record(LatencyPath::SubmitToAck, i * 1000);
        }
        let m = Metrics::new();
        m.publish_recorder(&rec, 42);
        let p50 = m.latency_ns(LatencyPath::SubmitToAck, LatencyStat::P50);
        assert!(p50.abs_diff(500_000) <= 1_000, "{p50}");
        let max = m.latency_ns(LatencyPath::SubmitToAck, LatencyStat::Max);
        assert!(max.abs_diff(1_000_000) <= 1_000, "{max}");
        assert_eq!(m.latency_ns(LatencyPath::Floor, LatencyStat::Max), 0);
    }
}
