//! `[engine] ws_api_reply_timeout_ms`: default, explicit value, range
//! errors naming the field, and the shipped configs.

use binance_exec::config::{Config, Environment};
use std::path::Path;
use std::time::Duration;

const KEYS: &[(&str, &str)] = &[
    ("BINANCE_API_KEY", "key-123"),
    ("BINANCE_API_SECRET", "secret-456"),
];

fn load(engine: &str) -> Result<Config, String> {
    let text = format!(
        "[instrument_provider]\nload_ids = [\"BTCUSDT-PERP.BINANCE\"]\n[engine]\n{engine}\n"
    );
    Config::from_toml_str(&text, None, &Environment::from_pairs(KEYS)).map_err(|e| e.to_string())
}

#[test]
fn defaults_to_three_seconds_and_takes_an_explicit_value() {
    let c = load("").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.engine.ws_api_reply_timeout, Duration::from_millis(3000));
    let c = load("ws_api_reply_timeout_ms = 750").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.engine.ws_api_reply_timeout, Duration::from_millis(750));
    assert!(c.to_string().contains("ws_api_reply_timeout 750 ms"), "{c}");
}

#[test]
fn out_of_range_values_name_the_field() {
    for bad in ["0", "99", "60001", "-5"] {
        let e = load(&format!("ws_api_reply_timeout_ms = {bad}"))
            .err()
            .unwrap_or_else(|| panic!("{bad} accepted"));
        assert!(e.contains("engine.ws_api_reply_timeout_ms"), "{e}");
        assert!(e.contains("100..=60000"), "{e}");
    }
    let e = load("ws_api_reply_timeout_ms = \"3s\"")
        .err()
        .unwrap_or_default();
    assert!(!e.is_empty(), "a string is refused");
}

#[test]
fn shipped_configs_set_it() {
    for f in [
        "config/sim.toml",
        "config/testnet.toml",
        "config/mainnet.toml",
    ] {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f))
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(text.contains("\nws_api_reply_timeout_ms = 3000\n"), "{f}");
    }
}
