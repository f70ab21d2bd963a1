//! `binance-exec bench`: the engine's latency benchmark against the
//! simulator, with the floor measured in the same run.
//!
//! ```text
//! binance-exec bench [--orders N] [--rate R] [--entry rest|ws-api] [--wait W]
//!     [--net-wait W] [--exec-wait W] [--strategy-wait W] [--cores N,N,N] [--tls]
//!     [--sim-url URL | --config FILE] [--warmup N] [--blocks N] [--no-loaded-floor]
//!     [--alloc-trace[=K]] [--json] [--out DIR]
//! ```
//!
//! Prints one table (or `--json` one object) and writes `.hgrm` files, an
//! SVG percentile plot and `report.json` into `--out`. Exits 0 only when
//! every measured order reached a final state.

use crate::bench::floor::Entry;
use crate::bench::report::{BenchReport, default_out_dir};
use crate::bench::run::{BenchSettings, Venue, run as run_bench};
use crate::config::WaitStrategy;
use crate::model::{Price, Quantity};
use std::path::PathBuf;
use std::time::Duration;

/// Exit code when the benchmark ran but did not complete.
pub const EXIT_FAILED: i32 = 1;

/// Order-entry channel on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EntryArg {
    /// REST `POST /fapi/v1/order`.
    Rest,
    /// WebSocket API `order.place`.
    WsApi,
}

/// Wait strategy on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[clap(rename_all = "snake_case")]
pub enum WaitArg {
    /// Block until woken (no CPU when idle).
    Park,
    /// Poll and yield.
    Yield,
    /// Busy-poll (needs a core per spinning thread).
    Spin,
    /// Spin briefly, then park.
    SpinPark,
}

impl From<WaitArg> for WaitStrategy {
    fn from(w: WaitArg) -> Self {
        match w {
            WaitArg::Park => WaitStrategy::Park,
            WaitArg::Yield => WaitStrategy::Yield,
            WaitArg::Spin => WaitStrategy::Spin,
            WaitArg::SpinPark => WaitStrategy::SpinPark,
        }
    }
}

/// Arguments of `bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Measured orders (each one full cycle: submit, ack, fill or cancel).
    #[arg(long, default_value_t = 10_000)]
    pub orders: u64,
    /// Orders per second; 0 = back to back (one in flight).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Order-entry channel, for the engine and the floor.
    #[arg(long, value_enum, default_value = "rest")]
    pub entry: EntryArg,
    /// Wait strategy of all three engine threads.
    #[arg(long, value_enum)]
    pub wait: Option<WaitArg>,
    /// Wait strategy of the network thread (overrides --wait).
    #[arg(long, value_enum)]
    pub net_wait: Option<WaitArg>,
    /// Wait strategy of the execution thread (overrides --wait).
    #[arg(long, value_enum)]
    pub exec_wait: Option<WaitArg>,
    /// Wait strategy of the strategy thread (overrides --wait).
    #[arg(long, value_enum)]
    pub strategy_wait: Option<WaitArg>,
    /// How long a `spin_park` thread stays hot after its last work, in µs
    /// (every thread; the default is 200).
    #[arg(long, value_name = "US")]
    pub spin_us: Option<u32>,
    /// Cores to pin the network, execution and strategy threads to.
    #[arg(long, value_name = "N,N,N", value_delimiter = ',')]
    pub cores: Option<Vec<usize>>,
    /// TLS between client and the in-process simulator.
    #[arg(long)]
    pub tls: bool,
    /// A separately started `binance-exec sim` (REST base URL).
    #[arg(long, value_name = "URL", conflicts_with = "config")]
    pub sim_url: Option<String>,
    /// A config file naming the venue (URLs, credentials, TLS trust, threads).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Symbol (in-process or --sim-url).
    #[arg(long, default_value = "BTCUSDT")]
    pub symbol: String,
    /// Order quantity, when the symbol is not one of the simulator's defaults.
    #[arg(long, requires = "tick")]
    pub qty: Option<String>,
    /// Price tick, with --qty.
    #[arg(long, requires = "qty")]
    pub tick: Option<String>,
    /// Orders before measuring starts.
    #[arg(long, default_value_t = 500)]
    pub warmup: u64,
    /// Measured blocks; floor blocks run before, between and after them,
    /// and each block's ratio is taken against its neighbouring floors.
    #[arg(long, default_value_t = 10)]
    pub blocks: u64,
    /// Skip the loaded floor (the floor client that also holds and reads a
    /// user-data stream and the engine's market streams).
    #[arg(long)]
    pub no_loaded_floor: bool,
    /// In-process simulator: write each request's user-stream events before
    /// its REST / WS-API reply instead of after it (the venue streams them
    /// independently; either order happens against Binance).
    #[arg(long)]
    pub event_first: bool,
    /// Capture a backtrace for the first K allocations of each engine thread
    /// after warm-up and print where in the crate they happen.
    #[arg(long, value_name = "K", num_args = 0..=1, default_missing_value = "20")]
    pub alloc_trace: Option<usize>,
    /// Upper bound on the engine run, seconds.
    #[arg(long, default_value_t = 600)]
    pub max_secs: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Directory for the .hgrm files, latency.svg and report.json
    /// (default target/bench/<UTC timestamp>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Turns the arguments into run settings, or a usage error.
pub fn settings(args: &Args) -> Result<BenchSettings, String> {
    let all = args.wait.map(WaitStrategy::from);
    let pick = |w: Option<WaitArg>| w.map(WaitStrategy::from).or(all);
    let cores = match &args.cores {
        None => None,
        Some(c) => match c.as_slice() {
            &[n, e, s] => Some([n, e, s]),
            _ => return Err("--cores takes three cores: network,execution,strategy".into()),
        },
    };
    let qty_tick = match (&args.qty, &args.tick) {
        (Some(q), Some(t)) => match (Quantity::parse(q), Price::parse(t)) {
            (Ok(q), Ok(t)) if q.value().is_positive() && t.value().is_positive() => Some((q, t)),
            _ => return Err("--qty and --tick must be positive decimals".into()),
        },
        _ => None,
    };
    let venue = match (&args.sim_url, &args.config) {
        (Some(u), _) => Venue::SimUrl(u.clone()),
        (None, Some(p)) => Venue::ConfigFile(p.clone()),
        (None, None) => Venue::InProcess,
    };
    Ok(BenchSettings {
        orders: args.orders,
        warmup: args.warmup,
        rate_per_sec: args.rate,
        entry: match args.entry {
            EntryArg::Rest => Entry::Rest,
            EntryArg::WsApi => Entry::WsApi,
        },
        waits: [
            pick(args.net_wait),
            pick(args.exec_wait),
            pick(args.strategy_wait),
        ],
        spin_us: args.spin_us,
        cores,
        tls: args.tls,
        venue,
        symbol: args.symbol.clone(),
        qty_tick,
        max_runtime: Duration::from_secs(args.max_secs.max(1)),
        blocks: args.blocks.max(1),
        loaded_floor: !args.no_loaded_floor,
        alloc_trace: args.alloc_trace.unwrap_or(0),
        order_pool_size: None,
        event_first: args.event_first,
    })
}

/// Runs the benchmark and prints the report; 0 when it completed.
pub fn run(args: Args) -> i32 {
    let s = match settings(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench: {e}");
            return super::EXIT_USAGE;
        }
    };
    let outcome = match run_bench(&s) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench: {e}");
            return if matches!(e, crate::bench::run::BenchError::Usage(_)) {
                super::EXIT_USAGE
            } else {
                EXIT_FAILED
            };
        }
    };
    let mut report = BenchReport::new(&s, &outcome);
    if s.alloc_trace > 0 {
        report.set_alloc_trace(&crate::bench::alloc::take_traces());
    }
    let dir = args.out.clone().unwrap_or_else(default_out_dir);
    if let Err(e) = report.write_files(&outcome, &dir) {
        eprintln!("bench: cannot write {}: {e}", dir.display());
    }
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.ok { 0 } else { EXIT_FAILED }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrap {
        #[command(flatten)]
        args: Args,
    }

    fn parse(argv: &[&str]) -> Result<BenchSettings, String> {
        let w = Wrap::try_parse_from(std::iter::once("bench").chain(argv.iter().copied()))
            .map_err(|e| e.to_string())?;
        settings(&w.args)
    }

    #[test]
    fn cores_take_the_comma_form_the_help_shows() {
        let s = parse(&["--cores", "0,1,1", "--spin-us", "20"]).expect("parses");
        assert_eq!(s.cores, Some([0, 1, 1]));
        assert_eq!(s.spin_us, Some(20));
        let e = parse(&["--cores", "0,1"]).expect_err("two cores");
        assert!(e.contains("three cores"), "{e}");
    }
}
