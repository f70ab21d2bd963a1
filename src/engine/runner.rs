//! The engine's front door: start the three threads for one strategy, stop
//! them, and get back an honest account of what happened.
//!
//! Why a single `start` call: the start-up order matters (clock sync before
//! anything signed, instruments before validation, position mode before the
//! first order, user stream before the open-order snapshot so no update falls
//! in the gap), and a trader should not have to know it. Everything that can
//! be wrong with the account or the config fails here, before the strategy
//! sees a single tick.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::binance::errors::VenueError;
use crate::config::Config;
use crate::engine::strategy::Strategy;
use crate::latency::LatencyReport;
use crate::metrics::{Metrics, MetricsError, MetricsHandle};
use crate::model::{Order, PositionEvent};

/// Knobs of one engine run that are not part of the venue config (they
/// describe the run, not the account).
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Call `Strategy::on_timer` this often (timer id 0); `None` = never.
    pub timer_interval: Option<Duration>,
    /// Stop by itself after this long (demos, tests); `None` = run until
    /// stopped.
    pub max_runtime: Option<Duration>,
    /// Write one `.hgrm` file per latency path into this directory at
    /// shutdown (HdrHistogram percentile format, for plotting).
    pub hgrm_dir: Option<PathBuf>,
}

/// What the execution thread counted; the numbers a trader checks first after
/// a run ("did anything get rejected, did we retry, did the stream drop?").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Orders handed to the venue (plain and algo).
    pub submitted: u64,
    /// Venue acknowledgements (NEW / algo NEW).
    pub acked: u64,
    /// Orders completely filled.
    pub filled: u64,
    /// Partial fills (each fill that left quantity open).
    pub partially_filled: u64,
    /// Orders cancelled.
    pub canceled: u64,
    /// Orders expired (IOC/FOK/GTX/GTD/STP).
    pub expired: u64,
    /// Orders rejected (locally by a filter or by the venue).
    pub rejected: u64,
    /// Rejections by venue code (filter violations carry the venue's code
    /// too), sorted by code.
    pub rejected_by_code: Vec<(i64, u64)>,
    /// Orders skipped for insufficient margin/balance (-2019/-2018).
    pub skipped_insufficient_margin: u64,
    /// Orders whose unknown fate was resolved by a query.
    pub unknown_resolved: u64,
    /// Requests re-sent after a failure that certainly did not execute.
    pub retries: u64,
    /// Times a rate limit (429 / -1003 / local limiter) made us wait.
    pub rate_limit_backoffs: u64,
    /// Cancels not sent because one for the same order was still in
    /// flight or awaiting its fate check: repeating a cancel cannot make the
    /// venue answer sooner, it only spends rate limit when it is scarcest.
    pub cancels_coalesced: u64,
    /// Stream reconnects (StreamUp after StreamDown).
    pub reconnects: u64,
    /// Reconciliation passes completed (reconnect, listenKey, silence,
    /// sweep, re-queried cancels).
    pub reconciliations: u64,
    /// Fills the stream never delivered, recovered from `userTrades`.
    pub recovered_fills: u64,
    /// Differences a reconciliation found and resolved (orders closed,
    /// filled or changed at the venue without a stream event).
    pub reconcile_fixes: u64,
    /// Most events that ever waited on the execution thread for a slow
    /// strategy (0: the strategy always kept up). Nothing is dropped; a high
    /// number says the callbacks are too slow for the event rate.
    pub strategy_backlog_max: u64,
    /// Order writes (place/cancel/modify) sent as WebSocket-API frames when
    /// `order_entry = "ws_api"`: proves which path a run measured.
    pub ws_api_order_requests: u64,
    /// Order writes that went over REST although `order_entry = "ws_api"`
    /// (the WebSocket API was down or a frame was certainly not written).
    pub rest_fallbacks: u64,
    /// The venue's bad input by kind (unreadable frames and replies,
    /// unknown events and enum values, oversized messages).
    pub bad_input: crate::engine::bad_input::BadInput,
}

impl Counters {
    /// Adds one rejection with venue code `code`.
    pub fn count_rejection(&mut self, code: i64) {
        self.rejected += 1;
        match self
            .rejected_by_code
            .binary_search_by_key(&code, |(c, _)| *c)
        {
            Ok(i) => {
                if let Some(e) = self.rejected_by_code.get_mut(i) {
                    e.1 += 1;
                }
            }
            Err(i) => self.rejected_by_code.insert(i, (code, 1)),
        }
    }
}

/// Everything a run leaves behind.
#[derive(Debug)]
pub struct EngineSummary {
    /// Latency histograms of the four measured paths, with budget verdicts
    /// (`Display` prints the table).
    pub latency: LatencyReport,
    /// Final state of every order the engine tracked (open or closed).
    pub orders: Vec<Order>,
    /// Last known position of every symbol/side touched.
    pub positions: Vec<PositionEvent>,
    /// Counters.
    pub counters: Counters,
    /// Human-readable log of notable events (start-up steps, rejections,
    /// retries, reconnects, unknown-fate resolutions), oldest first, bounded:
    /// the run's first lines and its last, with a marker line saying how
    /// many fell between.
    pub events: Vec<String>,
    /// Milliseconds since the engine started, one per line of `events`.
    pub event_ms: Vec<u64>,
}

/// Why the engine could not start or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An instrument in `load_ids` is not listed (or not tradable) at the venue.
    #[error("instrument {0} is not available at the venue")]
    InvalidSymbol(String),
    /// The account's position mode differs from `config.position_mode`.
    #[error(
        "position mode mismatch: config says {configured}, account is {actual}; \
         change `position_mode` or the account setting"
    )]
    PositionModeMismatch {
        /// What the config expects.
        configured: &'static str,
        /// What the venue reports.
        actual: &'static str,
    },
    /// The config cannot be used as given.
    #[error("config: {0}")]
    Config(String),
    /// The venue refused a start-up request (bad key, banned, …).
    #[error("start-up request {step} failed: {source}")]
    Startup {
        /// Which step.
        step: &'static str,
        /// The venue's answer.
        source: VenueError,
    },
    /// The venue did not answer a start-up request in time or the reply was
    /// unreadable.
    #[error("start-up step {step}: {reason}")]
    StartupIo {
        /// Which step.
        step: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A thread could not be spawned, pinned, or died.
    #[error("thread {name}: {reason}")]
    Thread {
        /// The thread's name.
        name: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The `[metrics]` endpoint could not start (port taken, not loopback).
    #[error("metrics endpoint: {0}")]
    Metrics(#[from] MetricsError),
    /// `wait` gave up before the engine stopped (the engine is still
    /// running; call `stop`).
    #[error("engine still running after {0:?}")]
    Timeout(Duration),
}

/// Entry point (see the module docs).
pub struct Engine;

impl Engine {
    /// Runs the start-up sequence, then spawns the network, execution and
    /// strategy threads and calls `strategy.on_start`. Returns once trading
    /// has begun, or the first start-up error.
    pub fn start<S: Strategy + Send + 'static>(
        config: Config,
        strategy: S,
        opts: EngineOptions,
    ) -> Result<EngineHandle, EngineError> {
        crate::engine::exec::start(config, strategy, opts)
    }
}

/// A running engine.
pub struct EngineHandle {
    pub(crate) stop: Arc<AtomicBool>,
    /// Set by the execution thread once it has finished (strategy asked to
    /// stop, max runtime, fatal error) and the summary is ready.
    pub(crate) done: Arc<AtomicBool>,
    pub(crate) wake: crossbeam_channel::Receiver<()>,
    pub(crate) exec: Option<JoinHandle<Result<EngineSummary, EngineError>>>,
    pub(crate) strategy: Option<JoinHandle<()>>,
    /// The registry and the running `/metrics` endpoint, when configured.
    pub(crate) metrics: Option<(Arc<Metrics>, MetricsHandle)>,
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle")
            .field("stop", &self.stop.load(Ordering::Relaxed))
            .field("done", &self.done.load(Ordering::Relaxed))
            .field("metrics_addr", &self.metrics_addr())
            .finish_non_exhaustive()
    }
}

impl EngineHandle {
    /// The flag that stops the engine when set (wire it to Ctrl-C).
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Where `/metrics` is served (the real port when the config said port
    /// 0), or `None` when `[metrics] listen` is off. Print it at start so the
    /// operator knows what to point Prometheus at.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, s)| s.local_addr())
    }

    /// The registry behind `/metrics` (`None` when off). Keep the `Arc` to
    /// read the final numbers after the engine stopped: at shutdown the
    /// execution thread publishes the final counters and latency report.
    pub fn metrics(&self) -> Option<Arc<Metrics>> {
        self.metrics.as_ref().map(|(m, _)| Arc::clone(m))
    }

    /// True once the engine has shut itself down (strategy request, max
    /// runtime, fatal error).
    pub fn is_finished(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Waits until the strategy called `request_stop`, the stop flag was set,
    /// or the max runtime passed, then shuts down and returns the summary.
    /// After `timeout` without any of those it returns
    /// [`EngineError::Timeout`]… and, because `self` is consumed, stops the
    /// engine first, so no thread is left behind.
    pub fn wait(self, timeout: Duration) -> Result<EngineSummary, EngineError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.done.load(Ordering::Acquire) || self.stop.load(Ordering::Acquire) {
                return self.finish();
            }
            let now = Instant::now();
            if now >= deadline {
                let _ = self.finish();
                return Err(EngineError::Timeout(timeout));
            }
            // The execution thread signals on exit; the short cap also
            // notices the externally set stop flag promptly.
            let step = (deadline - now).min(Duration::from_millis(20));
            let _ = self.wake.recv_timeout(step);
        }
    }

    /// Stops the engine now (on_stop, optional cancel-all, listenKey delete,
    /// threads joined) and returns the summary.
    pub fn stop(self) -> Result<EngineSummary, EngineError> {
        self.finish()
    }

    fn finish(mut self) -> Result<EngineSummary, EngineError> {
        self.stop.store(true, Ordering::Release);
        let summary = match self.exec.take() {
            Some(h) => h.join().map_err(|_| EngineError::Thread {
                name: crate::engine::exec::EXEC_THREAD,
                reason: "panicked".into(),
            })?,
            None => Err(EngineError::Thread {
                name: crate::engine::exec::EXEC_THREAD,
                reason: "already joined".into(),
            }),
        };
        if let Some(h) = self.strategy.take()
            && h.join().is_err()
        {
            return Err(EngineError::Thread {
                name: crate::engine::strategy_thread::STRATEGY_THREAD,
                reason: "strategy panicked".into(),
            });
        }
        // After the threads: the final publish has happened by now.
        if let Some((_, server)) = self.metrics.take() {
            let _ = server.shutdown();
        }
        summary
    }
}

impl Drop for EngineHandle {
    /// A dropped handle must not leave trading threads running.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.exec.take() {
            let _ = h.join();
        }
        if let Some(h) = self.strategy.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_counted_by_code_sorted() {
        let mut c = Counters::default();
        c.count_rejection(-4164);
        c.count_rejection(-1111);
        c.count_rejection(-4164);
        assert_eq!(c.rejected, 3);
        assert_eq!(c.rejected_by_code, vec![(-4164, 2), (-1111, 1)]);
    }
}
