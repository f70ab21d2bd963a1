//! `binance-exec check-config --config FILE`: validate before you deploy.
//!
//! Loads the file exactly as the engine would (environment overrides,
//! credential resolution, core ids of this machine) and prints the effective
//! configuration, so "which URL, which keys, which cores" is answered before
//! the first order rather than in a post-mortem.

use crate::config::Config;
use std::path::PathBuf;

/// Exit code when the config is invalid.
pub const EXIT_INVALID: i32 = 1;

/// Arguments of `check-config`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The TOML config file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
}

/// Prints the effective config and returns 0, or prints the error to stderr
/// and returns [`EXIT_INVALID`].
pub fn run(args: Args) -> i32 {
    match Config::load(&args.config) {
        Ok(cfg) => {
            println!("{}: OK", args.config.display());
            print!("{cfg}");
            0
        }
        Err(e) => {
            eprintln!("{}: {e}", args.config.display());
            EXIT_INVALID
        }
    }
}
