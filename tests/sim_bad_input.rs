//! The simulator's bad-input fault hooks, checked at the wire with raw
//! loopback clients (std TCP + tungstenite, not the engine): each hook sends
//! exactly what it says, only to what it targets, and the venue still
//! executes the order whose answer it mangles.
mod common;

use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::faults::{
    BINARY_MAGIC, DEFAULT_FRAME_LIMIT, FUTURE_EVENT, FUTURE_STATE, FaultPatch,
};
use binance_exec::sim::transport::{SimHandle, SimServer};
use common::*;
use sonic_rs::{JsonContainerTrait, JsonValueTrait};
use std::io::Read;
use std::time::{Duration, Instant};

fn start() -> SimHandle {
    SimServer::start(&SimSettings::default()).expect("simulator starts")
}

/// A paused market (so only the frames our orders cause flow), a
/// listenKey and a user-stream connection.
fn user_stream(sim: &SimHandle) -> (Http, Ws) {
    let mut c = Http::connect(sim.local_addr());
    let r = c.request("POST", "/sim/pause", &[], r#"{"paused":true}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    let key = c
        .keyed("POST", "/fapi/v1/listenKey")
        .json()
        .get("listenKey")
        .and_then(|v| v.as_str().map(str::to_string))
        .expect("listenKey");
    let ws = ws_connect(sim.local_addr(), &format!("{}/ws/{key}", sim.stream_url()))
        .expect("user stream");
    (c, ws)
}

/// A resting buy far from the market: one ORDER_TRADE_UPDATE NEW.
fn place(c: &mut Http, id: &str) -> Resp {
    c.signed(
        "POST",
        "/fapi/v1/order",
        &format!(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=10000&newClientOrderId={id}"
        ),
    )
}

/// Data frames (text or binary) until `deadline`.
fn next_data(ws: &mut Ws, deadline: Instant) -> Option<tungstenite::Message> {
    while Instant::now() < deadline {
        match ws_poll(ws) {
            Ok(Some(m @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_)))) => {
                return Some(m);
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

fn next_text(ws: &mut Ws) -> String {
    match next_data(ws, Instant::now() + Duration::from_secs(5)) {
        Some(tungstenite::Message::Text(t)) => t.to_string(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

fn patch(sim: &SimHandle, json: &str) {
    let p: FaultPatch = sonic_rs::from_str(json).expect("patch");
    sim.set_faults(&p);
}

fn in_ledger(c: &mut Http, id: &str) -> bool {
    let l = c.request("GET", "/sim/ledger", &[], "");
    l.body.contains(&format!("\"{id}\""))
}

#[test]
fn stream_frame_faults_send_what_they_say() {
    let sim = start();
    let (mut c, mut ws) = user_stream(&sim);
    // Reached through the control endpoint once, as a user would.
    let r = c.request(
        "POST",
        "/sim/faults",
        &[],
        r#"{"bad_frames_on":"user","frame_limit_bytes":4096}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("\"bad_frames_on\":\"user\""), "{}", r.body);

    patch(&sim, r#"{"corrupt_next_frames":1}"#);
    place(&mut c, "bi-trunc");
    let t = next_text(&mut ws);
    assert!(sonic_rs::from_str::<sonic_rs::Value>(&t).is_err(), "{t}");
    assert!(t.starts_with("{\"e\":\"ORDER_TRADE_UPDATE\""), "{t}");

    patch(&sim, r#"{"oversized_next_frames":1}"#);
    place(&mut c, "bi-over");
    let t = next_text(&mut ws);
    assert_eq!(t.len(), 4097);
    let v: sonic_rs::Value = sonic_rs::from_str(&t).expect("valid JSON");
    assert_eq!(v["o"]["c"].as_str(), Some("bi-over"));

    patch(&sim, r#"{"at_limit_next_frames":1}"#);
    place(&mut c, "bi-limit");
    let t = next_text(&mut ws);
    assert_eq!(t.len(), 4096);
    assert!(sonic_rs::from_str::<sonic_rs::Value>(&t).is_ok());

    patch(&sim, r#"{"unknown_event_next_frames":1}"#);
    place(&mut c, "bi-event");
    let first: sonic_rs::Value = sonic_rs::from_str(&next_text(&mut ws)).expect("JSON");
    assert_eq!(first["e"].as_str(), Some(FUTURE_EVENT));
    let second: sonic_rs::Value = sonic_rs::from_str(&next_text(&mut ws)).expect("JSON");
    assert_eq!(second["o"]["c"].as_str(), Some("bi-event"));

    patch(&sim, r#"{"unknown_enum_next_frames":1}"#);
    place(&mut c, "bi-enum");
    let v: sonic_rs::Value = sonic_rs::from_str(&next_text(&mut ws)).expect("JSON");
    assert_eq!(v["o"]["c"].as_str(), Some("bi-enum"));
    assert_eq!(v["o"]["X"].as_str(), Some(FUTURE_STATE));
    assert_eq!(v["o"]["x"].as_str(), Some(FUTURE_STATE));

    patch(&sim, r#"{"extra_fields_next_frames":1}"#);
    place(&mut c, "bi-extra");
    let v: sonic_rs::Value = sonic_rs::from_str(&next_text(&mut ws)).expect("JSON");
    assert!(v["zzFuture"].is_object());
    assert_eq!(v["e"].as_str(), Some("ORDER_TRADE_UPDATE"));
    assert_eq!(v["o"]["c"].as_str(), Some("bi-extra"));

    patch(&sim, r#"{"missing_field_next_frames":1}"#);
    place(&mut c, "bi-missing");
    let v: sonic_rs::Value = sonic_rs::from_str(&next_text(&mut ws)).expect("JSON");
    assert_eq!(v["o"]["c"].as_str(), Some("bi-missing"));
    assert!(v["o"].get("s").is_none(), "symbol still there: {v:?}");

    patch(&sim, r#"{"non_json_next_frames":1}"#);
    place(&mut c, "bi-html");
    let t = next_text(&mut ws);
    assert!(t.starts_with("<html>"), "{t}");

    patch(&sim, r#"{"binary_next_frames":1}"#);
    place(&mut c, "bi-bin");
    match next_data(&mut ws, Instant::now() + Duration::from_secs(5)) {
        Some(tungstenite::Message::Binary(b)) => {
            assert_eq!(b.get(..4), Some(&BINARY_MAGIC[..]));
            assert!(String::from_utf8_lossy(&b).contains("bi-bin"));
        }
        other => panic!("expected a binary frame, got {other:?}"),
    }

    // Every counter is spent: the next order's frame is clean.
    place(&mut c, "bi-clean");
    let v: sonic_rs::Value = sonic_rs::from_str(&next_text(&mut ws)).expect("JSON");
    assert_eq!(v["o"]["c"].as_str(), Some("bi-clean"));
    assert_eq!(v["o"]["X"].as_str(), Some("NEW"));
    // The venue executed every one of them: only the frames were bad.
    for id in ["bi-trunc", "bi-over", "bi-html", "bi-bin", "bi-missing"] {
        assert!(in_ledger(&mut c, id), "{id} not in the ledger");
    }
}

#[test]
fn targets_keep_faults_off_other_frames_and_the_default_limit_is_the_engines() {
    let sim = start();
    let (mut c, mut ws) = user_stream(&sim);
    // Market-only fault: a user frame passes untouched and keeps it armed.
    patch(
        &sim,
        r#"{"non_json_next_frames":1,"bad_frames_on":"market"}"#,
    );
    place(&mut c, "tg-1");
    let v: sonic_rs::Value = sonic_rs::from_str(&next_text(&mut ws)).expect("JSON");
    assert_eq!(v["o"]["c"].as_str(), Some("tg-1"));
    let f = c.request("GET", "/sim/faults", &[], "").json();
    assert_eq!(f["non_json_next_frames"].as_u64(), Some(1));
    // Oversized at the default limit: one byte over the engine's 16 MiB.
    let r = c.request(
        "POST",
        "/sim/faults",
        &[],
        r#"{"clear":true,"oversized_next_frames":1,"bad_frames_on":"user"}"#,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        DEFAULT_FRAME_LIMIT,
        binance_exec::engine::net_thread::NetSettings::new(
            binance_exec::net::url::Endpoint::parse("http://127.0.0.1:1").expect("url"),
            binance_exec::net::url::Endpoint::parse("ws://127.0.0.1:1").expect("url"),
        )
        .max_message
    );
    // A client that accepts it (tungstenite's own frame limit is 16 MiB).
    let key = c
        .keyed("POST", "/fapi/v1/listenKey")
        .json()
        .get("listenKey")
        .and_then(|v| v.as_str().map(str::to_string))
        .expect("listenKey");
    let tcp = std::net::TcpStream::connect(sim.local_addr()).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let cfg = tungstenite::protocol::WebSocketConfig::default()
        .max_frame_size(Some(64 << 20))
        .max_message_size(Some(64 << 20));
    let (mut big, _) = tungstenite::client::client_with_config(
        format!("{}/ws/{key}", sim.stream_url()),
        tcp,
        Some(cfg),
    )
    .expect("user stream");
    drop(ws);
    // The old connection must be gone, or it could take the one fault.
    for _ in 0..100 {
        if sim.ws_connections() == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sim.ws_connections(), 1);
    place(&mut c, "tg-2");
    let t = next_text(&mut big);
    assert_eq!(t.len(), DEFAULT_FRAME_LIMIT + 1);
    assert!(t.contains("tg-2"));
}

/// Raw HTTP: the announced Content-Length and the bytes that came before
/// the server closed.
fn raw_exchange(sim: &SimHandle, request: &str) -> (String, usize, usize) {
    use std::io::Write;
    let mut tcp = std::net::TcpStream::connect(sim.local_addr()).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    tcp.write_all(request.as_bytes()).expect("write");
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    for _ in 0..1000 {
        match tcp.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&all).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let announced = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    (head.to_string(), announced, body.len())
}

#[test]
fn rest_reply_faults_hide_an_executed_order() {
    let sim = start();
    let mut c = Http::connect(sim.local_addr());
    patch(
        &sim,
        r#"{"bad_replies_to":"order_writes","truncated_reply_next":1}"#,
    );
    // A read is not a write: untouched, the fault stays armed.
    let r = c.request("GET", "/fapi/v1/time", &[], "");
    assert_eq!(r.status, 200);
    assert!(r.json()["serverTime"].as_i64().is_some());
    let r = place(&mut c, "rr-trunc");
    assert_eq!(r.status, 200);
    assert!(
        sonic_rs::from_str::<sonic_rs::Value>(&r.body).is_err(),
        "{}",
        r.body
    );
    assert!(r.body.starts_with('{'));

    patch(&sim, r#"{"html_502_next":1}"#);
    let r = place(&mut c, "rr-html");
    assert_eq!(r.status, 502);
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert!(r.body.contains("502 Bad Gateway"));

    patch(&sim, r#"{"wrong_shape_reply_next":1}"#);
    let r = place(&mut c, "rr-shape");
    assert_eq!(r.status, 200);
    let v: sonic_rs::Value = sonic_rs::from_str(&r.body).expect("valid JSON");
    assert!(v.is_array(), "{}", r.body);
    assert_eq!(v[0]["clientOrderId"].as_str(), Some("rr-shape"));

    patch(&sim, r#"{"bad_length_reply_next":1}"#);
    let mut p = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=10000&newClientOrderId=rr-len&timestamp={}",
        now_ms()
    );
    let sig = sign(SECRET, &p);
    p.push_str(&format!("&signature={sig}"));
    let req = format!(
        "POST /fapi/v1/order HTTP/1.1\r\nHost: 127.0.0.1\r\nX-MBX-APIKEY: {KEY}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{p}",
        p.len()
    );
    let (head, announced, got) = raw_exchange(&sim, &req);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(announced, got + 100, "{head}");

    // Reads only: a write passes, a read gets the gateway page.
    patch(&sim, r#"{"bad_replies_to":"reads","html_502_next":1}"#);
    let r = place(&mut c, "rr-read");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["clientOrderId"].as_str(), Some("rr-read"));
    let r = c.request("GET", "/fapi/v1/time", &[], "");
    assert_eq!(r.status, 502);

    for id in ["rr-trunc", "rr-html", "rr-shape", "rr-len", "rr-read"] {
        assert!(in_ledger(&mut c, id), "{id}: the venue did not execute it");
    }
}

/// A signed WS-API request with a numeric id.
fn ws_api_place(id: u64, client_id: &str) -> String {
    let params: Vec<(&str, String)> = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.01"),
        ("price", "10000"),
        ("newClientOrderId", client_id),
    ]
    .iter()
    .map(|(k, v)| (*k, v.to_string()))
    .collect();
    ws_api_signed(&id.to_string(), "order.place", &params)
}

#[test]
fn ws_api_reply_faults() {
    let sim = start();
    let mut c = Http::connect(sim.local_addr());
    let mut ws = ws_connect(sim.local_addr(), &sim.ws_api_url()).expect("ws api");
    patch(
        &sim,
        r#"{"bad_replies_to":"order_writes","truncated_reply_next":1}"#,
    );
    ws_send(&mut ws, &ws_api_place(11, "wa-trunc"));
    let t = next_text(&mut ws);
    assert!(t.starts_with("{\"id\":11,"), "{t}");
    assert!(sonic_rs::from_str::<sonic_rs::Value>(&t).is_err(), "{t}");

    patch(&sim, r#"{"wrong_shape_reply_next":1}"#);
    ws_send(&mut ws, &ws_api_place(12, "wa-shape"));
    let v: sonic_rs::Value = sonic_rs::from_str(&next_text(&mut ws)).expect("JSON");
    assert_eq!(v["id"].as_u64(), Some(12));
    assert_eq!(v["status"].as_u64(), Some(200));
    assert!(v["result"].is_array());
    assert_eq!(
        v["result"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|o| o.get("clientOrderId"))
            .and_then(|x| x.as_str()),
        Some("wa-shape")
    );

    patch(&sim, r#"{"html_502_next":1}"#);
    ws_send(&mut ws, &ws_api_place(13, "wa-html"));
    let t = next_text(&mut ws);
    assert!(t.starts_with("<html>"), "{t}");

    patch(&sim, r#"{"bad_length_reply_next":1}"#);
    ws_send(&mut ws, &ws_api_place(14, "wa-len"));
    // No answer: the connection ends.
    assert!(next_data(&mut ws, Instant::now() + Duration::from_secs(5)).is_none());

    for id in ["wa-trunc", "wa-shape", "wa-html", "wa-len"] {
        assert!(in_ledger(&mut c, id), "{id}: the venue did not execute it");
    }
}
