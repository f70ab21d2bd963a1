//! The `binance-exec` subcommands.
//!
//! One enum variant plus one file per subcommand: to add `foo`, create
//! `cli/foo.rs` with `pub struct Args` (`#[derive(clap::Args)]`) and
//! `pub fn run(args: Args) -> i32`, then add `Foo(foo::Args)` to [`Command`]
//! and one arm to the `match` in [`main`]. Subcommands return an exit code
//! instead of calling `process::exit`, so they stay testable and destructors
//! (sockets, event logs) run.

use clap::{Parser, Subcommand};

pub mod bench;
pub mod check_config;
pub mod demo;
pub mod run;
pub mod sim;
pub mod soak;

/// Command line of the `binance-exec` binary.
#[derive(Debug, Parser)]
#[command(
    name = "binance-exec",
    version,
    about = "Low-latency execution engine for Binance USDⓈ-M Futures, with its own loopback venue simulator"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Benchmark the engine's latency and allocations against the simulator, beside the floor.
    Bench(bench::Args),
    /// Validate a config file and print the effective configuration (secrets redacted).
    CheckConfig(check_config::Args),
    /// Start the simulator in-process and walk every order type through the engine.
    Demo(demo::Args),
    /// Run a shipped strategy (order-cycle, maker) against the venue the config names.
    Run(run::Args),
    /// Run the Binance USDⓈ-M venue simulator on loopback until Ctrl-C.
    Sim(sim::SimArgs),
    /// Soak the engine: mixed order flow under injected venue faults, audited against the ledger.
    Soak(soak::Args),
}

/// Exit code for a usage error, as clap and BSD `sysexits` use.
pub const EXIT_USAGE: i32 = 2;

/// Entry point of the binary; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help / --version are "errors" that go to stdout with code 0.
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { 0 };
        }
    };
    match cli.command {
        Command::Bench(args) => bench::run(args),
        Command::CheckConfig(args) => check_config::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Run(args) => run::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Soak(args) => soak::run(args),
    }
}
