//! The `/metrics` endpoint wired to a running engine: the in-process
//! simulator, an engine with `[metrics] listen = "127.0.0.1:0"`, a scripted
//! strategy (a MARKET fill, a resting LIMIT it cancels, a post-only that
//! crosses and a FOK that cannot fill), scrapes over loopback, and the
//! numbers checked against what the strategy saw and the engine's summary.
//! Every wait is bounded in time and count.

mod support;

use binance_exec::engine::net_thread::StreamKind;
use binance_exec::engine::{BookTicker, Context, Engine, EngineOptions, Strategy};
use binance_exec::latency::LatencyPath;
use binance_exec::metrics::{Counter, Metrics, OrderFlow};
use binance_exec::model::{
    ClientOrderId, InstrumentId, OrderEvent, OrderEventKind, OrderType, Price, Quantity, Rounding,
    Side, TimeInForce,
};
use binance_exec::sim::transport::faults::FaultPatch;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Sim, instrument};

const CODE_GTX_WOULD_CROSS: i32 = -5022;
const CODE_FOK_UNFILLABLE: i32 = -5021;

/// What the strategy saw: its order ids by role and every event.
#[derive(Debug, Default)]
struct Seen {
    market: Option<ClientOrderId>,
    resting: Option<ClientOrderId>,
    post_only: Option<ClientOrderId>,
    fok: Option<ClientOrderId>,
    submit_errors: Vec<String>,
    events: Vec<OrderEvent>,
}

impl Seen {
    fn count(&self, id: Option<ClientOrderId>, pred: impl Fn(&OrderEventKind) -> bool) -> usize {
        self.events
            .iter()
            .filter(|e| Some(e.client_id) == id && pred(&e.kind))
            .count()
    }
    fn rejected_with(&self, id: Option<ClientOrderId>, want: i32) -> bool {
        self.count(
            id,
            |k| matches!(k, OrderEventKind::Rejected { code, .. } if *code == want),
        ) == 1
    }
    fn done(&self) -> bool {
        self.count(self.market, |k| matches!(k, OrderEventKind::Filled(_))) > 0
            && self.count(self.resting, |k| matches!(k, OrderEventKind::Canceled)) == 1
            && self.rejected_with(self.post_only, CODE_GTX_WOULD_CROSS)
            && self.rejected_with(self.fok, CODE_FOK_UNFILLABLE)
    }
}

type Shared = Arc<Mutex<Seen>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Seen> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// On the first usable ticker: MARKET buy, resting LIMIT buy 1 % under the
/// bid (cancelled once acknowledged), post-only buy 1 % over the ask
/// (-5022), FOK buy 1 % under the bid (-5021).
struct Scripted {
    instrument: InstrumentId,
    tick: Price,
    qty: Quantity,
    seen: Shared,
    started: bool,
}

fn off(p: Price, pct: &str, tick: Price, r: Rounding) -> Price {
    p.value()
        .checked_mul(pct.parse().unwrap_or_default(), r)
        .and_then(|v| v.round_to_step(tick.value(), r).ok())
        .map(Price)
        .unwrap_or(p)
}

impl Strategy for Scripted {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.started || t.bid_price.raw() <= 0 || t.ask_price.raw() <= 0 {
            return;
        }
        self.started = true;
        let (i, q) = (self.instrument, self.qty);
        let below = off(t.bid_price, "0.99", self.tick, Rounding::Floor);
        let above = off(t.ask_price, "1.01", self.tick, Rounding::Ceil);
        let d = Default::default;
        let orders = [
            ctx.orders().market(i, Side::Buy, q, d()),
            ctx.orders()
                .limit(i, Side::Buy, q, below, TimeInForce::Gtc, d()),
            ctx.orders().post_only(i, Side::Buy, q, above, d()),
            ctx.orders()
                .limit(i, Side::Buy, q, below, TimeInForce::Fok, d()),
        ];
        for (n, o) in orders.into_iter().enumerate() {
            let r = o
                .map_err(|e| e.to_string())
                .and_then(|o| ctx.submit(o).map_err(|e| e.to_string()));
            let mut s = lock(&self.seen);
            match (n, r) {
                (_, Err(e)) => s.submit_errors.push(e),
                (0, Ok(id)) => s.market = Some(id),
                (1, Ok(id)) => s.resting = Some(id),
                (2, Ok(id)) => s.post_only = Some(id),
                (_, Ok(id)) => s.fok = Some(id),
            }
        }
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, ev: &OrderEvent) {
        let resting = {
            let mut s = lock(&self.seen);
            s.events.push(*ev);
            s.resting
        };
        if Some(ev.client_id) == resting && matches!(ev.kind, OrderEventKind::Accepted) {
            let _ = ctx.cancel(self.instrument, ev.client_id);
        }
    }
}

/// One `GET /metrics` over loopback; the body of a 200 reply.
fn scrape(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8(out).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    body.to_string()
}

/// `series{labels}` → value, for every sample line.
fn samples(body: &str) -> HashMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn get(m: &HashMap<String, f64>, key: &str) -> f64 {
    *m.get(key)
        .unwrap_or_else(|| panic!("no series {key} in the scrape"))
}

fn orders(m: &HashMap<String, f64>, event: &str, ty: &str) -> u64 {
    get(
        m,
        &format!("binance_exec_orders_total{{event=\"{event}\",type=\"{ty}\"}}"),
    ) as u64
}

fn latency_samples(m: &HashMap<String, f64>, path: &str) -> u64 {
    get(
        m,
        &format!("binance_exec_latency_samples{{path=\"{path}\"}}"),
    ) as u64
}

/// Scrapes until `pred` holds (at most `limit`, 100 ms apart).
fn scrape_until(
    addr: SocketAddr,
    limit: Duration,
    pred: impl Fn(&HashMap<String, f64>) -> bool,
) -> (String, HashMap<String, f64>) {
    let end = Instant::now() + limit;
    loop {
        let body = scrape(addr);
        let m = samples(&body);
        if pred(&m) || Instant::now() >= end {
            return (body, m);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_seen(seen: &Shared, limit: Duration, pred: impl Fn(&Seen) -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if pred(&lock(seen)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    pred(&lock(seen))
}

fn options() -> EngineOptions {
    EngineOptions {
        timer_interval: Some(Duration::from_millis(50)),
        max_runtime: Some(Duration::from_secs(45)),
        hgrm_dir: None,
    }
}

#[test]
fn scrape_matches_what_the_strategy_saw() {
    let sim = Sim::start(false, |_| {});
    let mut config = sim.config("BTCUSDT", false);
    config.metrics.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let (tick, qty) = sim.size("BTCUSDT");
    let seen = Shared::default();
    let strategy = Scripted {
        instrument: instrument("BTCUSDT"),
        tick,
        qty,
        seen: Arc::clone(&seen),
        started: false,
    };
    let handle = Engine::start(config, strategy, options()).expect("engine starts");
    let addr = handle.metrics_addr().expect("metrics are on");
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    let registry: Arc<Metrics> = handle.metrics().expect("registry");

    assert!(
        wait_seen(&seen, Duration::from_secs(20), Seen::done),
        "{:#?}",
        lock(&seen)
    );
    let (acks_market, acks_limit, fills_market, partial_market) = {
        let s = lock(&seen);
        assert!(s.submit_errors.is_empty(), "{:?}", s.submit_errors);
        let acked = |id| s.count(id, |k| matches!(k, OrderEventKind::Accepted)) as u64;
        let market_fills = s.count(s.market, |k| matches!(k, OrderEventKind::Filled(_))) as u64;
        (
            acked(s.market),
            acked(s.resting) + acked(s.post_only) + acked(s.fok),
            1u64,
            market_fills - 1,
        )
    };
    let acks_total = acks_market + acks_limit;

    // The latency snapshots reach the endpoint about once a second, the
    // strategy thread's and the execution thread's independently; wait
    // (bounded) until both cover every order the strategy sent and saw.
    let (body, m) = scrape_until(addr, Duration::from_secs(10), |m| {
        m.get("binance_exec_latency_samples{path=\"submit_to_ack\"}")
            .is_some_and(|v| *v as u64 == acks_total)
            && m.get("binance_exec_latency_samples{path=\"strategy_to_wire\"}")
                .is_some_and(|v| *v as u64 == 4)
            && m.get("binance_exec_orders_total{event=\"canceled\",type=\"LIMIT\"}")
                .is_some_and(|v| *v as u64 == 1)
    });
    let ctx = || format!("\n{body}\n{:#?}", lock(&seen));

    // Order flow by type, as the strategy saw it.
    assert_eq!(orders(&m, "submitted", "MARKET"), 1, "{}", ctx());
    assert_eq!(orders(&m, "submitted", "LIMIT"), 3, "{}", ctx());
    assert_eq!(orders(&m, "acked", "MARKET"), acks_market, "{}", ctx());
    assert_eq!(orders(&m, "acked", "LIMIT"), acks_limit, "{}", ctx());
    assert_eq!(orders(&m, "filled", "MARKET"), fills_market, "{}", ctx());
    assert_eq!(
        orders(&m, "partially_filled", "MARKET"),
        partial_market,
        "{}",
        ctx()
    );
    assert_eq!(orders(&m, "canceled", "LIMIT"), 1, "{}", ctx());
    assert_eq!(orders(&m, "rejected", "LIMIT"), 2, "{}", ctx());
    assert_eq!(orders(&m, "rejected", "MARKET"), 0, "{}", ctx());
    assert_eq!(orders(&m, "submitted", "STOP_MARKET"), 0, "{}", ctx());
    // Rejects by venue code, bounded label set.
    assert_eq!(
        get(&m, "binance_exec_rejects_total{code=\"-5022\"}") as u64,
        1,
        "{}",
        ctx()
    );
    assert_eq!(
        get(&m, "binance_exec_rejects_total{code=\"-5021\"}") as u64,
        1,
        "{}",
        ctx()
    );
    assert_eq!(
        get(&m, "binance_exec_rejects_total{code=\"other\"}") as u64,
        0,
        "{}",
        ctx()
    );
    // Rate limits: windows from exchangeInfo, usage from the local limiter.
    let weight_limit = get(
        &m,
        "binance_exec_rate_limit_limit{counter=\"request_weight\",window=\"1m\"}",
    );
    let weight_used = get(
        &m,
        "binance_exec_rate_limit_used{counter=\"request_weight\",window=\"1m\"}",
    );
    assert!(weight_limit > 0.0 && weight_used > 0.0, "{}", ctx());
    assert!(weight_used <= weight_limit, "{}", ctx());
    assert!(
        get(
            &m,
            "binance_exec_rate_limit_limit{counter=\"orders\",window=\"10s\"}"
        ) > 0.0
    );
    // Latency: every path's sample count and ordered percentiles.
    assert_eq!(
        latency_samples(&m, "submit_to_ack"),
        acks_total,
        "{}",
        ctx()
    );
    assert_eq!(latency_samples(&m, "strategy_to_wire"), 4, "{}", ctx());
    assert!(latency_samples(&m, "wire_to_strategy") > 0, "{}", ctx());
    assert!(latency_samples(&m, "fill_to_strategy") >= 1, "{}", ctx());
    let q = |path: &str, quantile: &str| {
        get(
            &m,
            &format!("binance_exec_latency_seconds{{path=\"{path}\",quantile=\"{quantile}\"}}"),
        )
    };
    for path in ["submit_to_ack", "strategy_to_wire", "wire_to_strategy"] {
        let v: Vec<f64> = ["0.5", "0.9", "0.99", "0.999", "1"]
            .iter()
            .map(|x| q(path, x))
            .collect();
        assert!(v.iter().all(|x| *x > 0.0), "{path}: {v:?}{}", ctx());
        assert!(v.windows(2).all(|w| w[0] <= w[1]), "{path}: {v:?}");
        assert!(v[4] < 60.0, "{path}: {v:?}");
    }
    assert!(get(&m, "binance_exec_latency_published_timestamp_seconds") > 1.0e9);
    assert_eq!(get(&m, "binance_exec_unknown_orders_open"), 0.0);

    // The summary and the registry agree after the run.
    let summary = handle.stop().expect("clean stop");
    let c = &summary.counters;
    assert_eq!(registry.orders_total(OrderFlow::Submitted), c.submitted);
    assert_eq!(registry.orders_total(OrderFlow::Acked), c.acked);
    assert_eq!(registry.orders_total(OrderFlow::Filled), c.filled);
    assert_eq!(
        registry.orders_total(OrderFlow::PartiallyFilled),
        c.partially_filled
    );
    assert_eq!(registry.orders_total(OrderFlow::Canceled), c.canceled);
    assert_eq!(registry.orders_total(OrderFlow::Expired), c.expired);
    assert_eq!(registry.orders_total(OrderFlow::Rejected), c.rejected);
    for (code, n) in &c.rejected_by_code {
        assert_eq!(registry.rejects(*code as i32), *n, "code {code}");
    }
    assert_eq!(registry.orders(OrderFlow::Submitted, &OrderType::Market), 1);
    for path in [
        LatencyPath::SubmitToAck,
        LatencyPath::FillToStrategy,
        LatencyPath::StrategyToWire,
        LatencyPath::WireToStrategy,
    ] {
        assert_eq!(
            registry.latency_count(path),
            summary.latency.histogram(path).map_or(0, |h| h.len()),
            "{path:?}"
        );
    }
    // The endpoint went away with the engine.
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "metrics still served after stop"
    );
    sim.handle.shutdown();
}

#[test]
fn reconnects_and_unknown_fates_are_counted() {
    let sim = Sim::start(false, |_| {});
    let mut config = sim.config("BTCUSDT", false);
    config.metrics.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let (tick, qty) = sim.size("BTCUSDT");
    let seen = Shared::default();
    // The first order request to reach the venue executes but its reply is
    // lost: Unknown, then resolved by query (or by its stream event).
    sim.handle.set_faults(&FaultPatch {
        unknown_placed_next: Some(1),
        ..FaultPatch::default()
    });
    let strategy = Scripted {
        instrument: instrument("BTCUSDT"),
        tick,
        qty,
        seen: Arc::clone(&seen),
        started: false,
    };
    let handle = Engine::start(config, strategy, options()).expect("engine starts");
    let addr = handle.metrics_addr().expect("metrics are on");
    let registry = handle.metrics().expect("registry");
    assert!(
        wait_seen(&seen, Duration::from_secs(20), |s| {
            s.events
                .iter()
                .any(|e| matches!(e.kind, OrderEventKind::StatusUnknown { .. }))
        }),
        "{:#?}",
        lock(&seen)
    );
    // Every stream socket dropped once: user and market reconnect.
    sim.handle.set_faults(&FaultPatch {
        drop_ws: true,
        ..FaultPatch::default()
    });
    let (body, m) = scrape_until(addr, Duration::from_secs(15), |m| {
        m.get("binance_exec_reconnects_total{stream=\"user\"}")
            .is_some_and(|v| *v >= 1.0)
            && m.get("binance_exec_reconnects_total{stream=\"market\"}")
                .is_some_and(|v| *v >= 1.0)
            && m.get("binance_exec_unknown_orders_resolved_total")
                .is_some_and(|v| *v >= 1.0)
    });
    assert_eq!(get(&m, "binance_exec_unknown_orders_total"), 1.0, "{body}");
    assert_eq!(
        get(&m, "binance_exec_unknown_orders_resolved_total"),
        1.0,
        "{body}"
    );
    assert_eq!(get(&m, "binance_exec_unknown_orders_open"), 0.0, "{body}");
    assert!(
        get(&m, "binance_exec_reconnects_total{stream=\"user\"}") >= 1.0,
        "{body}"
    );
    assert!(
        get(&m, "binance_exec_reconnects_total{stream=\"market\"}") >= 1.0,
        "{body}"
    );
    assert_eq!(
        get(&m, "binance_exec_reconnects_total{stream=\"ws_api\"}"),
        0.0,
        "{body}"
    );
    let summary = handle.stop().expect("clean stop");
    let c = &summary.counters;
    assert!(c.reconnects >= 1, "{c:?}");
    assert_eq!(registry.get(Counter::UnknownResolved), c.unknown_resolved);
    assert!(registry.reconnects(StreamKind::User) >= 1);
    sim.handle.shutdown();
}

#[test]
fn a_taken_port_fails_the_start_and_names_the_endpoint() {
    let sim = Sim::start(false, |_| {});
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut config = sim.config("BTCUSDT", false);
    config.metrics.listen = Some(taken.local_addr().expect("addr"));
    let (tick, qty) = sim.size("BTCUSDT");
    let strategy = Scripted {
        instrument: instrument("BTCUSDT"),
        tick,
        qty,
        seen: Shared::default(),
        started: false,
    };
    match Engine::start(config, strategy, options()) {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("metrics endpoint"), "{msg}");
            assert!(msg.contains("cannot listen for metrics"), "{msg}");
        }
        Ok(h) => {
            let _ = h.stop();
            panic!("the engine started although the metrics port is taken");
        }
    }
    sim.handle.shutdown();
}
