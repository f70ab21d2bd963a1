//! A strategy that stalls must not lose events: the execution thread's
//! outbox queues them in order and delivers every one, once, when the
//! strategy catches up (the old path dropped an event after a 1 s stall).

use binance_exec::config::{ThreadSettings, WaitStrategy};
use binance_exec::engine::client_ids::ClientIdGenerator;
use binance_exec::engine::doorbell::Doorbell;
use binance_exec::engine::strategy_thread::{
    FromStrategy, StrategyOutbox, StrategyWiring, ToStrategy, spawn,
};
use binance_exec::engine::{Context, OrderFactory, Strategy};
use binance_exec::instruments::InstrumentProvider;
use binance_exec::model::fill::{Fill, FillKind, Liquidity};
use binance_exec::model::{
    ClientOrderId, InstrumentId, Money, OrderEvent, OrderEventKind, PositionSide, Price, Quantity,
    Side, Symbol,
};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Records every fill's trade id; sleeps 2 s inside the first callback.
struct Sleepy {
    seen: Arc<Mutex<Vec<i64>>>,
    slept: bool,
}

impl Strategy for Sleepy {
    fn on_order_event<C: Context>(&mut self, _ctx: &mut C, e: &OrderEvent) {
        if let OrderEventKind::Filled(f) = e.kind {
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(f.trade_id);
        }
        if !self.slept {
            self.slept = true;
            std::thread::sleep(Duration::from_secs(2));
        }
    }
}

fn fill(instrument: InstrumentId, client_id: ClientOrderId, trade_id: i64) -> ToStrategy {
    let f = Fill {
        instrument,
        client_id,
        venue_order_id: 1,
        trade_id,
        side: Side::Buy,
        position_side: PositionSide::Both,
        price: "100".parse::<Price>().expect("price"),
        quantity: "0.001".parse::<Quantity>().expect("qty"),
        commission: Money::default(),
        commission_asset: Default::default(),
        liquidity: Liquidity::Taker,
        realized_pnl: Money::default(),
        ts_venue_ms: 0,
        kind: FillKind::Normal,
        recovered: false,
    };
    let ev = OrderEvent {
        client_id,
        instrument,
        venue_order_id: Some(1),
        ts_venue_ms: 0,
        ts_local_ns: 0,
        kind: OrderEventKind::Filled(f),
    };
    ToStrategy::Order(ev, Default::default())
}

#[test]
fn a_strategy_stalled_for_two_seconds_still_gets_every_fill_in_order_once() {
    const FILLS: i64 = 600;
    // A small channel so the stall overflows it many times over.
    let (ev_tx, ev_rx) = crossbeam_channel::bounded(8);
    let (cmd_tx, cmd_rx) = crossbeam_channel::bounded(16);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut out = StrategyOutbox::new(ev_tx, 16);
    let wiring = StrategyWiring {
        events: ev_rx,
        events_bell: out.bell(),
        commands: cmd_tx,
        commands_bell: Doorbell::new(),
        stop: Arc::new(AtomicBool::new(false)),
        instruments: InstrumentProvider::default(),
        orders: OrderFactory::new(ClientIdGenerator::new("t").expect("ids")),
        timer_interval: None,
        thread: ThreadSettings {
            wait: WaitStrategy::Park,
            ..ThreadSettings::default()
        },
        positions: Vec::new(),
        latency_tap: None,
    };
    let h = spawn(
        Sleepy {
            seen: Arc::clone(&seen),
            slept: false,
        },
        wiring,
    )
    .expect("spawn");
    let inst = InstrumentId::perp(Symbol::new("BTCUSDT").expect("symbol"));
    let id = ClientOrderId::new("fills").expect("id");

    // Fills keep coming for ~2.4 s (across the stall), never blocking.
    let start = Instant::now();
    for t in 0..FILLS {
        let t0 = Instant::now();
        out.send(fill(inst, id, t));
        out.flush();
        assert!(t0.elapsed() < Duration::from_millis(100), "send blocked");
        std::thread::sleep(Duration::from_millis(4));
    }
    assert!(
        start.elapsed() > Duration::from_secs(2),
        "fills spanned the stall"
    );
    assert!(
        out.high_water() > 8,
        "the stall overflowed the channel: {}",
        out.high_water()
    );
    out.send(ToStrategy::Stop);
    assert!(
        out.flush_until(Instant::now() + Duration::from_secs(10)),
        "delivered"
    );
    assert_eq!(out.backlog(), 0);

    match cmd_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("stopped")
    {
        FromStrategy::Stopped(_) => {}
        FromStrategy::Command(c, _) => panic!("unexpected command {c:?}"),
    }
    h.join().expect("strategy thread");
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let want: Vec<i64> = (0..FILLS).collect();
    assert_eq!(seen, want, "every fill, in order, exactly once");
}

#[test]
fn a_gone_strategy_is_noticed_and_nothing_blocks() {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let mut out = StrategyOutbox::new(tx, 4);
    out.send(ToStrategy::Stop);
    out.send(ToStrategy::Stop);
    assert_eq!(out.backlog(), 1);
    drop(rx);
    assert_eq!(out.flush(), 0);
    assert!(out.is_gone());
    assert_eq!(out.backlog(), 0);
    out.send(ToStrategy::Stop);
    assert_eq!(out.backlog(), 0);
}
