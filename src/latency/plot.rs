//! HdrHistogram-style percentile plots of the latency paths, as SVG.
//!
//! A table of p50/p99 hides the shape of the tail; the usual way to look at
//! latency is the percentile plot where the x axis stretches the tail
//! (`1/(1-p)` on a log scale, so 90 %, 99 %, 99.9 % are evenly spaced).
//! Drawing it ourselves means a user gets the chart from a run without
//! exporting `.hgrm` files into a separate tool, with the budgets drawn on
//! it so "did we keep the promise" is visible at a glance.
//!
//! Each path with samples is one `<polyline>` in its own colour
//! ([`path_colour`]); each budget is one horizontal `<polyline>` in
//! [`BUDGET_COLOUR`]. Empty paths are left out (nothing to claim).

use super::recorder::LatencyPath;
use super::report::{Budgets, LatencyReport};
use hdrhistogram::Histogram;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Quantile iteration density, as in the `.hgrm` writer.
const TICKS_PER_HALF: u32 = 5;
/// The x axis always reaches 99.999 %, so 99.99 % is always labelled.
const MIN_NINES: f64 = 5.0;
/// Beyond 7 nines a chart says nothing a table would not.
const MAX_NINES: f64 = 7.0;
/// Chart size in SVG pixels.
const WIDTH: u32 = 1000;
const HEIGHT: u32 = 600;

/// Colour of the budget lines: the same for every budget, so a budget never
/// reads as another path.
pub const BUDGET_COLOUR: RGBColor = RGBColor(0xd6, 0x27, 0x28);

/// The line colour of `path`, stable across charts so users can compare
/// runs side by side.
pub fn path_colour(path: LatencyPath) -> RGBColor {
    match path {
        LatencyPath::SubmitToAck => RGBColor(0x1f, 0x77, 0xb4),
        LatencyPath::FillToStrategy => RGBColor(0x2c, 0xa0, 0x2c),
        LatencyPath::StrategyToWire => RGBColor(0xff, 0x7f, 0x0e),
        LatencyPath::WireToStrategy => RGBColor(0x94, 0x67, 0xbd),
        LatencyPath::Floor => RGBColor(0x7f, 0x7f, 0x7f),
    }
}

/// Why a plot could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The SVG file could not be written.
    #[error("cannot write latency plot {path}: {source}")]
    Io {
        /// Destination file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// plotters refused to draw (layout or backend failure).
    #[error("cannot draw latency plot: {0}")]
    Draw(String),
}

fn draw_err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError::Draw(format!("{e:?}"))
}

/// Plots every non-empty path of `report` with `budgets` as horizontal
/// lines and writes the SVG to `out`.
pub fn plot_percentiles(
    report: &LatencyReport,
    budgets: &Budgets,
    out: &Path,
) -> Result<(), PlotError> {
    let series = LatencyPath::ALL
        .iter()
        .filter_map(|&p| report.histogram(p).map(|h| (p, h)));
    plot_histograms(series, budgets, out)
}

/// Plots arbitrary histograms (values in ns), e.g. one recorder's, and
/// writes the SVG to `out`.
pub fn plot_histograms<'a>(
    series: impl IntoIterator<Item = (LatencyPath, &'a Histogram<u64>)>,
    budgets: &Budgets,
    out: &Path,
) -> Result<(), PlotError> {
    let svg = render_svg(series, budgets)?;
    std::fs::write(out, svg).map_err(|source| PlotError::Io {
        path: out.to_path_buf(),
        source,
    })
}

/// The plot as an SVG document, for callers that serve or embed it.
pub fn render_svg<'a>(
    series: impl IntoIterator<Item = (LatencyPath, &'a Histogram<u64>)>,
    budgets: &Budgets,
) -> Result<String, PlotError> {
    let lines: Vec<(LatencyPath, Vec<(f64, f64)>)> = series
        .into_iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(p, h)| (p, percentile_points(h)))
        .collect();
    let nines = lines
        .iter()
        .flat_map(|(_, pts)| pts.iter().map(|&(x, _)| x))
        .fold(MIN_NINES, f64::max)
        .ceil()
        .min(MAX_NINES);
    let budget_lines: Vec<(LatencyPath, f64)> = LatencyPath::ALL
        .iter()
        .filter_map(|&p| budgets.budget_ns(p).map(|b| (p, b as f64 / 1000.0)))
        .collect();
    let y_axis = LatencyAxis::fit(
        lines
            .iter()
            .flat_map(|(_, pts)| pts.iter().map(|&(_, y)| y))
            .chain(budget_lines.iter().map(|&(_, b)| b)),
    );

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Latency by percentile", ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(PercentileAxis { nines }, y_axis)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("Percentile")
            .y_desc("Latency (µs)")
            .x_label_formatter(&|n| percentile_label(*n))
            .y_label_formatter(&|v| latency_label(*v))
            .draw()
            .map_err(draw_err)?;
        for (path, pts) in &lines {
            let colour = path_colour(*path);
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
                .map_err(draw_err)?
                .label(path.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 16, y + 4)], colour.filled())
                });
        }
        for (path, b) in &budget_lines {
            chart
                .draw_series(LineSeries::new(
                    [(0.0, *b), (nines, *b)],
                    BUDGET_COLOUR.stroke_width(1),
                ))
                .map_err(draw_err)?;
            let label = format!("{} budget {} µs", path.as_str(), latency_label(*b));
            chart
                .draw_series(std::iter::once(Text::new(
                    label,
                    (0.05, *b),
                    ("sans-serif", 13).into_font().color(&BUDGET_COLOUR),
                )))
                .map_err(draw_err)?;
        }
        if !lines.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// The histogram as (nines, µs) points: x is `log10(1/(1-p))`, so 90 % is
/// at 1, 99 % at 2. The 100 % point has no finite x and is left out, as in
/// the reference plotter.
fn percentile_points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    h.iter_quantiles(TICKS_PER_HALF)
        .filter_map(|v| {
            let q = v.quantile_iterated_to();
            if q >= 1.0 {
                return None;
            }
            let x = (1.0 / (1.0 - q)).log10().min(MAX_NINES);
            Some((x, v.value_iterated_to() as f64 / 1000.0))
        })
        .collect()
}

/// "50%", "90%", "99%", "99.9%", "99.99%" for x = log10(1/(1-p)).
fn percentile_label(nines: f64) -> String {
    let pct = 100.0 * (1.0 - 10f64.powf(-nines));
    let decimals = (nines.ceil() as i64 - 2).max(0) as usize;
    format!("{pct:.decimals$}%")
}

/// The x axis: linear in nines, with tick marks only at the percentiles a
/// trader quotes.
#[derive(Debug, Clone, Copy)]
struct PercentileAxis {
    nines: f64,
}

impl Ranged for PercentileAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let frac = if self.nines > 0.0 {
            (value / self.nines).clamp(0.0, 1.0)
        } else {
            0.0
        };
        limit.0 + (f64::from(limit.1 - limit.0) * frac).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let max = hint.max_num_points();
        std::iter::once(2f64.log10())
            .chain((1..=MAX_NINES as u32).map(f64::from))
            .filter(|n| *n <= self.nines)
            .take(max)
            .collect()
    }

    fn range(&self) -> Range<f64> {
        0.0..self.nines
    }
}

/// µs without noise: whole numbers above 10 µs, up to 3 decimals below.
fn latency_label(us: f64) -> String {
    if us >= 10.0 || us == 0.0 {
        format!("{us:.0}")
    } else {
        let s = format!("{us:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The y axis in µs. Linear when everything fits in three decades (the
/// usual HdrHistogram look); logarithmic when it does not, so a 30 ns
/// floor, a 5 µs wire-to-strategy path and a 100 ms budget all stay
/// readable on one chart instead of the small ones lying flat on zero.
#[derive(Debug, Clone, Copy)]
struct LatencyAxis {
    lo: f64,
    hi: f64,
    log: bool,
}

/// Above this max/min ratio the y axis turns logarithmic.
const LOG_Y_RATIO: f64 = 1000.0;

impl LatencyAxis {
    fn fit(values: impl Iterator<Item = f64>) -> Self {
        let (mut min_pos, mut max) = (f64::INFINITY, 0.0f64);
        for v in values.filter(|v| v.is_finite()) {
            max = max.max(v);
            if v > 0.0 {
                min_pos = min_pos.min(v);
            }
        }
        if max <= 0.0 || !min_pos.is_finite() {
            return LatencyAxis {
                lo: 0.0,
                hi: 1.0,
                log: false,
            };
        }
        if max / min_pos > LOG_Y_RATIO {
            LatencyAxis {
                lo: 10f64.powf(min_pos.log10().floor()),
                hi: 10f64.powf(max.log10().ceil()),
                log: true,
            }
        } else {
            LatencyAxis {
                lo: 0.0,
                hi: max * 1.05,
                log: false,
            }
        }
    }

    fn fraction(&self, v: f64) -> f64 {
        let f = if self.log {
            (v.max(self.lo).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

impl Ranged for LatencyAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        limit.0 + (f64::from(limit.1 - limit.0) * self.fraction(*value)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let max = hint.max_num_points().max(2);
        if self.log {
            // Decades only: 0.01, 0.1, 1, 10 ... µs.
            let (a, b) = (
                self.lo.log10().round() as i32,
                self.hi.log10().round() as i32,
            );
            let decades: Vec<f64> = (a..=b).map(|k| 10f64.powi(k)).collect();
            let stride = decades.len().div_ceil(max).max(1);
            return decades.into_iter().step_by(stride).collect();
        }
        let span = self.hi - self.lo;
        if span.is_nan() || span <= 0.0 {
            return vec![self.lo];
        }
        let raw = span / max as f64;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag);
        (0..=max)
            .map(|i| (self.lo / step).ceil() * step + step * i as f64)
            .take_while(|v| *v <= self.hi)
            .collect()
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_as_percentiles() {
        assert_eq!(percentile_label(2f64.log10()), "50%");
        assert_eq!(percentile_label(1.0), "90%");
        assert_eq!(percentile_label(2.0), "99%");
        assert_eq!(percentile_label(3.0), "99.9%");
        assert_eq!(percentile_label(4.0), "99.99%");
        assert_eq!(percentile_label(5.0), "99.999%");
    }

    #[test]
    fn axis_maps_nines_linearly() {
        let a = PercentileAxis { nines: 5.0 };
        assert_eq!(a.map(&0.0, (0, 500)), 0);
        assert_eq!(a.map(&2.0, (0, 500)), 200);
        assert_eq!(a.map(&9.0, (0, 500)), 500);
    }

    #[test]
    fn y_axis_goes_log_only_for_wide_ranges() {
        let lin = LatencyAxis::fit([5.0, 900.0, 3000.0].into_iter());
        assert!(!lin.log && lin.lo == 0.0 && lin.hi > 3000.0);
        let ticks = lin.key_points(8usize);
        assert!(ticks.len() >= 3 && ticks.len() <= 9, "{ticks:?}");
        assert!(ticks.windows(2).all(|w| w[1] > w[0]));

        let log = LatencyAxis::fit([0.03, 5.0, 100_000.0].into_iter());
        assert!(log.log);
        assert_eq!((log.lo, log.hi), (0.01, 100_000.0));
        assert_eq!(log.map(&0.01, (500, 0)), 500);
        assert_eq!(log.map(&100_000.0, (500, 0)), 0);
        // 10 µs is 3 of the 7 decades up.
        assert_eq!(
            log.map(&10.0, (500, 0)),
            500 - (500.0f64 * 3.0 / 7.0).round() as i32
        );
        assert_eq!(log.key_points(20usize).len(), 8);

        let empty = LatencyAxis::fit(std::iter::empty());
        assert!(!empty.log && empty.hi > empty.lo);
    }

    #[test]
    fn latency_labels() {
        assert_eq!(latency_label(0.03), "0.03");
        assert_eq!(latency_label(2.5), "2.5");
        assert_eq!(latency_label(1.0), "1");
        assert_eq!(latency_label(100_000.0), "100000");
    }
}
