//! What the execution thread tells the `/metrics` endpoint.
//!
//! Kept out of the trading loop's file on purpose: the loop calls three
//! hooks (an order event, a stream up/down, a periodic tick) and everything
//! else is here. Per event the cost is a relaxed atomic add or two; the
//! tick (every [`TICK`]) stores a handful of gauges and offers the latency
//! histograms to the metrics thread, which computes the percentiles.

use std::sync::Arc;

use crate::config::Config;
use crate::engine::net_thread::StreamKind;
use crate::engine::ratelimit::{DEFAULT_LIMITS, LimitKind, LimitSpec, RateLimiter};
use crate::engine::runner::{Counters, EngineError};
use crate::latency::{LatencyRecorder, LatencyReport, wall_ns};
use crate::metrics::{
    Counter, LatencyTap, Metrics, MetricsHandle, MetricsServer, OrderFlow, RateGauge, latency_tap,
};
use crate::model::{Order, OrderEvent, OrderEventKind, OrderState};

/// How often the execution thread mirrors its gauges and offers its
/// latency histograms.
pub const TICK: std::time::Duration = std::time::Duration::from_millis(100);

/// The metrics pieces `start` hands out when `[metrics] listen` is set.
pub(crate) struct MetricsWiring {
    /// The registry (kept by the handle so callers can read it after stop).
    pub registry: Arc<Metrics>,
    /// The running endpoint.
    pub server: MetricsHandle,
    /// The execution thread's feed.
    pub exec: ExecMetrics,
    /// The strategy thread's latency tap.
    pub strategy_tap: LatencyTap,
}

impl MetricsWiring {
    /// Starts the endpoint on `config.metrics.listen` (`None` when off).
    /// `limits` are the venue's windows, published once as the gauges'
    /// limits.
    pub(crate) fn start(
        config: &Config,
        limits: &[LimitSpec],
    ) -> Result<Option<MetricsWiring>, EngineError> {
        let Some(listen) = config.metrics.listen else {
            return Ok(None);
        };
        let registry = Arc::new(Metrics::new());
        let limits = if limits.is_empty() {
            &DEFAULT_LIMITS[..]
        } else {
            limits
        };
        for l in limits {
            if let Some(g) = gauge_of(l.kind, l.window_ms) {
                registry.set_rate_limit(g, u64::from(l.limit));
            }
        }
        let (exec_tap, exec_sink) = latency_tap();
        let (strategy_tap, strategy_sink) = latency_tap();
        let server = MetricsServer::start_with_taps(
            Arc::clone(&registry),
            listen,
            vec![exec_sink, strategy_sink],
        )?;
        Ok(Some(MetricsWiring {
            exec: ExecMetrics {
                registry: Arc::clone(&registry),
                tap: exec_tap,
                down: [false; 3],
                next_tick_ns: 0,
            },
            registry,
            server,
            strategy_tap,
        }))
    }
}

/// The gauge of a venue window, if it is one the endpoint shows.
fn gauge_of(kind: LimitKind, window_ms: i64) -> Option<RateGauge> {
    match (kind, window_ms) {
        (LimitKind::Weight, 60_000) => Some(RateGauge::WeightPerMinute),
        (LimitKind::Orders, 10_000) => Some(RateGauge::OrdersPer10s),
        (LimitKind::Orders, 60_000) => Some(RateGauge::OrdersPerMinute),
        _ => None,
    }
}

fn stream_slot(k: StreamKind) -> usize {
    match k {
        StreamKind::User => 0,
        StreamKind::Market => 1,
        StreamKind::WsApi => 2,
    }
}

/// The execution thread's side of the registry.
pub(crate) struct ExecMetrics {
    registry: Arc<Metrics>,
    tap: LatencyTap,
    /// Streams seen down and not yet back (a reconnect is up-after-down).
    down: [bool; 3],
    next_tick_ns: u64,
}

impl ExecMetrics {
    /// Counts one order event the strategy is about to see. `order` is the
    /// tracker's copy after the event (its state tells a complete fill from
    /// a partial one); external fills and local bookkeeping events are not
    /// order flow and are ignored. Relaxed adds only.
    #[inline]
    pub(crate) fn on_event(&self, ev: &OrderEvent, order: Option<&Order>) {
        let Some(o) = order else { return };
        let t = &o.order_type;
        let m = &self.registry;
        match &ev.kind {
            OrderEventKind::Submitted => m.order(OrderFlow::Submitted, t),
            OrderEventKind::Accepted => m.order(OrderFlow::Acked, t),
            OrderEventKind::Filled(_) if o.state == OrderState::Filled => {
                m.order(OrderFlow::Filled, t)
            }
            OrderEventKind::Filled(_) => m.order(OrderFlow::PartiallyFilled, t),
            OrderEventKind::Canceled => m.order(OrderFlow::Canceled, t),
            OrderEventKind::Expired { .. } => m.order(OrderFlow::Expired, t),
            OrderEventKind::Rejected { code, .. } => {
                m.order(OrderFlow::Rejected, t);
                m.reject(*code);
            }
            OrderEventKind::StatusUnknown { .. } => m.inc(Counter::UnknownOrders),
            OrderEventKind::Resolved { state, .. } => match state {
                OrderState::Filled => m.order(OrderFlow::Filled, t),
                OrderState::Canceled => m.order(OrderFlow::Canceled, t),
                OrderState::Expired => m.order(OrderFlow::Expired, t),
                OrderState::Rejected => m.order(OrderFlow::Rejected, t),
                _ => {}
            },
            _ => {}
        }
    }

    /// A stream went down (a later `stream_up` of it is a reconnect).
    #[inline]
    pub(crate) fn stream_down(&mut self, k: StreamKind) {
        if let Some(d) = self.down.get_mut(stream_slot(k)) {
            *d = true;
        }
    }

    /// A stream is up; counts a reconnect when it had been down.
    #[inline]
    pub(crate) fn stream_up(&mut self, k: StreamKind) {
        if let Some(d) = self.down.get_mut(stream_slot(k))
            && std::mem::take(d)
        {
            self.registry.reconnect(k);
        }
    }

    /// At most every [`TICK`]: mirrors the summary counters and gauges and
    /// offers the latency histograms (copied only when the metrics thread
    /// has lent its buffer, about once a second). No allocation.
    #[inline]
    pub(crate) fn tick(
        &mut self,
        now_ns: u64,
        counters: &Counters,
        limiter: &RateLimiter,
        unknown_open: usize,
        lat: &LatencyRecorder,
    ) {
        if now_ns < self.next_tick_ns {
            return;
        }
        self.next_tick_ns = now_ns.saturating_add(TICK.as_nanos() as u64);
        self.mirror(counters, limiter, unknown_open);
        self.tap.offer(lat);
    }

    fn mirror(&self, counters: &Counters, limiter: &RateLimiter, unknown_open: usize) {
        let m = &self.registry;
        m.set(Counter::UnknownResolved, counters.unknown_resolved);
        m.set(Counter::Retries, counters.retries);
        m.set(Counter::RateLimitBackoffs, counters.rate_limit_backoffs);
        m.set(
            Counter::SkippedInsufficientMargin,
            counters.skipped_insufficient_margin,
        );
        m.set_unknown_open(unknown_open as u64);
        m.set_bad_input(&counters.bad_input);
        for (kind, window, g) in [
            (LimitKind::Weight, 60_000, RateGauge::WeightPerMinute),
            (LimitKind::Orders, 10_000, RateGauge::OrdersPer10s),
            (LimitKind::Orders, 60_000, RateGauge::OrdersPerMinute),
        ] {
            if let Some(used) = limiter.used(kind, window) {
                m.set_rate(g, u64::from(used));
            }
        }
    }

    /// At shutdown: the final counters and the merged latency report, so a
    /// registry read after the run agrees with the summary.
    pub(crate) fn finish(
        &self,
        counters: &Counters,
        limiter: &RateLimiter,
        unknown_open: usize,
        latency: &LatencyReport,
    ) {
        self.mirror(counters, limiter, unknown_open);
        self.registry
            .publish_report(latency, u64::try_from(wall_ns()).unwrap_or(0));
    }
}
