//! After warm-up, the execution core's hot path must not touch the heap:
//! thousands of acquire → submit → ack → fill → release cycles through the
//! tracker (with TRADE_LITE dedupe, a cancel race and position updates)
//! allocate nothing. A counting global allocator proves it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use binance_exec::engine::positions::PositionBook;
use binance_exec::engine::tracker::{
    OrderTracker, Report, ReportSource as Src, RequestKind as Req, TrackerConfig,
};
use binance_exec::engine::{ClientIdGenerator, OrderFactory, OrderOptions};
use binance_exec::model::ids::{InstrumentId, Symbol};
use binance_exec::model::{
    AssetCode, ExecutionType as X, Money, OrderEvent, OrderEventKind as K, OrderStatus as St,
    Price, Quantity, Side, TimeInForce,
};

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Hot {
    tracker: OrderTracker,
    positions: PositionBook,
    factory: OrderFactory,
    events: Vec<OrderEvent>,
    sym: Symbol,
    next_venue_id: i64,
}

impl Hot {
    /// One order's life: submit, ack, TRADE_LITE + ORDER_TRADE_UPDATE for
    /// the first fill, a cancel racing the second fill, release.
    fn cycle(&mut self, i: u64) {
        let inst = InstrumentId::perp(self.sym);
        let qty = Quantity::from_raw(1_000_000); // 0.01
        let half = Quantity::from_raw(500_000);
        let px = Price::from_raw(6_000_000_000_000 + (i % 100) as i64 * 10_000_000);
        let side = if i.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        };
        let order = self
            .factory
            .limit(
                inst,
                side,
                qty,
                px,
                TimeInForce::Gtc,
                OrderOptions::default(),
            )
            .unwrap();
        let events = &mut self.events;
        let mut sink = |_h, e| events.push(e);
        let h = self.tracker.submit(order, i, &mut sink).unwrap();
        self.next_venue_id += 1;
        let vid = self.next_venue_id;

        let mut ack = Report::new(Src::Reply(Req::Submit), self.sym, order.client_id, i);
        ack.venue_order_id = Some(vid);
        ack.status = Some(St::New);
        self.tracker.apply(&ack, &mut sink).unwrap();

        let mut lite = Report::new(Src::TradeLite, self.sym, order.client_id, i);
        lite.venue_order_id = Some(vid);
        lite.trade_id = vid * 2;
        lite.last_qty = half;
        lite.last_price = px;
        lite.side = side;
        self.tracker.apply(&lite, &mut sink).unwrap();
        let mut full = lite;
        full.source = Src::OrderTradeUpdate;
        full.exec_type = Some(X::Trade);
        full.status = Some(St::PartiallyFilled);
        full.commission = Some(Money::from_raw(1_000));
        full.commission_asset = AssetCode::truncated("USDT");
        self.tracker.apply(&full, &mut sink).unwrap();

        self.tracker.request_cancel(h, i, &mut sink).unwrap();
        let mut second = full;
        second.trade_id = vid * 2 + 1;
        second.status = Some(St::Filled);
        self.tracker.apply(&second, &mut sink).unwrap();
        let mut cancel = Report::new(Src::Reply(Req::Cancel), self.sym, order.client_id, i);
        cancel.error_code = -2011;
        self.tracker.apply(&cancel, &mut sink).unwrap();

        for e in self.events.iter() {
            if let K::Filled(f) = e.kind {
                self.positions.apply_fill(&f).unwrap();
            }
        }
        let done = self.tracker.release(h).unwrap();
        assert_eq!(done.filled_qty, qty);
        self.events.clear();
    }
}

#[test]
fn hot_path_allocates_nothing_after_warm_up() {
    let mut hot = Hot {
        tracker: OrderTracker::new(TrackerConfig {
            order_capacity: 64,
            dedupe_window: 256,
        }),
        positions: PositionBook::with_capacity(16),
        factory: OrderFactory::new(ClientIdGenerator::new("z").unwrap()),
        events: Vec::with_capacity(64),
        sym: Symbol::new("BTCUSDT").unwrap(),
        next_venue_id: 1_000,
    };
    for i in 0..1_000 {
        hot.cycle(i);
    }
    // The counter itself works: one boxed value is one allocation.
    ON.with(|on| on.set(true));
    drop(std::hint::black_box(Box::new(7u64)));
    ON.with(|on| on.set(false));
    assert_eq!(
        COUNT.with(|c| c.replace(0)),
        1,
        "counting allocator is live"
    );
    ON.with(|on| on.set(true));
    for i in 1_000..6_000 {
        hot.cycle(i);
    }
    ON.with(|on| on.set(false));
    let n = COUNT.with(|c| c.get());
    assert_eq!(n, 0, "{n} heap allocations in 5000 steady-state cycles");
    assert!(hot.tracker.is_empty());
}
