//! Human-readable effective configuration, printed by `check-config` and at
//! engine start-up so the log shows what actually ran (defaults, environment
//! overrides) — with secrets redacted.

use super::*;
use std::fmt;

fn origin(e: &Endpoint) -> &'static str {
    if e.from_file { "file" } else { "default" }
}

fn thread(t: &ThreadSettings) -> String {
    let spin = match t.spin_us {
        Some(us) => format!(" (hot {us} µs)"),
        None => String::new(),
    };
    match t.core {
        Some(c) => format!("core {c}, wait {}{spin}", t.wait.as_str()),
        None => format!("unpinned, wait {}{spin}", t.wait.as_str()),
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "account_type             = {}",
            self.account_type.as_str()
        )?;
        writeln!(
            f,
            "testnet                  = {} ({})",
            self.testnet,
            self.testnet_source.as_str()
        )?;
        writeln!(f, "us                       = {}", self.us)?;
        for (name, e) in [
            ("base_url_http", &self.base_url_http),
            ("base_url_ws", &self.base_url_ws),
            ("base_url_ws_api", &self.base_url_ws_api),
        ] {
            writeln!(f, "{name:<24} = {} ({})", e.url, origin(e))?;
        }
        match &self.credentials.source {
            CredentialSource::Env {
                key_var,
                secret_var,
            } => writeln!(
                f,
                "credentials              = environment: {key_var} ({} chars), {secret_var} ({} chars); values redacted",
                self.credentials.api_key.len(),
                self.credentials.api_secret.len()
            )?,
            CredentialSource::Simulator => writeln!(
                f,
                "credentials              = built-in simulator's first account; values redacted"
            )?,
        }
        writeln!(
            f,
            "order_entry              = {}",
            self.order_entry.as_str()
        )?;
        writeln!(
            f,
            "position_mode            = {}",
            self.position_mode.as_str()
        )?;
        writeln!(f, "recv_window_ms           = {}", self.recv_window_ms)?;
        writeln!(
            f,
            "clock_sync_interval_secs = {}",
            self.clock_sync_interval_secs
        )?;
        writeln!(f, "warn_rate_limits         = {}", self.warn_rate_limits)?;
        writeln!(
            f,
            "retries                  = {} (backoff {}s doubling, capped at {}s, jittered)",
            self.max_retries, self.retry_delay_secs, self.retry_delay_max_secs
        )?;
        let ids: Vec<String> = self
            .instrument_provider
            .load_ids
            .iter()
            .map(|i| i.to_string())
            .collect();
        writeln!(
            f,
            "instruments              = load_all {}, load_ids [{}]",
            self.instrument_provider.load_all,
            ids.join(", ")
        )?;
        let claims: Vec<String> = self
            .external_order_claims
            .iter()
            .map(|i| i.to_string())
            .collect();
        writeln!(f, "external_order_claims    = [{}]", claims.join(", "))?;
        writeln!(
            f,
            "threads.network          = {}",
            thread(&self.threads.network)
        )?;
        writeln!(
            f,
            "threads.execution        = {}",
            thread(&self.threads.execution)
        )?;
        writeln!(
            f,
            "threads.strategy         = {}",
            thread(&self.threads.strategy)
        )?;
        writeln!(
            f,
            "latency budgets          = submit→ack {} ms, fill→notify {} ms",
            self.latency.submit_ack.as_millis(),
            self.latency.fill_notify.as_millis()
        )?;
        writeln!(
            f,
            "engine                   = order_pool_size {}, cancel_all_on_shutdown {}, ws_api_reply_timeout {} ms",
            self.engine.order_pool_size,
            self.engine.cancel_all_on_shutdown,
            self.engine.ws_api_reply_timeout.as_millis()
        )?;
        writeln!(
            f,
            "reconciliation           = sweep every {} s, user-stream silence {} s, hold live events at most {} ms, listenKey keepalive {} s (0 = off)",
            self.engine.reconcile_interval.as_secs(),
            self.engine.user_stream_silence.as_secs(),
            self.engine.reconcile_hold_max.as_millis(),
            self.engine.listen_key_keepalive.as_secs()
        )?;
        match &self.engine.journal_path {
            Some(p) => writeln!(
                f,
                "journal                  = {} (fsync {:?})",
                p.display(),
                self.engine.journal_fsync
            )?,
            None => writeln!(f, "journal                  = off")?,
        }
        writeln!(
            f,
            "dead_man_switch          = {}",
            match self.engine.dead_man_switch_secs {
                0 => "off".to_string(),
                s => format!(
                    "countdownCancelAll {s} s, re-armed every {} ms",
                    s * 1000 / 3
                ),
            }
        )?;
        match &self.tls_ca_file {
            Some(p) => writeln!(f, "tls_ca_file              = {}", p.display())?,
            None => writeln!(f, "tls_ca_file              = (system roots only)")?,
        }
        match self.metrics.listen {
            Some(a) => writeln!(f, "metrics.listen           = {}", MetricsSettings::url(a))?,
            None => writeln!(f, "metrics.listen           = off")?,
        }
        writeln!(
            f,
            "sim                      = {}",
            if self.sim.is_some() {
                "[sim] table present"
            } else {
                "absent"
            }
        )?;
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}
