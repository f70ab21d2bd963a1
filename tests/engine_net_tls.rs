//! Network thread over TLS (https + wss) with the simulator-style CA file, and settings
//! derived from a real config file.

mod net_support;

use std::time::{Duration, Instant};

use binance_exec::config::{Config, Environment, OrderEntry, WaitStrategy};
use binance_exec::engine::buffers::mono_ns;
use binance_exec::engine::net_thread::{
    NetCommand, NetError, NetEvent, NetSettings, RestOutcome, StreamKind, spawn,
};
use binance_exec::net::http::Method;
use binance_exec::net::poller::PollMode;
use binance_exec::net::tls::Trust;
use binance_exec::net::url::Endpoint;
use net_support::*;
use tungstenite::Message;

#[test]
fn rest_and_user_stream_over_tls_with_a_ca_file() {
    let id = identity("engine-net");
    let http_port = serve(2, Some(id.server.clone()), |_, s| {
        let mut buf = Vec::new();
        for _ in 0..100 {
            let Some((line, _)) = read_request(s, &mut buf) else {
                return;
            };
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", line.len());
            if s.write_all(head.as_bytes()).is_err() || s.write_all(line.as_bytes()).is_err() {
                return;
            }
            let _ = s.flush();
        }
    })
    .0;
    let ws_port = serve(2, Some(id.server.clone()), |_, s| {
        let Ok(mut ws) = tungstenite::accept(s) else {
            return;
        };
        let _ = ws.send(Message::text("secure-frame"));
        for _ in 0..100 {
            if ws.read().is_err() {
                return;
            }
        }
    })
    .0;
    let mut s = NetSettings::new(
        Endpoint::parse(&format!("https://127.0.0.1:{http_port}")).unwrap(),
        Endpoint::parse(&format!("wss://127.0.0.1:{ws_port}")).unwrap(),
    );
    s.trust = Trust::CaFile(id.ca_file.clone());
    s.buffers = 16;
    s.park_timeout = Duration::from_millis(2);
    let h = spawn(s).unwrap();
    let mut target = h.bufs.get();
    target.extend_from_slice(b"/fapi/v1/time");
    h.send(NetCommand::Rest {
        tag: 3,
        method: Method::Get,
        target,
        body: None,
        deadline_ns: mono_ns() + 3_000_000_000,
    })
    .unwrap();
    h.send(NetCommand::OpenUserStream {
        listen_key: "k1".into(),
    })
    .unwrap();
    let (mut rest, mut up, mut frame) = (None, false, None);
    let stop = Instant::now() + Duration::from_secs(5);
    while Instant::now() < stop && (rest.is_none() || frame.is_none()) {
        match h.events.recv_timeout(Duration::from_millis(20)) {
            Ok(NetEvent::RestDone {
                tag: 3, outcome, ..
            }) => rest = Some(outcome),
            Ok(NetEvent::StreamUp(StreamKind::User)) => up = true,
            Ok(NetEvent::UserFrame { buf, .. }) => frame = buf.as_str().map(str::to_string),
            _ => {}
        }
    }
    assert!(
        matches!(&rest, Some(RestOutcome::Response { status: 200, body, .. }) if body.as_str() == Some("GET /fapi/v1/time")),
        "{rest:?}"
    );
    assert!(up);
    assert_eq!(frame.as_deref(), Some("secure-frame"));
    h.shutdown().unwrap();
    let _ = std::fs::remove_file(&id.ca_file);
}

#[test]
fn missing_ca_file_fails_at_spawn() {
    let mut s = NetSettings::new(
        Endpoint::parse("https://127.0.0.1:1").unwrap(),
        Endpoint::parse("wss://127.0.0.1:1").unwrap(),
    );
    s.trust = Trust::CaFile("/nonexistent/engine-net-ca.pem".into());
    assert!(matches!(spawn(s), Err(NetError::Tls(_))));
}

#[test]
fn settings_from_config_pick_urls_trust_key_and_ws_api() {
    let ca = identity("engine-net-cfg").ca_file;
    let text = format!(
        r#"
base_url_http = "http://127.0.0.1:18080"
base_url_ws = "ws://127.0.0.1:18081"
base_url_ws_api = "ws://127.0.0.1:18082/ws-fapi/v1"
order_entry = "ws_api"
tls_ca_file = "{}"
[instrument_provider]
load_ids = ["BTCUSDT-PERP.BINANCE"]
[threads.network]
wait = "spin"
"#,
        ca.display()
    );
    let env = Environment::from_pairs(&[
        ("BINANCE_API_KEY", "key-1"),
        ("BINANCE_API_SECRET", "secret-1"),
    ]);
    let cfg = match Config::from_toml_str(&text, None, &env) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(cfg.order_entry, OrderEntry::WsApi);
    let s = NetSettings::from_config(&cfg).unwrap();
    assert_eq!(s.http.url(), "http://127.0.0.1:18080/");
    assert_eq!(s.ws.port(), 18081);
    assert_eq!(
        s.ws_api.as_ref().map(|e| e.path().to_string()),
        Some("/ws-fapi/v1".to_string())
    );
    assert_eq!(s.trust, Trust::CaFile(ca.clone()));
    let _ = std::fs::remove_file(&ca);
    assert_eq!(s.api_key.as_ref().map(|k| k.expose()), Some("key-1"));
    assert_eq!(s.thread.wait, WaitStrategy::Spin);
    assert_eq!(s.poll_mode(), PollMode::Spin);
    assert_eq!(s.http_connections, 2);
    assert_eq!(s.max_connection_age, Duration::from_secs(23 * 3600));
    // The key never shows in Debug output.
    assert!(!format!("{s:?}").contains("key-1"));
}
