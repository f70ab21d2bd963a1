//! The soak's verdict: what was sent, what came back, what differed, which
//! faults were injected, the latency percentiles — as a table or one JSON
//! object — and the exit code.
//!
//! Why one struct: the CLI, the CI test and `scripts/soak.sh` all judge a
//! run by the same rule, [`SoakSummary::failures`].

use super::compare::Comparison;
use super::faults::{FaultCounts, FaultKind};
use super::journal_audit::JournalAudit;
use std::fmt::Write as _;

/// Required share of fillable orders filled.
pub const MIN_FILL_RATE: f64 = 0.999;

/// Everything a soak run reports.
#[derive(Debug, Clone, Default)]
pub struct SoakSummary {
    /// `sim`, `sim+crash` or `testnet`.
    pub mode: String,
    /// Seed of the run.
    pub seed: u64,
    /// Trading time, seconds.
    pub duration_secs: f64,
    /// Target order rate (actions per second).
    pub rate: u32,
    /// Orders the strategy submitted.
    pub submitted: u64,
    /// Venue acknowledgements the engine counted.
    pub acknowledged: u64,
    /// Orders the engine ended as FILLED.
    pub filled: u64,
    /// Orders ended CANCELED.
    pub canceled: u64,
    /// Orders ended EXPIRED.
    pub expired: u64,
    /// Orders ended REJECTED (by the venue or a local check).
    pub rejected: u64,
    /// Rejections by code, from the strategy's events.
    pub rejections_by_code: Vec<(i32, u64)>,
    /// Cancels requested.
    pub cancels_sent: u64,
    /// Modifies requested.
    pub modifies_sent: u64,
    /// Unknown order fates reported to the strategy.
    pub unknown_fates: u64,
    /// Engine counters: retries, rate-limit waits, reconnects.
    pub retries: u64,
    /// Engine counters: rate-limit backoffs.
    pub rate_limit_backoffs: u64,
    /// Engine counters: stream reconnects.
    pub reconnects: u64,
    /// Engine counters: repeated cancels held back while one was pending.
    pub cancels_coalesced: u64,
    /// Unreadable venue frames/replies the engine logged and skipped.
    pub bad_frames_logged: u64,
    /// The audit (None when it could not run).
    pub comparison: Option<Comparison>,
    /// The crash audit of the journal against the ledger (`--crash`).
    pub journal_audit: Option<JournalAudit>,
    /// The venue-side audit over signed REST (`--venue testnet|config`).
    pub rest_audit: Option<Comparison>,
    /// Faults delivered, by kind.
    pub faults: FaultCounts,
    /// Engine restarts after SIGKILL (`--crash`).
    pub crashes: u64,
    /// Incarnations that exited by themselves (start-up refused during a
    /// fault) and were restarted (`--crash`), with the engine's reason.
    pub engine_restarts: Vec<String>,
    /// Latency table (text, µs).
    pub latency_text: String,
    /// Latency rows as JSON.
    pub latency_json: String,
    /// Files searched for the API secret.
    pub files_scanned: usize,
    /// Files that contained it.
    pub secret_leaks: Vec<String>,
    /// Fatal problems (engine error, drain timeout, I/O).
    pub errors: Vec<String>,
    /// Checks that could not run in this build, with the reason.
    pub skipped_checks: Vec<String>,
    /// Where the outputs went.
    pub out_dir: String,
}

impl SoakSummary {
    /// Lost orders (0 when the audit did not run).
    pub fn lost(&self) -> u64 {
        self.comparison.as_ref().map_or(0, |c| c.lost)
    }
    /// Duplicated fills.
    pub fn duplicated(&self) -> u64 {
        self.comparison.as_ref().map_or(0, |c| c.duplicated_fills)
    }
    /// Every other difference.
    pub fn mismatches(&self) -> u64 {
        self.comparison.as_ref().map_or(0, Comparison::mismatches)
    }
    /// Fill rate of fillable orders.
    pub fn fill_rate(&self) -> Option<f64> {
        self.comparison.as_ref().and_then(Comparison::fill_rate)
    }

    /// Why this run fails; empty = pass.
    pub fn failures(&self) -> Vec<String> {
        let mut f = self.errors.clone();
        match &self.comparison {
            None => f.push("no ledger comparison".into()),
            Some(c) => {
                if c.lost > 0 {
                    f.push(format!("{} lost orders", c.lost));
                }
                if c.duplicated_fills > 0 {
                    f.push(format!("{} duplicated fills", c.duplicated_fills));
                }
                if c.mismatches() > 0 {
                    f.push(format!("{} mismatches", c.mismatches()));
                }
                match c.fill_rate() {
                    None => f.push("no fillable order reached the venue".into()),
                    Some(r) if r < MIN_FILL_RATE => f.push(format!(
                        "fill rate {:.3}% < {:.1}%",
                        r * 100.0,
                        MIN_FILL_RATE * 100.0
                    )),
                    Some(_) => {}
                }
            }
        }
        if let Some(r) = &self.rest_audit {
            let n = r.lost + r.duplicated_fills + r.mismatches();
            if n > 0 {
                f.push(format!("{n} REST audit differences"));
            }
        }
        if !self.secret_leaks.is_empty() {
            f.push(format!(
                "API secret found in {} file(s): {}",
                self.secret_leaks.len(),
                self.secret_leaks.join(", ")
            ));
        }
        f
    }

    /// Process exit code: 0 pass, 1 fail.
    pub fn exit_code(&self) -> i32 {
        if self.failures().is_empty() { 0 } else { 1 }
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "soak ({}) seed {} for {:.0} s at {}/s — outputs in {}",
            self.mode, self.seed, self.duration_secs, self.rate, self.out_dir
        );
        let row = |o: &mut String, k: &str, v: String| {
            let _ = writeln!(o, "  {k:<26} {v}");
        };
        row(&mut o, "orders submitted", self.submitted.to_string());
        row(&mut o, "acknowledged", self.acknowledged.to_string());
        row(&mut o, "filled", self.filled.to_string());
        row(&mut o, "canceled", self.canceled.to_string());
        row(&mut o, "expired", self.expired.to_string());
        row(&mut o, "rejected", self.rejected.to_string());
        if !self.rejections_by_code.is_empty() {
            let codes: Vec<String> = self
                .rejections_by_code
                .iter()
                .map(|(c, n)| format!("{c}×{n}"))
                .collect();
            row(&mut o, "  by code", codes.join(" "));
        }
        row(
            &mut o,
            "cancels / modifies sent (coalesced)",
            format!(
                "{} / {} ({})",
                self.cancels_sent, self.modifies_sent, self.cancels_coalesced
            ),
        );
        row(
            &mut o,
            "unknown fates / retries",
            format!("{} / {}", self.unknown_fates, self.retries),
        );
        row(
            &mut o,
            "429 backoffs / reconnects",
            format!("{} / {}", self.rate_limit_backoffs, self.reconnects),
        );
        row(
            &mut o,
            "bad frames logged",
            self.bad_frames_logged.to_string(),
        );
        match &self.comparison {
            Some(c) => {
                row(&mut o, "LOST orders", c.lost.to_string());
                row(&mut o, "DUPLICATED fills", c.duplicated_fills.to_string());
                row(
                    &mut o,
                    "MISMATCHES",
                    format!(
                        "{} (missed fills {}, phantom fills {}, phantom orders {}, qty {}, positions {}, unexpected venue orders {})",
                        c.mismatches(),
                        c.missed_fills,
                        c.phantom_fills,
                        c.phantom_orders,
                        c.qty_mismatches,
                        c.position_mismatches,
                        c.unexpected_venue_orders
                    ),
                );
                row(
                    &mut o,
                    "fill rate (fillable)",
                    match c.fill_rate() {
                        Some(r) => format!(
                            "{:.3}% ({}/{} placed, {} fillable submitted)",
                            r * 100.0,
                            c.fillable_filled,
                            c.fillable_placed,
                            c.fillable
                        ),
                        None => "n/a (no fillable order placed)".into(),
                    },
                );
            }
            None => row(&mut o, "ledger comparison", "not run".into()),
        }
        let faults: Vec<String> = FaultKind::ALL
            .iter()
            .filter_map(|k| {
                let n = self.faults.by_kind.get(k).copied().unwrap_or(0);
                let s = self.faults.skipped.get(k).copied().unwrap_or(0);
                (n > 0 || s > 0).then(|| {
                    if s > 0 {
                        format!("{} {n} (+{s} skipped)", k.name())
                    } else {
                        format!("{} {n}", k.name())
                    }
                })
            })
            .collect();
        row(
            &mut o,
            "faults injected",
            if faults.is_empty() {
                "none".into()
            } else {
                faults.join(", ")
            },
        );
        if self.crashes > 0 {
            row(&mut o, "engine SIGKILL restarts", self.crashes.to_string());
        }
        if !self.engine_restarts.is_empty() {
            row(
                &mut o,
                "early exits (restarted)",
                self.engine_restarts.len().to_string(),
            );
            for r in self.engine_restarts.iter().take(10) {
                let _ = writeln!(o, "    {r}");
            }
        }
        if let Some(j) = &self.journal_audit {
            write_journal_audit(&mut o, j);
        }
        if let Some(r) = &self.rest_audit {
            row(
                &mut o,
                "REST audit (venue lists)",
                format!(
                    "lost {}, duplicated fills {}, missed fills {}, phantom fills {}, \
                     phantom orders {}, qty {}, positions {}, unexpected {} ({} orders)",
                    r.lost,
                    r.duplicated_fills,
                    r.missed_fills,
                    r.phantom_fills,
                    r.phantom_orders,
                    r.qty_mismatches,
                    r.position_mismatches,
                    r.unexpected_venue_orders,
                    r.orders_checked
                ),
            );
        }
        row(
            &mut o,
            "secret check",
            if self.secret_leaks.is_empty() {
                format!("clean ({} files searched)", self.files_scanned)
            } else {
                format!("LEAKED in {}", self.secret_leaks.join(", "))
            },
        );
        if !self.latency_text.is_empty() {
            let _ = writeln!(o, "latency:\n{}", self.latency_text);
        }
        if let Some(r) = &self.rest_audit
            && !r.problems.is_empty()
        {
            let _ = writeln!(o, "first REST audit differences:");
            for p in r.problems.iter().take(20) {
                let _ = writeln!(o, "  {p}");
            }
        }
        if let Some(c) = &self.comparison
            && !c.problems.is_empty()
        {
            let _ = writeln!(o, "first differences:");
            for p in c.problems.iter().take(20) {
                let _ = writeln!(o, "  {p}");
            }
        }
        for s in &self.skipped_checks {
            let _ = writeln!(o, "skipped: {s}");
        }
        let failures = self.failures();
        if failures.is_empty() {
            let _ = writeln!(o, "RESULT: ok");
        } else {
            let _ = writeln!(o, "RESULT: FAIL — {}", failures.join("; "));
        }
        o
    }

    /// The same as one JSON object.
    pub fn to_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            ok: bool,
            failures: Vec<String>,
            mode: &'a str,
            seed: u64,
            duration_secs: f64,
            rate: u32,
            submitted: u64,
            acknowledged: u64,
            filled: u64,
            canceled: u64,
            expired: u64,
            rejected: u64,
            rejections_by_code: &'a [(i32, u64)],
            cancels_sent: u64,
            modifies_sent: u64,
            unknown_fates: u64,
            retries: u64,
            rate_limit_backoffs: u64,
            reconnects: u64,
            cancels_coalesced: u64,
            bad_frames_logged: u64,
            lost: u64,
            duplicated_fills: u64,
            mismatches: u64,
            missed_fills: u64,
            phantom_fills: u64,
            phantom_orders: u64,
            qty_mismatches: u64,
            position_mismatches: u64,
            unexpected_venue_orders: u64,
            fillable: u64,
            fillable_placed: u64,
            fillable_filled: u64,
            fill_rate: Option<f64>,
            faults: Vec<(&'static str, u64)>,
            faults_skipped: Vec<(&'static str, u64)>,
            crashes: u64,
            engine_restarts: &'a [String],
            journal_audit: Option<&'a JournalAudit>,
            rest_audit: Option<RestJson<'a>>,
            files_scanned: usize,
            secret_leaks: &'a [String],
            errors: &'a [String],
            skipped_checks: &'a [String],
            problems: &'a [String],
            notes: &'a [String],
            out_dir: &'a str,
        }
        let c = self.comparison.clone().unwrap_or_default();
        let out = Out {
            ok: self.failures().is_empty(),
            failures: self.failures(),
            mode: &self.mode,
            seed: self.seed,
            duration_secs: self.duration_secs,
            rate: self.rate,
            submitted: self.submitted,
            acknowledged: self.acknowledged,
            filled: self.filled,
            canceled: self.canceled,
            expired: self.expired,
            rejected: self.rejected,
            rejections_by_code: &self.rejections_by_code,
            cancels_sent: self.cancels_sent,
            modifies_sent: self.modifies_sent,
            unknown_fates: self.unknown_fates,
            retries: self.retries,
            rate_limit_backoffs: self.rate_limit_backoffs,
            reconnects: self.reconnects,
            cancels_coalesced: self.cancels_coalesced,
            bad_frames_logged: self.bad_frames_logged,
            lost: c.lost,
            duplicated_fills: c.duplicated_fills,
            mismatches: c.mismatches(),
            missed_fills: c.missed_fills,
            phantom_fills: c.phantom_fills,
            phantom_orders: c.phantom_orders,
            qty_mismatches: c.qty_mismatches,
            position_mismatches: c.position_mismatches,
            unexpected_venue_orders: c.unexpected_venue_orders,
            fillable: c.fillable,
            fillable_placed: c.fillable_placed,
            fillable_filled: c.fillable_filled,
            fill_rate: c.fill_rate(),
            faults: self
                .faults
                .by_kind
                .iter()
                .map(|(k, n)| (k.name(), *n))
                .collect(),
            faults_skipped: self
                .faults
                .skipped
                .iter()
                .map(|(k, n)| (k.name(), *n))
                .collect(),
            crashes: self.crashes,
            engine_restarts: &self.engine_restarts,
            journal_audit: self.journal_audit.as_ref(),
            rest_audit: self.rest_audit.as_ref().map(RestJson::from),
            files_scanned: self.files_scanned,
            secret_leaks: &self.secret_leaks,
            errors: &self.errors,
            skipped_checks: &self.skipped_checks,
            problems: &c.problems,
            notes: &c.notes,
            out_dir: &self.out_dir,
        };
        let mut s = sonic_rs::to_string(&out).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        // Splice the latency rows in as an object, not a string.
        if s.ends_with('}') && !self.latency_json.is_empty() {
            s.pop();
            s.push_str(",\"latency\":");
            s.push_str(&self.latency_json);
            s.push('}');
        }
        s
    }
}

/// The crash audit's rows in the text report.
fn write_journal_audit(o: &mut String, j: &JournalAudit) {
    let _ = writeln!(
        o,
        "  {:<26} {} incarnations, {} orders journaled / {} at the venue, {} fills journaled / {} at the venue",
        "journal audit",
        j.sessions,
        j.orders_journaled,
        j.venue_orders,
        j.journaled_fills,
        j.venue_fills
    );
    let _ = writeln!(
        o,
        "  {:<26} unjournaled orders {}, duplicate intents {}, unsettled {}, state {}, qty {}, conditional ack/trigger {}",
        "  orders",
        j.unjournaled_orders,
        j.duplicate_intents,
        j.unsettled_orders,
        j.state_mismatches,
        j.qty_mismatches,
        j.algo_mismatches
    );
    let _ = writeln!(
        o,
        "  {:<26} missed {}, duplicated {}, phantom {}, venue-generated (ADL/liquidation) not journaled {}; positions {} of {} differ",
        "  fills / positions",
        j.missed_fills,
        j.duplicate_fills,
        j.phantom_fills,
        j.unjournaled_external_fills,
        j.position_mismatches,
        j.positions_compared
    );
}

/// The REST audit's counts in the JSON report.
#[derive(serde::Serialize)]
struct RestJson<'a> {
    orders_checked: u64,
    lost: u64,
    duplicated_fills: u64,
    missed_fills: u64,
    phantom_fills: u64,
    phantom_orders: u64,
    qty_mismatches: u64,
    position_mismatches: u64,
    unexpected_venue_orders: u64,
    problems: &'a [String],
}

impl<'a> From<&'a Comparison> for RestJson<'a> {
    fn from(c: &'a Comparison) -> Self {
        RestJson {
            orders_checked: c.orders_checked,
            lost: c.lost,
            duplicated_fills: c.duplicated_fills,
            missed_fills: c.missed_fills,
            phantom_fills: c.phantom_fills,
            phantom_orders: c.phantom_orders,
            qty_mismatches: c.qty_mismatches,
            position_mismatches: c.position_mismatches,
            unexpected_venue_orders: c.unexpected_venue_orders,
            problems: &c.problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passing() -> SoakSummary {
        SoakSummary {
            comparison: Some(Comparison {
                fillable: 10,
                fillable_placed: 10,
                fillable_filled: 10,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn verdict_fails_on_each_kind_of_problem() {
        assert_eq!(passing().exit_code(), 0);
        let mut s = passing();
        s.comparison.as_mut().unwrap().lost = 1;
        assert_eq!(s.exit_code(), 1);
        let mut s = passing();
        s.comparison.as_mut().unwrap().duplicated_fills = 1;
        assert_eq!(s.exit_code(), 1);
        let mut s = passing();
        s.comparison.as_mut().unwrap().missed_fills = 1;
        assert_eq!(s.exit_code(), 1);
        let mut s = passing();
        s.comparison.as_mut().unwrap().fillable_filled = 9;
        assert!(s.failures()[0].contains("fill rate"));
        let mut s = passing();
        s.secret_leaks.push("out/x.log".into());
        assert_eq!(s.exit_code(), 1);
        let mut s = passing();
        s.comparison = None;
        assert_eq!(s.exit_code(), 1);
    }

    #[test]
    fn json_is_one_object_with_the_latency_spliced_in() {
        let mut s = passing();
        s.latency_json = "{\"rows\":[]}".into();
        let j = s.to_json();
        let v: sonic_rs::Value = sonic_rs::from_str(&j).unwrap();
        use sonic_rs::JsonValueTrait;
        assert_eq!(v.get("ok").and_then(|b| b.as_bool()), Some(true));
        assert!(v.get("latency").and_then(|l| l.get("rows")).is_some());
        assert_eq!(v.get("fill_rate").and_then(|r| r.as_f64()), Some(1.0));
    }
}
