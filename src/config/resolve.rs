//! From file text to the effective [`Config`]: defaults, environment overrides,
//! range checks and contradiction checks, each failing with the field and line.

use super::file::{FileConfig, FileThread};
use super::urls::{Endpoint, Network, Protocol};
use super::*;
use toml::Spanned;

/// Ranges chosen so a typo (an extra zero, ms vs s) is caught while every
/// sane setting passes.
const MAX_RETRIES: i64 = 10;
const RETRY_DELAY_MIN: f64 = 0.001;
const RETRY_DELAY_MAX: f64 = 60.0;
const RETRY_CAP_MAX: f64 = 300.0;
/// The venue documents no fapi maximum; spot's is 60000 (spec §2.1).
const RECV_WINDOW_MAX: i64 = 60_000;
const CLOCK_SYNC_MAX: i64 = 86_400;
const POOL_MIN: i64 = 16;
const POOL_MAX: i64 = 1 << 20;
const BUDGET_MAX_MS: i64 = 60_000;

struct Ctx<'t> {
    text: &'t str,
}

impl Ctx<'_> {
    fn line(&self, offset: usize) -> Line {
        let end = offset.min(self.text.len());
        let prefix = self.text.get(..end).unwrap_or(self.text);
        Line(Some(prefix.bytes().filter(|&b| b == b'\n').count() + 1))
    }
    fn at<T>(&self, s: &Spanned<T>) -> Line {
        self.line(s.span().start)
    }
    fn opt_at<T>(&self, s: &Option<Spanned<T>>) -> Line {
        s.as_ref().map(|s| self.at(s)).unwrap_or_default()
    }
}

/// TOML text to the raw file, with the parser's line on failure.
pub(super) fn parse(text: &str) -> Result<FileConfig, ConfigError> {
    let ctx = Ctx { text };
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        line: e.span().map(|s| ctx.line(s.start)).unwrap_or_default(),
        message: e.message().trim_end().to_string(),
    })
}

pub(super) fn resolve(
    text: &str,
    base_dir: Option<&Path>,
    env: &Environment<'_>,
) -> Result<Config, ConfigError> {
    let ctx = Ctx { text };
    let file = parse(text)?;
    let mut warnings = Vec::new();

    if let Some(at) = &file.account_type
        && at.get_ref() != "USDT_FUTURES"
    {
        return Err(ConfigError::UnsupportedAccountType {
            value: at.get_ref().clone(),
            line: ctx.at(at),
        });
    }
    if let Some(us) = &file.us
        && *us.get_ref()
    {
        return Err(ConfigError::UsHasNoFutures { line: ctx.at(us) });
    }

    let (testnet, testnet_source) = match env.var(TESTNET_VAR) {
        Some(v) => (parse_env_flag(&v)?, FlagSource::Env),
        None => match &file.testnet {
            Some(t) => (*t.get_ref(), FlagSource::File),
            None => (false, FlagSource::Default),
        },
    };

    let endpoint = |field: &'static str,
                    value: &Option<Spanned<String>>,
                    protocol: Protocol,
                    prod: &str,
                    test: &str|
     -> Result<Endpoint, ConfigError> {
        let line = ctx.opt_at(value);
        let Some(v) = value else {
            let default = if testnet { test } else { prod };
            return Endpoint::parse(default, protocol, false).map_err(|reason| {
                ConfigError::InvalidUrl {
                    field,
                    url: default.to_string(),
                    reason,
                    line,
                }
            });
        };
        let e = Endpoint::parse(v.get_ref(), protocol, true).map_err(|reason| {
            ConfigError::InvalidUrl {
                field,
                url: v.get_ref().clone(),
                reason,
                line,
            }
        })?;
        if !e.tls && !e.is_loopback() {
            return Err(ConfigError::PlainTextToRemote {
                field,
                url: e.url,
                line,
            });
        }
        let expected = if testnet {
            Network::Testnet
        } else {
            Network::Production
        };
        match e.network() {
            Some(n) if n != expected => Err(ConfigError::NetworkMismatch {
                field,
                url: e.url,
                url_network: n.as_str(),
                testnet,
                testnet_source: testnet_source.as_str(),
                line,
            }),
            _ => Ok(e),
        }
    };
    let base_url_http = endpoint(
        "base_url_http",
        &file.base_url_http,
        Protocol::Http,
        PROD_HTTP,
        TESTNET_HTTP,
    )?;
    let base_url_ws = endpoint(
        "base_url_ws",
        &file.base_url_ws,
        Protocol::WebSocket,
        PROD_WS,
        TESTNET_WS,
    )?;
    let base_url_ws_api = endpoint(
        "base_url_ws_api",
        &file.base_url_ws_api,
        Protocol::WebSocket,
        PROD_WS_API,
        TESTNET_WS_API,
    )?;
    let loopbacks = [&base_url_http, &base_url_ws, &base_url_ws_api]
        .iter()
        .filter(|e| e.is_loopback())
        .count();
    if loopbacks != 0 && loopbacks != 3 {
        warnings.push(
            "some base URLs point at loopback and others at a remote venue; orders and streams \
             may come from different venues"
                .to_string(),
        );
    }

    let clock_sync_interval_secs = number_in(
        &ctx,
        "clock_sync_interval_secs",
        &file.clock_sync_interval_secs,
        60,
        1,
        CLOCK_SYNC_MAX,
        "1..=86400 seconds",
    )? as u64;
    let max_retries = number_in(
        &ctx,
        "max_retries",
        &file.max_retries,
        3,
        0,
        MAX_RETRIES,
        "0..=10",
    )? as u32;
    let retry_delay_secs = number_in(
        &ctx,
        "retry_delay_secs",
        &file.retry_delay_secs,
        1.0,
        RETRY_DELAY_MIN,
        RETRY_DELAY_MAX,
        "0.001..=60 seconds",
    )?;
    let retry_delay_max_secs = number_in(
        &ctx,
        "retry_delay_max_secs",
        &file.retry_delay_max_secs,
        retry_delay_secs.max(10.0),
        RETRY_DELAY_MIN,
        RETRY_CAP_MAX,
        "0.001..=300 seconds",
    )?;
    if retry_delay_max_secs < retry_delay_secs {
        return Err(ConfigError::OutOfRange {
            field: "retry_delay_max_secs",
            value: retry_delay_max_secs.to_string(),
            allowed: "at least retry_delay_secs (the cap cannot be below the base delay)",
            line: ctx.opt_at(&file.retry_delay_max_secs),
        });
    }
    let recv_window_ms = number_in(
        &ctx,
        "recv_window_ms",
        &file.recv_window_ms,
        5000,
        1,
        RECV_WINDOW_MAX,
        "1..=60000 ms",
    )? as u64;
    if recv_window_ms > 5000 {
        warnings.push(format!(
            "recv_window_ms = {recv_window_ms} exceeds 5000: a delayed order may still execute \
             long after you gave up on it"
        ));
    }

    let api_key_env = env_name(&ctx, "api_key_env", &file.api_key_env, DEFAULT_API_KEY_ENV)?;
    let api_secret_env = env_name(
        &ctx,
        "api_secret_env",
        &file.api_secret_env,
        DEFAULT_API_SECRET_ENV,
    )?;

    let instrument_provider = instruments(&ctx, &file, &mut warnings)?;
    let external_order_claims = claims(&ctx, &file, &instrument_provider)?;
    let threads = threads(&ctx, &file, env)?;

    let latency = LatencyBudgets {
        submit_ack: Duration::from_millis(number_in(
            &ctx,
            "latency.submit_ack_ms",
            &file.latency.submit_ack_ms,
            100,
            1,
            BUDGET_MAX_MS,
            "1..=60000 ms",
        )? as u64),
        fill_notify: Duration::from_millis(number_in(
            &ctx,
            "latency.fill_notify_ms",
            &file.latency.fill_notify_ms,
            50,
            1,
            BUDGET_MAX_MS,
            "1..=60000 ms",
        )? as u64),
    };
    let engine = EngineSettings {
        order_pool_size: number_in(
            &ctx,
            "engine.order_pool_size",
            &file.engine.order_pool_size,
            4096,
            POOL_MIN,
            POOL_MAX,
            "16..=1048576",
        )? as usize,
        cancel_all_on_shutdown: file.engine.cancel_all_on_shutdown.unwrap_or(false),
        reconcile_interval: Duration::from_secs(number_in(
            &ctx,
            "engine.reconcile_interval_secs",
            &file.engine.reconcile_interval_secs,
            30,
            0,
            86_400,
            "0..=86400 s (0 = off)",
        )? as u64),
        user_stream_silence: Duration::from_secs(number_in(
            &ctx,
            "engine.user_stream_silence_secs",
            &file.engine.user_stream_silence_secs,
            60,
            0,
            86_400,
            "0..=86400 s (0 = off)",
        )? as u64),
        reconcile_hold_max: Duration::from_millis(number_in(
            &ctx,
            "engine.reconcile_hold_max_ms",
            &file.engine.reconcile_hold_max_ms,
            2_000,
            0,
            60_000,
            "0..=60000 ms (0 = never hold)",
        )? as u64),
        listen_key_keepalive: Duration::from_secs(number_in(
            &ctx,
            "engine.listen_key_keepalive_secs",
            &file.engine.listen_key_keepalive_secs,
            1800,
            1,
            3300,
            "1..=3300 s (keys expire after 3600 s)",
        )? as u64),
        journal_path: journal_path(&ctx, &file, base_dir)?,
        journal_fsync: journal_fsync(&ctx, &file)?,
        dead_man_switch_secs: number_in(
            &ctx,
            "engine.dead_man_switch_secs",
            &file.engine.dead_man_switch_secs,
            0,
            0,
            DEAD_MAN_MAX_SECS,
            "0 (off) or 1..=86400 s",
        )? as u64,
        ws_api_reply_timeout: Duration::from_millis(number_in(
            &ctx,
            "engine.ws_api_reply_timeout_ms",
            &file.engine.ws_api_reply_timeout_ms,
            3000,
            100,
            60_000,
            "100..=60000 ms",
        )? as u64),
    };
    if engine.dead_man_switch_secs > 0 && engine.dead_man_switch_secs < 3 {
        warnings.push(format!(
            "engine.dead_man_switch_secs = {}: heartbeats every {} ms leave little slack for a slow round trip",
            engine.dead_man_switch_secs,
            engine.dead_man_switch_secs * 1000 / 3
        ));
    }

    let metrics = super::metrics::resolve(
        file.metrics
            .listen
            .as_ref()
            .map(|s| (s.get_ref().as_str(), ctx.at(s))),
    )?;

    let tls_ca_file = match &file.tls_ca_file {
        None => None,
        Some(p) => {
            let line = ctx.at(p);
            if p.get_ref().is_empty() {
                return Err(ConfigError::Empty {
                    field: "tls_ca_file",
                    line,
                });
            }
            let raw = PathBuf::from(p.get_ref());
            let path = match base_dir {
                Some(dir) if raw.is_relative() => dir.join(raw),
                _ => raw,
            };
            if let Err(e) = std::fs::metadata(&path).and_then(|m| {
                if m.is_file() {
                    Ok(())
                } else {
                    Err(std::io::Error::other("not a regular file"))
                }
            }) {
                return Err(ConfigError::TlsCaFile {
                    path,
                    reason: e.to_string(),
                    line,
                });
            }
            if ![&base_url_http, &base_url_ws, &base_url_ws_api]
                .iter()
                .any(|e| e.tls)
            {
                warnings.push(
                    "tls_ca_file is set but no base URL uses TLS (https/wss); it is unused"
                        .to_string(),
                );
            }
            Some(path)
        }
    };

    let credentials = credentials(
        env,
        &api_key_env,
        &api_secret_env,
        file.sim.as_ref(),
        &base_url_http,
    )?;
    if credentials.source == CredentialSource::Simulator {
        // Nothing to warn about: it is the intended zero-setup path.
    } else if base_url_http.is_loopback() && file.sim.is_none() {
        warnings.push(
            "base_url_http is loopback but the file has no [sim] table; using credentials from \
             the environment"
                .to_string(),
        );
    }

    Ok(Config {
        account_type: AccountType::UsdtFutures,
        base_url_http,
        base_url_ws,
        base_url_ws_api,
        testnet,
        testnet_source,
        us: false,
        clock_sync_interval_secs,
        warn_rate_limits: file.warn_rate_limits.unwrap_or(true),
        max_retries,
        retry_delay_secs,
        retry_delay_max_secs,
        recv_window_ms,
        order_entry: file.order_entry.unwrap_or_default(),
        position_mode: file.position_mode.unwrap_or_default(),
        api_key_env,
        api_secret_env,
        credentials,
        instrument_provider,
        external_order_claims,
        threads,
        latency,
        tls_ca_file,
        engine,
        metrics,
        sim: file.sim,
        warnings,
    })
}

fn parse_env_flag(v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ConfigError::BadEnvFlag {
            var: TESTNET_VAR,
            value: v.to_string(),
        }),
    }
}

/// One bounds check for every numeric key, so each reports a bad value with
/// its field, allowed range and line the same way. Written as
/// `!(min <= x && x <= max)` so a NaN is refused too (all bounds are finite,
/// so an infinity is refused by the same test).
fn number_in<T>(
    ctx: &Ctx<'_>,
    field: &'static str,
    v: &Option<Spanned<T>>,
    default: T,
    min: T,
    max: T,
    allowed: &'static str,
) -> Result<T, ConfigError>
where
    T: Copy + PartialOrd + std::fmt::Display,
{
    let Some(s) = v else { return Ok(default) };
    let x = *s.get_ref();
    if !(min <= x && x <= max) {
        return Err(ConfigError::OutOfRange {
            field,
            value: x.to_string(),
            allowed,
            line: ctx.at(s),
        });
    }
    Ok(x)
}

fn env_name(
    ctx: &Ctx<'_>,
    field: &'static str,
    v: &Option<Spanned<String>>,
    default: &str,
) -> Result<String, ConfigError> {
    match v {
        None => Ok(default.to_string()),
        Some(s) if s.get_ref().trim().is_empty() => Err(ConfigError::Empty {
            field,
            line: ctx.at(s),
        }),
        Some(s) => Ok(s.get_ref().clone()),
    }
}

fn instruments(
    ctx: &Ctx<'_>,
    file: &FileConfig,
    warnings: &mut Vec<String>,
) -> Result<InstrumentSelection, ConfigError> {
    let p = &file.instrument_provider;
    let load_all = p.load_all.unwrap_or(false);
    let mut load_ids: Vec<InstrumentId> = Vec::new();
    if let Some(ids) = &p.load_ids {
        for id in ids.get_ref() {
            if load_ids.contains(id.get_ref()) {
                return Err(ConfigError::DuplicateInstrument {
                    field: "instrument_provider.load_ids",
                    id: id.get_ref().to_string(),
                    line: ctx.at(id),
                });
            }
            load_ids.push(*id.get_ref());
        }
    }
    if load_all {
        warnings.push(
            "instrument_provider.load_all = true: loading 500+ symbols slows start-up and uses \
             memory for instruments you do not trade; prefer load_ids"
                .to_string(),
        );
    } else if load_ids.is_empty() {
        return Err(ConfigError::NoInstruments {
            line: ctx.opt_at(&p.load_ids),
        });
    }
    Ok(InstrumentSelection { load_all, load_ids })
}

/// Longest dead-man countdown accepted (the venue takes any ms value; a day
/// is already far beyond any sensible setting).
const DEAD_MAN_MAX_SECS: i64 = 86_400;

/// `engine.journal_path`: relative paths resolve against the config file's
/// directory (like `tls_ca_file`), so a deployment directory is
/// self-contained; the parent directory must exist.
fn journal_path(
    ctx: &Ctx<'_>,
    file: &FileConfig,
    base_dir: Option<&Path>,
) -> Result<Option<PathBuf>, ConfigError> {
    let Some(p) = &file.engine.journal_path else {
        return Ok(None);
    };
    let line = ctx.at(p);
    if p.get_ref().trim().is_empty() {
        return Err(ConfigError::Empty {
            field: "engine.journal_path",
            line,
        });
    }
    let raw = PathBuf::from(p.get_ref());
    let path = match base_dir {
        Some(dir) if raw.is_relative() => dir.join(raw),
        _ => raw,
    };
    if path.is_dir() {
        return Err(ConfigError::OutOfRange {
            field: "engine.journal_path",
            value: path.display().to_string(),
            allowed: "a file path (this is a directory)",
            line,
        });
    }
    Ok(Some(path))
}

/// `engine.journal_fsync`, default `every_n:1` (see `config/*.toml`).
fn journal_fsync(
    ctx: &Ctx<'_>,
    file: &FileConfig,
) -> Result<crate::engine::journal::FsyncPolicy, ConfigError> {
    use crate::engine::journal::FsyncPolicy;
    match &file.engine.journal_fsync {
        None => Ok(FsyncPolicy::EveryN(1)),
        Some(s) => FsyncPolicy::parse(s.get_ref()).map_err(|_| ConfigError::OutOfRange {
            field: "engine.journal_fsync",
            value: format!("{:?}", s.get_ref()),
            allowed: "\"always\", \"never\", \"every_n:N\" (N >= 1) or \"interval_ms:N\"",
            line: ctx.at(s),
        }),
    }
}

fn claims(
    ctx: &Ctx<'_>,
    file: &FileConfig,
    sel: &InstrumentSelection,
) -> Result<Vec<InstrumentId>, ConfigError> {
    let mut out: Vec<InstrumentId> = Vec::new();
    for id in file.external_order_claims.iter().flatten() {
        let line = ctx.at(id);
        let id = *id.get_ref();
        if out.contains(&id) {
            return Err(ConfigError::DuplicateInstrument {
                field: "external_order_claims",
                id: id.to_string(),
                line,
            });
        }
        if !sel.load_all && !sel.load_ids.contains(&id) {
            return Err(ConfigError::ClaimNotLoaded {
                id: id.to_string(),
                line,
            });
        }
        out.push(id);
    }
    Ok(out)
}

fn threads(
    ctx: &Ctx<'_>,
    file: &FileConfig,
    env: &Environment<'_>,
) -> Result<Threads, ConfigError> {
    let one = |name: &'static str,
               t: &Option<FileThread>|
     -> Result<(ThreadSettings, Line), ConfigError> {
        let Some(t) = t else {
            return Ok((ThreadSettings::default(), Line(None)));
        };
        let wait = t.wait.unwrap_or_default();
        let spin_us = t.spin_us;
        let Some(core) = &t.core else {
            return Ok((
                ThreadSettings {
                    core: None,
                    wait,
                    spin_us,
                },
                Line(None),
            ));
        };
        let line = ctx.at(core);
        let available = env.core_ids().unwrap_or(&[]);
        let id = *core.get_ref();
        let exists = usize::try_from(id).is_ok_and(|id| available.contains(&id));
        if !exists {
            let list = if available.is_empty() {
                "none: this platform cannot pin threads".to_string()
            } else {
                available
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(ConfigError::NoSuchCore {
                thread: name,
                core: usize::try_from(id).unwrap_or(usize::MAX),
                available: list,
                line,
            });
        }
        Ok((
            ThreadSettings {
                core: usize::try_from(id).ok(),
                wait,
                spin_us,
            },
            line,
        ))
    };
    let (network, _) = one("network", &file.threads.network)?;
    let (execution, exec_line) = one("execution", &file.threads.execution)?;
    let (strategy, strat_line) = one("strategy", &file.threads.strategy)?;
    let named = [
        ("network", network, Line(None)),
        ("execution", execution, exec_line),
        ("strategy", strategy, strat_line),
    ];
    for (i, (first, a, _)) in named.iter().enumerate() {
        for (second, b, line) in named.iter().skip(i + 1) {
            if let (Some(ca), Some(cb)) = (a.core, b.core)
                && ca == cb
                && (a.wait == WaitStrategy::Spin || b.wait == WaitStrategy::Spin)
            {
                return Err(ConfigError::SharedSpinCore {
                    first,
                    second,
                    core: ca,
                    line: *line,
                });
            }
        }
    }
    Ok(Threads {
        network,
        execution,
        strategy,
    })
}

fn credentials(
    env: &Environment<'_>,
    key_var: &str,
    secret_var: &str,
    sim: Option<&crate::sim::SimSettings>,
    http: &Endpoint,
) -> Result<Credentials, ConfigError> {
    let key = env.var(key_var);
    let secret = env.var(secret_var);
    if let (Some(k), Some(s)) = (&key, &secret) {
        return Ok(Credentials {
            api_key: Secret::new(k.clone()),
            api_secret: Secret::new(s.clone()),
            source: CredentialSource::Env {
                key_var: key_var.to_string(),
                secret_var: secret_var.to_string(),
            },
        });
    }
    let sim_target = http.is_loopback() && sim.is_some();
    if key.is_none()
        && secret.is_none()
        && sim_target
        && let Some((k, s)) = sim.and_then(|s| s.venue.first_account_credentials())
    {
        return Ok(Credentials {
            api_key: Secret::new(k),
            api_secret: Secret::new(s),
            source: CredentialSource::Simulator,
        });
    }
    let (var, field) = if key.is_none() {
        (key_var, "api_key_env")
    } else {
        (secret_var, "api_secret_env")
    };
    let hint = if sim_target {
        "; the [sim] table declares no simulated account to fall back on"
    } else if key.is_none() && secret.is_none() {
        " (and its pair), or point base_url_http at the built-in simulator on 127.0.0.1 with a [sim] table"
    } else {
        ""
    };
    Err(ConfigError::MissingCredential {
        var: var.to_string(),
        field,
        hint,
    })
}
