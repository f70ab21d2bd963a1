//! Always-on latency recording and budget reports.
//!
//! The engine promises to tell the truth about latency, so every order's
//! path is measured in production, not only in benchmarks: each thread owns
//! a [`LatencyRecorder`] (preallocated HdrHistograms, so recording never
//! allocates or locks), and the recorders are merged into a
//! [`LatencyReport`] for the human table, JSON, `.hgrm` files that the
//! standard HdrHistogram plotters read, and our own SVG percentile plots
//! ([`plot`]).
//!
//! ```
//! use binance_exec::latency::{Budgets, LatencyRecorder, LatencyReport, LatencyPath};
//! let mut rec = LatencyRecorder::new();
//! rec.record(LatencyPath::SubmitToAck, 2_500_000); // 2.5 ms
//! let mut report = LatencyReport::new(Budgets::default());
//! report.merge(&rec).unwrap();
//! let row = &report.rows()[0];
//! assert_eq!(row.count, 1);
//! ```
pub mod clock;
pub mod hgrm;
pub mod plot;
pub mod recorder;
pub mod report;

pub use clock::{now_ns, wall_ns};
pub use hgrm::write_hgrm;
pub use plot::{PlotError, plot_histograms, plot_percentiles};
pub use recorder::{LatencyPath, LatencyRecorder, MAX_NS, MIN_NS, SIGFIG};
pub use report::{Budgets, LatencyError, LatencyReport, ReportRow, Verdict};
