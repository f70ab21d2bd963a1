//! Network thread, REST side, against loopback std-thread HTTP servers: tagged round
//! trips, `NotSent` vs `Unknown`, deadlines, clean shutdown, and allocation-free buffer
//! recycling over 1000 round trips.

mod net_support;

use std::time::{Duration, Instant};

use binance_exec::engine::buffers::{Buf, mono_ns};
use binance_exec::engine::net_thread::{
    NetCommand, NetError, NetEvent, NetFailure, NetHandle, NetSettings, RestOutcome, check_core,
    spawn,
};
use binance_exec::net::http::{HttpError, Method};
use binance_exec::net::url::Endpoint;
use net_support::*;

fn settings(http_port: u16) -> NetSettings {
    let mut s = NetSettings::new(
        Endpoint::parse(&format!("http://127.0.0.1:{http_port}")).unwrap(),
        Endpoint::parse(&format!("ws://127.0.0.1:{}", dead_port())).unwrap(),
    );
    s.buffers = 64;
    s.buffer_capacity = 1024;
    s.park_timeout = Duration::from_millis(2);
    s
}

/// A keep-alive server answering every request with `200` and a body echoing the request
/// line and body.
fn echo_server(max_conns: usize) -> u16 {
    serve(max_conns, None, |_, s| {
        let mut buf = Vec::new();
        for _ in 0..100_000 {
            let Some((line, body)) = read_request(s, &mut buf) else {
                return;
            };
            let reply = format!("{line}|{}", String::from_utf8_lossy(&body));
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-MBX-USED-WEIGHT-1M: 3\r\nContent-Length: {}\r\n\r\n",
                reply.len()
            );
            if s.write_all(head.as_bytes()).is_err() || s.write_all(reply.as_bytes()).is_err() {
                return;
            }
            let _ = s.flush();
        }
    })
    .0
}

fn buf_of(h: &NetHandle, s: &str) -> Buf {
    let mut b = h.bufs.get();
    b.extend_from_slice(s.as_bytes());
    b
}

fn rest(h: &NetHandle, tag: u64, method: Method, target: &str, body: Option<&str>, ms: u64) {
    h.send(NetCommand::Rest {
        tag,
        method,
        target: buf_of(h, target),
        body: body.map(|b| buf_of(h, b)),
        deadline_ns: mono_ns() + ms * 1_000_000,
    })
    .unwrap();
}

/// Wait (at most 5 s) for the `RestDone` with `tag`; other events are ignored.
fn done(h: &NetHandle, tag: u64) -> (RestOutcome, u64, u64) {
    let stop = Instant::now() + Duration::from_secs(5);
    while Instant::now() < stop {
        if let Ok(NetEvent::RestDone {
            tag: t,
            outcome,
            t_write_ns,
            t_read_ns,
        }) = h.events.recv_timeout(Duration::from_millis(50))
            && t == tag
        {
            return (outcome, t_write_ns, t_read_ns);
        }
    }
    panic!("no RestDone for tag {tag} within 5 s");
}

fn stop(h: NetHandle) {
    let events = h.events.clone();
    h.shutdown().unwrap();
    let stopped =
        std::iter::from_fn(|| events.try_recv().ok()).any(|e| matches!(e, NetEvent::Stopped));
    assert!(stopped, "no Stopped event");
}

#[test]
fn round_trip_carries_tag_body_limits_and_timestamps() {
    let h = spawn(settings(echo_server(4))).unwrap();
    let before = mono_ns();
    rest(
        &h,
        7,
        Method::Post,
        "/fapi/v1/order?symbol=BTCUSDT",
        Some("a=1&b=2"),
        2000,
    );
    let (outcome, t_write, t_read) = done(&h, 7);
    match outcome {
        RestOutcome::Response {
            status,
            limits,
            body,
        } => {
            assert_eq!(status, 200);
            assert_eq!(limits.used_weight_1m, Some(3));
            assert_eq!(
                body.as_str(),
                Some("POST /fapi/v1/order?symbol=BTCUSDT|a=1&b=2")
            );
            h.bufs.put(body);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        before <= t_write && t_write <= t_read,
        "{before} {t_write} {t_read}"
    );
    rest(&h, 8, Method::Get, "/fapi/v1/time", None, 2000);
    let (outcome, _, _) = done(&h, 8);
    assert!(
        matches!(&outcome, RestOutcome::Response { body, .. } if body.as_str() == Some("GET /fapi/v1/time|")),
        "{outcome:?}"
    );
    stop(h);
}

#[test]
fn refused_connection_is_not_sent() {
    let h = spawn(settings(dead_port())).unwrap();
    rest(&h, 1, Method::Post, "/fapi/v1/order", Some("x=1"), 1500);
    let (outcome, t_write, _) = done(&h, 1);
    assert!(matches!(outcome, RestOutcome::NotSent(_)), "{outcome:?}");
    assert_eq!(t_write, 0);
    stop(h);
}

#[test]
fn close_after_request_is_unknown() {
    // Reads the whole request, then hangs up without answering.
    let port = serve(4, None, |_, s| {
        let mut buf = Vec::new();
        let _ = read_request(s, &mut buf);
    })
    .0;
    let h = spawn(settings(port)).unwrap();
    rest(&h, 5, Method::Post, "/fapi/v1/order", Some("x=1"), 2000);
    let (outcome, t_write, _) = done(&h, 5);
    assert!(matches!(outcome, RestOutcome::Unknown(_)), "{outcome:?}");
    assert!(t_write > 0);
    stop(h);
}

#[test]
fn unanswered_request_times_out_as_unknown() {
    let port = serve(4, None, |_, s| {
        let mut buf = Vec::new();
        let _ = read_request(s, &mut buf);
        std::thread::sleep(Duration::from_millis(1500));
    })
    .0;
    let h = spawn(settings(port)).unwrap();
    rest(&h, 9, Method::Delete, "/fapi/v1/order?orderId=1", None, 200);
    let (outcome, _, _) = done(&h, 9);
    assert!(
        matches!(
            outcome,
            RestOutcome::Unknown(NetFailure::Http(HttpError::Timeout))
        ),
        "{outcome:?}"
    );
    stop(h);
}

#[test]
fn expired_deadline_and_bad_target_are_not_sent() {
    let h = spawn(settings(echo_server(4))).unwrap();
    h.send(NetCommand::Rest {
        tag: 1,
        method: Method::Get,
        target: buf_of(&h, "/fapi/v1/time"),
        body: None,
        deadline_ns: mono_ns().saturating_sub(1),
    })
    .unwrap();
    let (o, _, _) = done(&h, 1);
    assert!(
        matches!(o, RestOutcome::NotSent(NetFailure::Deadline)),
        "{o:?}"
    );
    let mut bad = h.bufs.get();
    bad.extend_from_slice(&[b'/', 0xff, 0xfe]);
    h.send(NetCommand::Rest {
        tag: 2,
        method: Method::Get,
        target: bad,
        body: None,
        deadline_ns: mono_ns() + 1_000_000_000,
    })
    .unwrap();
    let (o, _, _) = done(&h, 2);
    assert!(
        matches!(o, RestOutcome::NotSent(NetFailure::BadTarget)),
        "{o:?}"
    );
    rest(&h, 3, Method::Get, "/a b", None, 1000);
    let (o, _, _) = done(&h, 3);
    assert!(matches!(o, RestOutcome::NotSent(_)), "{o:?}");
    stop(h);
}

#[test]
fn more_requests_than_connections_are_queued_not_dropped() {
    let h = spawn(settings(echo_server(4))).unwrap();
    for tag in 0..20u64 {
        rest(&h, tag, Method::Get, &format!("/q?i={tag}"), None, 3000);
    }
    let mut seen = [false; 20];
    let stop_at = Instant::now() + Duration::from_secs(5);
    while Instant::now() < stop_at && seen.iter().any(|s| !s) {
        if let Ok(NetEvent::RestDone { tag, outcome, .. }) =
            h.events.recv_timeout(Duration::from_millis(50))
        {
            match outcome {
                RestOutcome::Response { body, .. } => {
                    assert_eq!(body.as_str(), Some(format!("GET /q?i={tag}|").as_str()));
                    h.bufs.put(body);
                }
                other => panic!("tag {tag}: {other:?}"),
            }
            seen[tag as usize] = true;
        }
    }
    assert!(seen.iter().all(|s| *s), "{seen:?}");
    stop(h);
}

#[test]
fn buffer_recycling_keeps_allocations_flat_over_1000_round_trips() {
    let h = spawn(settings(echo_server(4))).unwrap();
    let round = |tag: u64| {
        rest(
            &h,
            tag,
            Method::Post,
            "/fapi/v1/order",
            Some("symbol=BTCUSDT&side=BUY"),
            3000,
        );
        match done(&h, tag).0 {
            RestOutcome::Response { body, .. } => h.bufs.put(body),
            other => panic!("{other:?}"),
        }
    };
    for tag in 0..50 {
        round(tag);
    }
    let warm = h.bufs.allocations();
    for tag in 50..1050 {
        round(tag);
    }
    assert_eq!(
        h.bufs.allocations(),
        warm,
        "buffers allocated in steady state"
    );
    stop(h);
}

#[test]
fn shutdown_reports_stopped_and_joins() {
    let h = spawn(settings(echo_server(4))).unwrap();
    let events = h.events.clone();
    h.shutdown().unwrap();
    let all: Vec<NetEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert!(matches!(all.last(), Some(NetEvent::Stopped)), "{all:?}");
}

#[test]
fn dropping_every_sender_stops_the_thread() {
    let h = spawn(settings(echo_server(4))).unwrap();
    let NetHandle {
        commands,
        events,
        waker,
        join,
        ..
    } = h;
    drop(commands);
    waker.wake().unwrap();
    join.join().unwrap().unwrap();
    assert!(std::iter::from_fn(|| events.try_recv().ok()).any(|e| matches!(e, NetEvent::Stopped)));
}

#[test]
fn missing_core_is_refused_before_spawning() {
    assert!(check_core(None).is_ok());
    let mut s = settings(dead_port());
    s.thread.core = Some(100_000);
    match spawn(s) {
        Err(NetError::NoSuchCore { core, .. }) => assert_eq!(core, 100_000),
        other => panic!("{other:?}"),
    }
}
