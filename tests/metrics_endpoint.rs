//! The `/metrics` endpoint over a raw TCP client: exposition lines, routes,
//! loopback-only binding, and a clean shutdown that frees the port.

use binance_exec::engine::net_thread::StreamKind;
use binance_exec::latency::{Budgets, LatencyPath, LatencyRecorder, LatencyReport};
use binance_exec::metrics::{Counter, Metrics, MetricsError, MetricsServer, OrderFlow, RateGauge};
use binance_exec::model::OrderType;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

fn loopback0() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// One request, whole reply as text (the server closes after replying).
fn fetch(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    String::from_utf8(out).expect("utf-8 reply")
}

fn get_metrics(addr: SocketAddr) -> String {
    fetch(addr, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

#[test]
fn scrape_shows_counters_gauges_and_latency() {
    let m = Arc::new(Metrics::new());
    let server = MetricsServer::start(Arc::clone(&m), loopback0()).expect("start");
    let addr = server.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    for _ in 0..3 {
        m.order(OrderFlow::Submitted, &OrderType::Limit);
    }
    m.order(OrderFlow::Acked, &OrderType::Market);
    for _ in 0..5 {
        m.order(OrderFlow::PartiallyFilled, &OrderType::Limit);
    }
    m.order(OrderFlow::Rejected, &OrderType::from_wire("NEW_TYPE"));
    m.inc(Counter::UnknownResolved);
    m.set(Counter::Retries, 4);
    m.set_unknown_open(2);
    m.reject(-2019);
    m.reject(-2019);
    m.reject(-4242); // not preset: "other"
    m.reconnect(StreamKind::Market);
    m.set_rate(RateGauge::WeightPerMinute, 1234);
    m.set_rate(RateGauge::OrdersPer10s, 7);
    m.set_rate_limit(RateGauge::WeightPerMinute, 2400);
    let mut rec = LatencyRecorder::new();
    for i in 1..=1000u64 {
        rec.record(LatencyPath::SubmitToAck, i * 1_000); // 1 µs .. 1 ms
    }
    let mut report = LatencyReport::new(Budgets::default());
    report.merge(&rec).expect("merge");
    m.publish_report(&report, 1_700_000_000_123_456_789);

    let reply = get_metrics(addr);
    let (head, body) = reply.split_once("\r\n\r\n").expect("head/body");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
    assert!(head.contains(&format!("Content-Length: {}", body.len())));
    let lines: Vec<&str> = body.lines().collect();
    let has = |l: &str| lines.contains(&l);
    for l in [
        "# TYPE binance_exec_orders_total counter",
        "binance_exec_orders_total{event=\"submitted\",type=\"LIMIT\"} 3",
        "binance_exec_orders_total{event=\"submitted\",type=\"MARKET\"} 0",
        "binance_exec_orders_total{event=\"acked\",type=\"MARKET\"} 1",
        "binance_exec_orders_total{event=\"partially_filled\",type=\"LIMIT\"} 5",
        "binance_exec_orders_total{event=\"filled\",type=\"LIMIT\"} 0",
        "binance_exec_orders_total{event=\"canceled\",type=\"TRAILING_STOP_MARKET\"} 0",
        "binance_exec_orders_total{event=\"rejected\",type=\"other\"} 1",
        "binance_exec_orders_total{event=\"expired\",type=\"LIQUIDATION\"} 0",
        "binance_exec_unknown_orders_resolved_total 1",
        "binance_exec_unknown_orders_total 0",
        "binance_exec_retries_total 4",
        "binance_exec_rate_limit_backoffs_total 0",
        "binance_exec_skipped_insufficient_margin_total 0",
        "# TYPE binance_exec_unknown_orders_open gauge",
        "binance_exec_unknown_orders_open 2",
        "# TYPE binance_exec_rejects_total counter",
        "binance_exec_rejects_total{code=\"-2019\"} 2",
        "binance_exec_rejects_total{code=\"-1021\"} 0",
        "binance_exec_rejects_total{code=\"other\"} 1",
        "binance_exec_reconnects_total{stream=\"market\"} 1",
        "binance_exec_reconnects_total{stream=\"user\"} 0",
        "# TYPE binance_exec_rate_limit_used gauge",
        "binance_exec_rate_limit_used{counter=\"request_weight\",window=\"1m\"} 1234",
        "binance_exec_rate_limit_used{counter=\"orders\",window=\"10s\"} 7",
        "# TYPE binance_exec_rate_limit_limit gauge",
        "binance_exec_rate_limit_limit{counter=\"request_weight\",window=\"1m\"} 2400",
        "binance_exec_rate_limit_limit{counter=\"orders\",window=\"1m\"} 0",
        "# TYPE binance_exec_latency_seconds gauge",
        "binance_exec_latency_samples{path=\"submit_to_ack\"} 1000",
        "binance_exec_latency_samples{path=\"floor\"} 0",
        "binance_exec_latency_seconds{path=\"floor\",quantile=\"0.99\"} 0.000000000",
        "binance_exec_latency_published_timestamp_seconds 1700000000.123456789",
    ] {
        assert!(has(l), "missing line {l:?} in\n{body}");
    }
    // p50 of 1..1000 µs is ~500 µs, p99 ~990 µs, max ~1 ms (3 significant digits).
    let value = |prefix: &str| -> f64 {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no sample {prefix}"))
    };
    let p50 = value("binance_exec_latency_seconds{path=\"submit_to_ack\",quantile=\"0.5\"}");
    let p99 = value("binance_exec_latency_seconds{path=\"submit_to_ack\",quantile=\"0.99\"}");
    let max = value("binance_exec_latency_seconds{path=\"submit_to_ack\",quantile=\"1\"}");
    assert!((p50 - 0.000_500).abs() < 0.000_001, "{p50}");
    assert!((p99 - 0.000_990).abs() < 0.000_002, "{p99}");
    assert!((max - 0.001).abs() < 0.000_002, "{max}");
    // Every sample line belongs to a declared family.
    let families: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for l in lines.iter().filter(|l| !l.starts_with('#')) {
        let name = l.split(['{', ' ']).next().unwrap_or("");
        assert!(families.contains(&name), "undeclared sample {l}");
    }

    // Counters move between scrapes.
    m.order(OrderFlow::Submitted, &OrderType::Limit);
    assert!(
        get_metrics(addr)
            .contains("\nbinance_exec_orders_total{event=\"submitted\",type=\"LIMIT\"} 4\n")
    );

    server.shutdown().expect("shutdown");
}

#[test]
fn other_paths_and_methods_are_refused() {
    let server = MetricsServer::start(Arc::new(Metrics::new()), loopback0()).expect("start");
    let addr = server.local_addr();
    assert!(fetch(addr, "GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
    let r = fetch(addr, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert!(
        r.starts_with("HTTP/1.1 405 ") && r.contains("Allow: GET"),
        "{r}"
    );
    assert!(fetch(addr, "nonsense\r\n\r\n").starts_with("HTTP/1.1 400 "));
    // A client that hangs up without a request does not stop the server.
    let idle = TcpStream::connect(addr).expect("connect");
    drop(idle);
    assert!(get_metrics(addr).starts_with("HTTP/1.1 200 OK"));
    server.shutdown().expect("shutdown");
}

#[test]
fn non_loopback_addresses_are_refused() {
    // Wildcard binds would expose the account's numbers to the network.
    for addr in ["0.0.0.0:0", "[::]:0", "0.0.0.0:9100"] {
        let addr: SocketAddr = addr.parse().expect("addr");
        match MetricsServer::start(Arc::new(Metrics::new()), addr) {
            Err(MetricsError::NotLoopback(a)) => assert_eq!(a, addr),
            other => panic!("{addr} must be refused, got {other:?}"),
        }
    }
}

#[test]
fn shutdown_frees_the_port() {
    let server = MetricsServer::start(Arc::new(Metrics::new()), loopback0()).expect("start");
    let addr = server.local_addr();
    assert!(get_metrics(addr).starts_with("HTTP/1.1 200 OK"));
    server.shutdown().expect("shutdown");
    // The port can be bound again at once, and nobody answers on it before that.
    let again = TcpListener::bind(addr).expect("port is free after shutdown");
    drop(again);
    // Dropping a handle also stops the thread.
    let dropped = MetricsServer::start(Arc::new(Metrics::new()), addr).expect("restart");
    drop(dropped);
    TcpListener::bind(addr).expect("port is free after drop");
}

#[test]
fn a_silent_client_cannot_block_scrapes() {
    let server = MetricsServer::start(Arc::new(Metrics::new()), loopback0()).expect("start");
    let addr = server.local_addr();
    // Connects first and never sends a request: the server gives up on it
    // after its 2 s request timeout and serves the next client.
    let silent = TcpStream::connect(addr).expect("connect");
    std::thread::sleep(Duration::from_millis(100));
    assert!(get_metrics(addr).starts_with("HTTP/1.1 200 OK"));
    drop(silent);
    server.shutdown().expect("shutdown");
}
