//! The engine's own latency against the in-process simulator, next to its
//! floor: the raw loopback round trip of the same signed REST request over
//! one plain keep-alive TCP connection to the same simulator, measured in the
//! same run (half before the engine runs, half after).
//!
//! Each round is a resting LIMIT (timed from the strategy's `submit` to the
//! strategy's ack callback), its cancel, then a MARKET order (alternating
//! buy/sell so the position stays flat) whose fill is timed two ways:
//!
//! - **fill wire→strategy**: the engine read the fill frame's bytes → the
//!   strategy's `on_order_event` for that fill (engine clock at both ends);
//! - **fill sim-send→strategy**: the simulator wrote the frame (TRADE_LITE,
//!   the first frame of a fill; wall clock from its event log) → the
//!   strategy's callback (wall clock). This includes the loopback hop.
//!
//! The venue's own `T`/`E` stamps have only millisecond resolution, so they
//! are not used here.
//!
//! Environment:
//! - `ROUNDS=N` (default 2000);
//! - `WAIT=park|spin_park|yield|spin` for all three engine threads,
//!   `NET_WAIT`, `EXEC_WAIT`, `STRAT_WAIT` per thread;
//! - `SPIN_US=N`: the `spin_park` window of every thread (µs).
//!
//! The simulator runs with its order limits raised (and advertises them in
//! exchangeInfo, so the engine's local limiter agrees): this measures
//! latency, not throttling. A custom harness (no criterion) because one
//! sample is a full venue round trip through three threads.

use binance_exec::binance::sign::Signer;
use binance_exec::cli::demo::{demo_sim_settings, order_size, sim_config};
use binance_exec::config::WaitStrategy;
use binance_exec::engine::{BookTicker, Context, Engine, EngineOptions, Strategy};
use binance_exec::latency::{LatencyPath, wall_ns};
use binance_exec::model::{
    ClientOrderId, InstrumentId, OrderEvent, OrderEventKind, Price, Quantity, Rounding, Side,
    Symbol, TimeInForce,
};
use binance_exec::sim::transport::{SimHandle, SimServer};
use hdrhistogram::Histogram;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SYMBOL: &str = "BTCUSDT";
/// Rounds whose samples are dropped (connections and caches warming up).
const WARMUP: usize = 100;

/// What the strategy measured.
#[derive(Default)]
struct Samples {
    submit_ack: Vec<u64>,
    fill_wire: Vec<u64>,
    /// (client id, wall ns of the first fill callback).
    fill_seen: Vec<(ClientOrderId, i64)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Resting,
    Market,
}

/// LIMIT → ack → cancel → MARKET → filled → repeat.
struct Pinger {
    instrument: InstrumentId,
    tick: Price,
    qty: Quantity,
    rounds: usize,
    done_rounds: usize,
    price: Option<Price>,
    phase: Phase,
    current: Option<ClientOrderId>,
    sent_at: u64,
    filled_raw: i64,
    market_side: Side,
    samples: Arc<Mutex<Samples>>,
}

impl Pinger {
    fn send_limit<C: Context>(&mut self, ctx: &mut C) {
        let Some(price) = self.price else { return };
        let order = ctx.orders().limit(
            self.instrument,
            Side::Buy,
            self.qty,
            price,
            TimeInForce::Gtc,
            Default::default(),
        );
        self.phase = Phase::Resting;
        self.submit(ctx, order);
    }

    fn send_market<C: Context>(&mut self, ctx: &mut C) {
        let side = self.market_side;
        self.market_side = if side == Side::Buy {
            Side::Sell
        } else {
            Side::Buy
        };
        let order = ctx
            .orders()
            .market(self.instrument, side, self.qty, Default::default());
        self.phase = Phase::Market;
        self.filled_raw = 0;
        self.submit(ctx, order);
    }

    fn submit<C: Context, E>(&mut self, ctx: &mut C, order: Result<binance_exec::model::Order, E>) {
        let Ok(order) = order else {
            ctx.request_stop();
            return;
        };
        self.sent_at = ctx.now();
        match ctx.submit(order) {
            Ok(id) => self.current = Some(id),
            Err(_) => ctx.request_stop(),
        }
    }

    fn samples(&self) -> std::sync::MutexGuard<'_, Samples> {
        self.samples.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Strategy for Pinger {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.price.is_some() || t.bid_price.raw() <= 0 {
            return;
        }
        // 10 % under the bid: rests, inside PERCENT_PRICE.
        self.price = t
            .bid_price
            .value()
            .checked_mul("0.9".parse().unwrap_or_default(), Rounding::Floor)
            .and_then(|p| p.round_to_step(self.tick.value(), Rounding::Floor).ok())
            .map(Price);
        self.send_limit(ctx);
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, ev: &OrderEvent) {
        if Some(ev.client_id) != self.current {
            return;
        }
        let warm = self.done_rounds >= WARMUP;
        match (self.phase, &ev.kind) {
            (Phase::Resting, OrderEventKind::Accepted) => {
                let ns = ctx.now().saturating_sub(self.sent_at);
                if warm {
                    self.samples().submit_ack.push(ns);
                }
                let _ = ctx.cancel(self.instrument, ev.client_id);
            }
            (Phase::Resting, OrderEventKind::Canceled) => self.send_market(ctx),
            (Phase::Market, OrderEventKind::Filled(f)) => {
                if self.filled_raw == 0 && warm {
                    let wire = ctx.now().saturating_sub(ev.ts_local_ns);
                    let wall = wall_ns();
                    let mut s = self.samples();
                    s.fill_wire.push(wire);
                    s.fill_seen.push((ev.client_id, wall));
                }
                self.filled_raw = self.filled_raw.saturating_add(f.quantity.raw());
                if self.filled_raw >= self.qty.raw() {
                    self.done_rounds += 1;
                    if self.done_rounds >= self.rounds + WARMUP {
                        ctx.request_stop();
                    } else {
                        self.send_limit(ctx);
                    }
                }
            }
            (_, OrderEventKind::Rejected { .. } | OrderEventKind::Expired { .. }) => {
                ctx.request_stop()
            }
            _ => {}
        }
    }
}

fn hist(samples: &[u64]) -> Option<Histogram<u64>> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).ok()?;
    for &s in samples {
        let _ = h.record(s.max(1));
    }
    (!h.is_empty()).then_some(h)
}

/// Prints one path's line; returns (p50, p99) in ns.
fn percentiles(name: &str, samples: &[u64]) -> Option<(u64, u64)> {
    let Some(h) = hist(samples) else {
        println!("{name:<40} no samples");
        return None;
    };
    let (p50, p99) = (h.value_at_quantile(0.5), h.value_at_quantile(0.99));
    println!(
        "{name:<40} n={:<6} p50 {:>8.1} µs  p90 {:>8.1} µs  p99 {:>8.1} µs  max {:>9.1} µs",
        h.len(),
        p50 as f64 / 1e3,
        h.value_at_quantile(0.9) as f64 / 1e3,
        p99 as f64 / 1e3,
        h.max() as f64 / 1e3
    );
    Some((p50, p99))
}

/// One keep-alive connection speaking signed REST, as a minimal client would.
struct Raw {
    s: TcpStream,
    key: String,
    signer: Signer,
    buf: Vec<u8>,
    /// Busy-poll the socket (non-blocking reads) instead of blocking.
    busy: bool,
}

impl Raw {
    /// Sends one signed request and times write → complete reply.
    fn signed(&mut self, method: &str, params: &str) -> Result<u64, String> {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let payload = format!("{params}&recvWindow=5000&timestamp={ts}");
        let sig = self.signer.sign_hex(payload.as_bytes());
        let body = format!("{payload}&signature={sig}");
        let req = format!(
            "{method} /fapi/v1/order HTTP/1.1\r\nHost: 127.0.0.1\r\nX-MBX-APIKEY: {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.key,
            body.len()
        );
        let t0 = Instant::now();
        self.s
            .write_all(req.as_bytes())
            .map_err(|e| e.to_string())?;
        self.read_reply()?;
        Ok(u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    fn read_reply(&mut self) -> Result<(), String> {
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        let give_up = Instant::now() + Duration::from_secs(5);
        loop {
            let n = match self.s.read(&mut chunk) {
                Ok(0) => return Err("closed".into()),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < give_up => {
                    std::hint::spin_loop();
                    continue;
                }
                Err(e) => return Err(e.to_string()),
            };
            self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
            let text = String::from_utf8_lossy(&self.buf);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    if !head.starts_with("HTTP/1.1 200") {
                        return Err(format!("{head} {body}"));
                    }
                    return Ok(());
                }
            }
        }
    }
}

/// `rounds` place/cancel pairs on one raw connection; the place times.
#[allow(clippy::too_many_arguments)]
fn floor(
    sim: &SimHandle,
    key: &str,
    secret: &str,
    qty: Quantity,
    price: Price,
    rounds: usize,
    busy: bool,
    tag: &str,
) -> Vec<u64> {
    let mut out = Vec::with_capacity(rounds);
    let s = match TcpStream::connect(sim.local_addr()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("connect: {e}");
            return out;
        }
    };
    let _ = s.set_nodelay(true);
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.set_nonblocking(busy);
    let mut raw = Raw {
        s,
        key: key.to_string(),
        signer: Signer::new(secret.as_bytes()),
        buf: Vec::with_capacity(4096),
        busy,
    };
    for i in 0..rounds + WARMUP / 2 {
        let id = format!("raw-{tag}-{i}");
        let place = format!(
            "symbol={SYMBOL}&side=BUY&type=LIMIT&timeInForce=GTC&quantity={qty}&price={price}\
             &newClientOrderId={id}&newOrderRespType=ACK"
        );
        match raw.signed("POST", &place) {
            Ok(ns) if i >= WARMUP / 2 => out.push(ns),
            Ok(_) => {}
            Err(e) => {
                eprintln!(
                    "raw place ({}): {e}",
                    if raw.busy { "busy" } else { "blocking" }
                );
                break;
            }
        }
        if let Err(e) = raw.signed("DELETE", &format!("symbol={SYMBOL}&origClientOrderId={id}")) {
            eprintln!("raw cancel: {e}");
            break;
        }
    }
    out
}

fn wait_from_env(name: &str, default: WaitStrategy) -> WaitStrategy {
    match std::env::var(name).ok().as_deref() {
        Some("spin") => WaitStrategy::Spin,
        Some("yield") => WaitStrategy::Yield,
        Some("park") => WaitStrategy::Park,
        Some("spin_park") => WaitStrategy::SpinPark,
        Some(other) => {
            eprintln!("{name}={other}: expected park|spin_park|yield|spin; using {default:?}");
            default
        }
        None => default,
    }
}

/// First TRADE_LITE send time (wall ns) per client id, from the sim's event log.
fn fill_sends(path: &std::path::Path) -> std::collections::HashMap<String, i64> {
    let mut out = std::collections::HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    for line in text.lines() {
        if !line.contains("\"e\":\"TRADE_LITE\"") {
            continue;
        }
        let field = |name: &str| -> Option<&str> {
            let start = line.find(name)? + name.len();
            let rest = line.get(start..)?;
            let end = rest.find([',', '}'])?;
            rest.get(..end)
        };
        let (Some(ns), Some(id)) = (field("\"send_ns\":"), field("\"clientOrderId\":")) else {
            continue;
        };
        if let Ok(ns) = ns.parse::<i64>() {
            out.entry(id.trim_matches('"').to_string()).or_insert(ns);
        }
    }
    out
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let all = wait_from_env("WAIT", WaitStrategy::Park);
    let waits = [
        wait_from_env("NET_WAIT", all),
        wait_from_env("EXEC_WAIT", all),
        wait_from_env("STRAT_WAIT", all),
    ];
    let spin_us: Option<u32> = std::env::var("SPIN_US").ok().and_then(|v| v.parse().ok());
    let log_path = std::env::temp_dir().join(format!("bx-roundtrip-{}.jsonl", std::process::id()));

    let mut settings = demo_sim_settings(1, false);
    settings.server.limits.orders_per_10s = 10_000_000;
    settings.server.limits.orders_per_minute = 10_000_000;
    settings.server.limits.weight_per_minute = 10_000_000;
    settings.server.event_log = Some(log_path.clone());
    let Some((tick, qty)) = order_size(&settings, SYMBOL) else {
        eprintln!("{SYMBOL} not listed");
        return;
    };
    let sim = match SimServer::start(&settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sim: {e}");
            return;
        }
    };
    let Ok(mut config) = sim_config(&sim, &settings, SYMBOL, false) else {
        eprintln!("config");
        return;
    };
    for (t, w) in [
        &mut config.threads.network,
        &mut config.threads.execution,
        &mut config.threads.strategy,
    ]
    .into_iter()
    .zip(waits)
    {
        t.wait = w;
        t.spin_us = spin_us;
    }
    let label = format!(
        "net={} exec={} strat={} spin_us={}",
        waits[0].as_str(),
        waits[1].as_str(),
        waits[2].as_str(),
        spin_us.map_or("default".to_string(), |u| u.to_string())
    );
    println!("engine_roundtrip: {label}, {rounds} rounds");
    let (key, secret) = settings
        .venue
        .first_account_credentials()
        .unwrap_or_default();
    let Some(price) = resting_price(&sim, tick) else {
        eprintln!("no simulator price");
        return;
    };

    // Floor, first half (blocking and busy-polling clients).
    let mut floor_block = floor(&sim, &key, &secret, qty, price, rounds / 2, false, "a");
    let mut floor_busy = floor(&sim, &key, &secret, qty, price, rounds / 4, true, "b");

    // Engine.
    let samples = Arc::new(Mutex::new(Samples::default()));
    let Ok(sym) = Symbol::new(SYMBOL) else { return };
    let pinger = Pinger {
        instrument: InstrumentId::perp(sym),
        tick,
        qty,
        rounds,
        done_rounds: 0,
        price: None,
        phase: Phase::Resting,
        current: None,
        sent_at: 0,
        filled_raw: 0,
        market_side: Side::Buy,
        samples: samples.clone(),
    };
    let opts = EngineOptions {
        timer_interval: None,
        max_runtime: Some(Duration::from_secs(300)),
        hgrm_dir: None,
    };
    let mut engine_paths = None;
    match Engine::start(config, pinger, opts) {
        Ok(h) => match h.wait(Duration::from_secs(330)) {
            Ok(summary) => {
                print!("engine latency report (all samples):\n{}", summary.latency);
                let c = &summary.counters;
                println!(
                    "counters: submitted {} acked {} filled {} canceled {} rate-limit waits {} strategy backlog max {}",
                    c.submitted,
                    c.acked,
                    c.filled,
                    c.canceled,
                    c.rate_limit_backoffs,
                    c.strategy_backlog_max
                );
                engine_paths = Some(summary.latency);
            }
            Err(e) => eprintln!("engine: {e}"),
        },
        Err(e) => eprintln!("engine did not start: {e}"),
    }

    // Floor, second half.
    floor_block.extend(floor(
        &sim,
        &key,
        &secret,
        qty,
        price,
        rounds / 2,
        false,
        "c",
    ));
    floor_busy.extend(floor(
        &sim,
        &key,
        &secret,
        qty,
        price,
        rounds / 4,
        true,
        "d",
    ));
    sim.shutdown();

    let s = samples
        .lock()
        .map(|mut s| std::mem::take(&mut *s))
        .unwrap_or_default();
    let sends = fill_sends(&log_path);
    let _ = std::fs::remove_file(&log_path);
    let sim_fill: Vec<u64> = s
        .fill_seen
        .iter()
        .filter_map(|(id, wall)| {
            let sent = sends.get(id.as_str())?;
            u64::try_from(wall - sent).ok()
        })
        .collect();

    println!("--- {label} (after {WARMUP} warm-up rounds) ---");
    let fl = percentiles("floor: blocking keep-alive TCP", &floor_block);
    let _ = percentiles("floor: busy-polling keep-alive TCP", &floor_busy);
    let ack = percentiles("submit→ack (strategy→strategy)", &s.submit_ack);
    let fw = percentiles("fill wire→strategy (read→callback)", &s.fill_wire);
    let fs = percentiles("fill sim-send→strategy", &sim_fill);
    if let Some(l) = &engine_paths {
        for p in [LatencyPath::StrategyToWire, LatencyPath::WireToStrategy] {
            if let Some(h) = l.histogram(p) {
                println!(
                    "{:<40} n={:<6} p50 {:>8.1} µs  p99 {:>8.1} µs",
                    format!("engine {} (all)", p.as_str()),
                    h.len(),
                    h.value_at_quantile(0.5) as f64 / 1e3,
                    h.value_at_quantile(0.99) as f64 / 1e3
                );
            }
        }
    }
    let us = |v: Option<(u64, u64)>, i: usize| {
        v.map_or("-".to_string(), |p| {
            format!("{:.1}", if i == 0 { p.0 } else { p.1 } as f64 / 1e3)
        })
    };
    let ratio = match (ack, fl) {
        (Some((a, _)), Some((f, _))) => format!("{:.2}", a as f64 / f.max(1) as f64),
        _ => "-".into(),
    };
    println!("engine / floor (submit→ack p50 / floor p50): {ratio}×");
    println!(
        "RESULT | {label} | floor {} / {} | ack {} / {} | {ratio}x | fill wire {} / {} | fill sim {} / {} |",
        us(fl, 0),
        us(fl, 1),
        us(ack, 0),
        us(ack, 1),
        us(fw, 0),
        us(fw, 1),
        us(fs, 0),
        us(fs, 1)
    );
}

/// The resting price the raw client uses: 10 % under the simulator's last.
fn resting_price(sim: &SimHandle, tick: Price) -> Option<Price> {
    let (last, _) = sim.with_venue(|v| v.prices(SYMBOL))?;
    let p = last
        .checked_mul("0.9".parse().ok()?, Rounding::Floor)?
        .round_to_step(tick.value(), Rounding::Floor)
        .ok()?;
    Some(Price(p))
}
