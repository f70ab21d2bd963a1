//! `[metrics] listen`: off by default, loopback accepted (port 0 too), a
//! non-loopback or malformed address refused naming the field and the line.

use binance_exec::config::{Config, ConfigError, Environment};
use std::net::SocketAddr;
use std::path::Path;

const KEYS: &[(&str, &str)] = &[
    ("BINANCE_API_KEY", "key-123"),
    ("BINANCE_API_SECRET", "secret-456"),
    ("BINANCE_TESTNET_API_KEY", "key-123"),
    ("BINANCE_TESTNET_API_SECRET", "secret-456"),
];
const IDS: &str = "[instrument_provider]\nload_ids = [\"BTCUSDT-PERP.BINANCE\"]\n";

fn load(metrics: &str) -> Result<Config, ConfigError> {
    let text = format!("testnet = true\n{IDS}{metrics}\n");
    Config::from_toml_str(&text, None, &Environment::from_pairs(KEYS))
}

fn err(metrics: &str) -> String {
    match load(metrics) {
        Ok(c) => panic!("expected an error for {metrics:?}, got {:?}", c.metrics),
        Err(e) => e.to_string(),
    }
}

#[test]
fn off_unless_set() {
    assert_eq!(load("").unwrap().metrics.listen, None);
    assert_eq!(load("[metrics]").unwrap().metrics.listen, None);
    assert_eq!(
        load("[metrics]\nlisten = \"\"").unwrap().metrics.listen,
        None
    );
    for file in ["mainnet.toml", "testnet.toml", "sim.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config")
            .join(file);
        let cfg = Config::load_with_env(&path, &Environment::from_pairs(KEYS))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(cfg.metrics.listen, None, "{file} ships with metrics off");
        assert!(cfg.to_string().contains("metrics.listen           = off"));
    }
}

#[test]
fn loopback_addresses_are_accepted() {
    for (text, want) in [
        ("127.0.0.1:9464", "127.0.0.1:9464"),
        ("127.0.0.1:0", "127.0.0.1:0"),
        ("[::1]:9464", "[::1]:9464"),
    ] {
        let cfg = load(&format!("[metrics]\nlisten = \"{text}\"")).unwrap();
        assert_eq!(cfg.metrics.listen, want.parse::<SocketAddr>().ok());
    }
    let cfg = load("[metrics]\nlisten = \"127.0.0.1:9464\"").unwrap();
    assert!(
        cfg.to_string()
            .contains("metrics.listen           = http://127.0.0.1:9464/metrics"),
        "{cfg}"
    );
}

#[test]
fn non_loopback_is_refused_naming_field_line_and_why() {
    // Line 5: testnet, two instrument lines, [metrics], then listen.
    let msg = err("[metrics]\nlisten = \"0.0.0.0:9464\"");
    assert_eq!(
        msg,
        "`metrics.listen` (line 5): \"0.0.0.0:9464\" is not a loopback address; the metrics \
         endpoint is unauthenticated and shows the account's order flow, so it only listens on \
         127.0.0.1 or [::1] (scrape it from the same box or through an SSH tunnel)"
    );
    for addr in ["[::]:9464", "192.168.1.10:9464", "10.0.0.1:0"] {
        let msg = err(&format!("[metrics]\nlisten = \"{addr}\""));
        assert!(msg.starts_with("`metrics.listen` (line 5):"), "{msg}");
        assert!(msg.contains("not a loopback address"), "{msg}");
    }
}

#[test]
fn malformed_addresses_and_unknown_keys_are_refused() {
    for addr in ["localhost:9464", "127.0.0.1", ":9464", "127.0.0.1:65536"] {
        let msg = err(&format!("[metrics]\nlisten = \"{addr}\""));
        assert!(msg.starts_with("`metrics.listen` (line 5):"), "{msg}");
        assert!(msg.contains("is not an address; write ip:port"), "{msg}");
    }
    let msg = err("[metrics]\nlisten = 9464");
    assert!(msg.contains("line 5"), "{msg}");
    let msg = err("[metrics]\nport = 9464");
    assert!(msg.contains("unknown field `port`"), "{msg}");
}
