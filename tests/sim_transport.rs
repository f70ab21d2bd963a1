//! The simulator's transport against a raw client: HTTP basics, auth errors,
//! rate limits, listenKeys, stream URL forms, SUBSCRIBE, WS API, faults, TLS
//! and clean shutdown. Every wait is bounded.
mod common;

use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::{SimHandle, SimServer};
use common::*;
use sonic_rs::{JsonContainerTrait, JsonValueTrait};
use std::time::{Duration, Instant};

fn start(edit: impl FnOnce(&mut SimSettings)) -> SimHandle {
    let mut s = SimSettings::default();
    edit(&mut s);
    SimServer::start(&s).expect("simulator starts")
}

/// Waits (bounded) until `ms_into` a window of `len_ms` leaves at least
/// `margin_ms`, so a short burst never straddles a fixed-window reset.
fn clear_of_window_edge(len_ms: i64, margin_ms: i64) {
    for _ in 0..100 {
        let into = now_ms().rem_euclid(len_ms);
        if into > 200 && len_ms - into > margin_ms {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn ping_time_keep_alive_and_weight_header() {
    let sim = start(|_| {});
    let mut c = Http::connect(sim.local_addr());
    let r = c.request("GET", "/fapi/v1/ping", &[], "");
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    assert!(
        r.header("Content-Type")
            .unwrap()
            .starts_with("application/json")
    );
    let w1: u32 = r.header("X-MBX-USED-WEIGHT-1M").unwrap().parse().unwrap();
    // Same connection (keep-alive); weight grows.
    let r = c.request("GET", "/fapi/v1/time", &[], "");
    assert_eq!(r.status, 200);
    let st = r.json().get("serverTime").and_then(|v| v.as_i64()).unwrap();
    assert!((st - now_ms()).abs() < 2000);
    let w2: u32 = r.header("X-MBX-USED-WEIGHT-1M").unwrap().parse().unwrap();
    assert!(w2 > w1 || w2 == 1, "weight {w1} -> {w2}");
    assert!(r.header("X-MBX-ORDER-COUNT-10S").is_none());
    let r = c.request("GET", "/fapi/v1/definitelyNotAnEndpoint", &[], "");
    assert_eq!(r.status, 404);
}

#[test]
fn auth_errors_as_binance() {
    let sim = start(|_| {});
    let mut c = Http::connect(sim.local_addr());
    let path = "/fapi/v2/balance";
    // No key.
    let ts = now_ms();
    let q = format!("timestamp={ts}");
    let sig = sign(SECRET, &q);
    let r = c.request("GET", &format!("{path}?{q}&signature={sig}"), &[], "");
    assert_eq!((r.status, r.code()), (401, Some(-2014)));
    // Unknown key.
    let r = c.request(
        "GET",
        &format!("{path}?{q}&signature={sig}"),
        &[("X-MBX-APIKEY", "unknownKey123")],
        "",
    );
    assert_eq!((r.status, r.code()), (401, Some(-2015)));
    // Missing signature.
    let r = c.request("GET", &format!("{path}?{q}"), &[("X-MBX-APIKEY", KEY)], "");
    assert_eq!(r.code(), Some(-1102));
    assert!(r.body.contains("signature"));
    // Bad signature.
    let r = c.request(
        "GET",
        &format!("{path}?{q}&signature={}", "ab".repeat(32)),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_eq!((r.status, r.code()), (400, Some(-1022)));
    // Too old for the default recvWindow, and too far ahead.
    for ts in [now_ms() - 6000, now_ms() + 1500] {
        let q = format!("timestamp={ts}");
        let r = c.request(
            "GET",
            &format!("{path}?{q}&signature={}", sign(SECRET, &q)),
            &[("X-MBX-APIKEY", KEY)],
            "",
        );
        assert_eq!(r.code(), Some(-1021), "ts offset {}", ts - now_ms());
    }
    // A larger recvWindow admits the old timestamp.
    let q = format!("recvWindow=20000&timestamp={}", now_ms() - 6000);
    let r = c.request(
        "GET",
        &format!("{path}?{q}&signature={}", sign(SECRET, &q)),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_ne!(r.code(), Some(-1021));
    assert_ne!(r.code(), Some(-1022));
    // Query ‖ body, signature at the end of the body; encoded non-ASCII symbol.
    let query = "symbol=%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT";
    let body = format!("leverage=10&timestamp={}", now_ms());
    let sig = sign(SECRET, &format!("{query}{body}"));
    let r = c.request(
        "POST",
        &format!("/fapi/v1/leverage?{query}"),
        &[("X-MBX-APIKEY", KEY)],
        &format!("{body}&signature={sig}"),
    );
    assert!(
        !matches!(r.code(), Some(-1022 | -1021 | -1102 | -2014 | -2015)),
        "{}",
        r.body
    );
    // Upper-case hex signature is accepted.
    let q = format!("timestamp={}", now_ms());
    let r = c.request(
        "GET",
        &format!("{path}?{q}&signature={}", sign(SECRET, &q).to_uppercase()),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_ne!(r.code(), Some(-1022));
}

#[test]
fn order_count_headers_then_429() {
    let sim = start(|s| s.server.limits.orders_per_10s = 3);
    let mut c = Http::connect(sim.local_addr());
    clear_of_window_edge(10_000, 3_000);
    for i in 1..=3 {
        let r = c.signed(
            "POST",
            "/fapi/v1/order",
            &format!("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=10000&newClientOrderId=cnt-{i}"),
        );
        assert_eq!(
            r.header("X-MBX-ORDER-COUNT-10S"),
            Some(i.to_string().as_str()),
            "{}",
            r.body
        );
        assert!(r.header("X-MBX-ORDER-COUNT-1M").is_some());
        assert_eq!(
            r.header("X-MBX-USED-WEIGHT-1M").map(|w| w.is_empty()),
            Some(false)
        );
    }
    let r = c.signed(
        "POST",
        "/fapi/v1/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=10000",
    );
    assert_eq!((r.status, r.code()), (429, Some(-1015)));
    let retry: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry));
}

#[test]
fn weight_limit_429_then_418_ban() {
    let sim = start(|s| {
        s.server.limits.weight_per_minute = 5;
        s.server.limits.ban_after_429s = 2;
    });
    let mut c = Http::connect(sim.local_addr());
    clear_of_window_edge(60_000, 5_000);
    for _ in 0..5 {
        assert_eq!(c.request("GET", "/fapi/v1/ping", &[], "").status, 200);
    }
    for _ in 0..2 {
        let r = c.request("GET", "/fapi/v1/ping", &[], "");
        assert_eq!((r.status, r.code()), (429, Some(-1003)));
        assert!(r.header("Retry-After").is_some());
    }
    let r = c.request("GET", "/fapi/v1/ping", &[], "");
    assert_eq!((r.status, r.code()), (418, Some(-1003)));
    assert!(r.body.contains("IP banned until"), "{}", r.body);
    let retry: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!(retry >= 100, "default first ban is 2 min, got {retry}s");
}

#[test]
fn listen_key_lifecycle() {
    let sim = start(|_| {});
    let mut c = Http::connect(sim.local_addr());
    let r = c.keyed("POST", "/fapi/v1/listenKey");
    assert_eq!(r.status, 200);
    let k1 = r
        .json()
        .get("listenKey")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap();
    assert_eq!(
        c.keyed("POST", "/fapi/v1/listenKey")
            .json()
            .get("listenKey")
            .and_then(|v| v.as_str().map(str::to_string)),
        Some(k1.clone())
    );
    let r = c.keyed("PUT", "/fapi/v1/listenKey");
    assert_eq!(
        r.json()
            .get("listenKey")
            .and_then(|v| v.as_str().map(str::to_string)),
        Some(k1.clone())
    );
    // USER_STREAM needs the key header.
    assert_eq!(c.request("POST", "/fapi/v1/listenKey", &[], "").status, 401);
    assert_eq!(c.keyed("DELETE", "/fapi/v1/listenKey").body, "{}");
    let r = c.keyed("PUT", "/fapi/v1/listenKey");
    assert_eq!(r.code(), Some(-1125));
    // A dead key cannot open a user stream.
    assert!(ws_connect(sim.local_addr(), &format!("{}/ws/{k1}", sim.stream_url())).is_err());
}

#[test]
fn listen_key_expires_at_compressed_time() {
    // 60 min / 1800 = 2 s validity.
    let sim = start(|s| s.server.time_scale = 1800.0);
    let mut c = Http::connect(sim.local_addr());
    let key = c
        .keyed("POST", "/fapi/v1/listenKey")
        .json()
        .get("listenKey")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap();
    let mut ws = ws_connect(
        sim.local_addr(),
        &format!("{}/private/ws?listenKey={key}", sim.stream_url()),
    )
    .unwrap();
    let t0 = Instant::now();
    let ev = ws_until(&mut ws, Duration::from_secs(8), |t| {
        t.contains("listenKeyExpired")
    })
    .expect("listenKeyExpired pushed");
    assert!(
        t0.elapsed() >= Duration::from_millis(1500),
        "expired too early: {:?}",
        t0.elapsed()
    );
    assert!(ev.contains(&key));
    assert_eq!(c.keyed("PUT", "/fapi/v1/listenKey").code(), Some(-1125));
    let k2 = c
        .keyed("POST", "/fapi/v1/listenKey")
        .json()
        .get("listenKey")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap();
    assert_ne!(k2, key);
}

#[test]
fn compressed_time_pings_leave_room_under_the_inbound_limit() {
    // 3 min / 2880 would ping every 62 ms: the answering pongs alone (they
    // count as inbound messages, limit 10/s) would get every connection cut
    // within a second. A client that answers every ping stays connected.
    let sim = start(|s| s.server.time_scale = 2880.0);
    let mut ws = ws_connect(
        sim.local_addr(),
        &format!("{}/ws/btcusdt@bookTicker", sim.stream_url()),
    )
    .unwrap();
    let t0 = Instant::now();
    let mut pings = 0u32;
    let mut closed = None;
    while t0.elapsed() < Duration::from_millis(3_500) {
        match ws_poll(&mut ws) {
            Ok(Some(tungstenite::Message::Ping(_))) => pings += 1,
            Ok(Some(tungstenite::Message::Close(_))) | Err(_) => {
                closed = Some(t0.elapsed());
                break;
            }
            Ok(_) => {}
        }
        // Pongs queued by tungstenite go out with the next flush.
        let _ = ws.flush();
    }
    assert_eq!(closed, None, "cut after {pings} ping(s)");
    assert!((2..=5).contains(&pings), "pings in 3.5 s: {pings}");
}

fn list_subs(ws: &mut Ws, id: u32) -> Vec<String> {
    ws_send(
        ws,
        &format!(r#"{{"method":"LIST_SUBSCRIPTIONS","id":{id}}}"#),
    );
    let t = ws_until(ws, Duration::from_secs(3), |t| {
        t.contains(&format!("\"id\":{id}"))
    })
    .expect("LIST reply");
    let v: sonic_rs::Value = sonic_rs::from_str(&t).unwrap();
    v.get("result")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn stream_url_forms_and_subscribe() {
    let sim = start(|_| {});
    let addr = sim.local_addr();
    let base = sim.stream_url();
    let mut c = Http::connect(addr);
    let key = c
        .keyed("POST", "/fapi/v1/listenKey")
        .json()
        .get("listenKey")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap();
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            format!("{base}/ws/btcusdt@aggTrade/BTCUSDT@bookTicker"),
            vec!["btcusdt@aggTrade".into(), "btcusdt@bookTicker".into()],
        ),
        (
            format!("{base}/stream?streams=btcusdt@depth@100ms/ethusdt@markPrice"),
            vec!["btcusdt@depth@100ms".into(), "ethusdt@markPrice".into()],
        ),
        (
            format!("{base}/public/ws/btcusdt@depth5"),
            vec!["btcusdt@depth5".into()],
        ),
        (
            format!("{base}/market/stream?streams=btcusdt@markPrice@1s"),
            vec!["btcusdt@markPrice@1s".into()],
        ),
        (format!("{base}/ws?listenKey={key}"), vec![key.clone()]),
        (format!("{base}/ws/{key}"), vec![key.clone()]),
        (
            format!("{base}/private/ws?listenKey={key}&events=ORDER_TRADE_UPDATE/ACCOUNT_UPDATE"),
            vec![key.clone()],
        ),
        (
            format!("{base}/private/stream?listenKey={key}&events=ORDER_TRADE_UPDATE"),
            vec![key.clone()],
        ),
    ];
    for (i, (url, want)) in cases.iter().enumerate() {
        let mut ws = ws_connect(addr, url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(&list_subs(&mut ws, i as u32 + 1), want, "{url}");
    }
    // Live SUBSCRIBE / UNSUBSCRIBE / properties on a bare connection.
    let mut ws = ws_connect(addr, &format!("{base}/ws")).unwrap();
    ws_send(
        &mut ws,
        r#"{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","ethusdt@bookTicker"],"id":7}"#,
    );
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"id\":7")).unwrap();
    assert_eq!(r, r#"{"result":null,"id":7}"#);
    ws_send(
        &mut ws,
        r#"{"method":"UNSUBSCRIBE","params":["btcusdt@aggTrade"],"id":8}"#,
    );
    assert!(ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"id\":8")).is_some());
    assert_eq!(
        list_subs(&mut ws, 9),
        vec!["ethusdt@bookTicker".to_string()]
    );
    ws_send(
        &mut ws,
        r#"{"method":"SET_PROPERTY","params":["combined",true],"id":10}"#,
    );
    assert!(ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"id\":10")).is_some());
    ws_send(
        &mut ws,
        r#"{"method":"GET_PROPERTY","params":["combined"],"id":11}"#,
    );
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"id\":11")).unwrap();
    assert_eq!(r, r#"{"result":true,"id":11}"#);
    ws_send(&mut ws, "{not json");
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("error")).unwrap();
    assert!(r.contains("\"code\":3"), "{r}");
    // Unknown path: no upgrade.
    assert!(ws_connect(addr, &format!("{base}/nope")).is_err());
}

#[test]
fn inbound_message_cap_disconnects() {
    let sim = start(|_| {});
    let mut ws = ws_connect(sim.local_addr(), &format!("{}/ws", sim.stream_url())).unwrap();
    for i in 0..15 {
        let msg = format!(r#"{{"method":"LIST_SUBSCRIPTIONS","id":{i}}}"#);
        if ws.send(tungstenite::Message::Text(msg.into())).is_err() {
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut closed = false;
    while Instant::now() < deadline {
        if ws_next(&mut ws, deadline) == WsRead::Closed {
            closed = true;
            break;
        }
    }
    assert!(closed, "11th message within a second must disconnect");
}

fn ws_api_signed(params: &[(&str, String)], id: &str, method: &str) -> String {
    common::ws_api_signed(&format!("\"{id}\""), method, params)
}

#[test]
fn ws_api_envelope_signing_and_session() {
    let sim = start(|_| {});
    let mut ws = ws_connect(sim.local_addr(), &sim.ws_api_url()).unwrap();
    let place = ws_api_signed(
        &[
            ("symbol", "BTCUSDT".into()),
            ("side", "BUY".into()),
            ("type", "LIMIT".into()),
            ("timeInForce", "GTC".into()),
            ("quantity", "0.01".into()),
            ("price", "10000".into()),
        ],
        "p-1",
        "order.place",
    );
    ws_send(&mut ws, &place);
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"p-1\"")).expect("reply");
    let v: sonic_rs::Value = sonic_rs::from_str(&r).unwrap();
    assert_eq!(v.get("id").and_then(|x| x.as_str()), Some("p-1"));
    assert!(v.get("status").and_then(|x| x.as_u64()).is_some());
    let rl = v
        .get("rateLimits")
        .and_then(|x| x.as_array())
        .expect("rateLimits");
    assert!(
        rl.iter()
            .any(|x| x.get("rateLimitType").and_then(|t| t.as_str()) == Some("ORDERS"))
    );
    let code = v
        .get("error")
        .and_then(|e| e.get("code"))
        .and_then(|c| c.as_i64());
    assert!(
        !matches!(code, Some(-1022 | -1021 | -1102 | -2014 | -2015)),
        "{r}"
    );
    // Tampered signature.
    let bad = place
        .replace("\"price\":\"10000\"", "\"price\":\"10001\"")
        .replace("p-1", "p-2");
    ws_send(&mut ws, &bad);
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"p-2\"")).unwrap();
    assert!(r.contains("-1022") && r.contains("\"status\":400"), "{r}");
    // Unsigned without a session.
    ws_send(
        &mut ws,
        &format!(
            r#"{{"id":3,"method":"order.status","params":{{"apiKey":"{KEY}","symbol":"BTCUSDT","orderId":1,"timestamp":{}}}}}"#,
            now_ms()
        ),
    );
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"id\":3")).unwrap();
    assert!(r.contains("-1102"), "{r}");
    // session.logon, then the same request needs no signature.
    ws_send(&mut ws, &ws_api_signed(&[], "s-1", "session.logon"));
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"s-1\"")).unwrap();
    assert!(r.contains("\"status\":200") && r.contains(KEY), "{r}");
    ws_send(
        &mut ws,
        &format!(
            r#"{{"id":4,"method":"order.status","params":{{"symbol":"BTCUSDT","orderId":1,"timestamp":{}}}}}"#,
            now_ms()
        ),
    );
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"id\":4")).unwrap();
    assert!(!r.contains("-1102") && !r.contains("-1022"), "{r}");
    // userDataStream.start over the WS API.
    ws_send(
        &mut ws,
        &format!(r#"{{"id":5,"method":"userDataStream.start","params":{{"apiKey":"{KEY}"}}}}"#),
    );
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"id\":5")).unwrap();
    assert!(
        r.contains("listenKey") && r.contains("\"status\":200"),
        "{r}"
    );
    // Unknown method.
    ws_send(&mut ws, r#"{"id":6,"method":"nope.nope","params":{}}"#);
    let r = ws_until(&mut ws, Duration::from_secs(3), |t| t.contains("\"id\":6")).unwrap();
    assert!(r.contains("\"status\":400"), "{r}");
}

fn control(c: &mut Http, body: &str) -> Resp {
    let r = c.request(
        "POST",
        "/sim/faults",
        &[("Content-Type", "application/json")],
        body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

#[test]
fn http_faults() {
    let sim = start(|_| {});
    let mut c = Http::connect(sim.local_addr());
    control(&mut c, r#"{"too_many_next":1}"#);
    let r = c.request("GET", "/fapi/v1/ping", &[], "");
    assert_eq!((r.status, r.code()), (429, Some(-1003)));
    assert!(r.header("Retry-After").is_some());
    assert_eq!(c.request("GET", "/fapi/v1/ping", &[], "").status, 200);
    control(
        &mut c,
        r#"{"server_error_next":1,"server_error_status":502}"#,
    );
    let r = c.request("GET", "/fapi/v1/time", &[], "");
    assert_eq!((r.status, r.code()), (502, Some(-1001)));
    control(&mut c, r#"{"unknown_not_placed_next":1}"#);
    let r = c.signed("POST", "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=10000&newClientOrderId=unk-no");
    assert_eq!(r.status, 503);
    assert!(
        r.body
            .contains("Unknown error, please check your request or try again later.")
    );
    control(
        &mut c,
        r#"{"unknown_placed_next":1,"unknown_as_timeout":true}"#,
    );
    let r = c.signed("POST", "/fapi/v1/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=10000&newClientOrderId=unk-yes");
    assert_eq!((r.status, r.code()), (503, Some(-1007)));
    // Non-order calls are untouched by the "unknown" faults.
    control(&mut c, r#"{"unknown_placed_next":0,"clock_skew_ms":10000}"#);
    let st = c
        .request("GET", "/fapi/v1/time", &[], "")
        .json()
        .get("serverTime")
        .and_then(|v| v.as_i64())
        .unwrap();
    assert!((st - now_ms() - 10_000).abs() < 2000);
    // A timestamp from the unskewed client is now too old.
    assert_eq!(c.signed("GET", "/fapi/v2/balance", "").code(), Some(-1021));
    control(&mut c, r#"{"clear":true,"response_delay_ms":300}"#);
    let t0 = Instant::now();
    assert_eq!(c.request("GET", "/fapi/v1/ping", &[], "").status, 200);
    assert!(t0.elapsed() >= Duration::from_millis(290));
    let r = c.request("GET", "/sim/faults", &[], "");
    assert!(r.body.contains("\"response_delay_ms\":300"), "{}", r.body);
    let r = c.request("POST", "/sim/faults", &[], r#"{"no_such_fault":1}"#);
    assert_eq!(r.status, 400);
}

#[test]
fn drop_ws_and_expire_listen_keys_now() {
    let sim = start(|_| {});
    let addr = sim.local_addr();
    let mut c = Http::connect(addr);
    let key = c
        .keyed("POST", "/fapi/v1/listenKey")
        .json()
        .get("listenKey")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap();
    let mut user = ws_connect(addr, &format!("{}/ws/{key}", sim.stream_url())).unwrap();
    let mut market =
        ws_connect(addr, &format!("{}/ws/btcusdt@bookTicker", sim.stream_url())).unwrap();
    let mut api = ws_connect(addr, &sim.ws_api_url()).unwrap();
    control(&mut c, r#"{"expire_listen_keys":true}"#);
    assert!(
        ws_until(&mut user, Duration::from_secs(3), |t| t
            .contains("listenKeyExpired"))
        .is_some()
    );
    assert_eq!(c.keyed("PUT", "/fapi/v1/listenKey").code(), Some(-1125));
    control(&mut c, r#"{"drop_ws":true}"#);
    for ws in [&mut user, &mut market, &mut api] {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut closed = false;
        while Instant::now() < deadline {
            if ws_next(ws, deadline) == WsRead::Closed {
                closed = true;
                break;
            }
        }
        assert!(closed);
    }
}

#[test]
fn tls_handshake_with_generated_ca() {
    use rustls::pki_types::pem::PemObject;
    use std::io::{Read, Write};
    use std::sync::Arc;
    let sim = start(|s| s.server.tls = true);
    assert!(sim.rest_url().starts_with("https://"));
    let ca = sim.ca_pem_path().expect("CA written");
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let cfg = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    for host in ["127.0.0.1", "localhost"] {
        let name = rustls::pki_types::ServerName::try_from(host.to_string()).unwrap();
        let conn = rustls::ClientConnection::new(cfg.clone(), name).unwrap();
        let tcp = std::net::TcpStream::connect(sim.local_addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(b"GET /fapi/v1/time HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.starts_with("HTTP/1.1 200") && text.contains("serverTime"),
            "{host}: {text}"
        );
    }
    // WSS on the same port.
    let name = rustls::pki_types::ServerName::try_from("localhost".to_string()).unwrap();
    let conn = rustls::ClientConnection::new(cfg, name).unwrap();
    let tcp = std::net::TcpStream::connect(sim.local_addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let tls = rustls::StreamOwned::new(conn, tcp);
    let (mut ws, _) = tungstenite::client(
        format!("wss://localhost:{}/ws", sim.local_addr().port()),
        tls,
    )
    .map_err(|e| format!("{e:?}"))
    .unwrap();
    ws.send(tungstenite::Message::Text(
        r#"{"method":"LIST_SUBSCRIPTIONS","id":1}"#.into(),
    ))
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut got = None;
    while Instant::now() < deadline && got.is_none() {
        if let Ok(tungstenite::Message::Text(t)) = ws.read() {
            got = Some(t.to_string());
        }
    }
    assert_eq!(got.as_deref(), Some(r#"{"result":[],"id":1}"#));
}

#[test]
fn shutdown_joins_threads_and_frees_port() {
    let sim = start(|_| {});
    let addr = sim.local_addr();
    let mut c = Http::connect(addr);
    assert_eq!(c.request("GET", "/fapi/v1/ping", &[], "").status, 200);
    let _ws = ws_connect(addr, &format!("{}/ws/btcusdt@bookTicker", sim.stream_url())).unwrap();
    let _api = ws_connect(addr, &sim.ws_api_url()).unwrap();
    let t0 = Instant::now();
    sim.shutdown();
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        t0.elapsed()
    );
    // The kept-alive connection was closed by the server.
    let mut buf = [0u8; 16];
    use std::io::Read;
    let mut raw = std::net::TcpStream::connect(addr);
    assert!(
        raw.is_err()
            || raw
                .as_mut()
                .map(|s| s.read(&mut buf).unwrap_or(0))
                .unwrap_or(0)
                == 0
    );
    // The port can be bound again: the listener is gone.
    let l = std::net::TcpListener::bind(addr);
    assert!(l.is_ok(), "port still in use: {:?}", l.err());
}

#[test]
fn refuses_non_loopback_listen_by_default() {
    let mut s = SimSettings::default();
    s.server.listen = Some("0.0.0.0:0".into());
    assert!(matches!(
        SimServer::start(&s),
        Err(binance_exec::sim::transport::SimError::NotLoopback(_))
    ));
}
