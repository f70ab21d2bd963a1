//! HTTP/1.1 client and pool against tiny loopback servers: keep-alive, framing, partial
//! I/O, reconnects, UNKNOWN fates, deadlines, malformed replies and TLS trust.

mod net_support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use binance_exec::net::http::{HttpPool, HttpPoolConfig, Request, SubmitError};
use binance_exec::net::tls::{Trust, client_config};
use binance_exec::net::url::Endpoint;
use net_support::*;

fn pool_for(port: u16, conns: usize, poller: &mut binance_exec::net::poller::Poller) -> HttpPool {
    let mut cfg =
        HttpPoolConfig::new(Endpoint::parse(&format!("http://127.0.0.1:{port}/api")).unwrap());
    cfg.connections = conns;
    cfg.api_key = Some("test-key".into());
    HttpPool::new(cfg, poller).unwrap()
}

fn in_secs(s: u64) -> Instant {
    Instant::now() + Duration::from_secs(s)
}

fn ok_reply(body: &str, extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serve `requests` requests per connection with `reply(request_line, body)`.
fn echo_server(max_conns: usize, trickle: bool) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    serve(max_conns, None, move |_, s| {
        let mut buf = Vec::new();
        for _ in 0..50 {
            let Some((line, body)) = read_request(s, &mut buf) else {
                return;
            };
            let text = format!("{line}|{}", body.len());
            send(
                s,
                &ok_reply(
                    &text,
                    "x-mbx-used-weight-1m: 5\r\nX-MBX-ORDER-COUNT-10S: 1\r\n",
                ),
                trickle,
            );
        }
    })
}

#[test]
fn keep_alive_reuses_one_connection_and_parses_limits() {
    let (port, conns) = echo_server(4, false);
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    for i in 0..3 {
        let target = format!("/fapi/v1/time?i={i}");
        let id = pool
            .submit(&Request::get(&target), in_secs(5), p.registry())
            .unwrap();
        match wait_for(&mut p, &mut pool, id) {
            Done::Ok {
                status,
                limits,
                body,
            } => {
                assert_eq!(status, 200);
                assert_eq!(
                    String::from_utf8(body).unwrap(),
                    format!("GET /api/fapi/v1/time?i={i}|0")
                );
                assert_eq!(limits.used_weight_1m, Some(5));
                assert_eq!(limits.order_count_10s, Some(1));
                assert_eq!(limits.retry_after_s, None);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        conns.load(Ordering::SeqCst),
        1,
        "keep-alive must reuse the connection"
    );
}

#[test]
fn api_key_header_and_form_body_reach_the_server() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = Arc::clone(&seen);
    let (port, _) = serve(2, None, move |_, s| {
        let mut raw = [0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(3).any(|w| w == b"a=1") {
            match s.read(&mut raw) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&raw[..n]),
            }
        }
        seen2.lock().unwrap().extend_from_slice(&got);
        send(s, &ok_reply("{}", ""), false);
    });
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    let id = pool
        .submit(
            &Request::post("/fapi/v1/order", b"a=1"),
            in_secs(5),
            p.registry(),
        )
        .unwrap();
    assert!(matches!(
        wait_for(&mut p, &mut pool, id),
        Done::Ok { status: 200, .. }
    ));
    let req = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
    assert!(
        req.starts_with("POST /api/fapi/v1/order HTTP/1.1\r\n"),
        "{req}"
    );
    assert!(
        req.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
        "{req}"
    );
    assert!(req.contains("X-MBX-APIKEY: test-key\r\n"), "{req}");
    assert!(
        req.contains("Content-Type: application/x-www-form-urlencoded\r\n"),
        "{req}"
    );
    assert!(req.ends_with("Content-Length: 3\r\n\r\na=1"), "{req}");
}

#[test]
fn chunked_response_is_reassembled() {
    let (port, _) = serve(2, None, |_, s| {
        let mut buf = Vec::new();
        for _ in 0..5 {
            if read_request(s, &mut buf).is_none() {
                return;
            }
            send(s, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nRetry-After: 3\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n", false);
        }
    });
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    for _ in 0..2 {
        let id = pool
            .submit(&Request::get("/x"), in_secs(5), p.registry())
            .unwrap();
        let done = wait_for(&mut p, &mut pool, id);
        assert_eq!(done.body_str(), "{\"a\":1}");
        assert!(matches!(done, Done::Ok { limits, .. } if limits.retry_after_s == Some(3)));
    }
}

#[test]
fn response_written_one_byte_at_a_time() {
    let (port, _) = echo_server(2, true);
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    let id = pool
        .submit(&Request::get("/slow"), in_secs(5), p.registry())
        .unwrap();
    assert_eq!(
        wait_for(&mut p, &mut pool, id).body_str(),
        "GET /api/slow|0"
    );
    let id = pool
        .submit(&Request::get("/slow2"), in_secs(5), p.registry())
        .unwrap();
    assert_eq!(
        wait_for(&mut p, &mut pool, id).body_str(),
        "GET /api/slow2|0"
    );
}

#[test]
fn large_body_survives_partial_writes() {
    let (port, _) = serve(2, None, |_, s| {
        let mut buf = Vec::new();
        // Read slowly so the client's socket buffer fills and writes return WouldBlock.
        thread::sleep(Duration::from_millis(50));
        if let Some((line, body)) = read_request(s, &mut buf) {
            let ok = body
                .iter()
                .enumerate()
                .all(|(i, &b)| b == b'a' + (i % 26) as u8);
            send(
                s,
                &ok_reply(&format!("{line}|{}|{ok}", body.len()), ""),
                false,
            );
        }
    });
    let body: Vec<u8> = (0..4 << 20).map(|i| b'a' + (i % 26) as u8).collect();
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    let id = pool
        .submit(&Request::post("/big", &body), in_secs(5), p.registry())
        .unwrap();
    assert_eq!(
        wait_for(&mut p, &mut pool, id).body_str(),
        format!("POST /api/big|{}|true", 4 << 20)
    );
}

#[test]
fn close_mid_response_is_unknown_then_reconnects() {
    let (port, conns) = serve(4, None, |idx, s| {
        let mut buf = Vec::new();
        for _ in 0..5 {
            if read_request(s, &mut buf).is_none() {
                return;
            }
            if idx == 0 {
                send(
                    s,
                    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"orderId\":",
                    false,
                );
                return; // drop: connection closes mid-body
            }
            send(s, &ok_reply("fine", ""), false);
        }
    });
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    let id = pool
        .submit(
            &Request::post("/fapi/v1/order", b"x=1"),
            in_secs(5),
            p.registry(),
        )
        .unwrap();
    match wait_for(&mut p, &mut pool, id) {
        Done::Unknown(e) => assert!(e.contains("Truncated"), "{e}"),
        other => panic!("expected UNKNOWN, got {other:?}"),
    }
    let id = pool
        .submit(&Request::get("/again"), in_secs(5), p.registry())
        .unwrap();
    assert_eq!(wait_for(&mut p, &mut pool, id).body_str(), "fine");
    assert_eq!(conns.load(Ordering::SeqCst), 2);
}

#[test]
fn connection_close_and_idle_server_close_reconnect_transparently() {
    let (port, conns) = serve(6, None, |idx, s| {
        let mut buf = Vec::new();
        if read_request(s, &mut buf).is_none() {
            return;
        }
        let extra = if idx == 0 {
            "Connection: close\r\n"
        } else {
            ""
        };
        send(s, &ok_reply(&format!("conn{idx}"), extra), false);
        // Then close (idle keep-alive timeout on the server side).
    });
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    for expect in ["conn0", "conn1", "conn2"] {
        wait_idle(&mut p, &mut pool, 1);
        // Give the server's FIN time to arrive and be noticed before the next request.
        let stop = Instant::now() + Duration::from_millis(100);
        while Instant::now() < stop {
            p.poll().unwrap();
            let (events, registry) = p.events_and_registry();
            for ev in events.iter() {
                pool.on_event(ev.token(), registry, Instant::now(), |c| {
                    panic!("unexpected completion {:?}", c.id)
                });
            }
            pool.maintain(Instant::now(), registry, |_| {});
        }
        wait_idle(&mut p, &mut pool, 1);
        let id = pool
            .submit(&Request::get("/t"), in_secs(5), p.registry())
            .unwrap();
        assert_eq!(wait_for(&mut p, &mut pool, id).body_str(), expect);
    }
    assert!(conns.load(Ordering::SeqCst) >= 3);
}

#[test]
fn malformed_response_is_a_typed_unknown() {
    let (port, _) = serve(2, None, |_, s| {
        let mut buf = Vec::new();
        if read_request(s, &mut buf).is_some() {
            send(
                s,
                b"HTTP/1.1 200 OK\r\nContent-Length: banana\r\n\r\n",
                false,
            );
            thread::sleep(Duration::from_millis(200));
        }
    });
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    let id = pool
        .submit(&Request::get("/x"), in_secs(5), p.registry())
        .unwrap();
    match wait_for(&mut p, &mut pool, id) {
        Done::Unknown(e) => assert!(e.contains("ContentLength"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deadline_expires_as_unknown_and_refused_connect_is_not_sent() {
    let (port, _) = serve(2, None, |_, s| {
        let mut buf = Vec::new();
        let _ = read_request(s, &mut buf);
        thread::sleep(Duration::from_millis(800));
    });
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    wait_idle(&mut p, &mut pool, 1);
    let t0 = Instant::now();
    let id = pool
        .submit(
            &Request::get("/hang"),
            t0 + Duration::from_millis(100),
            p.registry(),
        )
        .unwrap();
    assert_eq!(pool.next_deadline(), Some(t0 + Duration::from_millis(100)));
    match wait_for(&mut p, &mut pool, id) {
        Done::Unknown(e) => assert_eq!(e, "Timeout"),
        other => panic!("{other:?}"),
    }
    assert!(t0.elapsed() >= Duration::from_millis(100));

    let dead = dead_port();
    let mut pool = pool_for(dead, 1, &mut p);
    match pool.submit(&Request::get("/x"), in_secs(5), p.registry()) {
        Ok(id) => match wait_for(&mut p, &mut pool, id) {
            Done::NotSent(e) => assert!(e.contains("Connect") || e.contains("Timeout"), "{e}"),
            other => panic!("{other:?}"),
        },
        Err(SubmitError::Connect(_)) => {}
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn busy_pool_refuses_instead_of_queueing() {
    let (port, _) = echo_server(2, false);
    let mut p = poller();
    let mut pool = pool_for(port, 1, &mut p);
    wait_idle(&mut p, &mut pool, 1);
    let id = pool
        .submit(&Request::get("/a"), in_secs(5), p.registry())
        .unwrap();
    assert!(matches!(
        pool.submit(&Request::get("/b"), in_secs(5), p.registry()),
        Err(SubmitError::Busy)
    ));
    assert_eq!(wait_for(&mut p, &mut pool, id).body_str(), "GET /api/a|0");
    let bad = pool.submit(&Request::get("/a b"), in_secs(5), p.registry());
    assert!(matches!(bad, Err(SubmitError::Request(_))), "{bad:?}");
    assert_eq!(pool.in_flight(), 0);
    let id = pool
        .submit(&Request::get("/c"), in_secs(5), p.registry())
        .unwrap();
    assert_eq!(wait_for(&mut p, &mut pool, id).body_str(), "GET /api/c|0");
}

#[test]
fn https_with_trusted_ca_file_works_and_untrusted_fails() {
    let id_ = identity("http");
    let (port, _) = serve(4, Some(Arc::clone(&id_.server)), |_, s| {
        let mut buf = Vec::new();
        for _ in 0..5 {
            let Some((line, _)) = read_request(s, &mut buf) else {
                return;
            };
            send(s, &ok_reply(&line, ""), false);
        }
    });
    let mut p = poller();
    let endpoint = Endpoint::parse(&format!("https://127.0.0.1:{port}")).unwrap();
    let mut cfg = HttpPoolConfig::new(endpoint.clone());
    cfg.tls = Some(client_config(&Trust::CaFile(id_.ca_file.clone())).unwrap());
    cfg.connections = 1;
    let mut pool = HttpPool::new(cfg, &mut p).unwrap();
    for i in 0..3 {
        let target = format!("/tls{i}");
        let id = pool
            .submit(&Request::get(&target), in_secs(5), p.registry())
            .unwrap();
        assert_eq!(
            wait_for(&mut p, &mut pool, id).body_str(),
            format!("GET /tls{i}")
        );
    }

    let mut cfg = HttpPoolConfig::new(endpoint);
    cfg.tls = Some(client_config(&Trust::WebPkiRoots).unwrap());
    cfg.connections = 1;
    let mut pool = HttpPool::new(cfg, &mut p).unwrap();
    match pool.submit(&Request::get("/x"), in_secs(5), p.registry()) {
        Ok(id) => match wait_for(&mut p, &mut pool, id) {
            Done::NotSent(e) => assert!(e.contains("Tls"), "{e}"),
            other => panic!("untrusted certificate must fail: {other:?}"),
        },
        Err(e) => panic!("{e:?}"),
    }
    let _ = std::fs::remove_file(&id_.ca_file);
}

#[test]
fn https_without_tls_config_is_a_config_error() {
    let mut p = poller();
    let cfg = HttpPoolConfig::new(Endpoint::parse("https://127.0.0.1:1").unwrap());
    assert!(HttpPool::new(cfg, &mut p).is_err());
    let cfg = HttpPoolConfig::new(Endpoint::parse("ws://127.0.0.1:1").unwrap());
    assert!(HttpPool::new(cfg, &mut p).is_err());
}
