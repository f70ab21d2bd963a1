//! The hot-path pieces do not allocate in steady state: journal appends,
//! waiter receives, rate-limit checks and clock reads. Counted with a
//! per-thread counting allocator so other test threads do not interfere.

use binance_exec::config::{Backoff, WaitStrategy};
use binance_exec::engine::clock::{ClockSync, TimeSample};
use binance_exec::engine::journal::{FsyncPolicy, Intent, Journal, Record};
use binance_exec::engine::ratelimit::{Cost, DEFAULT_LIMITS, RateLimiter};
use binance_exec::engine::wait::{Recv, Waiter};
use binance_exec::model::decimal::{Price, Quantity};
use binance_exec::model::enums::{OrderStatus, OrderType, Side};
use binance_exec::model::ids::{ClientOrderId, Symbol};
use std::time::{Duration, Instant};

mod alloc_counter;
use alloc_counter::allocs;

#[test]
fn journal_append_does_not_allocate() {
    let dir = std::env::temp_dir().join(format!("bx-noalloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("orders.journal");
    let _ = std::fs::remove_file(&path);
    let mut j = Journal::open(&path, FsyncPolicy::EveryN(64)).expect("open");
    let symbol = Symbol::new("BTCUSDT").expect("symbol");
    let client_id = ClientOrderId::new("bx-1").expect("id");
    let records = [
        Record::Intent(Intent {
            seq: 1,
            client_id,
            symbol,
            side: Side::Sell,
            order_type: OrderType::Limit,
            qty: Quantity::from_raw(1),
            price: Some(Price::from_raw(2)),
            time_ms: 3,
        }),
        Record::Ack {
            client_id,
            venue_id: 9,
            time_ms: 4,
        },
        Record::Fill {
            client_id,
            symbol,
            trade_id: 5,
            qty: Quantity::from_raw(1),
            price: Price::from_raw(2),
            time_ms: 6,
        },
        Record::Terminal {
            client_id,
            status: OrderStatus::Filled,
            time_ms: 7,
        },
    ];
    for r in &records {
        j.append(r).expect("warm-up");
    }
    let before = allocs();
    for _ in 0..200 {
        for r in &records {
            j.append(r).expect("append");
        }
    }
    assert_eq!(allocs() - before, 0, "journal append allocated");
    drop(j);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn waiter_limiter_and_clock_do_not_allocate() {
    let (tx, rx) = crossbeam_channel::bounded::<u64>(8);
    let mut w = Waiter::new(WaitStrategy::SpinPark)
        .with_spin_limit(4)
        .with_park_timeout(Duration::from_micros(50));
    // Warm-up: the first blocking wait registers this thread with crossbeam.
    for i in 0..4 {
        let _ = w.recv(&rx);
        tx.send(i).expect("send");
        let _ = w.recv(&rx);
    }
    let mut limiter = RateLimiter::new(
        &DEFAULT_LIMITS,
        Backoff {
            max_retries: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        },
        1,
    )
    .with_warnings(true, 80);
    let t = Instant::now();
    let mut clock = ClockSync::new(Duration::from_secs(60));
    let before = allocs();
    let mut got = 0;
    for i in 0..100u64 {
        tx.send(i).expect("send");
        if let Recv::Msg(_) = w.recv(&rx) {
            got += 1;
        }
        let _ = w.recv(&rx); // empty: spins, then parks briefly
        let now = 1_700_000_000_000 + i as i64 * 700;
        let _ = limiter.try_acquire(Cost::request(5), now);
        let _ = limiter.on_header("x-mbx-used-weight-1m", b"123", now);
        let _ = clock.add_sample(TimeSample {
            t_send_ms: now,
            t_recv_ms: now + 3,
            server_ms: now + 50,
            at: t,
        });
        let _ = clock.venue_now_ms(now);
    }
    assert_eq!(allocs() - before, 0, "hot path allocated");
    assert_eq!(got, 100);
}
