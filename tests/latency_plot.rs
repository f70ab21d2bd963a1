//! The percentile plot is a real SVG: one line per path with samples, the
//! budgets as horizontal lines, and the percentile axis labels.

use binance_exec::latency::plot::{BUDGET_COLOUR, path_colour};
use binance_exec::latency::{
    Budgets, LatencyPath, LatencyRecorder, LatencyReport, PlotError, plot_percentiles,
};
use plotters::style::RGBColor;

/// Every `<polyline ...>` tag's attribute text.
fn polylines(svg: &str) -> Vec<&str> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .collect()
}

/// The `points` of a polyline as (x, y) pixel pairs.
fn points(tag: &str) -> Vec<(f64, f64)> {
    let Some(start) = tag.find("points=\"") else {
        return Vec::new();
    };
    let rest = &tag[start + 8..];
    let body = rest.split('"').next().unwrap_or("");
    body.split_whitespace()
        .filter_map(|p| {
            let (x, y) = p.split_once(',')?;
            Some((x.parse().ok()?, y.parse().ok()?))
        })
        .collect()
}

fn stroke(c: RGBColor) -> String {
    format!("stroke=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2)
}

fn text_contents(svg: &str) -> Vec<&str> {
    svg.split("<text")
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(_, t)| t))
        .filter_map(|t| t.split("</text>").next())
        .map(str::trim)
        .collect()
}

fn temp_svg(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("bx-plot-{}-{name}.svg", std::process::id()))
}

#[test]
fn one_line_per_non_empty_path_with_budgets_and_labels() {
    let mut rec = LatencyRecorder::new();
    // submit-to-ack: 1..=2000 µs; a long tail so the line rises.
    for i in 1..=2_000u64 {
        rec.record(LatencyPath::SubmitToAck, i * 1_000);
    }
    // wire-to-strategy: 2..=5 µs.
    for i in 0..1_000u64 {
        rec.record(LatencyPath::WireToStrategy, 2_000 + (i % 4) * 1_000);
    }
    // floor: 30 ns flat.
    for _ in 0..100 {
        rec.record(LatencyPath::Floor, 30);
    }
    let budgets = Budgets {
        submit_ack_ms: 3,
        fill_notify_ms: 2,
    };
    let mut report = LatencyReport::new(budgets);
    report.merge(&rec).expect("merge");

    let out = temp_svg("paths");
    plot_percentiles(&report, &budgets, &out).expect("plot");
    let svg = std::fs::read_to_string(&out).expect("read svg");
    let _ = std::fs::remove_file(&out);
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.trim_end().ends_with("</svg>"));

    let lines = polylines(&svg);
    let count_with = |c: RGBColor| lines.iter().filter(|l| l.contains(&stroke(c))).count();
    assert_eq!(count_with(path_colour(LatencyPath::SubmitToAck)), 1);
    assert_eq!(count_with(path_colour(LatencyPath::WireToStrategy)), 1);
    assert_eq!(count_with(path_colour(LatencyPath::Floor)), 1);
    assert_eq!(count_with(path_colour(LatencyPath::FillToStrategy)), 0);
    assert_eq!(count_with(path_colour(LatencyPath::StrategyToWire)), 0);
    // Two budgets (submit-to-ack, fill-to-strategy), each a flat line.
    let budget_lines: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains(&stroke(BUDGET_COLOUR)))
        .collect();
    assert_eq!(budget_lines.len(), 2);
    for l in &budget_lines {
        let pts = points(l);
        assert_eq!(pts.len(), 2, "{l}");
        assert_eq!(pts[0].1, pts[1].1, "budget line is horizontal: {l}");
        assert!(pts[1].0 > pts[0].0);
    }
    // The submit-to-ack line climbs (SVG y grows downward) from left to right.
    let ack = lines
        .iter()
        .find(|l| l.contains(&stroke(path_colour(LatencyPath::SubmitToAck))))
        .map(|l| points(l))
        .expect("ack line");
    assert!(ack.len() > 10);
    assert!(ack.windows(2).all(|w| w[1].0 >= w[0].0 && w[1].1 <= w[0].1));
    // The 3 ms budget is above the 2 ms worst sample: its line is higher.
    let ack_top = ack.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let budget_ys: Vec<f64> = budget_lines.iter().map(|l| points(l)[0].1).collect();
    assert!(
        budget_ys.iter().any(|&y| y < ack_top),
        "{budget_ys:?} vs {ack_top}"
    );

    let texts = text_contents(&svg);
    for label in [
        "50%",
        "90%",
        "99%",
        "99.9%",
        "99.99%",
        "Percentile",
        "Latency (µs)",
    ] {
        assert!(
            texts.contains(&label),
            "missing axis label {label}: {texts:?}"
        );
    }
    for legend in ["submit_to_ack", "wire_to_strategy", "floor"] {
        assert!(texts.contains(&legend), "missing legend {legend}");
    }
    assert!(!texts.contains(&"fill_to_strategy"));
    assert!(
        texts
            .iter()
            .any(|t| t.contains("submit_to_ack budget 3000"))
    );
}

#[test]
fn empty_report_still_draws_axes_and_budgets() {
    let budgets = Budgets::default();
    let report = LatencyReport::new(budgets);
    let out = temp_svg("empty");
    plot_percentiles(&report, &budgets, &out).expect("plot");
    let svg = std::fs::read_to_string(&out).expect("read svg");
    let _ = std::fs::remove_file(&out);
    let lines = polylines(&svg);
    for p in LatencyPath::ALL {
        let s = stroke(path_colour(p));
        assert!(
            !lines.iter().any(|l| l.contains(&s)),
            "{p:?} has no samples"
        );
    }
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(&stroke(BUDGET_COLOUR)))
            .count(),
        2
    );
    assert!(text_contents(&svg).contains(&"99.99%"));
}

#[test]
fn unwritable_destination_is_a_typed_error() {
    let report = LatencyReport::new(Budgets::default());
    let out = std::env::temp_dir()
        .join(format!("bx-plot-missing-{}", std::process::id()))
        .join("nested")
        .join("plot.svg");
    match plot_percentiles(&report, &Budgets::default(), &out) {
        Err(PlotError::Io { path, .. }) => assert_eq!(path, out),
        other => panic!("expected Io error, got {other:?}"),
    }
}
