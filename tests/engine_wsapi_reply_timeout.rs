//! WebSocket-API order entry when the venue never answers one frame while
//! the connection stays up (`engine.ws_api_reply_timeout_ms`): after the
//! timeout the order's fate is unknown, it is queried by client id over
//! REST and settled, never resent blindly; a reply that turns up later is
//! ignored. Every variant ends with exactly one order at the venue, in the
//! state the engine reports.

mod support;

use binance_exec::config::{Config, OrderEntry};
use binance_exec::engine::EngineSummary;
use binance_exec::model::{OrderEventKind, OrderState};
use std::time::Duration;
use support::{Sim, kinds_of, noted};

const SYM: &str = "BTCUSDT";
const WAIT: Duration = Duration::from_secs(15);
const REPLY_TIMEOUT: Duration = Duration::from_millis(300);

fn config(sim: &Sim) -> Config {
    let mut c = sim.config(SYM, false);
    c.order_entry = OrderEntry::WsApi;
    // A short recvWindow keeps the settle delay before a resubmission short.
    c.recv_window_ms = 1000;
    c.engine.ws_api_reply_timeout = REPLY_TIMEOUT;
    c
}

/// One MARKET buy over the WS API with `faults` switched on just before it
/// is sent; waits until it is filled (by the stream or by the query), then
/// lets late stream frames and replies arrive before stopping.
fn one_market_order(faults: &'static str) -> (Sim, EngineSummary, support::Seen) {
    let sim = Sim::start(false, |_| {});
    let (summary, s) =
        sim.one_market_buy(SYM, config(&sim), faults, WAIT, Duration::from_millis(300));
    (sim, summary, s)
}

/// Exactly one order with this id at the venue, FILLED there and here.
fn one_order_agreed(sim: &Sim, summary: &EngineSummary, s: &support::Seen) {
    let id = *s.sent.first().unwrap_or_else(|| panic!("nothing sent"));
    let ledger = sim.handle.with_venue(|v| v.ledger());
    let venue: Vec<_> = ledger
        .orders
        .iter()
        .filter(|o| o.client_order_id == id.as_str())
        .collect();
    assert_eq!(venue.len(), 1, "exactly one order at the venue: {venue:?}");
    assert_eq!(venue.first().map(|o| o.status.as_str()), Some("FILLED"));
    let mine = summary
        .orders
        .iter()
        .find(|o| o.client_id == id)
        .unwrap_or_else(|| panic!("engine lost {id}"));
    assert_eq!(mine.state, OrderState::Filled, "{:?}", summary.events);
    assert_eq!(
        Some(mine.filled_qty.value()),
        venue.first().map(|o| o.executed_qty)
    );
    // No fault left unconsumed: the frame really went over the WS API.
    let faults = sim
        .control
        .get("/sim/faults")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        faults.contains("\"ws_api_no_reply_placed_next\":0")
            && faults.contains("\"ws_api_no_reply_not_placed_next\":0"),
        "{faults}"
    );
}

#[test]
fn unanswered_and_not_placed_is_queried_then_resubmitted_once() {
    let (sim, summary, s) = one_market_order(r#"{"ws_api_no_reply_not_placed_next":1}"#);
    one_order_agreed(&sim, &summary, &s);
    let id = s.sent[0];
    assert!(
        noted(
            &summary,
            "no WS-API reply within 300 ms on a live connection"
        ),
        "{:?}",
        summary.events
    );
    assert!(
        kinds_of(&s, id)
            .iter()
            .any(|k| matches!(k, OrderEventKind::StatusUnknown { .. })),
        "{:?}",
        kinds_of(&s, id)
    );
    // Resent only after the venue said "does not exist" past the settle delay.
    assert!(
        noted(&summary, "resubmitting with the same id (1/"),
        "{:?}",
        summary.events
    );
    sim.handle.shutdown();
}

#[test]
fn unanswered_but_placed_is_settled_by_query_without_a_resend() {
    // The stream is slowed too, so the query (not a stream event) settles it;
    // the late stream events are then duplicates.
    let (sim, summary, s) =
        one_market_order(r#"{"ws_api_no_reply_placed_next":1,"stream_delay_ms":1500}"#);
    one_order_agreed(&sim, &summary, &s);
    assert!(
        noted(
            &summary,
            "no WS-API reply within 300 ms on a live connection"
        ),
        "{:?}",
        summary.events
    );
    // Settled by the query: directly, or (the venue showing a fill the
    // engine had not seen) through the order check that recovers the fill.
    assert!(
        noted(&summary, "unknown fate resolved by query") || noted(&summary, "recovered fill"),
        "{:?}",
        summary.events
    );
    assert!(
        !noted(&summary, "resubmitting"),
        "a placed order is never resent: {:?}",
        summary.events
    );
    let fills = kinds_of(&s, s.sent[0])
        .iter()
        .filter(|k| matches!(k, OrderEventKind::Filled(_)))
        .count();
    assert!(fills <= 1, "the fill is delivered at most once: {fills}");
    sim.handle.shutdown();
}

#[test]
fn a_reply_after_the_timeout_is_ignored() {
    // Every reply comes 1 s late (the query's too); the stream later still.
    let (sim, summary, s) =
        one_market_order(r#"{"response_delay_ms":1000,"stream_delay_ms":2000}"#);
    let _ = sim.control.post("/sim/faults", r#"{"clear":true}"#);
    one_order_agreed(&sim, &summary, &s);
    assert!(
        noted(&summary, "late WS-API reply to request"),
        "{:?}",
        summary.events
    );
    assert!(!noted(&summary, "resubmitting"), "{:?}", summary.events);
    sim.handle.shutdown();
}
