//! Merged latency report with budget verdicts.
//!
//! The budgets are the promises made to users (an order acknowledged within
//! 100 ms, a fill delivered to the strategy within 50 ms); the report says
//! plainly whether the measured p99 kept them, and how many samples did not.

use super::hgrm::write_hgrm;
use super::recorder::{LatencyPath, LatencyRecorder, new_histogram};
use hdrhistogram::Histogram;
use std::fmt;
use std::io::{self, Write};

/// Latency promises, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Budgets {
    /// Wire → venue acknowledgement.
    pub submit_ack_ms: u64,
    /// Fill received → strategy notified.
    pub fill_notify_ms: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            submit_ack_ms: 100,
            fill_notify_ms: 50,
        }
    }
}

impl Budgets {
    /// The budget of `path` in nanoseconds, if it has one.
    pub fn budget_ns(&self, path: LatencyPath) -> Option<u64> {
        match path {
            LatencyPath::SubmitToAck => Some(self.submit_ack_ms.saturating_mul(1_000_000)),
            LatencyPath::FillToStrategy => Some(self.fill_notify_ms.saturating_mul(1_000_000)),
            _ => None,
        }
    }
}

/// Whether a path kept its budget (judged on p99).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Verdict {
    /// p99 within budget.
    Pass,
    /// p99 over budget.
    Fail,
    /// The path has no budget.
    NoBudget,
    /// No samples: nothing can be claimed.
    NoData,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::NoBudget => "-",
            Verdict::NoData => "no data",
        }
    }
}

/// One path's summary, in nanoseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReportRow {
    /// The path.
    pub path: LatencyPath,
    /// Samples.
    pub count: u64,
    /// Samples clamped into 1 ns..60 s.
    pub clamped: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Maximum.
    pub max_ns: u64,
    /// Mean.
    pub mean_ns: f64,
    /// Budget, if the path has one.
    pub budget_ns: Option<u64>,
    /// Samples above the budget.
    pub over_budget: u64,
    /// Verdict on p99.
    pub verdict: Verdict,
}

/// Why merging failed (histograms with other bounds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LatencyError {
    /// hdrhistogram refused the addition.
    #[error("cannot merge {path} histogram: {reason}")]
    Merge {
        /// Path name.
        path: &'static str,
        /// hdrhistogram's reason.
        reason: String,
    },
}

/// The merged view of all recorders.
#[derive(Clone)]
pub struct LatencyReport {
    hists: Vec<Histogram<u64>>,
    clamped: [u64; LatencyPath::COUNT],
    budgets: Budgets,
}

impl fmt::Debug for LatencyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencyReport")
            .field("budgets", &self.budgets)
            .field("rows", &self.rows())
            .finish()
    }
}

impl LatencyReport {
    /// An empty report judged against `budgets`.
    pub fn new(budgets: Budgets) -> Self {
        LatencyReport {
            hists: (0..LatencyPath::COUNT).map(|_| new_histogram()).collect(),
            clamped: [0; LatencyPath::COUNT],
            budgets,
        }
    }

    /// Adds one thread's samples.
    pub fn merge(&mut self, rec: &LatencyRecorder) -> Result<(), LatencyError> {
        for path in LatencyPath::ALL {
            let i = path.index();
            if let (Some(dst), Some(src)) = (self.hists.get_mut(i), rec.histogram(path)) {
                dst.add(src).map_err(|e| LatencyError::Merge {
                    path: path.as_str(),
                    reason: format!("{e:?}"),
                })?;
            }
            if let Some(c) = self.clamped.get_mut(i) {
                *c += rec.clamped(path);
            }
        }
        Ok(())
    }

    /// The merged histogram of `path`.
    pub fn histogram(&self, path: LatencyPath) -> Option<&Histogram<u64>> {
        self.hists.get(path.index())
    }

    /// One row per path, in [`LatencyPath::ALL`] order.
    pub fn rows(&self) -> Vec<ReportRow> {
        LatencyPath::ALL
            .iter()
            .filter_map(|&path| {
                let h = self.hists.get(path.index())?;
                let count = h.len();
                let q = |x: f64| {
                    if count == 0 {
                        0
                    } else {
                        h.value_at_quantile(x)
                    }
                };
                let budget_ns = self.budgets.budget_ns(path);
                let p99 = q(0.99);
                let over_budget = match budget_ns {
                    Some(b) if count > 0 && h.max() > b => {
                        h.count_between(b.saturating_add(1), h.max())
                    }
                    _ => 0,
                };
                let verdict = match (count, budget_ns) {
                    (0, _) => Verdict::NoData,
                    (_, None) => Verdict::NoBudget,
                    (_, Some(b)) if p99 <= b => Verdict::Pass,
                    _ => Verdict::Fail,
                };
                Some(ReportRow {
                    path,
                    count,
                    clamped: self.clamped.get(path.index()).copied().unwrap_or(0),
                    p50_ns: q(0.50),
                    p90_ns: q(0.90),
                    p99_ns: p99,
                    p999_ns: q(0.999),
                    max_ns: if count == 0 { 0 } else { h.max() },
                    mean_ns: if count == 0 { 0.0 } else { h.mean() },
                    budget_ns,
                    over_budget,
                    verdict,
                })
            })
            .collect()
    }

    /// The rows as JSON (`{"budgets":..,"rows":[..]}`), for scripts and CI.
    pub fn to_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            budgets: &'a Budgets,
            rows: Vec<ReportRow>,
        }
        sonic_rs::to_string(&Out {
            budgets: &self.budgets,
            rows: self.rows(),
        })
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Writes `path`'s distribution in `.hgrm` format, values in µs.
    pub fn write_hgrm<W: Write>(&self, path: LatencyPath, out: W) -> io::Result<()> {
        match self.histogram(path) {
            Some(h) => write_hgrm(h, 1000.0, out),
            None => Ok(()),
        }
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

impl fmt::Display for LatencyReport {
    /// A fixed-width table in microseconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<18} {:>9} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>8}",
            "path (µs)", "count", "p50", "p90", "p99", "p99.9", "max", "budget", "verdict"
        )?;
        for r in self.rows() {
            let budget = r
                .budget_ns
                .map_or_else(|| "-".to_string(), |b| format!("{:.0}", us(b)));
            write!(
                f,
                "{:<18} {:>9} {:>11.3} {:>11.3} {:>11.3} {:>11.3} {:>11.3} {:>11} {:>8}",
                r.path.as_str(),
                r.count,
                us(r.p50_ns),
                us(r.p90_ns),
                us(r.p99_ns),
                us(r.p999_ns),
                us(r.max_ns),
                budget,
                r.verdict.as_str()
            )?;
            if r.clamped > 0 {
                write!(f, "  ({} clamped)", r.clamped)?;
            }
            if r.over_budget > 0 {
                write!(f, "  ({} over budget)", r.over_budget)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_rows_and_verdicts() {
        let mut a = LatencyRecorder::new();
        let mut b = LatencyRecorder::new();
        // SubmitToAck: 99 fast samples (1 ms) on one thread, 1 slow (300 ms) on another.
        for _ in 0..99 {
            a.record(LatencyPath::SubmitToAck, 1_000_000);
        }
        b.record(LatencyPath::SubmitToAck, 300_000_000);
        // FillToStrategy: all 80 ms, over its 50 ms budget.
        for _ in 0..10 {
            b.record(LatencyPath::FillToStrategy, 80_000_000);
        }
        a.record(LatencyPath::Floor, 0);
        let mut r = LatencyReport::new(Budgets::default());
        r.merge(&a).unwrap();
        r.merge(&b).unwrap();
        let rows = r.rows();
        assert_eq!(rows.len(), LatencyPath::COUNT);
        let ack = &rows[0];
        assert_eq!((ack.path, ack.count), (LatencyPath::SubmitToAck, 100));
        assert!(ack.p50_ns.abs_diff(1_000_000) <= 1_000);
        assert!(ack.max_ns.abs_diff(300_000_000) <= 300_000);
        assert_eq!(ack.budget_ns, Some(100_000_000));
        assert_eq!(ack.over_budget, 1);
        assert_eq!(ack.verdict, Verdict::Pass);
        let fill = &rows[1];
        assert_eq!((fill.verdict, fill.over_budget), (Verdict::Fail, 10));
        assert_eq!(rows[2].verdict, Verdict::NoData);
        let floor = &rows[4];
        assert_eq!((floor.verdict, floor.clamped), (Verdict::NoBudget, 1));

        let table = r.to_string();
        assert!(table.contains("submit_to_ack") && table.contains("PASS"));
        assert!(table.contains("FAIL") && table.contains("(10 over budget)"));
        assert!(
            table.contains("1000.") || table.contains("1001."),
            "{table}"
        );

        let json: sonic_rs::Value = sonic_rs::from_str(&r.to_json()).unwrap();
        use sonic_rs::JsonValueTrait;
        let row0 = json.get("rows").and_then(|v| v.get(0)).unwrap();
        assert_eq!(
            row0.get("path").and_then(|v| v.as_str()),
            Some("SubmitToAck")
        );
        assert_eq!(row0.get("count").and_then(|v| v.as_u64()), Some(100));
        assert_eq!(row0.get("verdict").and_then(|v| v.as_str()), Some("Pass"));
        assert_eq!(
            json.get("budgets")
                .and_then(|b| b.get("submit_ack_ms"))
                .and_then(|v| v.as_u64()),
            Some(100)
        );

        let mut hgrm = Vec::new();
        r.write_hgrm(LatencyPath::SubmitToAck, &mut hgrm).unwrap();
        assert!(
            String::from_utf8(hgrm)
                .unwrap()
                .contains("Total count    =          100")
        );
    }
}
