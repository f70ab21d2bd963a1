//! `binance-exec demo [--json] [--seed N] [--order-entry rest|ws_api]`: the whole system in
//! one command.
//!
//! Starts the venue simulator in-process on an ephemeral loopback port,
//! points a client config at it (simulator credentials, no environment
//! needed), runs `order-cycle` through the real engine — real sockets,
//! real signing, real stream decoding — and prints what happened to each
//! order type and the latency percentiles against the budgets. It exits 0
//! only when every lifecycle matched the protocol, so it doubles as a smoke
//! test a new user can run before trusting the engine with a real account.

use super::run::{TIMER_INTERVAL, drive, finish};
use crate::config::{Config, ConfigError, Environment};
use crate::engine::EngineOptions;
use crate::model::{Decimal, InstrumentId, Price, Quantity, Rounding, Symbol};
use crate::sim::SimSettings;
use crate::sim::transport::{SimHandle, SimServer};
use crate::sim::venue::settings::PositionMode as SimPositionMode;
use crate::strategies::{OrderCycle, OrderCycleSettings, PriceNudge};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Exit code when the demo ran but something did not match expectations.
pub const EXIT_FAILED: i32 = 1;

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Seed of the simulator's market and ids (same seed, same run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Symbol to trade (any the simulator lists, e.g. 币安人生USDT).
    #[arg(long, default_value = "BTCUSDT")]
    pub symbol: String,
    /// Run against a hedge-mode account (LONG leg) instead of one-way.
    #[arg(long)]
    pub hedge: bool,
    /// Order entry: `rest` (`/fapi/v1/order`) or `ws_api` (`order.place` on
    /// the WebSocket API, REST as fallback).
    #[arg(long, default_value = "rest", value_parser = ["rest", "ws_api"])]
    pub order_entry: String,
    /// Upper bound on the whole run, seconds.
    #[arg(long, default_value_t = 60)]
    pub max_secs: u64,
    /// Serve Prometheus `/metrics` on this loopback address while the demo
    /// runs (e.g. 127.0.0.1:9464; port 0 picks one, printed at start).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
}

/// Runs the demo; 0 only if every scenario passed.
pub fn run(args: Args) -> i32 {
    if let Some(a) = args.metrics.filter(|a| !a.ip().is_loopback()) {
        eprintln!(
            "--metrics {a}: the metrics endpoint only listens on loopback (127.0.0.1 or [::1])"
        );
        return super::EXIT_USAGE;
    }
    let settings = demo_sim_settings(args.seed, args.hedge);
    let Some((tick, qty)) = order_size(&settings, &args.symbol) else {
        eprintln!("the simulator does not list {}", args.symbol);
        return super::EXIT_USAGE;
    };
    let sim = match SimServer::start(&settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("simulator: {e}");
            return EXIT_FAILED;
        }
    };
    let mut config = match sim_config(&sim, &settings, &args.symbol, args.hedge) {
        Ok(mut c) => {
            if args.order_entry == "ws_api" {
                c.order_entry = crate::config::OrderEntry::WsApi;
            }
            c
        }
        Err(e) => {
            eprintln!("config: {e}");
            sim.shutdown();
            return EXIT_FAILED;
        }
    };
    config.metrics.listen = args.metrics;
    let instrument = match Symbol::new(&args.symbol) {
        Ok(s) => InstrumentId::perp(s),
        Err(e) => {
            eprintln!("--symbol {}: {e}", args.symbol);
            sim.shutdown();
            return super::EXIT_USAGE;
        }
    };
    let mut st = OrderCycleSettings::new(instrument, qty, tick);
    st.hedge = args.hedge;
    let nudge = SimControl::new(sim.local_addr());
    let strategy = OrderCycle::new(st, Some(Box::new(nudge)));
    let report = strategy.report();
    let max = Duration::from_secs(args.max_secs.max(1));
    let opts = EngineOptions {
        timer_interval: Some(TIMER_INTERVAL),
        max_runtime: Some(max),
        hgrm_dir: None,
    };
    let outcome = drive(config, strategy, opts, max + Duration::from_secs(10), true);
    let code = finish(&outcome, Some(&report), None, args.json);
    sim.shutdown();
    code
}

/// The simulator the demo runs: default listings and accounts, a quiet
/// price process (so only the demo's nudges fire triggers and resting
/// orders stay resting), seeded for reproducibility.
pub fn demo_sim_settings(seed: u64, hedge: bool) -> SimSettings {
    let mut s = SimSettings::default();
    s.server.seed = seed;
    s.venue.market.seed = seed;
    s.venue.market.volatility = 0.000_01;
    if hedge && let Some(a) = s.venue.accounts.first_mut() {
        a.position_mode = SimPositionMode::Hedge;
    }
    s
}

/// Tick size and an order quantity that clears minQty and MIN_NOTIONAL with
/// room to spare (×1.5 at the start price, so a 1 % lower resting price
/// still passes), from the simulator's listing of `symbol`.
pub fn order_size(settings: &SimSettings, symbol: &str) -> Option<(Price, Quantity)> {
    let sym = settings.venue.symbols.iter().find(|s| s.symbol == symbol)?;
    let want = sym
        .min_notional
        .checked_mul(Decimal::from_raw(150_000_000), Rounding::Ceil)?
        .checked_div(sym.start_price, Rounding::Ceil)?;
    let q = want
        .round_to_step(sym.step_size, Rounding::Ceil)
        .ok()?
        .max(sym.min_qty);
    Some((Price(sym.tick_size), Quantity(q)))
}

/// A client config aimed at a running simulator: loopback URLs, the
/// simulator's first account as credentials, `symbol` loaded, the given
/// position mode. The process environment is deliberately not consulted so
/// stray `BINANCE_*` variables cannot redirect the demo.
pub fn sim_config(
    sim: &SimHandle,
    settings: &SimSettings,
    symbol: &str,
    hedge: bool,
) -> Result<Config, ConfigError> {
    let instrument = format!("{symbol}-PERP.BINANCE");
    let text = format!(
        "base_url_http = {}\nbase_url_ws = {}\nbase_url_ws_api = {}\nposition_mode = \"{}\"\n\
         [instrument_provider]\nload_ids = [{}]\n[engine]\ncancel_all_on_shutdown = true\n[sim]\n",
        toml_str(&sim.rest_url()),
        toml_str(&sim.stream_url()),
        toml_str(&sim.ws_api_url()),
        if hedge { "hedge" } else { "one_way" },
        toml_str(&instrument),
    );
    let mut config = Config::from_toml_str(&text, None, &Environment::from_pairs(&[]))?;
    // The running simulator's own settings, not the defaults the empty
    // `[sim]` table parsed to (the account keys are the same).
    config.sim = Some(settings.clone());
    Ok(config)
}

/// A TOML basic string (quotes and backslashes escaped; UTF-8 as is).
pub(crate) fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A blocking client of the simulator's control endpoint (`/sim/...`):
/// price nudges for the demo, fault switches and ledger reads for tests.
/// One request per connection — control calls are rare and never timed.
#[derive(Debug, Clone)]
pub struct SimControl {
    addr: SocketAddr,
}

impl SimControl {
    /// A client of the simulator listening on `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        SimControl { addr }
    }

    /// `POST /sim/price {"symbol":..,"last":..}`: the venue trades at `last`,
    /// moving its book and firing any triggers crossed.
    pub fn set_price(&self, symbol: &str, last: Price) -> Result<(), String> {
        let body = format!(
            "{{\"symbol\":{},\"last\":\"{last}\"}}",
            sonic_rs::to_string(symbol).map_err(|e| e.to_string())?
        );
        self.post("/sim/price", &body).map(|_| ())
    }

    /// `POST path` with a JSON body; the reply body on 2xx, else an error
    /// naming the status and body.
    pub fn post(&self, path: &str, body: &str) -> Result<String, String> {
        self.request("POST", path, body)
    }

    /// `GET path`; the reply body on 2xx.
    pub fn get(&self, path: &str) -> Result<String, String> {
        self.request("GET", path, "")
    }

    fn request(&self, method: &str, path: &str, body: &str) -> Result<String, String> {
        let timeout = Duration::from_secs(5);
        let mut s =
            TcpStream::connect_timeout(&self.addr, timeout).map_err(|e| format!("connect: {e}"))?;
        s.set_read_timeout(Some(timeout))
            .and_then(|()| s.set_write_timeout(Some(timeout)))
            .map_err(|e| e.to_string())?;
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        s.write_all(req.as_bytes())
            .map_err(|e| format!("send: {e}"))?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
        let text = String::from_utf8_lossy(&raw);
        let (head, reply) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| "truncated reply".to_string())?;
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("bad status line: {head}"))?;
        if (200..300).contains(&status) {
            Ok(reply.to_string())
        } else {
            Err(format!("{method} {path}: HTTP {status} {reply}"))
        }
    }
}

impl SimControl {
    /// The simulator's last trade price (`GET /fapi/v1/ticker/price`).
    pub fn last_price(&self, symbol: &str) -> Result<Price, String> {
        let reply = self.get(&format!(
            "/fapi/v1/ticker/price?symbol={}",
            crate::binance::query::percent_encode(symbol)
        ))?;
        let v: sonic_rs::Value = sonic_rs::from_str(&reply).map_err(|e| e.to_string())?;
        use sonic_rs::JsonValueTrait;
        v.get("price")
            .and_then(|p| p.as_str())
            .and_then(|p| Price::parse(p).ok())
            .ok_or_else(|| format!("no price in {reply}"))
    }
}

impl PriceNudge for SimControl {
    fn nudge(&mut self, symbol: &str, last: Price) -> Result<(), String> {
        self.set_price(symbol, last)
    }

    /// Trades one tick above the last price: the best prices move, so the
    /// simulator publishes a bookTicker.
    fn wake(&mut self, symbol: &str, tick: Price) -> Result<(), String> {
        let last = self.last_price(symbol)?;
        let up = last
            .raw()
            .checked_add(tick.raw())
            .ok_or_else(|| "price overflow".to_string())?;
        self.set_price(symbol, Price::from_raw(up))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_clear_min_notional_for_every_default_symbol() {
        let s = demo_sim_settings(1, false);
        let (tick, q) = order_size(&s, "BTCUSDT").unwrap_or_default();
        assert_eq!(
            (tick.to_string(), q.to_string()),
            ("0.1".into(), "0.003".into())
        );
        let (tick, q) = order_size(&s, "币安人生USDT").unwrap_or_default();
        assert_eq!(
            (tick.to_string(), q.to_string()),
            ("0.0001".into(), "50".into())
        );
        assert!(order_size(&s, "NOPEUSDT").is_none());
    }

    #[test]
    fn symbols_are_percent_encoded() {
        assert_eq!(crate::binance::query::percent_encode("币A_"), "%E5%B8%81A_");
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_str("a\"b\\c币"), "\"a\\\"b\\\\c币\"");
    }
}
