//! A clean shutdown with `cancel_all_on_shutdown` journals the end of every
//! order it cancels, even when the user stream does not deliver the
//! cancellations (stream down, key expired, events late): what is still
//! open after the cancel-all is queried until the venue's word is booked.
//!
//! Regression for the crash soak's "venue CANCELED, the journal never
//! settled it (Sent)": dozens of open conditional (algo) orders were
//! cancelled at shutdown while the user stream was reconnecting; the
//! settlement sweep had a fixed two-second window that its paced queries
//! could not finish in, so the engine exited with those orders journaled
//! only as intents. Here the stream's frames are held back by the
//! simulator's stream-delay fault before the stop, so no cancellation can
//! arrive by stream at all. Bounded waits throughout.

mod sim_config;

use std::path::PathBuf;
use std::time::Duration;

use binance_exec::config::Config;
use binance_exec::engine::journal::{OrderState as JState, read_journal};
use binance_exec::engine::strategy::{BookTicker, Context, OrderOptions, Strategy};
use binance_exec::engine::{Engine, EngineOptions};
use binance_exec::model::{OrderEvent, OrderEventKind, Price, Quantity, Side, TimeInForce};
use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::SimServer;
use binance_exec::sim::transport::faults::FaultPatch;
use crossbeam_channel::Sender;

/// Conditional orders left open at shutdown: more than the reconciliation
/// weight burst, so settling them takes the paced (slow) path.
const ALGOS: usize = 70;
/// Plain resting orders left open at shutdown.
const LIMITS: usize = 4;

fn scratch() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("bx-settle-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn config(sim: &binance_exec::sim::transport::SimHandle, journal: &std::path::Path) -> Config {
    let engine = format!(
        "cancel_all_on_shutdown = true\njournal_path = \"{}\"\njournal_fsync = \"never\"",
        journal.display()
    );
    sim_config::config_for(sim, "", &engine)
}

/// Places resting stop orders and limit orders far from the price, then
/// reports once the venue accepted all of them.
struct RestingOrders {
    tell: Sender<usize>,
    placed: bool,
    accepted: usize,
}

impl Strategy for RestingOrders {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.placed {
            return;
        }
        self.placed = true;
        let q: Quantity = "0.002".parse().unwrap_or(Quantity::ZERO);
        let step = 100_000_000; // 1 USDT
        for k in 0..ALGOS {
            let off = 1_000 + k as i64;
            let trigger = Price::from_raw(t.bid_price.raw() - off * step);
            if let Ok(o) = ctx.orders().stop_market(
                t.instrument,
                Side::Sell,
                q,
                trigger,
                OrderOptions::default(),
            ) {
                let _ = ctx.submit(o);
            }
        }
        for k in 0..LIMITS {
            let off = 1_500 + k as i64;
            let price = Price::from_raw(t.bid_price.raw() - off * step);
            if let Ok(o) = ctx.orders().limit(
                t.instrument,
                Side::Buy,
                q,
                price,
                TimeInForce::Gtc,
                OrderOptions::default(),
            ) {
                let _ = ctx.submit(o);
            }
        }
    }

    fn on_order_event<C: Context>(&mut self, _ctx: &mut C, e: &OrderEvent) {
        if matches!(e.kind, OrderEventKind::Accepted) {
            self.accepted += 1;
            let _ = self.tell.send(self.accepted);
        }
    }
}

#[test]
fn shutdown_journals_every_cancelled_order_without_the_user_stream() {
    let sim = SimServer::start(&SimSettings::default()).expect("simulator starts");
    let dir = scratch();
    let journal = dir.join("settle.journal");
    let (tx, rx) = crossbeam_channel::unbounded();
    let strat = RestingOrders {
        tell: tx,
        placed: false,
        accepted: 0,
    };
    let h = Engine::start(config(&sim, &journal), strat, EngineOptions::default())
        .expect("engine starts");
    let want = ALGOS + LIMITS;
    let mut got = 0;
    while got < want {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(n) => got = n,
            Err(_) => {
                let s = h.stop().expect("summary");
                panic!("only {got} of {want} orders accepted: {:#?}", s.events);
            }
        }
    }
    // From here on no stream frame reaches the engine before it exits.
    sim.set_faults(&FaultPatch {
        stream_delay_ms: Some(120_000),
        ..FaultPatch::default()
    });
    let s = h.stop().expect("clean stop");

    let replay = read_journal(&journal).expect("journal readable");
    assert_eq!(replay.orders.len(), want, "{:#?}", s.events);
    let unsettled: Vec<String> = replay
        .orders
        .iter()
        .filter(|(_, o)| !o.state.is_closed())
        .map(|(c, o)| format!("{c} {:?} {:?}", o.order_type, o.state))
        .collect();
    assert!(
        unsettled.is_empty(),
        "{} order(s) cancelled at shutdown but never journaled closed: {unsettled:?}\n{:?}\n{:#?}",
        unsettled.len(),
        s.counters,
        s.events
    );
    assert!(
        replay
            .orders
            .values()
            .all(|o| matches!(o.state, JState::Status(st) if st.as_str() == "CANCELED")),
        "every resting order ends CANCELED in the journal"
    );
    let open_at_venue = sim.with_venue(|v| v.open_order_count(0));
    assert_eq!(open_at_venue, 0, "the cancel-all left orders open");
    let _ = std::fs::remove_dir_all(&dir);
}
