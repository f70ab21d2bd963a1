//! End-to-end order lifecycles through the simulator's wire protocol: REST
//! orders, user-stream events, control hooks (price, pause, inject, ledger),
//! event/reply ordering, stream faults. Bounded waits throughout.
mod common;

use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::{SimHandle, SimServer};
use common::*;
use sonic_rs::JsonValueTrait;
use std::time::{Duration, Instant};

fn start(edit: impl FnOnce(&mut SimSettings)) -> SimHandle {
    let mut s = SimSettings::default();
    edit(&mut s);
    SimServer::start(&s).expect("simulator starts")
}

/// A paused market, a listenKey and a user-stream connection.
fn setup(sim: &SimHandle) -> (Http, Ws) {
    let mut c = Http::connect(sim.local_addr());
    let r = c.request("POST", "/sim/pause", &[], r#"{"paused":true}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    let key = c.listen_key();
    let ws = ws_connect(
        sim.local_addr(),
        &format!("{}/private/ws?listenKey={key}", sim.stream_url()),
    )
    .unwrap();
    (c, ws)
}

fn otu(ws: &mut Ws, client_id: &str, x: &str, status: &str) -> Option<String> {
    let c = format!("\"c\":\"{client_id}\"");
    let xx = format!("\"x\":\"{x}\"");
    let ss = format!("\"X\":\"{status}\"");
    ws_until(ws, Duration::from_secs(5), |t| {
        t.contains("ORDER_TRADE_UPDATE") && t.contains(&c) && t.contains(&xx) && t.contains(&ss)
    })
}

#[test]
fn limit_rests_then_fills_on_price_move_then_cancel_of_another() {
    let sim = start(|_| {});
    let (mut c, mut ws) = setup(&sim);
    let r = c.new_order("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=59000&newClientOrderId=lc-1",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json().get("status").and_then(|v| v.as_str()), Some("NEW"));
    assert!(otu(&mut ws, "lc-1", "NEW", "NEW").is_some());
    let r = c.request(
        "POST",
        "/sim/price",
        &[],
        r#"{"symbol":"BTCUSDT","last":"58000"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        otu(&mut ws, "lc-1", "TRADE", "FILLED").is_some(),
        "fill event"
    );
    // Another order, cancelled.
    let r = c.new_order("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000&newClientOrderId=lc-2",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c.signed(
        "DELETE",
        "/fapi/v1/order",
        "symbol=BTCUSDT&origClientOrderId=lc-2",
    );
    assert_eq!(
        r.json().get("status").and_then(|v| v.as_str()),
        Some("CANCELED"),
        "{}",
        r.body
    );
    assert!(otu(&mut ws, "lc-2", "CANCELED", "CANCELED").is_some());
    // The ledger shows both.
    let l = c.request("GET", "/sim/ledger", &[], "");
    assert!(
        l.body.contains("lc-1") && l.body.contains("lc-2"),
        "{}",
        l.body
    );
}

#[test]
fn market_order_fill_events_and_gtx_reject_without_event() {
    let sim = start(|_| {});
    let (mut c, mut ws) = setup(&sim);
    let r = c.new_order("symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&newClientOrderId=mk-1");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(otu(&mut ws, "mk-1", "TRADE", "FILLED").is_some());
    // A post-only BUY far above the ask would take: -5022, and no event.
    let r = c.new_order("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTX&quantity=0.01&price=61000&newClientOrderId=gtx-1",
    );
    assert_eq!((r.status, r.code()), (400, Some(-5022)), "{}", r.body);
    assert!(ws_until(&mut ws, Duration::from_millis(500), |t| t.contains("gtx-1")).is_none());
    let r = c.signed(
        "GET",
        "/fapi/v1/order",
        "symbol=BTCUSDT&origClientOrderId=gtx-1",
    );
    assert_eq!(r.code(), Some(-2013));
}

#[test]
fn algo_stop_market_triggers_via_price_hook() {
    let sim = start(|_| {});
    let (mut c, mut ws) = setup(&sim);
    let r = c.signed(
        "POST",
        "/fapi/v1/algoOrder",
        "algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&quantity=0.01&triggerPrice=59000&clientAlgoId=sl-1",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // The old endpoint refuses conditional types.
    let r = c.new_order("symbol=BTCUSDT&side=SELL&type=STOP_MARKET&quantity=0.01&stopPrice=59000");
    assert_eq!(r.code(), Some(-4120));
    let r = c.request(
        "POST",
        "/sim/price",
        &[],
        r#"{"symbol":"BTCUSDT","last":"58500"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        ws_until(&mut ws, Duration::from_secs(5), |t| {
            t.contains("ALGO_UPDATE") && t.contains("sl-1") && t.contains("\"X\":\"TRIGGERED\"")
        })
        .is_some(),
        "algo triggered"
    );
    assert!(
        ws_until(&mut ws, Duration::from_secs(5), |t| t
            .contains("ORDER_TRADE_UPDATE")
            && t.contains("\"X\":\"FILLED\""))
        .is_some(),
        "child filled"
    );
}

#[test]
fn hedge_mode_requires_position_side() {
    let sim = start(|_| {});
    let (mut c, _ws) = setup(&sim);
    let r = c.signed(
        "POST",
        "/fapi/v1/positionSide/dual",
        "dualSidePosition=true",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c.new_order("symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01");
    assert_eq!(r.code(), Some(-4061), "{}", r.body);
    let r = c.new_order("symbol=BTCUSDT&side=BUY&positionSide=LONG&type=MARKET&quantity=0.01");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c.new_order(
        "symbol=BTCUSDT&side=SELL&positionSide=LONG&type=MARKET&quantity=0.01&reduceOnly=false",
    );
    assert_eq!(r.code(), Some(-1106), "{}", r.body);
}

#[test]
fn unknown_outcome_fault_places_or_not() {
    let sim = start(|_| {});
    let (mut c, _ws) = setup(&sim);
    let place = |id: &str| {
        format!(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000&newClientOrderId={id}"
        )
    };
    c.request("POST", "/sim/faults", &[], r#"{"unknown_placed_next":1}"#);
    assert_eq!(c.new_order(&place("u-yes")).status, 503);
    c.request(
        "POST",
        "/sim/faults",
        &[],
        r#"{"unknown_not_placed_next":1}"#,
    );
    assert_eq!(c.new_order(&place("u-no")).status, 503);
    let yes = c.signed(
        "GET",
        "/fapi/v1/order",
        "symbol=BTCUSDT&origClientOrderId=u-yes",
    );
    assert_eq!(
        yes.json().get("status").and_then(|v| v.as_str()),
        Some("NEW"),
        "{}",
        yes.body
    );
    let no = c.signed(
        "GET",
        "/fapi/v1/order",
        "symbol=BTCUSDT&origClientOrderId=u-no",
    );
    assert_eq!(no.code(), Some(-2013), "{}", no.body);
}

#[test]
fn injected_liquidation_reaches_the_user_stream() {
    let sim = start(|_| {});
    let (mut c, mut ws) = setup(&sim);
    assert_eq!(
        c.new_order("symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01")
            .status,
        200
    );
    let r = c.request(
        "POST",
        "/sim/inject",
        &[],
        r#"{"kind":"liquidation","symbol":"BTCUSDT"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        ws_until(&mut ws, Duration::from_secs(5), |t| t
            .contains("autoclose-"))
        .is_some()
    );
    let r = c.request(
        "POST",
        "/sim/inject",
        &[],
        r#"{"kind":"adl","symbol":"NOPE"}"#,
    );
    assert_eq!(r.status, 400);
}

/// Checks the configured order on the wire without timing races: whichever
/// side must come first is awaited (blocking), and at that instant the other
/// side must already be readable.
/// - event first: once the reply is readable, the event is already readable;
/// - reply first: once the event is readable, the reply is already readable.
fn order_holds(c: &mut Http, ws: &mut Ws, event_first: bool, params: &str) -> bool {
    let mut buf = [0u8; 1];
    c.send_signed("POST", "/fapi/v1/order", params);
    let holds = if event_first {
        let resp = c.read_response();
        assert_eq!(resp.status, 200, "{}", resp.body);
        ws.get_mut().set_nonblocking(true).unwrap();
        let ready = ws.get_ref().peek(&mut buf).is_ok_and(|n| n > 0);
        ws.get_mut().set_nonblocking(false).unwrap();
        ready
    } else {
        ws.get_mut()
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let got = ws.get_ref().peek(&mut buf).is_ok_and(|n| n > 0);
        assert!(got, "event never came");
        c.tcp().set_nonblocking(true).unwrap();
        let ready = c.tcp().peek(&mut buf).is_ok_and(|n| n > 0);
        c.tcp().set_nonblocking(false).unwrap();
        let resp = c.read_response();
        assert_eq!(resp.status, 200, "{}", resp.body);
        ready
    };
    ws.get_mut()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // Consume the event frame(s) so the next trial starts clean.
    let _ = ws_until(ws, Duration::from_millis(100), |_| false);
    holds
}

#[test]
fn event_first_option_orders_event_before_reply() {
    for event_first in [true, false] {
        let sim = start(|s| s.server.event_first = event_first);
        let (mut c, mut ws) = setup(&sim);
        for i in 0..5 {
            let params = format!(
                "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000&newClientOrderId=ord-{i}"
            );
            assert!(
                order_holds(&mut c, &mut ws, event_first, &params),
                "event_first={event_first}, order {i}"
            );
        }
    }
}

#[test]
fn stream_faults_delay_corrupt_pause_and_event_log() {
    let dir = std::env::temp_dir().join(format!("sim-evlog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("events.jsonl");
    let log2 = log.clone();
    let sim = start(move |s| s.server.event_log = Some(log2));
    let (mut c, mut ws) = setup(&sim);
    let place = |id: &str| {
        format!(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000&newClientOrderId={id}"
        )
    };
    // Corrupt the next frame: truncated JSON.
    c.request("POST", "/sim/faults", &[], r#"{"corrupt_next_frames":1}"#);
    assert_eq!(c.new_order(&place("cf-1")).status, 200);
    let t = ws_until(&mut ws, Duration::from_secs(3), |_| true).expect("a frame");
    assert!(
        sonic_rs::from_str::<sonic_rs::Value>(&t).is_err(),
        "frame should be malformed: {t}"
    );
    // Delay frames by 300 ms.
    c.request("POST", "/sim/faults", &[], r#"{"stream_delay_ms":300}"#);
    let t0 = Instant::now();
    assert_eq!(c.new_order(&place("cf-2")).status, 200);
    assert!(otu(&mut ws, "cf-2", "NEW", "NEW").is_some());
    assert!(
        t0.elapsed() >= Duration::from_millis(280),
        "{:?}",
        t0.elapsed()
    );
    c.request("POST", "/sim/faults", &[], r#"{"clear":true}"#);
    // Market data pause fault: a subscribed book stream goes silent.
    let mut md = ws_connect(
        sim.local_addr(),
        &format!("{}/ws/btcusdt@bookTicker", sim.stream_url()),
    )
    .unwrap();
    c.request("POST", "/sim/pause", &[], r#"{"paused":false}"#);
    let got = ws_until(&mut md, Duration::from_secs(5), |t| {
        t.contains("bookTicker")
    });
    assert!(got.is_some(), "moving market publishes bookTicker");
    c.request("POST", "/sim/faults", &[], r#"{"market_paused":true}"#);
    // Drain what was already queued, then expect silence.
    let _ = ws_until(&mut md, Duration::from_millis(300), |_| false);
    assert!(
        ws_until(&mut md, Duration::from_millis(700), |t| t
            .contains("bookTicker"))
        .is_none()
    );
    sim.shutdown();
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("cf-2"))
        .expect("event logged");
    let v: sonic_rs::Value = sonic_rs::from_str(line).unwrap();
    assert!(v.get("send_ns").and_then(|x| x.as_u64()).is_some());
    assert_eq!(
        v.get("e").and_then(|x| x.as_str()),
        Some("ORDER_TRADE_UPDATE")
    );
    assert!(
        v.get("orderId")
            .and_then(|x| x.as_i64())
            .is_some_and(|i| i > 0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
