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

pub(crate) mod metrics_feed;
pub mod reconcile;
pub mod reports;
pub mod startup;
pub mod thread;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::binance::requests::RequestBuilder;
use crate::binance::rest::{AlgoOrderResponse, OrderResponse, PositionRisk, decode};
use crate::config::{Config, OrderEntry};
use crate::engine::client_ids::{ClientIdGenerator, session_prefix};
use crate::engine::clock::mono_ns;
use crate::engine::net_thread::{self, NetCommand, NetSettings, StreamKind};
use crate::engine::positions::{PositionBook, PositionSnapshot};
use crate::engine::ratelimit::RateLimiter;
use crate::engine::report::ReportSource;
use crate::engine::runner::{EngineError, EngineHandle, EngineOptions};
use crate::engine::strategy::{OrderFactory, Strategy};
use crate::engine::strategy_thread::{self, StrategyWiring};
use crate::engine::tracker::{OrderTracker, TrackerConfig};
use crate::latency::wall_ns;
use crate::model::{Order, PositionEvent, PositionSide, Quantity};

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
    let result = (|| {
        let mut b = startup::Blocking {
            net: &net,
            held: &mut held,
            next_tag: startup::STARTUP_TAG,
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
        // Open orders and positions last: the user stream is already up, so
        // nothing that happens from here on can fall in a gap.
        let mut adopted = 0usize;
        for i in instruments.instruments() {
            let (_, body) = b.call("open orders", &rb.open_orders(Some(&i.symbol), ts()))?;
            let list: Vec<OrderResponse> = decode(&body).map_err(|e| EngineError::StartupIo {
                step: "open orders",
                reason: e.to_string(),
            })?;
            for o in &list {
                adopted += adopt(
                    &mut tracker,
                    i.id,
                    o.side,
                    o.order_type,
                    o.orig_qty,
                    o.price,
                    false,
                    |r| {
                        *r = crate::engine::exec::reports::from_order_response(
                            o,
                            ReportSource::Query,
                            mono_ns(),
                        );
                    },
                    o.client_order_id,
                );
            }
            let (_, body) = b.call(
                "open algo orders",
                &rb.open_algo_orders(Some(&i.symbol), ts()),
            )?;
            let list: Vec<AlgoOrderResponse> =
                decode(&body).map_err(|e| EngineError::StartupIo {
                    step: "open algo orders",
                    reason: e.to_string(),
                })?;
            for a in &list {
                adopted += adopt(
                    &mut tracker,
                    i.id,
                    a.side,
                    a.order_type,
                    a.quantity,
                    a.price,
                    true,
                    |r| {
                        *r = crate::engine::exec::reports::from_algo_response(
                            a,
                            ReportSource::Query,
                            mono_ns(),
                        );
                    },
                    a.client_algo_id,
                );
            }
        }
        log.push(format!("{adopted} open order(s) adopted from the venue"));
        let (_, body) = b.call("positions", &rb.position_risk(None, ts()))?;
        let risks: Vec<PositionRisk> = decode(&body).map_err(|e| EngineError::StartupIo {
            step: "positions",
            reason: e.to_string(),
        })?;
        let mut start_positions: Vec<PositionEvent> = Vec::new();
        for p in &risks {
            if instruments.by_symbol(p.symbol.as_str()).is_none() {
                continue;
            }
            let snap = PositionSnapshot {
                symbol: p.symbol,
                position_side: p.position_side.unwrap_or(PositionSide::Both),
                amount: p.position_amt.unwrap_or(Quantity::ZERO).value(),
                entry_price: p.entry_price.unwrap_or(crate::model::Price::ZERO),
                ts_venue_ms: p.update_time.unwrap_or(0),
            };
            if let Ok(ev) = positions.apply_snapshot(&snap) {
                start_positions.push(ev);
            }
        }
        Ok((offset_ms, instruments, limits, key, start_positions))
    })();
    let (offset_ms, instruments, limits, key, start_positions) = match result {
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
    let prefix = session_prefix("bx", (wall_ns() / 1_000_000_000) as u64);
    let ids = ClientIdGenerator::new(&prefix).map_err(|e| EngineError::Config(e.to_string()))?;

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
    for l in log {
        exec.note(l);
    }
    let strategy_h = strategy_thread::spawn(
        strategy,
        StrategyWiring {
            events: to_s_rx,
            commands: from_s_tx,
            stop: Arc::clone(&stop),
            instruments,
            orders: OrderFactory::new(ids),
            timer_interval: opts.timer_interval,
            thread: config.threads.strategy,
            positions: start_positions,
            latency_tap: strategy_tap,
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

/// Puts an order found open at the venue under the tracker's care so fills
/// and cancels of it are booked; returns 1 when adopted.
#[allow(clippy::too_many_arguments)]
fn adopt(
    tracker: &mut OrderTracker,
    instrument: crate::model::ids::InstrumentId,
    side: Option<crate::model::Side>,
    order_type: Option<crate::model::OrderType>,
    qty: Option<Quantity>,
    price: Option<crate::model::Price>,
    _algo: bool,
    fill_report: impl FnOnce(&mut crate::engine::report::Report),
    client_id: crate::model::ids::ClientOrderId,
) -> usize {
    let (Some(side), Some(ot), Some(q)) = (side, order_type, qty) else {
        return 0;
    };
    let mut o = Order::new(client_id, instrument, side, ot, q, mono_ns());
    o.price = price.filter(|p| !p.is_zero());
    let mut sink = |_, _| {};
    if tracker.submit(o, mono_ns(), &mut sink).is_err() {
        return 0;
    }
    let mut r = crate::engine::report::Report::new(
        ReportSource::Query,
        instrument.symbol,
        client_id,
        mono_ns(),
    );
    fill_report(&mut r);
    let _ = tracker.apply(&r, &mut sink);
    1
}
