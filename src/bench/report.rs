//! The benchmark's report: per-path percentiles with the ratio to the floor,
//! budget verdicts, throughput, allocations per cycle and peak RSS — as a
//! table, as one JSON object, and as `.hgrm` files plus an SVG percentile
//! plot in the output directory.
//!
//! Why ratios: absolute microseconds on a shared machine move with the
//! neighbours' load; the engine's round trip divided by the floor's, measured
//! minutes apart against the same simulator, moves much less. Why
//! allocations per cycle: "no allocation on the hot path" is checkable only
//! if someone counts.

use super::alloc::EngineThread;
use super::run::{BenchOutcome, BenchSettings, Venue};
use crate::latency::{Budgets, LatencyPath, plot_histograms, write_hgrm};
use hdrhistogram::Histogram;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// One latency path's summary, in nanoseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PathRow {
    /// `submit_to_ack`, `fill_to_strategy`, `strategy_to_wire`,
    /// `wire_to_strategy` or `floor`.
    pub path: &'static str,
    /// Samples.
    pub count: u64,
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
    /// p50 divided by the floor's p50 (`None` without floor or samples).
    pub ratio_p50: Option<f64>,
    /// p99 divided by the floor's p99.
    pub ratio_p99: Option<f64>,
    /// The path's budget, if it has one.
    pub budget_ns: Option<u64>,
    /// `PASS` / `FAIL` on p99 against the budget, `-` without a budget,
    /// `no data` without samples.
    pub verdict: &'static str,
}

fn row(
    path: LatencyPath,
    h: &Histogram<u64>,
    floor: Option<&Histogram<u64>>,
    b: &Budgets,
) -> PathRow {
    let n = h.len();
    let q = |x: f64| if n == 0 { 0 } else { h.value_at_quantile(x) };
    let ratio = |x: f64| {
        let f = floor.filter(|f| !f.is_empty())?;
        (n > 0).then(|| q(x) as f64 / f.value_at_quantile(x).max(1) as f64)
    };
    let budget_ns = b.budget_ns(path);
    let verdict = match (n, budget_ns) {
        (0, _) => "no data",
        (_, None) => "-",
        (_, Some(limit)) if q(0.99) <= limit => "PASS",
        _ => "FAIL",
    };
    PathRow {
        path: path.as_str(),
        count: n,
        p50_ns: q(0.5),
        p90_ns: q(0.9),
        p99_ns: q(0.99),
        p999_ns: q(0.999),
        max_ns: if n == 0 { 0 } else { h.max() },
        ratio_p50: ratio(0.5),
        ratio_p99: ratio(0.99),
        budget_ns,
        verdict,
    }
}

/// Allocation accounting of the measured phase.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Allocations {
    /// Heap allocations by the three engine threads during the measured orders.
    pub total: u64,
    /// `total` divided by measured cycles.
    pub per_cycle: f64,
    /// Per thread (`network`, `execution`, `strategy`).
    pub per_thread: Vec<(&'static str, u64)>,
}

/// What the flow counted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrderCounts {
    /// Orders submitted, warm-up included.
    pub sent: u64,
    /// Cycles that reached a final state, warm-up included.
    pub completed: u64,
    /// Measured cycles (after warm-up).
    pub measured: u64,
    /// Acks.
    pub acked: u64,
    /// Fully filled.
    pub filled: u64,
    /// Cancelled.
    pub canceled: u64,
    /// Expired.
    pub expired: u64,
    /// Rejected (any code).
    pub rejected: u64,
    /// Rejected for rate limits (-1003/-1015).
    pub throttled: u64,
    /// Times the engine's rate limiter held an order back.
    pub rate_limit_backoffs: u64,
}

/// How the run was set up (echoed so saved reports are self-describing).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunSetup {
    /// `rest` or `ws_api`.
    pub entry: &'static str,
    /// Wait strategy per thread (network, execution, strategy).
    pub wait: [&'static str; 3],
    /// Pinned cores per thread, if any.
    pub cores: [Option<usize>; 3],
    /// TLS on the venue connection.
    pub tls: bool,
    /// Orders per second asked for (0 = back to back).
    pub rate_per_sec: u64,
    /// Measured orders asked for.
    pub orders: u64,
    /// Warm-up orders.
    pub warmup: u64,
    /// `in-process`, the simulator URL, or the config file.
    pub venue: String,
}

/// The whole report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// True when the run completed and every measured order reached a final state.
    pub ok: bool,
    /// The first error, if any.
    pub error: Option<String>,
    /// Setup.
    pub setup: RunSetup,
    /// The budgets judged against.
    pub budgets: Budgets,
    /// One row per path, the floor last.
    pub paths: Vec<PathRow>,
    /// Measured orders per second.
    pub orders_per_sec: f64,
    /// Order counts.
    pub orders: OrderCounts,
    /// Allocations after warm-up; `None` = not measured (counting allocator
    /// not installed, or the run did not finish).
    pub allocations: Option<Allocations>,
    /// Peak RSS in bytes; `None` = unavailable on this OS.
    pub peak_rss_bytes: Option<u64>,
    /// Where the files went (`.hgrm` per path, `latency.svg`, `report.json`).
    pub files: Vec<PathBuf>,
}

impl BenchReport {
    /// Builds the report from a finished run.
    pub fn new(s: &BenchSettings, out: &BenchOutcome) -> BenchReport {
        let cfg = &out.config;
        let budgets = Budgets {
            submit_ack_ms: cfg.latency.submit_ack.as_millis() as u64,
            fill_notify_ms: cfg.latency.fill_notify.as_millis() as u64,
        };
        let floor_h = out
            .floor
            .as_ref()
            .and_then(|f| f.recorder.histogram(LatencyPath::Floor));
        let empty = crate::latency::LatencyRecorder::new();
        let mut paths = Vec::with_capacity(LatencyPath::COUNT);
        for p in LatencyPath::ALL {
            let h = if p == LatencyPath::Floor {
                floor_h
            } else {
                out.summary.as_ref().and_then(|s| s.latency.histogram(p))
            };
            if let Some(h) = h.or_else(|| empty.histogram(p)) {
                paths.push(row(p, h, floor_h, &budgets));
            }
        }
        let f = &out.flow;
        let completed = f.completed.load(Ordering::Relaxed);
        let measured = completed.saturating_sub(s.warmup).min(s.orders);
        let done = f.done.load(Ordering::Acquire);
        let allocations = f.measured_allocations().filter(|_| done).map(|per| {
            let total: u64 = per.iter().sum();
            Allocations {
                total,
                per_cycle: if measured == 0 {
                    0.0
                } else {
                    total as f64 / measured as f64
                },
                per_thread: EngineThread::ALL
                    .iter()
                    .zip(per)
                    .map(|(t, n)| (t.as_str(), n))
                    .collect(),
            }
        });
        let counters = out.summary.as_ref().map(|s| &s.counters);
        let error = out
            .error
            .as_ref()
            .map(|e| e.to_string())
            .or_else(|| f.failure());
        let ok = error.is_none() && done && measured == s.orders;
        let threads = [
            cfg.threads.network,
            cfg.threads.execution,
            cfg.threads.strategy,
        ];
        BenchReport {
            ok,
            error,
            setup: RunSetup {
                entry: cfg.order_entry.as_str(),
                wait: threads.map(|t| t.wait.as_str()),
                cores: threads.map(|t| t.core),
                tls: cfg.base_url_http.url.starts_with("https"),
                rate_per_sec: s.rate_per_sec,
                orders: s.orders,
                warmup: s.warmup,
                venue: match &s.venue {
                    Venue::InProcess => "in-process simulator".into(),
                    Venue::SimUrl(u) => u.clone(),
                    Venue::ConfigFile(p) => p.display().to_string(),
                },
            },
            budgets,
            paths,
            orders_per_sec: if done {
                f.orders_per_sec(measured)
            } else {
                0.0
            },
            orders: OrderCounts {
                sent: f.sent.load(Ordering::Relaxed),
                completed,
                measured,
                acked: f.acked.load(Ordering::Relaxed),
                filled: f.filled.load(Ordering::Relaxed),
                canceled: f.canceled.load(Ordering::Relaxed),
                expired: f.expired.load(Ordering::Relaxed),
                rejected: f.rejected.load(Ordering::Relaxed),
                throttled: f.throttled.load(Ordering::Relaxed),
                rate_limit_backoffs: counters.map_or(0, |c| c.rate_limit_backoffs),
            },
            allocations,
            peak_rss_bytes: super::rss::peak_rss_bytes(),
            files: Vec::new(),
        }
    }

    /// Writes `<path>.hgrm` for every path with samples, `latency.svg` and
    /// `report.json` into `dir` (created), and lists them in `files`.
    pub fn write_files(&mut self, out: &BenchOutcome, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let floor_h = out
            .floor
            .as_ref()
            .and_then(|f| f.recorder.histogram(LatencyPath::Floor));
        let mut series: Vec<(LatencyPath, &Histogram<u64>)> = Vec::new();
        for p in LatencyPath::ALL {
            let h = if p == LatencyPath::Floor {
                floor_h
            } else {
                out.summary.as_ref().and_then(|s| s.latency.histogram(p))
            };
            let Some(h) = h.filter(|h| !h.is_empty()) else {
                continue;
            };
            let file = dir.join(format!("{}.hgrm", p.as_str()));
            write_hgrm(
                h,
                1000.0,
                std::io::BufWriter::new(std::fs::File::create(&file)?),
            )?;
            self.files.push(file);
            series.push((p, h));
        }
        let svg = dir.join("latency.svg");
        plot_histograms(series, &self.budgets, &svg).map_err(std::io::Error::other)?;
        self.files.push(svg);
        let json = dir.join("report.json");
        self.files.push(json.clone());
        std::fs::write(&json, self.to_json())?;
        Ok(())
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> String {
        sonic_rs::to_string(self)
            .unwrap_or_else(|e| format!("{{\"ok\":false,\"error\":{:?}}}", e.to_string()))
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let s = &self.setup;
        let cores = |c: Option<usize>| c.map_or_else(|| "-".to_string(), |c| c.to_string());
        let _ = writeln!(
            o,
            "bench: {} orders ({} warm-up) {} over {}{}, {}; wait net/exec/strategy = {}/{}/{}, cores {}/{}/{}",
            s.orders,
            s.warmup,
            if s.rate_per_sec == 0 {
                "back to back".to_string()
            } else {
                format!("at {} orders/s", s.rate_per_sec)
            },
            s.entry,
            if s.tls { " (TLS)" } else { "" },
            s.venue,
            s.wait[0],
            s.wait[1],
            s.wait[2],
            cores(s.cores[0]),
            cores(s.cores[1]),
            cores(s.cores[2]),
        );
        let _ = writeln!(
            o,
            "{:<17} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8}",
            "path (µs)",
            "count",
            "p50",
            "p90",
            "p99",
            "p99.9",
            "max",
            "×floor50",
            "×floor99",
            "budget",
            "verdict"
        );
        let us = |ns: u64| ns as f64 / 1000.0;
        let ratio = |r: Option<f64>| r.map_or_else(|| "-".to_string(), |r| format!("{r:.2}"));
        for r in &self.paths {
            let _ = writeln!(
                o,
                "{:<17} {:>7} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>8} {:>8} {:>8} {:>8}",
                r.path,
                r.count,
                us(r.p50_ns),
                us(r.p90_ns),
                us(r.p99_ns),
                us(r.p999_ns),
                us(r.max_ns),
                ratio(r.ratio_p50),
                ratio(r.ratio_p99),
                r.budget_ns
                    .map_or_else(|| "-".to_string(), |b| format!("{}ms", b / 1_000_000)),
                r.verdict,
            );
        }
        let c = &self.orders;
        let _ = writeln!(
            o,
            "orders/s {:.0} | measured {} of {} sent: acked {} filled {} canceled {} expired {} rejected {} throttled {} (limiter holds {})",
            self.orders_per_sec,
            c.measured,
            c.sent,
            c.acked,
            c.filled,
            c.canceled,
            c.expired,
            c.rejected,
            c.throttled,
            c.rate_limit_backoffs
        );
        match &self.allocations {
            Some(a) => {
                let per: Vec<String> = a
                    .per_thread
                    .iter()
                    .map(|(t, n)| format!("{t} {n}"))
                    .collect();
                let _ = writeln!(
                    o,
                    "allocations/cycle after warm-up {:.3} ({} total: {})",
                    a.per_cycle,
                    a.total,
                    per.join(", ")
                );
            }
            None => {
                let _ = writeln!(o, "allocations/cycle after warm-up: not measured");
            }
        }
        match self.peak_rss_bytes {
            Some(b) => {
                let _ = writeln!(o, "peak RSS {:.1} MiB", b as f64 / (1024.0 * 1024.0));
            }
            None => {
                let _ = writeln!(o, "peak RSS unavailable");
            }
        }
        if let Some(dir) = self.files.first().and_then(|f| f.parent()) {
            let _ = writeln!(
                o,
                "files: {} (.hgrm per path, latency.svg, report.json)",
                dir.display()
            );
        }
        if let Some(e) = &self.error {
            let _ = writeln!(o, "error: {e}");
        }
        let _ = writeln!(
            o,
            "{}",
            if self.ok {
                "RESULT: ok"
            } else {
                "RESULT: FAIL"
            }
        );
        o
    }
}

/// `target/bench/<UTC yyyymmdd-hhmmss>`: a fresh directory per run.
pub fn default_out_dir() -> PathBuf {
    let secs = crate::latency::wall_ns().max(0) / 1_000_000_000;
    PathBuf::from("target").join("bench").join(utc_stamp(secs))
}

/// `yyyymmdd-hhmmss` of a Unix time in seconds (UTC, proleptic Gregorian).
pub fn utc_stamp(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let rem = unix_secs.rem_euclid(86_400);
    // Howard Hinnant's days-from-civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        assert_eq!(utc_stamp(1_795_000_000 + 59), "20261118-110739");
    }

    #[test]
    fn rows_have_ratios_and_verdicts() {
        let mut h = crate::latency::LatencyRecorder::new();
        let mut f = crate::latency::LatencyRecorder::new();
        for _ in 0..100 {
            h.record(LatencyPath::SubmitToAck, 200_000);
            f.record(LatencyPath::Floor, 50_000);
        }
        let (Some(h), Some(f)) = (
            h.histogram(LatencyPath::SubmitToAck),
            f.histogram(LatencyPath::Floor),
        ) else {
            panic!("histograms exist");
        };
        let r = row(LatencyPath::SubmitToAck, h, Some(f), &Budgets::default());
        assert_eq!((r.count, r.verdict), (100, "PASS"));
        assert!(r.ratio_p50.is_some_and(|x| (x - 4.0).abs() < 0.01), "{r:?}");
        let none = row(LatencyPath::StrategyToWire, f, None, &Budgets::default());
        assert_eq!((none.verdict, none.ratio_p99), ("-", None));
    }
}
