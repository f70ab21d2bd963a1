//! Loading the shipped config files and every error path, messages asserted.

use binance_exec::config::{
    Config, ConfigError, CredentialSource, Environment, FixedJitter, FlagSource, OrderEntry,
    PositionMode, WaitStrategy,
};
use binance_exec::model::ids::InstrumentId;
use std::path::{Path, PathBuf};
use std::time::Duration;

const KEYS: &[(&str, &str)] = &[
    ("BINANCE_API_KEY", "key-123"),
    ("BINANCE_API_SECRET", "secret-456"),
];
const IDS: &str = "[instrument_provider]\nload_ids = [\"BTCUSDT-PERP.BINANCE\"]\n";

fn id(s: &str) -> InstrumentId {
    s.parse().unwrap()
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, None, &Environment::from_pairs(KEYS))
}

/// Top-level keys `extra`, then a minimal instrument table.
fn with(extra: &str) -> String {
    format!("{extra}\n{IDS}")
}

/// A minimal instrument table, then tables `extra`.
fn tables(extra: &str) -> String {
    format!("{IDS}{extra}\n")
}

fn err(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn repo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(file)
}

#[test]
fn mainnet_file() {
    let cfg = Config::load_with_env(&repo("mainnet.toml"), &Environment::from_pairs(KEYS)).unwrap();
    assert!(!cfg.testnet);
    assert_eq!(cfg.testnet_source, FlagSource::File);
    assert_eq!(cfg.base_url_http.url, "https://fapi.binance.com");
    assert_eq!(cfg.base_url_ws.url, "wss://fstream.binance.com");
    assert_eq!(
        cfg.base_url_ws_api.url,
        "wss://ws-fapi.binance.com/ws-fapi/v1"
    );
    assert_eq!(
        (cfg.base_url_ws_api.host.as_str(), cfg.base_url_ws_api.port),
        ("ws-fapi.binance.com", 443)
    );
    assert_eq!(cfg.order_entry, OrderEntry::WsApi);
    assert_eq!(cfg.position_mode, PositionMode::OneWay);
    assert_eq!(cfg.threads.network.wait, WaitStrategy::Spin);
    assert_eq!(cfg.engine.order_pool_size, 4096);
    assert_eq!(cfg.credentials.api_key.expose(), "key-123");
    assert_eq!(
        cfg.credentials.source,
        CredentialSource::Env {
            key_var: "BINANCE_API_KEY".into(),
            secret_var: "BINANCE_API_SECRET".into()
        }
    );
    assert_eq!(
        cfg.instrument_provider.load_ids,
        vec![id("BTCUSDT-PERP.BINANCE"), id("ETHUSDT-PERP.BINANCE")]
    );
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

#[test]
fn testnet_file() {
    let env = Environment::from_pairs(&[
        ("BINANCE_TESTNET_API_KEY", "tk"),
        ("BINANCE_TESTNET_API_SECRET", "ts"),
    ]);
    let cfg = Config::load_with_env(&repo("testnet.toml"), &env).unwrap();
    assert!(cfg.testnet);
    assert_eq!(cfg.base_url_http.url, "https://demo-fapi.binance.com");
    assert_eq!(cfg.base_url_ws.url, "wss://fstream.binancefuture.com");
    assert_eq!(
        cfg.base_url_ws_api.url,
        "wss://testnet.binancefuture.com/ws-fapi/v1"
    );
    assert_eq!(cfg.credentials.api_secret.expose(), "ts");
    assert_eq!(cfg.max_retries, 5);
    assert!(cfg.engine.cancel_all_on_shutdown);
    assert_eq!(cfg.external_order_claims, vec![id("BTCUSDT-PERP.BINANCE")]);
    // The production keys are not what this file reads.
    let e =
        Config::load_with_env(&repo("testnet.toml"), &Environment::from_pairs(KEYS)).unwrap_err();
    assert!(e.to_string().contains("BINANCE_TESTNET_API_KEY"), "{e}");
}

#[test]
fn sim_file_with_env_credentials() {
    let cfg = Config::load_with_env(&repo("sim.toml"), &Environment::from_pairs(KEYS)).unwrap();
    assert_eq!(cfg.base_url_http.url, "http://127.0.0.1:18080");
    assert!(!cfg.base_url_http.tls && cfg.base_url_http.is_loopback());
    assert_eq!(cfg.base_url_ws.url, "ws://127.0.0.1:18080");
    assert_eq!(cfg.base_url_ws_api.path, "/ws-fapi/v1");
    assert!(cfg.sim.is_some());
    assert!(
        cfg.instrument_provider
            .load_ids
            .contains(&id("币安人生USDT-PERP.BINANCE"))
    );
    assert_eq!(cfg.threads.execution.wait, WaitStrategy::SpinPark);
    assert_eq!(cfg.threads.execution.spin_us, None);
    assert_eq!(cfg.backoff().base, Duration::from_millis(50));
}

#[test]
fn sim_file_falls_back_to_the_simulated_account() {
    // Whether the fallback yields keys depends on the simulator declaring an
    // account; either way the outcome is decided by that, not by chance.
    let res = Config::load_with_env(&repo("sim.toml"), &Environment::from_pairs(&[]));
    let sim_keys = binance_exec::sim::SimSettings::default()
        .venue
        .first_account_credentials();
    match (res, sim_keys) {
        (Ok(cfg), Some((k, _))) => {
            assert_eq!(cfg.credentials.source, CredentialSource::Simulator);
            assert_eq!(cfg.credentials.api_key.expose(), k);
            assert!(
                cfg.to_string()
                    .contains("built-in simulator's first account")
            );
        }
        (Err(e), None) => {
            let m = e.to_string();
            assert!(
                m.contains("BINANCE_API_KEY") && m.contains("no simulated account"),
                "{m}"
            );
        }
        (res, keys) => panic!(
            "fallback mismatch: {:?} vs {}",
            res.map(|_| ()),
            keys.is_some()
        ),
    }
}

#[test]
fn defaults_and_testnet_switch() {
    let cfg = load(&with("")).unwrap();
    assert!(!cfg.testnet);
    assert_eq!(cfg.testnet_source, FlagSource::Default);
    assert_eq!(cfg.base_url_http.url, "https://fapi.binance.com");
    assert_eq!(cfg.base_url_ws.url, "wss://fstream.binance.com");
    assert!(!cfg.base_url_http.from_file);
    assert_eq!(cfg.clock_sync_interval_secs, 60);
    assert!(cfg.warn_rate_limits);
    assert_eq!(cfg.max_retries, 3);
    assert_eq!(cfg.retry_delay_secs, 1.0);
    assert_eq!(cfg.recv_window_ms, 5000);
    assert_eq!(cfg.order_entry, OrderEntry::Rest);
    assert_eq!(cfg.position_mode, PositionMode::OneWay);
    assert_eq!(cfg.threads.strategy.wait, WaitStrategy::Park);
    assert_eq!(cfg.threads.network.core, None);
    assert_eq!(cfg.latency.submit_ack, Duration::from_millis(100));
    assert_eq!(cfg.latency.fill_notify, Duration::from_millis(50));
    assert_eq!(cfg.engine.order_pool_size, 4096);
    assert!(!cfg.engine.cancel_all_on_shutdown);
    assert!(!cfg.instrument_provider.load_all);
    assert!(cfg.external_order_claims.is_empty());
    assert!(cfg.sim.is_none());
    assert!(cfg.tls_ca_file.is_none());

    let cfg = load(&with("testnet = true")).unwrap();
    assert_eq!(cfg.base_url_http.url, "https://demo-fapi.binance.com");
    assert_eq!(cfg.base_url_ws.url, "wss://fstream.binancefuture.com");
    assert_eq!(
        cfg.base_url_ws_api.url,
        "wss://testnet.binancefuture.com/ws-fapi/v1"
    );
}

#[test]
fn env_overrides_testnet() {
    let env = |flag: &'static str| {
        let mut pairs = KEYS.to_vec();
        pairs.push(("BINANCE_TESTNET", flag));
        Environment::from_pairs(&pairs)
    };
    let cfg = Config::from_toml_str(&with("testnet = false"), None, &env("true")).unwrap();
    assert!(cfg.testnet);
    assert_eq!(cfg.testnet_source, FlagSource::Env);
    assert_eq!(cfg.base_url_http.url, "https://demo-fapi.binance.com");

    let cfg = Config::from_toml_str(&with("testnet = true"), None, &env("false")).unwrap();
    assert!(!cfg.testnet);
    assert_eq!(cfg.base_url_http.url, "https://fapi.binance.com");

    let e = Config::from_toml_str(&with(""), None, &env("yes")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "environment variable BINANCE_TESTNET=\"yes\" must be \"true\" or \"false\""
    );

    // The override turns an explicit production URL into a contradiction.
    let e = Config::from_toml_str(
        &with("base_url_http = \"https://fapi.binance.com\""),
        None,
        &env("true"),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("testnet = true (from BINANCE_TESTNET)"),
        "{e}"
    );
}

#[test]
fn secrets_are_redacted_everywhere() {
    let cfg = load(&with("")).unwrap();
    let debug = format!("{cfg:?}");
    let display = cfg.to_string();
    for text in [&debug, &display] {
        assert!(
            !text.contains("key-123") && !text.contains("secret-456"),
            "{text}"
        );
    }
    assert!(debug.contains("Secret(***)"));
    assert!(
        display.contains("environment: BINANCE_API_KEY (7 chars)"),
        "{display}"
    );
}

#[test]
fn unsupported_account_type_and_us() {
    assert_eq!(
        err(&with("account_type = \"COIN_FUTURES\"")),
        "`account_type` (line 1): \"COIN_FUTURES\" is not supported: binance-exec trades Binance USDⓈ-M futures only; set account_type = \"USDT_FUTURES\""
    );
    assert!(
        err(&with("\naccount_type = \"SPOT\""))
            .starts_with("`account_type` (line 2): \"SPOT\" is not supported")
    );
    assert_eq!(
        err(&with("us = true")),
        "`us` (line 1): Binance.US has no USDⓈ-M futures, so us = true is not supported with account_type = \"USDT_FUTURES\"; remove it or set us = false"
    );
    assert!(load(&with("us = false\naccount_type = \"USDT_FUTURES\"")).is_ok());
}

#[test]
fn parse_errors_name_the_key_and_line() {
    let cases = [
        (
            with("\nrecv_windw_ms = 5000"),
            "invalid config (line 2): unknown field `recv_windw_ms`",
        ),
        (
            tables("[threads.network]\nspin = true"),
            "invalid config (line 4): unknown field `spin`",
        ),
        (
            with("order_entry = \"fix\""),
            "invalid config (line 1): unknown variant `fix`",
        ),
        (
            with("position_mode = \"netting\""),
            "invalid config (line 1): unknown variant `netting`",
        ),
        (
            tables("[threads.execution]\nwait = \"busy\""),
            "invalid config (line 4): unknown variant `busy`",
        ),
        (
            with("max_retries = \"three\""),
            "invalid config (line 1): invalid type: string \"three\"",
        ),
        (
            "[instrument_provider]\nload_ids = [\"BTCUSDT\"]\n".to_string(),
            "invalid config (line 2): invalid instrument id: \"BTCUSDT\"",
        ),
        ("testnet = \n".to_string(), "invalid config (line 1)"),
        (
            tables("[sim]\nbogus = 1"),
            "invalid config (line 4): unknown field `bogus`",
        ),
        (
            tables("[engine]\nsize = 1"),
            "invalid config (line 4): unknown field `size`",
        ),
    ];
    for (text, want) in cases {
        let m = err(&text);
        assert!(m.starts_with(want), "want {want:?}\n got {m:?}");
    }
}

#[test]
fn url_errors() {
    assert_eq!(
        err(&with("base_url_http = \"wss://fapi.binance.com\"")),
        "`base_url_http` (line 1): \"wss://fapi.binance.com\" is not a valid URL: scheme must be https:// (or http:// on loopback)"
    );
    assert!(
        err(&with("base_url_ws = \"https://fstream.binance.com\""))
            .contains("scheme must be wss://")
    );
    assert_eq!(
        err(&with("base_url_ws = \"ws://10.0.0.5:8080\"")),
        "`base_url_ws` (line 1): \"ws://10.0.0.5:8080\" uses an unencrypted scheme towards a non-loopback host; use https:// or wss:// (plain http/ws is only allowed for 127.0.0.1/localhost, e.g. the built-in simulator)"
    );
    assert_eq!(
        err(&with(
            "testnet = true\nbase_url_http = \"https://fapi.binance.com\""
        )),
        "`base_url_http` (line 2): \"https://fapi.binance.com\" is a production URL but testnet = true (from the config file); remove the URL to use the default, or fix testnet"
    );
    assert!(
        err(&with(
            "base_url_ws_api = \"wss://testnet.binancefuture.com/ws-fapi/v1\""
        ))
        .contains("is a testnet URL but testnet = false (default)")
    );
    // A proxy or custom host is neither, so no consistency check applies.
    assert!(
        load(&with(
            "testnet = true\nbase_url_http = \"https://proxy.example.net:8443\""
        ))
        .is_ok()
    );
    // Mixing loopback and remote is legal but suspicious.
    let cfg = load(&with("base_url_http = \"http://127.0.0.1:18080\"")).unwrap();
    assert!(
        cfg.warnings.iter().any(|w| w.contains("loopback")),
        "{:?}",
        cfg.warnings
    );
}

#[test]
fn range_errors() {
    let cases = [
        (
            with("max_retries = 11"),
            "`max_retries` (line 1): 11 is out of range; allowed: 0..=10",
        ),
        (
            with("max_retries = -1"),
            "`max_retries` (line 1): -1 is out of range; allowed: 0..=10",
        ),
        (
            with("retry_delay_secs = 0.0"),
            "`retry_delay_secs` (line 1): 0 is out of range; allowed: 0.001..=60 seconds",
        ),
        (
            with("retry_delay_secs = 600"),
            "`retry_delay_secs` (line 1): 600 is out of range; allowed: 0.001..=60 seconds",
        ),
        (
            with("retry_delay_secs = nan"),
            "`retry_delay_secs` (line 1): NaN is out of range; allowed: 0.001..=60 seconds",
        ),
        (
            with("retry_delay_secs = 5.0\nretry_delay_max_secs = 2.0"),
            "`retry_delay_max_secs` (line 2): 2 is out of range; allowed: at least retry_delay_secs (the cap cannot be below the base delay)",
        ),
        (
            with("recv_window_ms = 0"),
            "`recv_window_ms` (line 1): 0 is out of range; allowed: 1..=60000 ms",
        ),
        (
            with("recv_window_ms = 60001"),
            "`recv_window_ms` (line 1): 60001 is out of range; allowed: 1..=60000 ms",
        ),
        (
            with("clock_sync_interval_secs = 0"),
            "`clock_sync_interval_secs` (line 1): 0 is out of range; allowed: 1..=86400 seconds",
        ),
        (
            with("api_key_env = \"  \""),
            "`api_key_env` (line 1): must not be empty",
        ),
        (
            with("tls_ca_file = \"\""),
            "`tls_ca_file` (line 1): must not be empty",
        ),
        (
            tables("[latency]\nsubmit_ack_ms = 0"),
            "`latency.submit_ack_ms` (line 4): 0 is out of range; allowed: 1..=60000 ms",
        ),
        (
            tables("[latency]\nfill_notify_ms = 100000"),
            "`latency.fill_notify_ms` (line 4): 100000 is out of range; allowed: 1..=60000 ms",
        ),
        (
            tables("[engine]\norder_pool_size = 8"),
            "`engine.order_pool_size` (line 4): 8 is out of range; allowed: 16..=1048576",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(&text), want, "for {text:?}");
    }
    // A large but legal recv window warns instead.
    let cfg = load(&with("recv_window_ms = 10000")).unwrap();
    assert!(
        cfg.warnings[0].contains("recv_window_ms = 10000 exceeds 5000"),
        "{:?}",
        cfg.warnings
    );
}

#[test]
fn instrument_selection_errors() {
    assert_eq!(
        err("[instrument_provider]\nload_ids = []\n"),
        "`instrument_provider.load_ids` (line 2) is empty and load_all = false, so no instrument would be loaded; list ids such as [\"BTCUSDT-PERP.BINANCE\"] or set load_all = true"
    );
    assert!(err("testnet = false\n").starts_with("`instrument_provider.load_ids` is empty"));
    assert_eq!(
        err(
            "[instrument_provider]\nload_ids = [\n  \"BTCUSDT-PERP.BINANCE\",\n  \"BTCUSDT-PERP.BINANCE\",\n]\n"
        ),
        "`instrument_provider.load_ids` (line 4): BTCUSDT-PERP.BINANCE is listed more than once"
    );
    assert_eq!(
        err(&with("external_order_claims = [\"ETHUSDT-PERP.BINANCE\"]")),
        "`external_order_claims` (line 1): ETHUSDT-PERP.BINANCE is not in instrument_provider.load_ids; an instrument must be loaded before its external orders can be claimed"
    );
    assert_eq!(
        err(&with(
            "external_order_claims = [\"BTCUSDT-PERP.BINANCE\", \"BTCUSDT-PERP.BINANCE\"]"
        )),
        "`external_order_claims` (line 1): BTCUSDT-PERP.BINANCE is listed more than once"
    );
    let cfg = load("[instrument_provider]\nload_all = true\n").unwrap();
    assert!(cfg.instrument_provider.load_all);
    assert!(
        cfg.warnings
            .iter()
            .any(|w| w.contains("loading 500+ symbols")),
        "{:?}",
        cfg.warnings
    );
    let cfg = load(
        "external_order_claims = [\"币安人生USDT-PERP.BINANCE\"]\n[instrument_provider]\nload_ids = [\"BTCUSDT-PERP.BINANCE\", \"币安人生USDT-PERP.BINANCE\"]\n",
    )
    .unwrap();
    assert_eq!(cfg.external_order_claims[0].symbol.as_str(), "币安人生USDT");
    assert_eq!(cfg.instrument_provider.load_ids.len(), 2);
}

#[test]
fn thread_core_errors() {
    let env = |cores: Option<Vec<usize>>| Environment::from_pairs(KEYS).with_core_ids(cores);
    let run = |extra: &str, cores| Config::from_toml_str(&tables(extra), None, &env(cores));
    assert_eq!(
        run("[threads.network]\ncore = 7", Some(vec![0, 1]))
            .unwrap_err()
            .to_string(),
        "`threads.network.core` (line 4): core 7 does not exist on this machine (available: 0, 1)"
    );
    assert_eq!(
        run("[threads.strategy]\ncore = 0", None)
            .unwrap_err()
            .to_string(),
        "`threads.strategy.core` (line 4): core 0 does not exist on this machine (available: none: this platform cannot pin threads)"
    );
    let e = run("[threads.execution]\ncore = -1", Some(vec![0])).unwrap_err();
    assert!(
        e.to_string().contains("does not exist on this machine"),
        "{e}"
    );
    let shared = "[threads.network]\ncore = 1\nwait = \"spin\"\n[threads.execution]\ncore = 1\nwait = \"park\"";
    assert_eq!(
        run(shared, Some(vec![0, 1])).unwrap_err().to_string(),
        "`threads.execution.core` (line 7): core 1 is already used by threads.network and one of them uses wait = \"spin\", which would starve the other; give each its own core or use \"park\"/\"spin_park\""
    );
    let ok = "[threads.network]\ncore = 0\nwait = \"spin\"\n[threads.execution]\ncore = 1\nwait = \"spin_park\"\n[threads.strategy]\ncore = 1\nwait = \"yield\"";
    let cfg = run(ok, Some(vec![0, 1])).unwrap();
    assert_eq!(cfg.threads.network.core, Some(0));
    assert_eq!(cfg.threads.execution.wait, WaitStrategy::SpinPark);
    assert_eq!(cfg.threads.strategy.wait, WaitStrategy::Yield);
    // The real machine: core 100000 never exists.
    let e = load(&tables("[threads.network]\ncore = 100000")).unwrap_err();
    assert!(e.to_string().contains("core 100000 does not exist"), "{e}");
}

#[test]
fn credential_errors() {
    let none = Environment::from_pairs(&[]);
    let e = Config::from_toml_str(&with(""), None, &none).unwrap_err();
    assert_eq!(
        e.to_string(),
        "environment variable BINANCE_API_KEY (named by `api_key_env`) is not set; export it (and its pair), or point base_url_http at the built-in simulator on 127.0.0.1 with a [sim] table"
    );
    let half = Environment::from_pairs(&[("BINANCE_API_KEY", "k")]);
    let e = Config::from_toml_str(&with(""), None, &half).unwrap_err();
    assert_eq!(
        e.to_string(),
        "environment variable BINANCE_API_SECRET (named by `api_secret_env`) is not set; export it"
    );
    let custom = Environment::from_pairs(&[("MY_KEY", "k"), ("MY_SECRET", "")]);
    let e = Config::from_toml_str(
        &with("api_key_env = \"MY_KEY\"\napi_secret_env = \"MY_SECRET\""),
        None,
        &custom,
    )
    .unwrap_err();
    assert!(
        e.to_string().starts_with("environment variable MY_SECRET "),
        "{e}"
    );
    // A [sim] table with a remote URL never uses the simulator's keys.
    let e = Config::from_toml_str(&tables("[sim]"), None, &none).unwrap_err();
    assert!(e.to_string().contains("(and its pair)"), "{e}");
}

#[test]
fn tls_ca_file_is_checked_and_relative_to_the_file() {
    let dir = std::env::temp_dir().join(format!("bexec-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
    std::fs::write(dir.join("c.toml"), with("tls_ca_file = \"ca.pem\"")).unwrap();
    let keys = Environment::from_pairs(KEYS);
    let cfg = Config::load_with_env(&dir.join("c.toml"), &keys).unwrap();
    assert_eq!(
        cfg.tls_ca_file.as_deref(),
        Some(dir.join("ca.pem").as_path())
    );
    let e = Config::from_toml_str(&with("tls_ca_file = \"/nonexistent/ca.pem\""), None, &keys)
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("`tls_ca_file` (line 1): cannot read /nonexistent/ca.pem: "),
        "{e}"
    );
    let e = Config::load_with_env(&dir.join("missing.toml"), &keys).unwrap_err();
    assert!(e.to_string().starts_with("cannot read config file "), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn backoff_from_config() {
    let cfg = load(&with(
        "max_retries = 2\nretry_delay_secs = 0.5\nretry_delay_max_secs = 0.75",
    ))
    .unwrap();
    let b = cfg.backoff();
    let mut j = FixedJitter(0.0);
    assert_eq!(b.delay(1, &mut j), Some(Duration::from_millis(250)));
    assert_eq!(b.delay(2, &mut j), Some(Duration::from_millis(375)));
    assert_eq!(b.delay(3, &mut j), None);
}

#[test]
fn sim_settings_alone() {
    assert!(
        Config::load_sim_settings(&repo("sim.toml"))
            .unwrap()
            .is_some()
    );
    assert!(
        Config::load_sim_settings(&repo("mainnet.toml"))
            .unwrap()
            .is_none()
    );
    let e = Config::load_sim_settings(Path::new("/nonexistent.toml")).unwrap_err();
    assert!(e.to_string().starts_with("cannot read config file"), "{e}");
}
