//! Issue 5, `external_order_claims`: orders placed elsewhere (a web UI,
//! another bot) on a claimed instrument are taken over at start — tracked,
//! announced to the strategy, cancellable by it — while orders on a loaded
//! but unclaimed instrument are reported and left alone, even by the
//! shutdown cancel-all.

mod common;
mod support;

use binance_exec::config::{Config, Environment};
use binance_exec::engine::{Context, Engine, Strategy};
use binance_exec::model::{ClientOrderId, InstrumentId, OrderEvent, OrderEventKind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{Sim, instrument, options};

const CLAIMED: &str = "BTCUSDT";
const UNCLAIMED: &str = "ETHUSDT";

/// Cancels the claimed order as soon as it hears of it; records events.
struct Claimer {
    target: ClientOrderId,
    instrument: InstrumentId,
    cancel_sent: bool,
    seen: Arc<Mutex<Vec<OrderEvent>>>,
}

impl Strategy for Claimer {
    fn on_order_event<C: Context>(&mut self, ctx: &mut C, ev: &OrderEvent) {
        if let Ok(mut s) = self.seen.lock() {
            s.push(*ev);
        }
        if ev.client_id == self.target && !self.cancel_sent {
            self.cancel_sent = ctx.cancel(self.instrument, self.target).is_ok();
        }
    }
}

fn config(sim: &Sim) -> Config {
    let h = &sim.handle;
    let text = format!(
        "base_url_http = \"{}\"\nbase_url_ws = \"{}\"\nbase_url_ws_api = \"{}\"\n\
         external_order_claims = [\"{CLAIMED}-PERP.BINANCE\"]\n\
         [instrument_provider]\nload_ids = [\"{CLAIMED}-PERP.BINANCE\", \"{UNCLAIMED}-PERP.BINANCE\"]\n\
         [engine]\ncancel_all_on_shutdown = true\n[sim]\n",
        h.rest_url(),
        h.stream_url(),
        h.ws_api_url(),
    );
    let mut c = Config::from_toml_str(&text, None, &Environment::from_pairs(&[]))
        .unwrap_or_else(|e| panic!("{e}"));
    c.sim = Some(sim.settings.clone());
    c
}

/// Places a resting LIMIT buy 10 % under the start price as a foreign
/// process would (its own client id).
fn place_foreign(sim: &Sim, http: &mut common::Http, symbol: &str, client_id: &str) {
    let (tick, qty) = sim.size(symbol);
    let start = sim
        .settings
        .venue
        .symbols
        .iter()
        .find(|s| s.symbol == symbol)
        .map(|s| s.start_price)
        .unwrap_or_else(|| panic!("{symbol} not listed"));
    let steps = start.raw() / 10 * 9 / tick.raw().max(1);
    let price = binance_exec::model::Decimal::from_raw(steps * tick.raw());
    let r = http.signed(
        "POST",
        "/fapi/v1/order",
        &format!(
            "symbol={symbol}&side=BUY&type=LIMIT&timeInForce=GTC&quantity={qty}&price={price}&newClientOrderId={client_id}"
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

fn status_of(sim: &Sim, client_id: &str) -> Option<String> {
    sim.handle.with_venue(|v| {
        v.ledger()
            .orders
            .iter()
            .find(|o| o.client_order_id == client_id)
            .map(|o| o.status.clone())
    })
}

#[test]
fn claimed_orders_are_tracked_and_cancellable_unclaimed_are_left_alone() {
    let sim = Sim::start(false, |_| {});
    let mut http = common::Http::connect(sim.handle.local_addr());
    place_foreign(&sim, &mut http, CLAIMED, "web_claimed_1");
    place_foreign(&sim, &mut http, UNCLAIMED, "web_foreign_1");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let strategy = Claimer {
        target: ClientOrderId::from_venue("web_claimed_1"),
        instrument: instrument(CLAIMED),
        cancel_sent: false,
        seen: Arc::clone(&seen),
    };
    let h = Engine::start(config(&sim), strategy, options()).unwrap_or_else(|e| panic!("{e}"));
    let end = Instant::now() + Duration::from_secs(15);
    while status_of(&sim, "web_claimed_1").as_deref() != Some("CANCELED") && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    let events = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(
        status_of(&sim, "web_claimed_1").as_deref(),
        Some("CANCELED"),
        "the strategy could not cancel the claimed order: {:?}",
        summary.events
    );
    assert!(
        events
            .iter()
            .any(|e| e.client_id.as_str() == "web_claimed_1"
                && matches!(e.kind, OrderEventKind::Canceled)),
        "the cancel was not booked: {events:?}"
    );
    // The unclaimed one: reported, never touched (not even by the shutdown
    // cancel-all), never announced to the strategy.
    assert_eq!(status_of(&sim, "web_foreign_1").as_deref(), Some("NEW"));
    assert!(
        summary
            .events
            .iter()
            .any(|e| e.contains("web_foreign_1") && e.contains("left alone")),
        "{:?}",
        summary.events
    );
    assert!(
        summary
            .events
            .iter()
            .any(|e| e.contains("claimed external order web_claimed_1")),
        "{:?}",
        summary.events
    );
    assert!(
        !events
            .iter()
            .any(|e| e.client_id.as_str() == "web_foreign_1"),
        "{events:?}"
    );
    sim.handle.shutdown();
}
