//! `binance-exec check-config` as a user runs it: the built binary on good and
//! bad files, checking exit codes and output (and that secrets never show).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_binance-exec"));
    // Start from a clean credential environment whatever the caller exported.
    for v in [
        "BINANCE_API_KEY",
        "BINANCE_API_SECRET",
        "BINANCE_TESTNET",
        "BINANCE_TESTNET_API_KEY",
        "BINANCE_TESTNET_API_SECRET",
    ] {
        c.env_remove(v);
    }
    c
}

fn repo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(file)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn good_file_prints_effective_config_without_secrets() {
    let o = bin()
        .args(["check-config", "--config"])
        .arg(repo("mainnet.toml"))
        .env("BINANCE_API_KEY", "dbefbc809e3e83c2")
        .env("BINANCE_API_SECRET", "2b5eb11e18796d12")
        .output()
        .unwrap();
    let (out, errs) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{errs}");
    assert!(out.contains("mainnet.toml: OK"), "{out}");
    assert!(
        out.contains("base_url_http            = https://fapi.binance.com (file)"),
        "{out}"
    );
    assert!(
        out.contains("credentials              = environment: BINANCE_API_KEY (16 chars)"),
        "{out}"
    );
    assert!(
        !out.contains("dbefbc809e3e83c2") && !out.contains("2b5eb11e18796d12"),
        "{out}"
    );
    assert!(!errs.contains("2b5eb11e18796d12"));
}

#[test]
fn env_override_shows_in_output() {
    let o = bin()
        .args(["check-config", "-c"])
        .arg(repo("sim.toml"))
        .env("BINANCE_API_KEY", "k")
        .env("BINANCE_API_SECRET", "s")
        .env("BINANCE_TESTNET", "true")
        .output()
        .unwrap();
    let (out, errs) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{errs}");
    assert!(
        out.contains("testnet                  = true (from BINANCE_TESTNET)"),
        "{out}"
    );
    assert!(
        out.contains("base_url_ws_api          = ws://127.0.0.1:18080/ws-fapi/v1 (file)"),
        "{out}"
    );
}

#[test]
fn bad_file_exits_non_zero_with_the_reason() {
    let dir = std::env::temp_dir().join(format!("bexec-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "account_type = \"USDT_FUTURES\"\nmax_retries = 99\n[instrument_provider]\nload_ids = [\"BTCUSDT-PERP.BINANCE\"]\n",
    )
    .unwrap();
    let o = bin()
        .args(["check-config", "--config"])
        .arg(&bad)
        .env("BINANCE_API_KEY", "k")
        .env("BINANCE_API_SECRET", "s")
        .output()
        .unwrap();
    let (out, errs) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{errs}");
    assert!(out.is_empty(), "{out}");
    assert!(
        errs.contains("bad.toml: `max_retries` (line 2): 99 is out of range; allowed: 0..=10"),
        "{errs}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_credentials_and_missing_file_fail() {
    let o = bin()
        .args(["check-config", "--config"])
        .arg(repo("mainnet.toml"))
        .output()
        .unwrap();
    let (_, errs) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        errs.contains("environment variable BINANCE_API_KEY"),
        "{errs}"
    );

    let o = bin()
        .args(["check-config", "--config", "/nonexistent/x.toml"])
        .output()
        .unwrap();
    let (_, errs) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        errs.contains("cannot read config file /nonexistent/x.toml"),
        "{errs}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = bin().args(["check-config"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--config"));
    let o = bin().args(["no-such-command"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = bin().args(["--help"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).0.contains("check-config"));
}
