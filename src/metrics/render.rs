//! The Prometheus text exposition format (version 0.0.4).
//!
//! Written by hand rather than with a client library: the registry is a
//! fixed set of atomics, and the format is a few lines per family. Runs on
//! the scrape thread only, so allocation here is harmless.

use super::registry::{
    Counter, LatencyStat, Metrics, ORDER_TYPE_SLOTS, OrderFlow, REJECT_CODES, RateGauge, STREAMS,
    order_type_label, reject_slot, stream_label,
};
use crate::latency::LatencyPath;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// The `Content-Type` of the rendered text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escapes a label value: backslash, double quote and newline.
pub fn escape_label(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Escapes `# HELP` text: backslash and newline.
pub fn escape_help(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    out.push_str("# HELP ");
    out.push_str(name);
    out.push(' ');
    escape_help(help, out);
    out.push_str("\n# TYPE ");
    out.push_str(name);
    out.push(' ');
    out.push_str(kind);
    out.push('\n');
}

/// One sample line: `name{k="v",...} value`.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push_str("=\"");
            escape_label(v, out);
            out.push('"');
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Nanoseconds as seconds, exact to the nanosecond (Prometheus base unit).
struct Seconds(u64);

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{:09}",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000
        )
    }
}

/// Renders the whole registry into `out` (cleared first, capacity kept).
pub fn render(m: &Metrics, out: &mut String) {
    out.clear();
    let name = "binance_exec_orders_total";
    header(
        out,
        name,
        "counter",
        "Order lifecycle events by event and order type (filled = completely filled).",
    );
    for flow in OrderFlow::ALL {
        let row = m.orders.get(flow as usize);
        for slot in 0..ORDER_TYPE_SLOTS {
            let v = row
                .and_then(|r| r.get(slot))
                .map_or(0, |a| a.load(Ordering::Relaxed));
            sample(
                out,
                name,
                &[("event", flow.label()), ("type", order_type_label(slot))],
                v,
            );
        }
    }

    for c in Counter::ALL {
        let name = format!("{}_total", c.name());
        header(out, &name, "counter", c.help());
        sample(out, &name, &[], m.get(c));
    }

    let name = "binance_exec_unknown_orders_open";
    header(
        out,
        name,
        "gauge",
        "Orders whose fate is unknown right now (being resolved by query).",
    );
    sample(out, name, &[], m.unknown_open());

    let name = "binance_exec_rejects_total";
    header(
        out,
        name,
        "counter",
        "Venue rejects by error code; codes outside the preset list count as \"other\".",
    );
    let mut code = String::new();
    for c in REJECT_CODES {
        code.clear();
        let _ = write!(code, "{c}");
        let v = m
            .rejects
            .get(reject_slot(c))
            .map_or(0, |a| a.load(Ordering::Relaxed));
        sample(out, name, &[("code", &code)], v);
    }
    let other = m
        .rejects
        .get(REJECT_CODES.len())
        .map_or(0, |a| a.load(Ordering::Relaxed));
    sample(out, name, &[("code", "other")], other);

    let name = "binance_exec_reconnects_total";
    header(out, name, "counter", "WebSocket reconnects by stream.");
    for s in STREAMS {
        sample(out, name, &[("stream", stream_label(s))], m.reconnects(s));
    }

    let name = "binance_exec_bad_input_total";
    header(
        out,
        name,
        "counter",
        "Venue input the engine could not use, by kind (unreadable frames and replies, unknown events and enum values, oversized messages).",
    );
    for (kind, v) in m.bad_input() {
        sample(out, name, &[("kind", kind)], v);
    }

    rate_family(
        out,
        "binance_exec_rate_limit_used",
        "Rate-limit usage in the current window, as last counted or reported by the venue.",
        |g| m.rate(g),
    );
    rate_family(
        out,
        "binance_exec_rate_limit_limit",
        "Rate-limit window size from exchangeInfo (or the documented defaults).",
        |g| m.rate_limit(g),
    );

    let name = "binance_exec_latency_seconds";
    header(
        out,
        name,
        "gauge",
        "Latency percentiles per path from the last published snapshot (quantile 1 is the maximum).",
    );
    for path in LatencyPath::ALL {
        for stat in LatencyStat::ALL {
            sample(
                out,
                name,
                &[("path", path.as_str()), ("quantile", stat.label())],
                Seconds(m.latency_ns(path, stat)),
            );
        }
    }
    let name = "binance_exec_latency_samples";
    header(
        out,
        name,
        "gauge",
        "Samples behind the published latency percentiles, per path.",
    );
    for path in LatencyPath::ALL {
        let n = m
            .latency
            .get(path.index())
            .map_or(0, |s| s.count.load(Ordering::Relaxed));
        sample(out, name, &[("path", path.as_str())], n);
    }
    let name = "binance_exec_latency_published_timestamp_seconds";
    header(
        out,
        name,
        "gauge",
        "Wall-clock time of the last latency publish (0 = never); alert when stale.",
    );
    sample(
        out,
        name,
        &[],
        Seconds(m.latency_published_ns.load(Ordering::Relaxed)),
    );
}

/// One gauge family with a sample per rate-limit window (used and limit
/// share the labels).
fn rate_family(out: &mut String, name: &str, help: &str, value: impl Fn(RateGauge) -> u64) {
    header(out, name, "gauge", help);
    for g in RateGauge::ALL {
        let (counter, window) = g.labels();
        sample(
            out,
            name,
            &[("counter", counter), ("window", window)],
            value(g),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_labels_and_help() {
        let mut s = String::new();
        escape_label("a\\b\"c\nd", &mut s);
        assert_eq!(s, "a\\\\b\\\"c\\nd");
        s.clear();
        escape_help("x\\y\nz \"q\"", &mut s);
        assert_eq!(s, "x\\\\y\\nz \"q\"");
        s.clear();
        sample(&mut s, "m", &[("k", "v\"1"), ("j", "2")], 3);
        assert_eq!(s, "m{k=\"v\\\"1\",j=\"2\"} 3\n");
    }

    #[test]
    fn seconds_are_exact() {
        assert_eq!(Seconds(0).to_string(), "0.000000000");
        assert_eq!(Seconds(1_234_567).to_string(), "0.001234567");
        assert_eq!(Seconds(61_000_000_001).to_string(), "61.000000001");
    }

    #[test]
    fn every_family_has_help_and_type_once() {
        let m = Metrics::new();
        let mut out = String::new();
        render(&m, &mut out);
        let types: Vec<&str> = out.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        let helps = out.lines().filter(|l| l.starts_with("# HELP ")).count();
        assert_eq!(types.len(), helps);
        let mut names: Vec<&str> = types
            .iter()
            .filter_map(|l| l.split_whitespace().nth(2))
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a family is declared twice");
        for l in types.iter().filter(|l| l.ends_with(" counter")) {
            assert!(
                l.split_whitespace()
                    .nth(2)
                    .is_some_and(|n| n.ends_with("_total")),
                "{l}"
            );
        }
        assert!(out.ends_with('\n'));
    }
}
