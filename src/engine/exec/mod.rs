//! The execution thread: the single owner of order state.
//!
//! Why one owner: orders are touched by replies, three stream event types and
//! reconciliation queries that race each other; funnelling all of them
//! through one thread (no locks) is what makes "never lose an order" simple
//! to reason about.
//!
//! - [`startup`]: the blocking start-up sequence (clock, instruments,
//!   position mode, listenKey, streams, open orders, positions);
//! - [`thread`]: the trading loop (commands → requests, replies and stream
//!   events → tracker → strategy; retries, backoff, unknown-fate resolution);
//! - [`reports`]: venue messages → the tracker's `Report`;
//! - [`reconcile`]: reconnect / listenKey / silence / sweep reconciliation
//!   and missed-fill recovery from `userTrades`.

mod bad_input;
pub mod claims;
pub mod event_log;
pub(crate) mod metrics_feed;
pub mod persist;
pub mod reconcile;
pub mod reports;
pub mod startup;
pub mod thread;
pub mod venue_fills;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::binance::requests::RequestBuilder;
use crate::config::{Config, OrderEntry};
use crate::engine::client_ids::{ClientIdGenerator, ENGINE_TAG, session_prefix};
use crate::engine::net_thread::{self, NetCommand, NetSettings, StreamKind};
use crate::engine::positions::PositionBook;
use crate::engine::ratelimit::RateLimiter;
use crate::engine::runner::{EngineError, EngineHandle, EngineOptions};
use crate::engine::strategy::{OrderFactory, Strategy};
use crate::engine::strategy_thread::{self, EventStamps, StrategyWiring, ToStrategy};
use crate::engine::tracker::{OrderTracker, TrackerConfig};
use crate::latency::wall_ns;

/// Name of the execution thread (shows in `top -H`, panics, profilers).
pub const EXEC_THREAD: &str = "binance-exec-exec";

/// Capacity of the strategy ↔ execution channels.
const CHANNEL_CAPACITY: usize = 4096;

/// See [`crate::engine::runner::Engine::start`].
pub(crate) fn start<S: Strategy + Send + 'static>(
    config: Config,
    strategy: S,
    opts: EngineOptions,
) -> Result<EngineHandle, EngineError> {
    let settings =
        NetSettings::from_config(&config).map_err(|e| EngineError::Config(e.to_string()))?;
    let net = net_thread::spawn(settings).map_err(|e| EngineError::Thread {
        name: "binance-exec-net",
        reason: e.to_string(),
    })?;
    let mut held = VecDeque::new();
    let mut log: Vec<String> = Vec::new();
    if config.order_entry == OrderEntry::WsApi {
        log.push(
            "order_entry = ws_api: order writes go over the WebSocket API (REST fallback)".into(),
        );
    }
    let recv_window = u32::try_from(config.recv_window_ms).ok();
    let mut rb = RequestBuilder::new(
        config.credentials.api_key.expose(),
        config.credentials.api_secret.expose().as_bytes(),
        recv_window,
    );
    let cap = config.engine.order_pool_size.max(16);
    let mut tracker = OrderTracker::new(TrackerConfig {
        order_capacity: cap,
        dedupe_window: cap * 4,
    });
    let mut positions = PositionBook::with_capacity(256);
    // The journal first: a corrupt one stops start-up before any request.
    let journal = match persist::open(&config) {
        Ok(j) => j,
        Err(e) => {
            let _ = net.shutdown();
            return Err(e);
        }
    };
    // Client ids: a per-session prefix (start time in ms) and a counter
    // continuing past every id the journal knows, so no id is ever reused.
    let prefix = session_prefix(ENGINE_TAG, (wall_ns() / 1_000_000) as u64);
    let first_seq = journal.as_ref().map_or(1, |j| j.next_seq().max(1));
    let ids = ClientIdGenerator::starting_at(&prefix, first_seq)
        .map_err(|e| EngineError::Config(e.to_string()))?;
    if let Some(j) = &journal {
        let r = j.replay();
        log.push(format!(
            "journal {}: {} record(s), {} order(s) ({} not final), {} session(s); ids continue at {first_seq}",
            j.path().display(),
            r.records,
            r.orders.len(),
            r.open_orders().count(),
            r.sessions
        ));
        if let Some(t) = &r.tail_repair {
            log.push(format!(
                "journal: torn tail cut at byte {} ({} byte(s), {})",
                t.offset, t.dropped_bytes, t.reason
            ));
        }
    }
    let mut persist = journal.map(|j| persist::Persist::new(j, ids.clone()));
    let result = (|| {
        let mut b = startup::Blocking {
            net: &net,
            held: &mut held,
            next_tag: startup::STARTUP_TAG,
            backoff: config.backoff(),
            retried: Vec::new(),
        };
        let offset_ms = startup::clock_offset_ms(&mut b, &mut rb)?;
        log.push(format!("clock offset {offset_ms} ms (server - local)"));
        let (instruments, limits) = startup::instruments(&mut b, &mut rb, &config)?;
        log.push(format!("{} instrument(s) loaded", instruments.len()));
        let ts = || wall_ns() / 1_000_000 + offset_ms;
        startup::check_position_mode(&mut b, &mut rb, &config, ts())?;
        let key = startup::listen_key(&mut b, &mut rb)?;
        net.send(NetCommand::OpenUserStream {
            listen_key: key.clone(),
        })
        .map_err(|e| EngineError::StartupIo {
            step: "user stream",
            reason: e.to_string(),
        })?;
        b.wait_stream(StreamKind::User, "user stream")?;
        let mut streams = Vec::with_capacity(instruments.len() * 2);
        for i in instruments.instruments() {
            let s = i.symbol.stream_name();
            streams.push(format!("{s}@bookTicker"));
            streams.push(format!("{s}@aggTrade"));
        }
        if !streams.is_empty() {
            net.send(NetCommand::SubscribeMarket { streams })
                .map_err(|e| EngineError::StartupIo {
                    step: "market streams",
                    reason: e.to_string(),
                })?;
            b.wait_stream(StreamKind::Market, "market streams")?;
        }
        // Open orders, journal reconciliation and positions last: the user
        // stream is already up, so nothing that happens from here on can
        // fall in a gap.
        let mut pacer = claims::Pacer::new(&limits, claims::RECONCILE_BUDGET_PCT, &config);
        let now_ms = || wall_ns() / 1_000_000 + offset_ms;
        let mut cx = claims::Ctx {
            b: &mut b,
            rb: &mut rb,
            pacer: &mut pacer,
            now_ms: &now_ms,
        };
        let start = claims::reconcile(
            &mut cx,
            &config,
            &instruments,
            &mut tracker,
            &mut positions,
            persist.as_mut(),
        )?;
        for r in b.retried.drain(..) {
            log.push(format!("start-up retry: {r}"));
        }
        Ok((offset_ms, instruments, limits, key, start))
    })();
    let (offset_ms, instruments, limits, key, start) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = net.shutdown();
            return Err(e);
        }
    };

    let (exec_metrics, strategy_tap, served_metrics) =
        match metrics_feed::MetricsWiring::start(&config, &limits) {
            Ok(Some(w)) => (
                Some(w.exec),
                Some(w.strategy_tap),
                Some((w.registry, w.server)),
            ),
            Ok(None) => (None, None, None),
            Err(e) => {
                let _ = net.shutdown();
                return Err(e);
            }
        };
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = crossbeam_channel::bounded(1);
    let (to_s_tx, to_s_rx) = crossbeam_channel::bounded(CHANNEL_CAPACITY);
    let (from_s_tx, from_s_rx) = crossbeam_channel::bounded(CHANNEL_CAPACITY);

    let mut exec = thread::Exec::new(
        config.clone(),
        net,
        held,
        rb,
        instruments.clone(),
        tracker,
        positions,
        to_s_tx,
        from_s_rx,
        Arc::clone(&stop),
        Arc::clone(&done),
        done_tx,
        key,
        offset_ms,
        0,
    );
    exec.max_runtime_ns = opts
        .max_runtime
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    exec.hgrm_dir = opts.hgrm_dir.clone();
    exec.metrics = exec_metrics;
    exec.limiter = RateLimiter::new(&limits, config.backoff(), wall_ns() as u64)
        .with_warnings(config.warn_rate_limits, 80);
    exec.journal = persist;
    exec.foreign_symbols = start.foreign_symbols;
    for l in log.into_iter().chain(start.log) {
        exec.note(l);
    }
    // Adopted/claimed orders and fills made while down reach the strategy
    // before anything live (the channel is drained once it starts; more than
    // it holds are still tracked and journaled, just not announced).
    let room = CHANNEL_CAPACITY.saturating_sub(64);
    let total = start.events.len();
    for ev in start.events.into_iter().take(room) {
        exec.send_strategy(ToStrategy::Order(ev, EventStamps::default()));
    }
    if total > room {
        exec.note(format!(
            "{} start-up order event(s) not announced to the strategy (channel room {room})",
            total - room
        ));
    }
    let strategy_h = strategy_thread::spawn(
        strategy,
        StrategyWiring {
            events: to_s_rx,
            events_bell: exec.to_strategy.bell(),
            commands: from_s_tx,
            commands_bell: exec.net.events_bell.clone(),
            stop: Arc::clone(&stop),
            instruments,
            orders: OrderFactory::new(ids),
            timer_interval: opts.timer_interval,
            thread: config.threads.strategy,
            latency_tap: strategy_tap,
            positions: start.positions,
        },
    )
    .map_err(|e| EngineError::Thread {
        name: strategy_thread::STRATEGY_THREAD,
        reason: e.to_string(),
    })?;
    let exec_core = config.threads.execution.core;
    let exec_h = std::thread::Builder::new()
        .name(EXEC_THREAD.into())
        .spawn(move || {
            if let Err(e) = strategy_thread::pin_current(exec_core) {
                exec.note(e);
            }
            exec.run()
        })
        .map_err(|e| EngineError::Thread {
            name: EXEC_THREAD,
            reason: e.to_string(),
        })?;
    Ok(EngineHandle {
        stop,
        done,
        wake: done_rx,
        exec: Some(exec_h),
        strategy: Some(strategy_h),
        metrics: served_metrics,
    })
}
