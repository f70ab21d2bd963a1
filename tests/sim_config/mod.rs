//! The client config the execution-thread tests aim at a bare in-process
//! simulator: its URLs, BTCUSDT only, and the simulator's first account's
//! keys passed as the environment (so no test touches the process's own).
#![allow(dead_code)]

use binance_exec::config::{Config, Environment};
use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::SimHandle;

/// A config for `sim` with `top` lines at the top level and `engine` lines
/// in `[engine]` (either may be empty). Panics with the loader's message
/// when the test's TOML is wrong.
pub fn config_for(sim: &SimHandle, top: &str, engine: &str) -> Config {
    let (key, secret) = SimSettings::default()
        .venue
        .first_account_credentials()
        .unwrap_or_else(|| panic!("the simulator has no account"));
    let text = format!(
        "base_url_http = \"{}\"\nbase_url_ws = \"{}\"\nbase_url_ws_api = \"{}\"\n{top}\n\
         [instrument_provider]\nload_ids = [\"BTCUSDT-PERP.BINANCE\"]\n[engine]\n{engine}\n",
        sim.rest_url(),
        sim.stream_url(),
        sim.ws_api_url()
    );
    let env = Environment::from_pairs(&[
        ("BINANCE_API_KEY", key.as_str()),
        ("BINANCE_API_SECRET", secret.as_str()),
    ]);
    Config::from_toml_str(&text, None, &env).unwrap_or_else(|e| panic!("config: {e}\n{text}"))
}
