//! Network thread, WebSocket side, against loopback tungstenite servers: ordered user
//! frames on the listenKey URL, reconnect after a server close, make-before-break
//! rotation, market SUBSCRIBEs with ids and spacing, the WS API, and bad commands.

mod net_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use binance_exec::engine::net_thread::{
    NetCommand, NetEvent, NetFailure, NetHandle, NetSettings, SendOutcome, StreamKind,
    UserStreamRoute, spawn,
};
use binance_exec::net::url::Endpoint;
use net_support::*;
use tungstenite::Message;
use tungstenite::handshake::server::{Request, Response};

type Log = Arc<Mutex<Vec<(usize, String, Instant)>>>;

/// A WebSocket server for up to `max_conns` connections. Each connection's request path
/// and every text message received are logged as `(connection, text, when)`; `script`
/// runs after the upgrade with the connection index and may send frames or close.
// tungstenite's callback signature fixes the (large) error type.
#[allow(clippy::result_large_err)]
fn ws_server<F>(max_conns: usize, script: F) -> (u16, Log)
where
    F: Fn(usize, &mut tungstenite::WebSocket<&mut dyn Duplex>) -> bool + Send + Sync + 'static,
{
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let log2 = Arc::clone(&log);
    let port = serve(max_conns, None, move |idx, s| {
        let mut path = String::new();
        let Ok(mut ws) = tungstenite::accept_hdr(s, |req: &Request, resp: Response| {
            path = req.uri().to_string();
            Ok(resp)
        }) else {
            return;
        };
        log2.lock()
            .unwrap()
            .push((idx, format!("PATH {path}"), Instant::now()));
        if !script(idx, &mut ws) {
            return;
        }
        for _ in 0..10_000 {
            match ws.read() {
                Ok(Message::Text(t)) => {
                    log2.lock()
                        .unwrap()
                        .push((idx, t.as_str().to_string(), Instant::now()));
                    if ws
                        .send(Message::text(format!("echo:{}", t.as_str())))
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(Message::Close(_)) => {
                    log2.lock()
                        .unwrap()
                        .push((idx, "CLOSE".into(), Instant::now()));
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    })
    .0;
    (port, log)
}

fn settings(ws_port: u16) -> NetSettings {
    let mut s = NetSettings::new(
        Endpoint::parse(&format!("http://127.0.0.1:{}", dead_port())).unwrap(),
        Endpoint::parse(&format!("ws://127.0.0.1:{ws_port}")).unwrap(),
    );
    s.http_connections = 1;
    s.buffers = 64;
    s.buffer_capacity = 1024;
    s.park_timeout = Duration::from_millis(2);
    s.reconnect.base = Duration::from_millis(20);
    s.reconnect.cap = Duration::from_millis(200);
    s.min_reconnect_spacing = Duration::from_millis(20);
    s.control_spacing = Duration::from_millis(100);
    s.jitter_seed = 7;
    s
}

/// Owned, comparable summary of the events a test cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum E {
    Up(StreamKind),
    Down(StreamKind),
    User(String),
    Market(String),
    Api(String),
    Written(u64),
    NotSent(u64),
    Rejected,
    Other,
}

fn summarize(h: &NetHandle, ev: NetEvent) -> E {
    let text = |h: &NetHandle, b: binance_exec::engine::buffers::Buf| {
        let s = b.as_str().unwrap_or("<binary>").to_string();
        h.bufs.put(b);
        s
    };
    match ev {
        NetEvent::StreamUp(k) => E::Up(k),
        NetEvent::StreamDown(k, _) => E::Down(k),
        NetEvent::UserFrame { buf, .. } => E::User(text(h, buf)),
        NetEvent::MarketFrame { buf, .. } => E::Market(text(h, buf)),
        NetEvent::WsApiFrame { buf, .. } => E::Api(text(h, buf)),
        NetEvent::WsApiWritten { tag, outcome } => match outcome {
            SendOutcome::Written { .. } => E::Written(tag),
            _ => E::NotSent(tag),
        },
        NetEvent::Rejected(_) => E::Rejected,
        _ => E::Other,
    }
}

/// Collect summarized events until `done(&events)` or 5 s (then the caller's asserts fail).
fn until(h: &NetHandle, done: impl Fn(&[E]) -> bool) -> Vec<E> {
    let mut out = Vec::new();
    let stop = Instant::now() + Duration::from_secs(5);
    while Instant::now() < stop && !done(&out) {
        if let Ok(ev) = h.events.recv_timeout(Duration::from_millis(20)) {
            out.push(summarize(h, ev));
        }
    }
    out
}

fn logged(log: &Log, conn: usize) -> Vec<String> {
    // The server thread records a line after it answers, so the client may
    // see the upgrade first: wait (bounded, 2 s) until the connection logged.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let lines: Vec<String> = log
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _, _)| *c == conn)
            .map(|(_, t, _)| t.clone())
            .collect();
        if !lines.is_empty() || Instant::now() >= deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn user_stream_frames_arrive_in_order_on_the_listen_key_url() {
    let (port, log) = ws_server(2, |_, ws| {
        for i in 0..50 {
            if ws.write(Message::text(format!("u{i}"))).is_err() {
                return false;
            }
        }
        ws.flush().is_ok()
    });
    let h = spawn(settings(port)).unwrap();
    h.send(NetCommand::OpenUserStream {
        listen_key: "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1".into(),
    })
    .unwrap();
    let ev = until(&h, |e| {
        e.iter().filter(|x| matches!(x, E::User(_))).count() >= 50
    });
    assert_eq!(ev.first(), Some(&E::Up(StreamKind::User)));
    let frames: Vec<E> = ev.into_iter().filter(|x| matches!(x, E::User(_))).collect();
    let want: Vec<E> = (0..50).map(|i| E::User(format!("u{i}"))).collect();
    assert_eq!(frames, want);
    assert_eq!(
        logged(&log, 0).first().map(String::as_str),
        Some("PATH /ws/pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1")
    );
    h.shutdown().unwrap();
}

#[test]
fn private_route_is_used_when_configured() {
    let (port, log) = ws_server(1, |_, _| true);
    let mut s = settings(port);
    s.user_stream_route = UserStreamRoute::Private;
    let h = spawn(s).unwrap();
    h.send(NetCommand::OpenUserStream {
        listen_key: "abc123".into(),
    })
    .unwrap();
    let ev = until(&h, |e| e.contains(&E::Up(StreamKind::User)));
    assert!(ev.contains(&E::Up(StreamKind::User)), "{ev:?}");
    assert_eq!(
        logged(&log, 0).first().map(String::as_str),
        Some("PATH /private/ws/abc123")
    );
    h.shutdown().unwrap();
}

#[test]
fn server_close_yields_stream_down_then_reconnect_and_stream_up() {
    let (port, log) = ws_server(3, |idx, ws| {
        if idx == 0 {
            let _ = ws.send(Message::text("first"));
            let _ = ws.close(None);
            // Finish the close handshake, then drop.
            for _ in 0..100 {
                if ws.read().is_err() {
                    break;
                }
            }
            false
        } else {
            ws.send(Message::text("second")).is_ok()
        }
    });
    let h = spawn(settings(port)).unwrap();
    h.send(NetCommand::OpenUserStream {
        listen_key: "k1".into(),
    })
    .unwrap();
    let ev = until(&h, |e| e.contains(&E::User("second".into())));
    let u = StreamKind::User;
    assert_eq!(
        ev,
        vec![
            E::Up(u),
            E::User("first".into()),
            E::Down(u),
            E::Up(u),
            E::User("second".into())
        ]
    );
    assert!(logged(&log, 1).first().is_some_and(|p| p == "PATH /ws/k1"));
    h.shutdown().unwrap();
}

#[test]
fn failed_connects_are_reported_once_and_retried_without_a_storm() {
    // Accepts TCP and hangs up at once: every upgrade fails.
    let (port, accepted) = serve(1000, None, |_, _| {});
    let mut s = settings(port);
    s.min_reconnect_spacing = Duration::from_millis(100);
    let h = spawn(s).unwrap();
    h.send(NetCommand::OpenUserStream {
        listen_key: "k1".into(),
    })
    .unwrap();
    let started = Instant::now();
    let mut ev = Vec::new();
    while started.elapsed() < Duration::from_millis(1000) {
        if let Ok(e) = h.events.recv_timeout(Duration::from_millis(20)) {
            ev.push(summarize(&h, e));
        }
    }
    let attempts = accepted.load(std::sync::atomic::Ordering::SeqCst);
    // One StreamDown, no StreamUp; retried, but never faster than the 100 ms floor.
    assert_eq!(ev, vec![E::Down(StreamKind::User)]);
    assert!((2..=12).contains(&attempts), "{attempts} attempts in 1 s");
    h.shutdown().unwrap();
}

#[test]
fn silent_connection_is_declared_stale_and_replaced() {
    let (port, _log) = ws_server(3, |idx, _| {
        if idx == 0 {
            // Never read: our pings go unanswered, nothing arrives.
            std::thread::sleep(Duration::from_millis(1500));
            return false;
        }
        true
    });
    let mut s = settings(port);
    s.ping_interval = Duration::from_millis(50);
    s.stale_after = Duration::from_millis(300);
    let h = spawn(s).unwrap();
    h.send(NetCommand::OpenUserStream {
        listen_key: "k1".into(),
    })
    .unwrap();
    let u = StreamKind::User;
    let ev = until(&h, |e| e.len() >= 3);
    assert_eq!(ev, vec![E::Up(u), E::Down(u), E::Up(u)]);
    h.shutdown().unwrap();
}

#[test]
fn rotation_opens_the_replacement_before_closing_the_old_connection() {
    let (port, log) = ws_server(3, |idx, ws| {
        ws.send(Message::text(format!("hello{idx}"))).is_ok()
    });
    let mut s = settings(port);
    s.max_connection_age = Duration::from_millis(300);
    let h = spawn(s).unwrap();
    h.send(NetCommand::OpenUserStream {
        listen_key: "k1".into(),
    })
    .unwrap();
    let ev = until(&h, |e| e.contains(&E::User("hello1".into())));
    let u = StreamKind::User;
    assert_eq!(
        ev,
        vec![
            E::Up(u),
            E::User("hello0".into()),
            E::Up(u),
            E::User("hello1".into())
        ]
    );
    // The old connection receives our close once the replacement is up.
    let stop = Instant::now() + Duration::from_secs(2);
    while Instant::now() < stop && !logged(&log, 0).contains(&"CLOSE".to_string()) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        logged(&log, 0).contains(&"CLOSE".to_string()),
        "{:?}",
        logged(&log, 0)
    );
    h.shutdown().unwrap();
}

#[test]
fn market_streams_use_the_combined_url_then_spaced_subscribes_with_ids() {
    let (port, log) = ws_server(1, |_, _| true);
    let h = spawn(settings(port)).unwrap();
    h.send(NetCommand::SubscribeMarket {
        streams: vec!["btcusdt@aggTrade".into(), "ethusdt@bookTicker".into()],
    })
    .unwrap();
    let ev = until(&h, |e| e.contains(&E::Up(StreamKind::Market)));
    assert!(ev.contains(&E::Up(StreamKind::Market)), "{ev:?}");
    for name in [
        "solusdt@depth@100ms",
        "xrpusdt@markPrice",
        "btcusdt@aggTrade",
    ] {
        h.send(NetCommand::SubscribeMarket {
            streams: vec![name.into()],
        })
        .unwrap();
    }
    let ev = until(&h, |e| {
        e.iter().filter(|x| matches!(x, E::Market(_))).count() >= 2
    });
    let s1 = r#"{"method":"SUBSCRIBE","params":["solusdt@depth@100ms"],"id":1}"#;
    let s2 = r#"{"method":"SUBSCRIBE","params":["xrpusdt@markPrice"],"id":2}"#;
    assert_eq!(
        ev,
        vec![
            E::Market(format!("echo:{s1}")),
            E::Market(format!("echo:{s2}"))
        ]
    );
    let entries: Vec<(String, Instant)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(_, t, at)| (t.clone(), *at))
        .collect();
    assert_eq!(
        entries.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        vec![
            "PATH /stream?streams=btcusdt@aggTrade/ethusdt@bookTicker",
            s1,
            s2
        ]
    );
    // The duplicate was not re-sent, and the two SUBSCRIBEs respect the spacing floor.
    let gap = entries[2].1.duration_since(entries[1].1);
    assert!(gap >= Duration::from_millis(90), "{gap:?}");
    h.shutdown().unwrap();
}

#[test]
fn ws_api_send_is_written_and_the_reply_arrives() {
    let (port, log) = ws_server(1, |_, _| true);
    let mut s = settings(port);
    s.ws_api = Some(Endpoint::parse(&format!("ws://127.0.0.1:{port}/ws-fapi/v1")).unwrap());
    let h = spawn(s).unwrap();
    let ev = until(&h, |e| e.contains(&E::Up(StreamKind::WsApi)));
    assert!(ev.contains(&E::Up(StreamKind::WsApi)), "{ev:?}");
    let mut text = h.bufs.get();
    text.extend_from_slice(br#"{"id":"p-1","method":"order.place","params":{}}"#);
    h.send(NetCommand::WsApiSend { tag: 42, text }).unwrap();
    let ev = until(&h, |e| e.iter().any(|x| matches!(x, E::Api(_))));
    assert_eq!(
        ev,
        vec![
            E::Written(42),
            E::Api(r#"echo:{"id":"p-1","method":"order.place","params":{}}"#.into())
        ]
    );
    assert_eq!(
        logged(&log, 0).first().map(String::as_str),
        Some("PATH /ws-fapi/v1")
    );
    h.shutdown().unwrap();
}

#[test]
fn ws_api_send_without_connection_is_not_sent() {
    let h = spawn(settings(dead_port())).unwrap();
    let mut text = h.bufs.get();
    text.extend_from_slice(b"{}");
    h.send(NetCommand::WsApiSend { tag: 1, text }).unwrap();
    assert_eq!(until(&h, |e| !e.is_empty()), vec![E::NotSent(1)]);
    h.shutdown().unwrap();
}

#[test]
fn bad_listen_key_and_stream_names_are_rejected() {
    let h = spawn(settings(dead_port())).unwrap();
    h.send(NetCommand::OpenUserStream {
        listen_key: "a/b?c".into(),
    })
    .unwrap();
    h.send(NetCommand::SubscribeMarket {
        streams: vec!["btcusdt@aggTrade\",\"x".into()],
    })
    .unwrap();
    assert_eq!(until(&h, |e| e.len() >= 2), vec![E::Rejected, E::Rejected]);
    h.shutdown().unwrap();
}

#[test]
fn close_user_stream_reports_requested_down_and_shutdown_stops() {
    let (port, log) = ws_server(1, |_, _| true);
    let h = spawn(settings(port)).unwrap();
    h.send(NetCommand::OpenUserStream {
        listen_key: "k1".into(),
    })
    .unwrap();
    let ev = until(&h, |e| e.contains(&E::Up(StreamKind::User)));
    assert!(ev.contains(&E::Up(StreamKind::User)));
    h.send(NetCommand::CloseUserStream).unwrap();
    let stop = Instant::now() + Duration::from_secs(5);
    let mut down = None;
    while Instant::now() < stop && down.is_none() {
        if let Ok(NetEvent::StreamDown(k, why)) = h.events.recv_timeout(Duration::from_millis(20)) {
            down = Some((k, why));
        }
    }
    assert!(
        matches!(down, Some((StreamKind::User, NetFailure::Requested))),
        "{down:?}"
    );
    let stop = Instant::now() + Duration::from_secs(2);
    while Instant::now() < stop && !logged(&log, 0).contains(&"CLOSE".to_string()) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(logged(&log, 0).contains(&"CLOSE".to_string()));
    let events = h.events.clone();
    h.shutdown().unwrap();
    assert!(std::iter::from_fn(|| events.try_recv().ok()).any(|e| matches!(e, NetEvent::Stopped)));
}
