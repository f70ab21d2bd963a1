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
//!
//! Why per-block ratios: the floor itself is not stable on a VM (its median
//! has been seen to jump between ~18 µs and ~70 µs from one minute to the
//! next), so one floor measured before or after the engine can make the
//! ratio wrong by 4× either way. Each engine block is divided by the mean of
//! the floor blocks measured right before and right after it; the median of
//! those ratios, with its spread, is the headline.

use super::alloc::{AllocTrace, EngineThread};
use super::floor::StreamBytes;
use super::run::{BenchOutcome, BenchSettings, BlockFloors, Venue};
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

/// Percentiles of one series, in nanoseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Series {
    /// Name (also the `.hgrm` file name).
    pub name: &'static str,
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
}

impl Series {
    fn of(name: &'static str, h: &Histogram<u64>) -> Series {
        let n = h.len();
        let q = |x: f64| if n == 0 { 0 } else { h.value_at_quantile(x) };
        Series {
            name,
            count: n,
            p50_ns: q(0.5),
            p90_ns: q(0.9),
            p99_ns: q(0.99),
            p999_ns: q(0.999),
            max_ns: if n == 0 { 0 } else { h.max() },
        }
    }
}

/// The spread of per-block ratios.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RatioSpread {
    /// Blocks with a ratio.
    pub blocks: usize,
    /// Median of the per-block ratios (the headline).
    pub median: f64,
    /// Smallest per-block ratio.
    pub min: f64,
    /// Largest per-block ratio.
    pub max: f64,
}

impl RatioSpread {
    /// `None` without ratios.
    pub fn of(ratios: impl IntoIterator<Item = f64>) -> Option<RatioSpread> {
        let mut v: Vec<f64> = ratios.into_iter().filter(|r| r.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v.get(n / 2).copied().unwrap_or(0.0)
        } else {
            (v.get(n / 2 - 1).copied().unwrap_or(0.0) + v.get(n / 2).copied().unwrap_or(0.0)) / 2.0
        };
        Some(RatioSpread {
            blocks: n,
            median,
            min: v.first().copied().unwrap_or(0.0),
            max: v.last().copied().unwrap_or(0.0),
        })
    }
}

/// One engine block against its neighbouring floor blocks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BlockRow {
    /// Block index (0-based).
    pub block: usize,
    /// Engine submit→ack samples in the block.
    pub orders: u64,
    /// Engine submit→ack p50 / p99 (strategy clock).
    pub engine_p50_ns: u64,
    /// Engine p99.
    pub engine_p99_ns: u64,
    /// Mean of the bare floor p50 before and after the block.
    pub bare_p50_ns: u64,
    /// Mean of the bare floor p99 before and after.
    pub bare_p99_ns: u64,
    /// Mean of the loaded floor p50 before and after (`None` when not measured).
    pub loaded_p50_ns: Option<u64>,
    /// Mean of the loaded floor p99 before and after.
    pub loaded_p99_ns: Option<u64>,
    /// engine p50 ÷ bare floor p50.
    pub ratio_bare: Option<f64>,
    /// engine p50 ÷ loaded floor p50.
    pub ratio_loaded: Option<f64>,
}

/// Engine blocks interleaved with floor blocks: pooled percentiles and
/// per-block ratios.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Interleaved {
    /// Engine blocks (floor blocks = blocks + 1).
    pub blocks: usize,
    /// Engine submit→ack, measured orders only, from the strategy's submit
    /// to its ack callback (pooled over blocks).
    pub engine_submit_to_ack: Series,
    /// The bare floor, pooled over floor blocks.
    pub floor_bare: Series,
    /// The loaded floor, pooled (`None` when not measured).
    pub floor_loaded: Option<Series>,
    /// Per-block p50 ratios to the bare floor.
    pub ratio_bare_p50: Option<RatioSpread>,
    /// Per-block p50 ratios to the loaded floor.
    pub ratio_loaded_p50: Option<RatioSpread>,
    /// Per-block p99 ratios to the bare floor.
    pub ratio_bare_p99: Option<RatioSpread>,
    /// Per-block p99 ratios to the loaded floor.
    pub ratio_loaded_p99: Option<RatioSpread>,
    /// The target for submit→ack p50 (× the floor).
    pub target_ratio_p50: f64,
    /// `PASS`/`FAIL` of the median bare ratio against the target.
    pub verdict_bare: &'static str,
    /// `PASS`/`FAIL` of the median loaded ratio (`-` without loaded floor).
    pub verdict_loaded: &'static str,
    /// Every block.
    pub per_block: Vec<BlockRow>,
    /// What the loaded floor's streams delivered.
    pub loaded_streams: StreamBytes,
}

/// The fill-to-strategy target for p99.
pub const FILL_TARGET_NS: u64 = 100_000;
/// The submit→ack p50 target, as a multiple of the floor.
pub const ACK_TARGET_RATIO: f64 = 3.0;

/// Exact exchange-fill-to-strategy: the simulator's matching instant to
/// the strategy's fill callback, same clock.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExactFill {
    /// Percentiles.
    pub series: Series,
    /// Measured fills whose matching instant was missing.
    pub unstamped: u64,
    /// The same fills split into hops (see [`super::flow::FILL_STAGES`]);
    /// empty when the stamps of a stage were missing.
    pub stages: Vec<Series>,
    /// The machine's bare thread-to-thread hop with the same wait strategy,
    /// measured in the same run on an idle engine ([`super::handoff`]): what
    /// each of the engine's two hand-offs costs at the least, so the hops
    /// above can be read as wake-up cost versus queueing behind other work.
    pub handoff: Option<Series>,
    /// The p99 target.
    pub target_ns: u64,
    /// `PASS`/`FAIL` of p99 against the target (`no data` without samples).
    pub verdict: &'static str,
}

/// Where traced allocations after warm-up come from, grouped by the
/// innermost frame in the crate's own code.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AllocSite {
    /// Engine thread.
    pub thread: &'static str,
    /// Innermost `src/…:line` of ours (`unknown` without one).
    pub site: String,
    /// Traced allocations at this site.
    pub count: u64,
    /// Bytes asked for by the first one.
    pub size_bytes: usize,
    /// What allocated, innermost first (symbol names).
    pub callee: Vec<String>,
    /// Our frames of the first one, innermost first.
    pub frames: Vec<String>,
}

fn mean2(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some((a + b) / 2),
        (x, None) | (None, x) => x,
    }
}

fn quantile(h: Option<&Histogram<u64>>, q: f64) -> Option<u64> {
    h.filter(|h| !h.is_empty()).map(|h| h.value_at_quantile(q))
}

fn merged(name: &'static str, hs: &[Histogram<u64>]) -> Series {
    let mut all = super::flow::latency_histogram();
    for h in hs {
        let _ = all.add(h);
    }
    Series::of(name, &all)
}

/// Builds the interleaved section from the flow's per-block acks and the
/// floors' per-block histograms.
pub fn interleaved(acks: &[Histogram<u64>], floors: &BlockFloors) -> Interleaved {
    let ratio = |e: u64, f: Option<u64>| f.filter(|f| *f > 0).map(|f| e as f64 / f as f64);
    let neighbours = |fs: &[Histogram<u64>], k: usize, q: f64| {
        mean2(quantile(fs.get(k), q), quantile(fs.get(k + 1), q))
    };
    let mut per_block = Vec::with_capacity(acks.len());
    for (k, h) in acks.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        let (e50, e99) = (h.value_at_quantile(0.5), h.value_at_quantile(0.99));
        let (b50, b99) = (
            neighbours(&floors.bare, k, 0.5),
            neighbours(&floors.bare, k, 0.99),
        );
        let (l50, l99) = (
            neighbours(&floors.loaded, k, 0.5),
            neighbours(&floors.loaded, k, 0.99),
        );
        per_block.push(BlockRow {
            block: k,
            orders: h.len(),
            engine_p50_ns: e50,
            engine_p99_ns: e99,
            bare_p50_ns: b50.unwrap_or(0),
            bare_p99_ns: b99.unwrap_or(0),
            loaded_p50_ns: l50,
            loaded_p99_ns: l99,
            ratio_bare: ratio(e50, b50),
            ratio_loaded: ratio(e50, l50),
        });
    }
    let spread =
        |f: &dyn Fn(&BlockRow) -> Option<f64>| RatioSpread::of(per_block.iter().filter_map(f));
    let ratio_bare_p50 = spread(&|b| b.ratio_bare);
    let ratio_loaded_p50 = spread(&|b| b.ratio_loaded);
    let ratio_bare_p99 = spread(&|b| ratio(b.engine_p99_ns, Some(b.bare_p99_ns)));
    let ratio_loaded_p99 = spread(&|b| ratio(b.engine_p99_ns, b.loaded_p99_ns));
    let verdict = |r: &Option<RatioSpread>| match r {
        None => "-",
        Some(r) if r.median <= ACK_TARGET_RATIO => "PASS",
        Some(_) => "FAIL",
    };
    Interleaved {
        blocks: acks.len(),
        engine_submit_to_ack: merged("submit_to_ack_measured", acks),
        floor_bare: merged("floor", &floors.bare),
        floor_loaded: (!floors.loaded.is_empty()).then(|| merged("floor_loaded", &floors.loaded)),
        verdict_bare: verdict(&ratio_bare_p50),
        verdict_loaded: verdict(&ratio_loaded_p50),
        ratio_bare_p50,
        ratio_loaded_p50,
        ratio_bare_p99,
        ratio_loaded_p99,
        target_ratio_p50: ACK_TARGET_RATIO,
        per_block,
        loaded_streams: floors.loaded_streams,
    }
}

/// Groups traces by their innermost frame of ours.
pub fn alloc_sites(traces: &[AllocTrace]) -> Vec<AllocSite> {
    let mut sites: Vec<AllocSite> = Vec::new();
    for t in traces {
        let frames = t.our_frames();
        let site = frames.first().cloned().unwrap_or_else(|| "unknown".into());
        let thread = t.thread.as_str();
        if let Some(s) = sites
            .iter_mut()
            .find(|s| s.site == site && s.thread == thread)
        {
            s.count += 1;
            continue;
        }
        sites.push(AllocSite {
            thread,
            site,
            count: 1,
            size_bytes: t.size,
            callee: t.callee_frames(4),
            frames: frames.into_iter().take(8).collect(),
        });
    }
    sites.sort_by_key(|s| std::cmp::Reverse(s.count));
    sites
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
    /// Engine blocks interleaved with bare and loaded floor blocks.
    pub interleaved: Option<Interleaved>,
    /// Exact fill-to-strategy (in-process simulator only).
    pub fill_exact: Option<ExactFill>,
    /// Allocation sites after warm-up (`--alloc-trace` only).
    pub alloc_trace: Option<Vec<AllocSite>>,
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
        let (interleaved, fill_exact) = {
            let l = super::flow::lock(&f.latency);
            let il = out.floors.as_ref().map(|fl| interleaved(&l.block_acks, fl));
            let fe = (!l.exact_fill.is_empty() || l.unstamped_fills > 0).then(|| {
                let series = Series::of("fill_exact", &l.exact_fill);
                ExactFill {
                    verdict: if series.count == 0 {
                        "no data"
                    } else if series.p99_ns < FILL_TARGET_NS {
                        "PASS"
                    } else {
                        "FAIL"
                    },
                    series,
                    unstamped: l.unstamped_fills,
                    stages: super::flow::FILL_STAGES
                        .iter()
                        .zip(&l.fill_stages)
                        .filter(|(_, h)| !h.is_empty())
                        .map(|(n, h)| Series::of(n, h))
                        .collect(),
                    handoff: out
                        .handoff
                        .as_ref()
                        .filter(|h| !h.is_empty())
                        .map(|h| Series::of("handoff_floor", h)),
                    target_ns: FILL_TARGET_NS,
                }
            });
            (il, fe)
        };
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
                    Venue::InProcess if s.event_first => {
                        "in-process simulator (events before replies)".into()
                    }
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
            interleaved,
            fill_exact,
            alloc_trace: None,
        }
    }

    /// Adds the allocation sites of an `--alloc-trace` run.
    pub fn set_alloc_trace(&mut self, traces: &[AllocTrace]) {
        self.alloc_trace = Some(alloc_sites(traces));
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
        // The series the table adds: measured-only submit→ack (per-block
        // histograms pooled), the loaded floor and the exact fill.
        let f = &out.flow;
        let l = super::flow::lock(&f.latency);
        let mut extra: Vec<(&str, Histogram<u64>)> = Vec::new();
        let mut pooled = super::flow::latency_histogram();
        for h in &l.block_acks {
            let _ = pooled.add(h);
        }
        extra.push(("submit_to_ack_measured", pooled));
        extra.push(("fill_exact", l.exact_fill.clone()));
        for (n, h) in super::flow::FILL_STAGES.iter().zip(&l.fill_stages) {
            if !h.is_empty() {
                extra.push((n, h.clone()));
            }
        }
        drop(l);
        if let Some(fl) = &out.floors {
            let mut pooled = super::flow::latency_histogram();
            for h in &fl.loaded {
                let _ = pooled.add(h);
            }
            extra.push(("floor_loaded", pooled));
        }
        for (name, h) in extra.iter().filter(|(_, h)| !h.is_empty()) {
            let file = dir.join(format!("{name}.hgrm"));
            write_hgrm(
                h,
                1000.0,
                std::io::BufWriter::new(std::fs::File::create(&file)?),
            )?;
            self.files.push(file);
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
        self.interleaved_text(&mut o);
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
        if let Some(sites) = &self.alloc_trace {
            let _ = writeln!(o, "allocation trace after warm-up ({} sites):", sites.len());
            for s in sites {
                let _ = writeln!(
                    o,
                    "  {:>4}× {:<9} {} ({} B) via {}",
                    s.count,
                    s.thread,
                    s.site,
                    s.size_bytes,
                    s.callee.join(" ← ")
                );
                for fr in s.frames.iter().skip(1).take(5) {
                    let _ = writeln!(o, "          ← {fr}");
                }
            }
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

impl BenchReport {
    /// The interleaved and exact-fill part of the table.
    fn interleaved_text(&self, o: &mut String) {
        let us = |ns: u64| ns as f64 / 1000.0;
        let line = |o: &mut String, label: &str, s: &Series, extra: &str| {
            let _ = writeln!(
                o,
                "{:<34} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}  {}",
                label,
                s.count,
                us(s.p50_ns),
                us(s.p90_ns),
                us(s.p99_ns),
                us(s.p999_ns),
                us(s.max_ns),
                extra
            );
        };
        let spread = |r: &Option<RatioSpread>| {
            r.as_ref().map_or_else(
                || "-".to_string(),
                |r| format!("{:.2}× (min {:.2}, max {:.2})", r.median, r.min, r.max),
            )
        };
        if let Some(il) = &self.interleaved {
            let _ = writeln!(
                o,
                "interleaved: {} engine blocks, each between two floor blocks (same run, same simulator)",
                il.blocks
            );
            let _ = writeln!(
                o,
                "{:<34} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
                "series (µs)", "count", "p50", "p90", "p99", "p99.9", "max"
            );
            line(
                o,
                "submit→ack (measured, strategy)",
                &il.engine_submit_to_ack,
                "",
            );
            line(o, "floor bare (request/response)", &il.floor_bare, "");
            if let Some(l) = &il.floor_loaded {
                let b = &il.loaded_streams;
                line(
                    o,
                    "floor loaded (+user & market WS)",
                    l,
                    &format!(
                        "read {} user / {} market frames",
                        b.user_frames, b.market_frames
                    ),
                );
            }
            if let Some(fe) = &self.fill_exact {
                line(
                    o,
                    "fill→strategy exact (sim match)",
                    &fe.series,
                    &format!(
                        "p99 target < {} µs: {}{}",
                        fe.target_ns / 1000,
                        fe.verdict,
                        if fe.unstamped > 0 {
                            format!(" ({} unstamped)", fe.unstamped)
                        } else {
                            String::new()
                        }
                    ),
                );
                for st in &fe.stages {
                    line(o, &format!("  └ {}", st.name), st, "");
                }
                if let Some(h) = &fe.handoff {
                    line(
                        o,
                        "thread hand-off floor",
                        h,
                        "one bare hop, same wait, idle engine",
                    );
                }
            }
            let _ = writeln!(
                o,
                "submit→ack ÷ floor, median of per-block ratios: p50 ×bare {} [{}], ×loaded {} [{}] (target ≤ {:.0}×); p99 ×bare {}, ×loaded {}",
                spread(&il.ratio_bare_p50),
                il.verdict_bare,
                spread(&il.ratio_loaded_p50),
                il.verdict_loaded,
                il.target_ratio_p50,
                spread(&il.ratio_bare_p99),
                spread(&il.ratio_loaded_p99),
            );
            let _ = writeln!(
                o,
                "  block  orders  engine p50  bare p50  loaded p50  ×bare  ×loaded"
            );
            let opt_us = |x: Option<u64>| x.map_or_else(|| "-".into(), |x| format!("{:.1}", us(x)));
            let opt_r = |x: Option<f64>| x.map_or_else(|| "-".into(), |x| format!("{x:.2}"));
            for b in &il.per_block {
                let _ = writeln!(
                    o,
                    "  {:>5} {:>7} {:>11.1} {:>9.1} {:>11} {:>6} {:>8}",
                    b.block,
                    b.orders,
                    us(b.engine_p50_ns),
                    us(b.bare_p50_ns),
                    opt_us(b.loaded_p50_ns),
                    opt_r(b.ratio_bare),
                    opt_r(b.ratio_loaded),
                );
            }
        } else if let Some(fe) = &self.fill_exact {
            line(o, "fill→strategy exact (sim match)", &fe.series, fe.verdict);
        }
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
