//! Submit→ack through the whole engine against the in-process simulator,
//! next to its floor: the raw loopback round trip of the same signed REST
//! request over one plain keep-alive TCP connection to the same simulator.
//!
//! The ratio is the honest number: everything above 1.0× is the engine's own
//! cost (strategy→execution→network thread hops, signing, tracking, event
//! delivery back to the strategy). Run with
//! `cargo bench --bench engine_roundtrip` (`ROUNDS=N` to change the count).
//! A custom harness (no criterion) because one sample is a full venue round
//! trip through three threads, not a pure function.

use binance_exec::binance::sign::Signer;
use binance_exec::cli::demo::{demo_sim_settings, order_size, sim_config};
use binance_exec::engine::{BookTicker, Context, Engine, EngineOptions, Strategy};
use binance_exec::model::{
    ClientOrderId, InstrumentId, OrderEvent, OrderEventKind, Price, Quantity, Rounding, Side,
    Symbol, TimeInForce,
};
use binance_exec::sim::transport::{SimHandle, SimServer};
use hdrhistogram::Histogram;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SYMBOL: &str = "BTCUSDT";

/// Sends a resting LIMIT, times it to the ack, cancels it, repeats.
struct Pinger {
    instrument: InstrumentId,
    tick: Price,
    qty: Quantity,
    rounds: usize,
    price: Option<Price>,
    current: Option<ClientOrderId>,
    sent_at: u64,
    samples: Arc<Mutex<Vec<u64>>>,
}

impl Pinger {
    fn send<C: Context>(&mut self, ctx: &mut C) {
        let Some(price) = self.price else { return };
        let order = ctx.orders().limit(
            self.instrument,
            Side::Buy,
            self.qty,
            price,
            TimeInForce::Gtc,
            Default::default(),
        );
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
        self.send(ctx);
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, ev: &OrderEvent) {
        if Some(ev.client_id) != self.current {
            return;
        }
        match ev.kind {
            OrderEventKind::Accepted => {
                let ns = ctx.now().saturating_sub(self.sent_at);
                let n = {
                    let mut s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
                    s.push(ns);
                    s.len()
                };
                let _ = ctx.cancel(self.instrument, ev.client_id);
                if n >= self.rounds {
                    self.rounds = 0;
                }
            }
            OrderEventKind::Canceled if self.rounds == 0 => ctx.request_stop(),
            OrderEventKind::Canceled => self.send(ctx),
            OrderEventKind::Rejected { .. } => ctx.request_stop(),
            _ => {}
        }
    }
}

fn percentiles(name: &str, samples: &[u64]) -> Option<(u64, u64)> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).ok()?;
    for &s in samples {
        let _ = h.record(s.max(1));
    }
    if h.is_empty() {
        println!("{name:<28} no samples");
        return None;
    }
    let (p50, p99) = (h.value_at_quantile(0.5), h.value_at_quantile(0.99));
    println!(
        "{name:<28} n={:<6} p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs",
        h.len(),
        p50 as f64 / 1e3,
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
}

impl Raw {
    fn signed(&mut self, method: &str, params: &str) -> Result<(), String> {
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
        self.s
            .write_all(req.as_bytes())
            .map_err(|e| e.to_string())?;
        self.read_reply()
    }

    fn read_reply(&mut self) -> Result<(), String> {
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        loop {
            let n = self.s.read(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("closed".into());
            }
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

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let mut settings = demo_sim_settings(1, false);
    settings.server.limits.orders_per_10s = 10_000_000;
    settings.server.limits.orders_per_minute = 10_000_000;
    settings.server.limits.weight_per_minute = 10_000_000;
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
    let Ok(config) = sim_config(&sim, &settings, SYMBOL, false) else {
        eprintln!("config");
        return;
    };
    let (key, secret) = settings
        .venue
        .first_account_credentials()
        .unwrap_or_default();

    // Engine: strategy submit → strategy sees the ack.
    let samples = Arc::new(Mutex::new(Vec::with_capacity(rounds)));
    let Ok(sym) = Symbol::new(SYMBOL) else { return };
    let pinger = Pinger {
        instrument: InstrumentId::perp(sym),
        tick,
        qty,
        rounds,
        price: None,
        current: None,
        sent_at: 0,
        samples: samples.clone(),
    };
    let opts = EngineOptions {
        timer_interval: None,
        max_runtime: Some(Duration::from_secs(120)),
        hgrm_dir: None,
    };
    let engine_stats = match Engine::start(config, pinger, opts) {
        Ok(h) => match h.wait(Duration::from_secs(150)) {
            Ok(summary) => {
                print!("engine latency report:\n{}", summary.latency);
                let s = samples.lock().map(|s| s.clone()).unwrap_or_default();
                // The first round trips warm connections and caches.
                let warm = s.get(s.len().min(100)..).unwrap_or(&[]);
                percentiles("engine submit→ack (strategy)", warm)
            }
            Err(e) => {
                eprintln!("engine: {e}");
                None
            }
        },
        Err(e) => {
            eprintln!("engine did not start: {e}");
            None
        }
    };

    // Floor: the same request over one raw keep-alive connection.
    let raw_stats = match TcpStream::connect(sim.local_addr()) {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut raw = Raw {
                s,
                key,
                signer: Signer::new(secret.as_bytes()),
                buf: Vec::with_capacity(4096),
            };
            let Some(price) = resting_price(&sim, tick) else {
                eprintln!("no simulator price");
                return;
            };
            let mut floor = Vec::with_capacity(rounds);
            for i in 0..rounds + 100 {
                let id = format!("raw-{i}");
                let place = format!(
                    "symbol={SYMBOL}&side=BUY&type=LIMIT&timeInForce=GTC&quantity={qty}&price={price}\
                     &newClientOrderId={id}&newOrderRespType=ACK"
                );
                let t0 = Instant::now();
                if let Err(e) = raw.signed("POST", &place) {
                    eprintln!("raw place: {e}");
                    break;
                }
                let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
                if i >= 100 {
                    floor.push(ns);
                }
                if let Err(e) =
                    raw.signed("DELETE", &format!("symbol={SYMBOL}&origClientOrderId={id}"))
                {
                    eprintln!("raw cancel: {e}");
                    break;
                }
            }
            percentiles("raw keep-alive TCP floor", &floor)
        }
        Err(e) => {
            eprintln!("connect: {e}");
            None
        }
    };
    if let (Some((e50, e99)), Some((r50, r99))) = (engine_stats, raw_stats) {
        println!(
            "engine / floor: p50 {:.2}×  p99 {:.2}×",
            e50 as f64 / r50.max(1) as f64,
            e99 as f64 / r99.max(1) as f64
        );
    }
    sim.shutdown();
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
