//! HTTP client costs: writing a signed order request into the reused buffer, parsing a
//! typical venue response, and (printed after the criterion runs) the loopback round trip
//! of raw TCP vs. the `HttpPool` against the same kind of std-thread server.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use binance_exec::net::http::request::{Request, write_request};
use binance_exec::net::http::response::{ParseStatus, ResponseParser};
use binance_exec::net::http::{HttpPool, HttpPoolConfig, Outcome};
use binance_exec::net::poller::{PollMode, Poller};
use binance_exec::net::url::Endpoint;
use criterion::{Criterion, criterion_group};

const ORDER_BODY: &[u8] = b"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.010&price=65000.10&newClientOrderId=x-7f3a9c2e41d84b0b&newOrderRespType=ACK&recvWindow=5000&timestamp=1760000000000&signature=3c1f2a7d9e8b6c5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a";

const ORDER_JSON: &str = r#"{"orderId":4084201023,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"x-7f3a9c2e41d84b0b","price":"65000.10","avgPrice":"0.00","origQty":"0.010","executedQty":"0.000","cumQty":"0.000","cumQuote":"0.00000","timeInForce":"GTC","type":"LIMIT","reduceOnly":false,"closePosition":false,"side":"BUY","positionSide":"BOTH","stopPrice":"0.00","workingType":"CONTRACT_PRICE","priceProtect":false,"origType":"LIMIT","priceMatch":"NONE","selfTradePreventionMode":"EXPIRE_MAKER","goodTillDate":0,"updateTime":1760000000001}"#;

/// A typical order reply with the headers the venue sends (lower-case `x-mbx-*`).
fn order_response() -> &'static [u8] {
    let s = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\
         Date: Mon, 23 Nov 2026 22:00:00 GMT\r\nServer: nginx\r\nx-mbx-used-weight-1m: 12\r\n\
         x-mbx-order-count-10s: 3\r\nx-mbx-order-count-1m: 17\r\nx-response-time: 3ms\r\n\
         Access-Control-Allow-Origin: *\r\n\r\n{}",
        ORDER_JSON.len(),
        ORDER_JSON
    );
    Box::leak(s.into_bytes().into_boxed_slice())
}
fn codec(c: &mut Criterion) {
    let mut buf = Vec::with_capacity(1024);
    let req = Request::post("/fapi/v1/order", ORDER_BODY);
    c.bench_function("http/write_order_request", |b| {
        b.iter(|| {
            write_request(
                &mut buf,
                "fapi.binance.com",
                "",
                Some("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"),
                black_box(&req),
            )
            .ok();
            black_box(buf.len())
        })
    });

    let response = order_response();
    let mut parser = ResponseParser::new(1 << 20);
    c.bench_function("http/parse_order_response", |b| {
        b.iter(|| {
            parser.clear();
            let n = response.len();
            parser.spare(n)[..n].copy_from_slice(black_box(response));
            parser.filled(n);
            let done = parser.advance() == Ok(ParseStatus::Complete);
            black_box((
                done,
                parser.head().map(|h| h.limits.order_count_10s),
                parser.body().len(),
            ))
        })
    });
}

criterion_group!(benches, codec);

/// A blocking server: for each read, answer with `reply` (request fits in one read on loopback).
fn spawn_server(reply: &'static [u8], is_http: bool) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for _ in 0..2 {
            let Ok((mut s, _)) = l.accept() else { return };
            let _ = s.set_nodelay(true);
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut pending = Vec::new();
                loop {
                    let n = match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    let complete = if is_http {
                        http_request_complete(&pending)
                    } else {
                        pending.len() >= 256
                    };
                    if complete {
                        pending.clear();
                        if s.write_all(reply).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

/// Whether `buf` holds a whole request (head plus `Content-Length` body).
fn http_request_complete(buf: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(head)) = req.parse(buf) else {
        return false;
    };
    let len: usize = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
        .unwrap_or(0);
    buf.len() >= head + len
}

fn median_and_p99(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

fn loopback_rtt() {
    const N: usize = 5000;
    const WARM: usize = 500;
    let reply = order_response();
    let raw_port = spawn_server(reply, false);
    let mut s = TcpStream::connect(("127.0.0.1", raw_port)).unwrap();
    s.set_nodelay(true).unwrap();
    let msg = [b'q'; 256];
    let mut back = vec![0u8; reply.len()];
    let mut raw = Vec::with_capacity(N);
    for i in 0..N + WARM {
        let t = Instant::now();
        s.write_all(&msg).unwrap();
        s.read_exact(&mut back).unwrap();
        if i >= WARM {
            raw.push(t.elapsed());
        }
    }

    let http_port = spawn_server(reply, true);
    let mut poller = Poller::new(PollMode::Spin, 64).unwrap();
    let mut cfg =
        HttpPoolConfig::new(Endpoint::parse(&format!("http://127.0.0.1:{http_port}")).unwrap());
    cfg.connections = 1;
    cfg.api_key = Some("k".into());
    let mut pool = HttpPool::new(cfg, &mut poller).unwrap();
    let mut http = Vec::with_capacity(N);
    let stop = Instant::now() + Duration::from_secs(60);
    while pool.idle() == 0 && Instant::now() < stop {
        poller.poll().unwrap();
        let (events, registry) = poller.events_and_registry();
        for ev in events.iter() {
            pool.on_event(ev.token(), registry, Instant::now(), |_| {});
        }
    }
    let req = Request::post("/fapi/v1/order", ORDER_BODY);
    for i in 0..N + WARM {
        let t = Instant::now();
        let id = pool
            .submit(&req, t + Duration::from_secs(5), poller.registry())
            .unwrap();
        let mut done = false;
        while !done && Instant::now() < stop {
            poller.poll().unwrap();
            let (events, registry) = poller.events_and_registry();
            for ev in events.iter() {
                pool.on_event(ev.token(), registry, Instant::now(), |c| {
                    assert!(matches!(c.outcome, Outcome::Response(r) if r.status == 200));
                    done |= c.id == id;
                });
            }
        }
        if i >= WARM {
            http.push(t.elapsed());
        }
    }
    let (rm, rp) = median_and_p99(raw);
    let (hm, hp) = median_and_p99(http);
    println!(
        "loopback RTT, N={N} (after {WARM} warm-up), 256 B / {} B reply:",
        reply.len()
    );
    println!(
        "  raw TCP (blocking std socket)   median {:>8.1} us   p99 {:>8.1} us",
        rm.as_secs_f64() * 1e6,
        rp.as_secs_f64() * 1e6
    );
    println!(
        "  HttpPool (mio spin, 1 conn)     median {:>8.1} us   p99 {:>8.1} us",
        hm.as_secs_f64() * 1e6,
        hp.as_secs_f64() * 1e6
    );
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !std::env::args().any(|a| a == "--list" || a == "--test") {
        loopback_rtt();
    }
}
