//! Order entry over the WebSocket API (`order_entry = "ws_api"`), end to
//! end against the in-process simulator: every order type's lifecycle, the
//! REST fallback while the WS-API socket is down, a frame written just
//! before the connection died (unknown fate, resolved by query, no
//! duplicate), FR-004 errors on the WS path, and the local refusal to
//! modify an untriggered conditional order.
//!
//! Connection faults come from a small loopback TCP proxy in front of the
//! simulator's `/ws-fapi/v1`: it can refuse connections, kill the live
//! ones, or forward the next client frame and then cut the connection
//! before the venue's reply gets back.

mod support;

use binance_exec::config::{Config, Environment, OrderEntry};
use binance_exec::engine::{BookTicker, Context, Engine, EngineSummary, Strategy};
use binance_exec::model::{
    ClientOrderId, InstrumentId, OrderEvent, OrderEventKind, Price, Quantity, Rounding, Side,
};
use binance_exec::strategies::{OrderCycle, OrderCycleSettings, Scenario};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{
    Probe, RUN_LIMIT, Sim, Spec, filled, filled_or_resolved_filled, instrument, kinds_of, noted,
    options, start_probe, wait_until,
};

const SYM: &str = "BTCUSDT";
const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- helpers

/// A client config for `sim` with WS-API order entry; `ws_api_url`
/// replaces the simulator's WS-API address (to go through a proxy).
fn ws_config(sim: &Sim, symbol: &str, ws_api_url: Option<&str>) -> Config {
    let mut c = match ws_api_url {
        None => sim.config(symbol, false),
        Some(url) => {
            let text = format!(
                "base_url_http = \"{}\"\nbase_url_ws = \"{}\"\nbase_url_ws_api = \"{url}\"\n\
                 position_mode = \"one_way\"\n[instrument_provider]\n\
                 load_ids = [\"{symbol}-PERP.BINANCE\"]\n[engine]\ncancel_all_on_shutdown = true\n[sim]\n",
                sim.handle.rest_url(),
                sim.handle.stream_url(),
            );
            let mut c = Config::from_toml_str(&text, None, &Environment::from_pairs(&[]))
                .unwrap_or_else(|e| panic!("config: {e}"));
            c.sim = Some(sim.settings.clone());
            c
        }
    };
    c.order_entry = OrderEntry::WsApi;
    // A short recvWindow keeps the settle delay before a resubmission short.
    c.recv_window_ms = 1000;
    c
}

/// `(over WS API, over REST)` from the engine's order-entry summary line.
fn routed(summary: &EngineSummary) -> (u64, u64) {
    let line = summary
        .events
        .iter()
        .find(|e| e.starts_with("order entry: ") && e.contains("over the WebSocket API,"))
        .unwrap_or_else(|| panic!("no order-entry summary: {:?}", summary.events));
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|t| t.parse().ok())
        .collect();
    match nums.as_slice() {
        [ws, rest, ..] => (*ws, *rest),
        _ => panic!("unreadable summary line {line}"),
    }
}

fn lifecycle(symbol: &str, scenarios: &[Scenario]) {
    let sim = Sim::start(false, |_| {});
    let (tick, qty) = sim.size(symbol);
    let mut st = OrderCycleSettings::new(instrument(symbol), qty, tick);
    st.scenarios = scenarios.to_vec();
    let strategy = OrderCycle::new(st, Some(Box::new(sim.control.clone())));
    let report = strategy.report();
    let summary = Engine::start(ws_config(&sim, symbol, None), strategy, options())
        .and_then(|h| h.wait(RUN_LIMIT + Duration::from_secs(10)));
    let report = report
        .lock()
        .map(|r| r.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    let summary = summary.unwrap_or_else(|e| panic!("engine: {e}\n{}", report.table()));
    assert!(report.finished, "walk did not finish:\n{}", report.table());
    assert!(report.all_ok(), "lifecycle mismatch:\n{}", report.table());
    assert_eq!(sim.open_orders(), 0, "nothing may stay live after the walk");
    let (ws, _) = routed(&summary);
    assert!(
        ws >= scenarios.len() as u64,
        "order writes must go over the WS API: {:?}",
        summary.events
    );
    sim.handle.shutdown();
}

/// What the proxy does with connections.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    /// Forward both ways.
    Pass = 0,
    /// Accept and close at once (the WS API is unreachable).
    Refuse = 1,
}

/// A loopback TCP proxy in front of the simulator's WS API.
struct Proxy {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    /// Forward the next client chunk, then cut that connection before any
    /// reply is forwarded.
    cut_next: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: SocketAddr, mode: Mode) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let _ = listener.set_nonblocking(true);
        let p = Proxy {
            addr,
            mode: Arc::new(AtomicU8::new(mode as u8)),
            cut_next: Arc::new(AtomicBool::new(false)),
            live: Arc::new(Mutex::new(Vec::new())),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (mode, cut, live, stop) = (
            p.mode.clone(),
            p.cut_next.clone(),
            p.live.clone(),
            p.stop.clone(),
        );
        std::thread::spawn(move || {
            let end = Instant::now() + RUN_LIMIT + Duration::from_secs(30);
            while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                match listener.accept() {
                    Ok((client, _)) => {
                        if mode.load(Ordering::Relaxed) == Mode::Refuse as u8 {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        }
                        let Ok(server) = TcpStream::connect(upstream) else {
                            continue;
                        };
                        pipe(client, server, &cut, &live, &stop);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => return,
                }
            }
        });
        p
    }

    fn url(&self) -> String {
        format!("ws://{}/ws-fapi/v1", self.addr)
    }

    fn set_mode(&self, m: Mode) {
        self.mode.store(m as u8, Ordering::Relaxed);
    }

    /// Kills every live connection (abruptly, no close frame).
    fn kill_all(&self) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        for s in live.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.kill_all();
    }
}

/// Two copy threads for one connection; each ends when its side closes, the
/// proxy stops, or its time bound passes.
fn pipe(
    client: TcpStream,
    server: TcpStream,
    cut: &Arc<AtomicBool>,
    live: &Arc<Mutex<Vec<TcpStream>>>,
    stop: &Arc<AtomicBool>,
) {
    let dead = Arc::new(AtomicBool::new(false));
    if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
        let mut l = live.lock().unwrap_or_else(|e| e.into_inner());
        l.push(c);
        l.push(s);
    }
    let spawn_copy = |mut from: TcpStream, mut to: TcpStream, client_side: bool| {
        let (cut, stop, dead) = (cut.clone(), stop.clone(), dead.clone());
        std::thread::spawn(move || {
            let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
            let mut buf = vec![0u8; 64 * 1024];
            let end = Instant::now() + RUN_LIMIT + Duration::from_secs(30);
            while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                match from.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if dead.load(Ordering::Relaxed) {
                            break;
                        }
                        let chunk = buf.get(..n).unwrap_or_default();
                        let cutting = client_side && cut.swap(false, Ordering::Relaxed);
                        if cutting {
                            // No reply may get back once this is forwarded.
                            dead.store(true, Ordering::Relaxed);
                        }
                        if to.write_all(chunk).is_err() {
                            break;
                        }
                        if cutting {
                            let _ = to.flush();
                            let _ = from.shutdown(Shutdown::Both);
                            let _ = to.shutdown(Shutdown::Both);
                            break;
                        }
                    }
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => break,
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        });
    };
    if let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) {
        spawn_copy(client, server, true);
        spawn_copy(s2, c2, false);
    }
}

fn upstream(sim: &Sim) -> SocketAddr {
    sim.handle.local_addr()
}

// ---------------------------------------------------------------- lifecycles

#[test]
fn every_order_type_over_ws_api() {
    lifecycle(SYM, &Scenario::ALL);
}

#[test]
fn non_ascii_symbol_over_ws_api() {
    lifecycle(
        "币安人生USDT",
        &[
            Scenario::Market,
            Scenario::LimitRestCancel,
            Scenario::Modify,
            Scenario::StopLimit,
            Scenario::ReduceOnlyClose,
        ],
    );
}

// ---------------------------------------------------------------- fallback

#[test]
fn unreachable_ws_api_sends_everything_over_rest() {
    let sim = Sim::start(false, |_| {});
    let proxy = Proxy::start(upstream(&sim), Mode::Refuse);
    let (tick, q) = sim.size(SYM);
    let probe = Probe::new(
        instrument(SYM),
        tick,
        vec![Spec::RestingBuy(q), Spec::MarketBuy(q)],
    );
    let seen = probe.seen.clone();
    let h = start_probe(ws_config(&sim, SYM, Some(&proxy.url())), probe);
    let done = wait_until(&seen, WAIT, |s| {
        s.sent.len() == 2
            && kinds_of(s, s.sent[0])
                .iter()
                .any(|k| matches!(k, OrderEventKind::Accepted))
            && filled(s, s.sent[1])
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    assert!(done, "orders did not land over REST: {:?}", summary.events);
    let s = seen.lock().map(|s| s.clone()).unwrap_or_default();
    for id in &s.sent {
        assert_eq!(sim.ledger_count(id.as_str()), 1, "{id} exactly once");
    }
    let (ws, rest) = routed(&summary);
    assert_eq!(ws, 0, "{:?}", summary.events);
    assert!(rest >= 2, "{:?}", summary.events);
    sim.handle.shutdown();
}

#[test]
fn dropped_ws_api_socket_falls_back_to_rest() {
    let sim = Sim::start(false, |_| {});
    let proxy = Arc::new(Proxy::start(upstream(&sim), Mode::Pass));
    let (tick, q) = sim.size(SYM);
    let mut probe = Probe::new(instrument(SYM), tick, vec![Spec::MarketBuy(q)]);
    let p2 = proxy.clone();
    probe.before = Some(Box::new(move || {
        p2.set_mode(Mode::Refuse);
        p2.kill_all();
        // Let the engine see the drop before the order is routed.
        std::thread::sleep(Duration::from_millis(300));
    }));
    let seen = probe.seen.clone();
    let h = start_probe(ws_config(&sim, SYM, Some(&proxy.url())), probe);
    let done = wait_until(&seen, WAIT, |s| {
        s.sent.first().is_some_and(|id| filled(s, *id))
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    assert!(done, "order not filled: {:?}", summary.events);
    let s = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(sim.ledger_count(s.sent[0].as_str()), 1, "exactly once");
    assert!(
        noted(&summary, "WebSocket API up"),
        "the WS API was up before the drop: {:?}",
        summary.events
    );
    assert!(
        noted(&summary, "WebSocket API down"),
        "{:?}",
        summary.events
    );
    let (_, rest) = routed(&summary);
    assert!(
        rest >= 1,
        "the order must go over REST: {:?}",
        summary.events
    );
    sim.handle.shutdown();
}

#[test]
fn frame_written_then_connection_lost_is_resolved_by_query_without_duplicate() {
    // The user stream lags, so the engine learns the order's fate from the
    // lost connection and its query, not from the stream (which the
    // simulator now writes as soon as it matches: without the lag the fill
    // event can beat the noticed cut and the path under test never runs).
    let sim = Sim::start(false, |s| s.server.faults.stream_delay_ms = 300);
    let proxy = Arc::new(Proxy::start(upstream(&sim), Mode::Pass));
    let (tick, q) = sim.size(SYM);
    let mut probe = Probe::new(instrument(SYM), tick, vec![Spec::MarketBuy(q)]);
    let p2 = proxy.clone();
    probe.before = Some(Box::new(move || {
        p2.cut_next.store(true, Ordering::Relaxed);
    }));
    let seen = probe.seen.clone();
    let h = start_probe(ws_config(&sim, SYM, Some(&proxy.url())), probe);
    let done = wait_until(&seen, WAIT, |s| {
        s.sent
            .first()
            .is_some_and(|id| filled_or_resolved_filled(s, *id))
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    let s = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(done, "never resolved as filled: {:?}", summary.events);
    let id = s.sent[0];
    assert!(
        kinds_of(&s, id)
            .iter()
            .any(|k| matches!(k, OrderEventKind::StatusUnknown { .. })),
        "the lost reply must make the order unknown first: {:?} {:?}",
        kinds_of(&s, id),
        summary.events
    );
    assert_eq!(
        sim.ledger_count(id.as_str()),
        1,
        "no duplicate at the venue"
    );
    assert!(
        summary.counters.unknown_resolved >= 1,
        "{:?}",
        summary.counters
    );
    sim.handle.shutdown();
}

// ---------------------------------------------------------------- FR-004 on the WS path

/// Runs one MARKET buy over the WS API with `faults` switched on just
/// before it is sent; returns the engine summary and what the probe saw.
fn one_market_order_with(faults: &'static str) -> (Sim, EngineSummary, support::Seen) {
    one_market_order_via(faults, OrderEntry::WsApi)
}

/// [`one_market_order_with`] over the given order entry.
fn one_market_order_via(
    faults: &'static str,
    entry: OrderEntry,
) -> (Sim, EngineSummary, support::Seen) {
    let sim = Sim::start(false, |_| {});
    let mut config = ws_config(&sim, SYM, None);
    config.order_entry = entry;
    let (summary, s) = sim.one_market_buy(SYM, config, faults, WAIT, Duration::ZERO);
    (sim, summary, s)
}

#[test]
fn server_error_over_ws_api_is_resent_and_lands_once() {
    let (sim, summary, s) =
        one_market_order_with(r#"{"server_error_next":1,"server_error_status":502}"#);
    let id = s.sent[0];
    assert_eq!(sim.ledger_count(id.as_str()), 1, "exactly one order");
    assert!(summary.counters.retries >= 1, "{:?}", summary.counters);
    let (ws, _) = routed(&summary);
    assert!(
        ws >= 2,
        "both attempts over the WS API: {:?}",
        summary.events
    );
    sim.handle.shutdown();
}

#[test]
fn unknown_outcome_not_placed_is_resubmitted_after_the_settle_delay() {
    let (sim, summary, s) = one_market_order_with(r#"{"unknown_not_placed_next":1}"#);
    let id = s.sent[0];
    let kinds = kinds_of(&s, id);
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, OrderEventKind::StatusUnknown { .. })),
        "{kinds:?}"
    );
    assert_eq!(sim.ledger_count(id.as_str()), 1, "exactly one order");
    assert!(
        noted(&summary, "resubmitting with the same id"),
        "{:?}",
        summary.events
    );
    sim.handle.shutdown();
}

#[test]
fn unknown_outcome_not_placed_over_rest_is_resubmitted_too() {
    let (sim, summary, s) =
        one_market_order_via(r#"{"unknown_not_placed_next":1}"#, OrderEntry::Rest);
    let id = s.sent[0];
    assert_eq!(sim.ledger_count(id.as_str()), 1, "exactly one order");
    assert!(
        noted(&summary, "resubmitting with the same id"),
        "{:?}",
        summary.events
    );
    sim.handle.shutdown();
}

#[test]
fn unknown_outcome_placed_is_adopted_not_duplicated() {
    let (sim, summary, s) =
        one_market_order_with(r#"{"unknown_placed_next":1,"unknown_as_timeout":true}"#);
    let id = s.sent[0];
    assert!(
        kinds_of(&s, id)
            .iter()
            .any(|k| matches!(k, OrderEventKind::StatusUnknown { code: -1007 })),
        "{:?}",
        kinds_of(&s, id)
    );
    assert_eq!(sim.ledger_count(id.as_str()), 1, "no duplicate");
    assert!(
        !noted(&summary, "resubmitting"),
        "a placed order is never resubmitted: {:?}",
        summary.events
    );
    sim.handle.shutdown();
}

// ---------------------------------------------------------------- algo modify

/// Places a STOP_MARKET far from the market, tries to modify it once
/// accepted, then cancels it.
struct AlgoModify {
    instrument: InstrumentId,
    qty: Quantity,
    tick: Price,
    id: Option<ClientOrderId>,
    modified: bool,
    seen: Arc<Mutex<Vec<OrderEvent>>>,
}

impl Strategy for AlgoModify {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.id.is_some() || t.ask_price.raw() <= 0 {
            return;
        }
        let trigger = t
            .ask_price
            .value()
            .checked_mul("1.05".parse().unwrap_or_default(), Rounding::Ceil)
            .and_then(|p| p.round_to_step(self.tick.value(), Rounding::Ceil).ok())
            .map(Price)
            .unwrap_or(t.ask_price);
        let o = ctx.orders().stop_market(
            self.instrument,
            Side::Buy,
            self.qty,
            trigger,
            Default::default(),
        );
        if let Ok(id) = o
            .map_err(|e| e.to_string())
            .and_then(|o| ctx.submit(o).map_err(|e| e.to_string()))
        {
            self.id = Some(id);
        }
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, ev: &OrderEvent) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(*ev);
        match ev.kind {
            OrderEventKind::Accepted if !self.modified => {
                self.modified = true;
                let _ = ctx.modify(ev.instrument, ev.client_id, self.tick, self.qty);
            }
            OrderEventKind::ModifyRejected { .. } => {
                let _ = ctx.cancel(ev.instrument, ev.client_id);
            }
            _ => {}
        }
    }
}

#[test]
fn modify_of_an_untriggered_algo_order_is_refused_locally() {
    let sim = Sim::start(false, |_| {});
    let (tick, qty) = sim.size(SYM);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let st = AlgoModify {
        instrument: instrument(SYM),
        qty,
        tick,
        id: None,
        modified: false,
        seen: seen.clone(),
    };
    let h = Engine::start(ws_config(&sim, SYM, None), st, options())
        .unwrap_or_else(|e| panic!("engine start: {e}"));
    let end = Instant::now() + WAIT;
    let canceled =
        |v: &Vec<OrderEvent>| v.iter().any(|e| matches!(e.kind, OrderEventKind::Canceled));
    while Instant::now() < end && !canceled(&seen.lock().unwrap_or_else(|e| e.into_inner())) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    let events = seen.lock().map(|v| v.clone()).unwrap_or_default();
    let kinds: Vec<OrderEventKind> = events.iter().map(|e| e.kind).collect();
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, OrderEventKind::ModifyRejected { code: -4120, .. })),
        "{kinds:?} {:?}",
        summary.events
    );
    // Refused before any request: no PendingUpdate, and the order cancels
    // normally afterwards.
    assert!(
        !kinds
            .iter()
            .any(|k| matches!(k, OrderEventKind::PendingUpdate)),
        "{kinds:?}"
    );
    assert!(canceled(&events), "{kinds:?} {:?}", summary.events);
    sim.handle.shutdown();
}
