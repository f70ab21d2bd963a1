//! The HdrHistogram "percentile distribution" text format (`.hgrm`).
//!
//! Writing the standard format, rather than a home-made one, lets users
//! paste our files into the usual HdrHistogram plotter next to files from
//! other systems and compare tails on the same chart.

use hdrhistogram::Histogram;
use std::io::{self, Write};

/// Quantile iteration density: 5 ticks per half distance, as the reference
/// implementation uses by default.
const TICKS_PER_HALF: u32 = 5;

/// Writes `h` as a percentile distribution. Values are divided by
/// `unit_ratio` (e.g. 1000.0 to write microseconds from nanoseconds).
///
/// Columns: `Value`, `Percentile`, `TotalCount`, `1/(1-Percentile)`; the
/// footer carries Mean, StdDeviation, Max, Total count, Buckets, SubBuckets.
pub fn write_hgrm<W: Write>(h: &Histogram<u64>, unit_ratio: f64, mut out: W) -> io::Result<()> {
    let ratio = if unit_ratio.is_finite() && unit_ratio > 0.0 {
        unit_ratio
    } else {
        1.0
    };
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total = 0u64;
    let mut wrote_last = false;
    if !h.is_empty() {
        for v in h.iter_quantiles(TICKS_PER_HALF) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / ratio;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                writeln!(
                    out,
                    "{:12.3} {:2.12} {:10} {:14.2}",
                    value,
                    q,
                    total,
                    1.0 / (1.0 - q)
                )?;
            } else {
                writeln!(out, "{:12.3} {:2.12} {:10}", value, q, total)?;
                wrote_last = true;
            }
        }
        if !wrote_last {
            // Always close the distribution at 100 %.
            writeln!(
                out,
                "{:12.3} {:2.12} {:10}",
                h.max() as f64 / ratio,
                1.0,
                h.len()
            )?;
        }
    }
    let (mean, stdev) = if h.is_empty() {
        (0.0, 0.0)
    } else {
        (h.mean() / ratio, h.stdev() / ratio)
    };
    let sub_buckets = (2 * 10u64.pow(u32::from(h.sigfig()))).next_power_of_two();
    writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        mean, stdev
    )?;
    writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        h.max() as f64 / ratio,
        h.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_buckets
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::recorder::new_histogram;

    struct Parsed {
        rows: Vec<(f64, f64, u64)>,
        mean: f64,
        max: f64,
        total: u64,
    }

    /// A small reader for the format, as a plotter would parse it.
    fn parse(text: &str) -> Parsed {
        let mut rows = Vec::new();
        let (mut mean, mut max, mut total) = (f64::NAN, f64::NAN, 0);
        for line in text.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with("Value") {
                continue;
            }
            if let Some(rest) = t.strip_prefix("#[") {
                let rest = rest.trim_end_matches(']');
                for kv in rest.split(',') {
                    let mut it = kv.split('=');
                    let (k, v) = (it.next().unwrap().trim(), it.next().unwrap().trim());
                    match k {
                        "Mean" => mean = v.parse().unwrap(),
                        "Max" => max = v.parse().unwrap(),
                        "Total count" => total = v.parse().unwrap(),
                        _ => {}
                    }
                }
                continue;
            }
            let cols: Vec<&str> = t.split_whitespace().collect();
            assert!(cols.len() == 3 || cols.len() == 4, "{line}");
            rows.push((
                cols[0].parse().unwrap(),
                cols[1].parse().unwrap(),
                cols[2].parse().unwrap(),
            ));
        }
        Parsed {
            rows,
            mean,
            max,
            total,
        }
    }

    #[test]
    fn writes_a_parseable_distribution() {
        let mut h = new_histogram();
        // 1..=10000 µs in ns, uniform.
        for i in 1..=10_000u64 {
            h.record(i * 1000).unwrap();
        }
        let mut out = Vec::new();
        write_hgrm(&h, 1000.0, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
        let p = parse(&text);
        assert!(p.rows.len() > 20);
        for w in p.rows.windows(2) {
            assert!(w[1].0 >= w[0].0, "values non-decreasing");
            assert!(w[1].1 >= w[0].1, "percentiles non-decreasing");
            assert!(w[1].2 >= w[0].2, "counts non-decreasing");
        }
        let last = p.rows.last().unwrap();
        assert_eq!(last.1, 1.0);
        assert_eq!(last.2, 10_000);
        assert_eq!(p.total, 10_000);
        assert!((p.max - 10_000.0).abs() <= 10.0, "{}", p.max);
        assert!((p.mean - 5000.5).abs() <= 10.0, "{}", p.mean);
        // The median row sits near 5000 µs.
        let median = p.rows.iter().find(|r| r.1 >= 0.5).unwrap();
        assert!((median.0 - 5000.0).abs() <= 10.0, "{}", median.0);
    }

    #[test]
    fn empty_histogram_has_only_header_and_footer() {
        let h = new_histogram();
        let mut out = Vec::new();
        write_hgrm(&h, 1000.0, &mut out).unwrap();
        let p = parse(&String::from_utf8(out).unwrap());
        assert!(p.rows.is_empty());
        assert_eq!(p.total, 0);
        assert_eq!(p.mean, 0.0);
    }
}
