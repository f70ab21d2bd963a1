//! `binance-exec soak [--duration 10m] [--rate 20] [--faults all|none|LIST]
//! [--seed N] [--json] [--crash] [--out DIR] [--config FILE] [--venue sim|testnet]
//! [--rest-audit]`.
//!
//! Runs the `soak-mix` strategy through the engine against the in-process
//! simulator while the simulator injects faults, audits the engine's view
//! against the venue's ledger and exits non-zero when anything was lost,
//! duplicated or mismatched, the fill rate of fillable orders is under
//! 99.9 %, or the API secret shows up in anything the run wrote. With
//! `--venue testnet` the same cycle runs against the testnet named by
//! `--config`, without fault injection, audited against the venue's own
//! lists read over signed REST.

use crate::soak::{FaultKind, SoakOptions, SoakSummary, parse_fault_list};
use std::path::PathBuf;
use std::time::Duration;

/// Where the soak trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Venue {
    /// The in-process simulator (faults injected, ledger audit).
    Sim,
    /// The venue `--config` names (testnet): no faults.
    Testnet,
}

/// Arguments of `soak`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How long to trade: `90s`, `10m`, `2h` or plain seconds.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub duration: Duration,
    /// Strategy actions (orders, cancels, modifies) per second.
    #[arg(long, default_value_t = 20)]
    pub rate: u32,
    /// Faults to inject: `all`, `none` or a comma list (ws_drop,
    /// rate_limit_429, server_error_5xx, unknown_placed, unknown_not_placed,
    /// clock_skew, listen_key_expiry, rotation_24h, adl, corrupt_frames,
    /// stream_delay).
    #[arg(long, default_value = "all")]
    pub faults: String,
    /// Mean seconds between two injected faults.
    #[arg(long, default_value_t = 1.5)]
    pub fault_every: f64,
    /// Seed of the market, the order mix and the fault schedule.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Run the engine as a child process and SIGKILL/restart it.
    #[arg(long)]
    pub crash: bool,
    /// Directory for logs, summaries and child outputs (default: a fresh
    /// directory under the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Client config: required with `--venue testnet`; with the simulator
    /// only `load_ids`' first symbol is used.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where to trade.
    #[arg(long, value_enum, default_value = "sim")]
    pub venue: Venue,
    /// Symbol to trade on the simulator.
    #[arg(long, default_value = "BTCUSDT")]
    pub symbol: String,
    /// With the simulator: also read the venue's lists over signed REST
    /// (allOrders, allAlgoOrders, userTrades, positionRisk) as a remote
    /// venue's audit does, and compare them with the engine's view next to
    /// the ledger audit (`--venue testnet` always audits this way).
    #[arg(long)]
    pub rest_audit: bool,
}

/// `90s`, `10m`, `2h`, `500ms` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("bad duration {s:?}: use e.g. 90s, 10m, 2h"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("bad duration unit in {s:?}: use ms, s, m or h")),
    };
    if !(secs.is_finite() && secs > 0.0 && secs < 30.0 * 86_400.0) {
        return Err(format!("duration {s:?} out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Runs the soak; 0 only when the run passed every check.
pub fn run(args: Args) -> i32 {
    let mut faults = match parse_fault_list(&args.faults) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("--faults: {e}");
            return super::EXIT_USAGE;
        }
    };
    if args.rate == 0 || args.rate > 1000 {
        eprintln!("--rate must be 1..=1000");
        return super::EXIT_USAGE;
    }
    if args.crash && !faults.contains(&FaultKind::Crash) {
        faults.push(FaultKind::Crash);
    }
    let mut opts = SoakOptions::new(args.duration);
    opts.rate = args.rate;
    opts.faults = faults;
    opts.fault_every = Duration::from_secs_f64(args.fault_every.clamp(0.1, 3600.0));
    opts.seed = args.seed;
    opts.symbol = args.symbol.clone();
    opts.rest_audit = args.rest_audit;
    if let Some(out) = &args.out {
        opts.out_dir = out.clone();
    }
    let summary: SoakSummary = match args.venue {
        Venue::Testnet => {
            let Some(cfg) = &args.config else {
                eprintln!("--venue testnet needs --config FILE (e.g. config/testnet.toml)");
                return super::EXIT_USAGE;
            };
            crate::soak::testnet::run_testnet(&opts, cfg)
        }
        Venue::Sim if args.crash => match std::env::current_exe() {
            Ok(exe) => crate::soak::crash::run_crash(&opts, &exe),
            Err(e) => {
                eprintln!("cannot find this executable to restart the engine: {e}");
                return 1;
            }
        },
        Venue::Sim => {
            if let Some(cfg) = &args.config {
                match crate::config::Config::load(cfg) {
                    Ok(c) => {
                        if let Some(id) = c.instrument_provider.load_ids.first() {
                            opts.symbol = id.symbol.as_str().to_string();
                        }
                    }
                    Err(e) => {
                        eprintln!("{}: {e}", cfg.display());
                        return super::EXIT_USAGE;
                    }
                }
            }
            crate::soak::run_sim(&opts)
        }
    };
    if args.json {
        println!("{}", summary.to_json());
    } else {
        print!("{}", summary.to_text());
    }
    summary.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("10y").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("abc").is_err());
    }
}
