//! The hot path must not allocate once warm: building + signing requests
//! (REST and WS API) and recording latencies. A counting global allocator
//! checks it, counting only on the test's own thread.

use binance_exec::binance::requests::{NewOrder, OrderRef, RequestBuilder};
use binance_exec::binance::ws_api::{WsId, WsRequestBuilder};
use binance_exec::latency::{LatencyPath, LatencyRecorder};
use binance_exec::model::{
    ClientOrderId, OrderType, Price, Quantity, RespType, Side, Symbol, TimeInForce,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn counted<F: FnMut()>(mut f: F) -> u64 {
    let before = ALLOCS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.load(Ordering::Relaxed) - before
}

#[test]
fn warm_hot_path_allocates_nothing() {
    let o = NewOrder {
        symbol: Symbol::new("币安人生USDT").unwrap(),
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: Some(TimeInForce::Gtc),
        quantity: Quantity::parse("0.050").unwrap(),
        price: Some(Price::parse("2400.10").unwrap()),
        reduce_only: Some(false),
        position_side: None,
        client_order_id: ClientOrderId::new("e1-000042").unwrap(),
        resp_type: RespType::Ack,
        good_till_date: None,
        stp: None,
        price_match: None,
    };
    // The counter itself works.
    assert!(
        counted(|| {
            std::hint::black_box(Vec::<u8>::with_capacity(8));
        }) > 0
    );
    let mut rest = RequestBuilder::new("key", b"secret", Some(5000));
    let mut ws = WsRequestBuilder::new("key", b"secret", Some(5000));
    let mut rec = LatencyRecorder::new();
    // Warm-up: buffers grow to their working size.
    let _ = rest.new_order(&o, 1).unwrap();
    let _ = ws.order_place(WsId::Num(1), &o, 1).unwrap();

    let n = counted(|| {
        for i in 0..200i64 {
            let r = rest.new_order(&o, 1_760_000_000_000 + i).unwrap();
            assert!(!r.body.is_empty());
            let r = rest.cancel_order(&o.symbol, &OrderRef::ClientId(o.client_order_id), i);
            assert!(!r.query.is_empty());
            let f = ws
                .order_place(WsId::Num(i as u64), &o, 1_760_000_000_000 + i)
                .unwrap();
            assert!(!f.is_empty());
            rec.record(LatencyPath::SubmitToAck, (i as u64 + 1) * 1_000);
            rec.record(LatencyPath::Floor, u64::MAX);
        }
    });
    assert_eq!(n, 0, "hot path allocated {n} times");
    assert_eq!(rec.count(LatencyPath::SubmitToAck), 200);
}
