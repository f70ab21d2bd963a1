//! Non-blocking WebSocket client against tungstenite loopback servers (plain and TLS):
//! echo, bursts, pings both ways, close handshake, large writes, rejected upgrades,
//! protocol violations and certificate trust.

mod net_support;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use binance_exec::net::poller::Poller;
use binance_exec::net::tls::{Trust, client_config};
use binance_exec::net::url::Endpoint;
use binance_exec::net::ws::{WsClient, WsConfig, WsError, WsFrame, WsState};
use net_support::*;
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

#[derive(Debug, Clone, PartialEq, Eq)]
enum F {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, String)>),
}

fn own(f: WsFrame<'_>) -> F {
    match f {
        WsFrame::Text(t) => F::Text(t.to_string()),
        WsFrame::Binary(b) => F::Binary(b.to_vec()),
        WsFrame::Ping(b) => F::Ping(b.to_vec()),
        WsFrame::Pong(b) => F::Pong(b.to_vec()),
        WsFrame::Close(c) => F::Close(c.map(|(code, r)| (code, r.to_string()))),
    }
}

/// Echo server with a few scripted commands.
fn ws_server(tls: Option<Arc<rustls::ServerConfig>>) -> u16 {
    serve(4, tls, |_, s| {
        let Ok(mut ws) = tungstenite::accept(s) else {
            return;
        };
        for _ in 0..10_000 {
            let Ok(msg) = ws.read() else { return };
            let reply = match msg {
                Message::Text(t) if t.as_str() == "ping-me" => {
                    Some(Message::Ping(b"abc".to_vec().into()))
                }
                Message::Text(t) if t.as_str() == "close-me" => {
                    let _ = ws.close(Some(CloseFrame {
                        code: CloseCode::Normal,
                        reason: "bye".into(),
                    }));
                    None
                }
                Message::Text(t) if t.as_str() == "burst" => {
                    for i in 0..100 {
                        let _ = ws.write(Message::text(format!("m{i}")));
                    }
                    let _ = ws.flush();
                    None
                }
                Message::Text(t) if t.as_str() == "garbage" => {
                    // A reserved opcode: a protocol violation the client must report, not panic on.
                    let _ = ws.get_mut().write_all(&[0x83, 0x00]);
                    let _ = ws.get_mut().flush();
                    None
                }
                Message::Text(t) if t.len() > 1000 => {
                    Some(Message::text(format!("len:{}", t.len())))
                }
                Message::Text(t) => Some(Message::Text(t)),
                Message::Binary(b) => Some(Message::Binary(b)),
                Message::Pong(p) => Some(Message::text(format!(
                    "pong:{}",
                    String::from_utf8_lossy(&p)
                ))),
                _ => None,
            };
            if let Some(r) = reply
                && ws.send(r).is_err()
            {
                return;
            }
        }
    })
    .0
}

fn open(p: &mut Poller, url: &str, tls: Option<Trust>) -> Result<WsClient, WsError> {
    let mut cfg = WsConfig::new(Endpoint::parse(url).unwrap());
    cfg.tls = tls.map(|t| client_config(&t).unwrap());
    let token = p.token();
    let mut ws = WsClient::connect(cfg, token, p.registry())?;
    let stop = Instant::now() + Duration::from_secs(5);
    while Instant::now() < stop {
        p.poll().unwrap();
        if ws.progress(p.registry())? == WsState::Open {
            return Ok(ws);
        }
    }
    panic!("WebSocket did not open within 5 s");
}

/// Drive `ws` collecting frames until `done(frames)` or 5 s; returns frames and the first error.
fn collect(
    p: &mut Poller,
    ws: &mut WsClient,
    done: impl Fn(&[F]) -> bool,
) -> (Vec<F>, Option<WsError>) {
    let mut frames = Vec::new();
    let stop = Instant::now() + Duration::from_secs(5);
    while Instant::now() < stop {
        loop {
            match ws.read() {
                Ok(Some(f)) => frames.push(own(f)),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
        if done(&frames) {
            return (frames, None);
        }
        ws.update_interest(p.registry()).unwrap();
        p.poll().unwrap();
        if let Err(e) = ws.progress(p.registry()) {
            return (frames, Some(e));
        }
    }
    (frames, None)
}

fn echo_roundtrip(ws: &mut WsClient, p: &mut Poller) {
    ws.send_text("{\"method\":\"SUBSCRIBE\",\"id\":1}").unwrap();
    ws.send_binary(&[1, 2, 3]).unwrap();
    let (frames, err) = collect(p, ws, |f| f.len() >= 2);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        frames,
        vec![
            F::Text("{\"method\":\"SUBSCRIBE\",\"id\":1}".into()),
            F::Binary(vec![1, 2, 3])
        ]
    );
}

#[test]
fn plain_echo_and_ordered_burst() {
    let port = ws_server(None);
    let mut p = poller();
    let mut ws = open(
        &mut p,
        &format!("ws://127.0.0.1:{port}/market/ws/btcusdt@aggTrade"),
        None,
    )
    .unwrap();
    echo_roundtrip(&mut ws, &mut p);
    ws.send_text("burst").unwrap();
    let (frames, err) = collect(&mut p, &mut ws, |f| f.len() >= 100);
    assert!(err.is_none(), "{err:?}");
    let expect: Vec<F> = (0..100).map(|i| F::Text(format!("m{i}"))).collect();
    assert_eq!(frames, expect);
}

#[test]
fn server_ping_is_answered_with_echoed_pong() {
    let port = ws_server(None);
    let mut p = poller();
    let mut ws = open(&mut p, &format!("ws://127.0.0.1:{port}/"), None).unwrap();
    ws.send_text("ping-me").unwrap();
    let (frames, err) = collect(&mut p, &mut ws, |f| f.contains(&F::Text("pong:abc".into())));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        frames,
        vec![F::Ping(b"abc".to_vec()), F::Text("pong:abc".into())]
    );
}

#[test]
fn our_ping_gets_a_pong() {
    let port = ws_server(None);
    let mut p = poller();
    let mut ws = open(&mut p, &format!("ws://127.0.0.1:{port}/"), None).unwrap();
    ws.send_ping(b"t=123").unwrap();
    let (frames, err) = collect(&mut p, &mut ws, |f| !f.is_empty());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames, vec![F::Pong(b"t=123".to_vec())]);
}

#[test]
fn server_close_handshake_ends_in_closed() {
    let port = ws_server(None);
    let mut p = poller();
    let mut ws = open(&mut p, &format!("ws://127.0.0.1:{port}/"), None).unwrap();
    ws.send_text("close-me").unwrap();
    let (frames, err) = collect(&mut p, &mut ws, |_| false);
    assert_eq!(frames, vec![F::Close(Some((1000, "bye".into())))]);
    assert!(matches!(err, Some(WsError::Closed)), "{err:?}");
    assert_eq!(ws.state(), WsState::Closed);
    assert!(matches!(ws.send_text("x"), Err(WsError::NotOpen)));
}

#[test]
fn large_message_survives_would_block_writes() {
    let port = ws_server(None);
    let mut p = poller();
    let mut ws = open(&mut p, &format!("ws://127.0.0.1:{port}/"), None).unwrap();
    let big = "x".repeat(3 << 20);
    ws.send_text(&big).unwrap();
    let (frames, err) = collect(&mut p, &mut ws, |f| !f.is_empty());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames, vec![F::Text(format!("len:{}", 3 << 20))]);
    assert!(!ws.has_pending_writes());
}

#[test]
fn protocol_violation_is_typed() {
    let port = ws_server(None);
    let mut p = poller();
    let mut ws = open(&mut p, &format!("ws://127.0.0.1:{port}/"), None).unwrap();
    ws.send_text("garbage").unwrap();
    let (_, err) = collect(&mut p, &mut ws, |_| false);
    assert!(matches!(err, Some(WsError::Protocol(_))), "{err:?}");
}

#[test]
fn rejected_upgrade_reports_status() {
    let (port, _) = serve(1, None, |_, s| {
        let mut buf = Vec::new();
        if read_request(s, &mut buf).is_some() {
            send(
                s,
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                false,
            );
        }
    });
    let mut p = poller();
    let err = open(&mut p, &format!("ws://127.0.0.1:{port}/nope"), None).unwrap_err();
    assert!(matches!(err, WsError::Rejected(404)), "{err:?}");
}

#[test]
fn tls_echo_with_ca_file_and_untrusted_failure() {
    let id = identity("ws");
    let port = ws_server(Some(Arc::clone(&id.server)));
    let mut p = poller();
    let mut ws = open(
        &mut p,
        &format!("wss://localhost:{port}/private"),
        Some(Trust::CaFile(id.ca_file.clone())),
    )
    .unwrap();
    echo_roundtrip(&mut ws, &mut p);
    ws.send_text("ping-me").unwrap();
    let (frames, err) = collect(&mut p, &mut ws, |f| f.contains(&F::Text("pong:abc".into())));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.last(), Some(&F::Text("pong:abc".into())));
    ws.send_text("burst").unwrap();
    let (frames, err) = collect(&mut p, &mut ws, |f| f.len() >= 100);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        frames,
        (0..100)
            .map(|i| F::Text(format!("m{i}")))
            .collect::<Vec<_>>()
    );

    let err = open(
        &mut p,
        &format!("wss://127.0.0.1:{port}/"),
        Some(Trust::WebPkiRoots),
    )
    .unwrap_err();
    assert!(matches!(err, WsError::Stream(_)), "{err:?}");
    assert!(err.to_string().contains("TLS"), "{err}");
    let _ = std::fs::remove_file(&id.ca_file);
}

#[test]
fn config_errors_are_typed() {
    let mut p = poller();
    let t = p.token();
    let e = WsClient::connect(
        WsConfig::new(Endpoint::parse("http://127.0.0.1:1").unwrap()),
        t,
        p.registry(),
    );
    assert!(matches!(e, Err(WsError::Url(_))));
    let e = WsClient::connect(
        WsConfig::new(Endpoint::parse("wss://127.0.0.1:1").unwrap()),
        t,
        p.registry(),
    );
    assert!(matches!(e, Err(WsError::TlsRequired)));
    let dead = dead_port();
    let r = open(&mut p, &format!("ws://127.0.0.1:{dead}/"), None);
    assert!(matches!(r, Err(WsError::Stream(_))), "{r:?}");
}
