//! Poller: token allocation and cross-thread wake-up of a parked network thread.

use std::thread;
use std::time::{Duration, Instant};

use binance_exec::net::poller::{PollMode, Poller, WAKE_TOKEN};

#[test]
fn tokens_are_unique_and_never_the_wake_token() {
    let mut p = Poller::new(PollMode::Spin, 8).unwrap();
    let a = p.token();
    let b = p.token();
    assert_ne!(a, b);
    assert_ne!(a, WAKE_TOKEN);
    assert_ne!(b, WAKE_TOKEN);
}

#[test]
fn waker_ends_a_long_park_early() {
    let mut p = Poller::new(PollMode::Park(Duration::from_secs(30)), 8).unwrap();
    let waker = p.waker();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        waker.wake().unwrap();
    });
    let start = Instant::now();
    let mut woke = false;
    for _ in 0..3 {
        p.poll().unwrap();
        if p.events().iter().any(|e| e.token() == WAKE_TOKEN) {
            woke = true;
            break;
        }
    }
    t.join().unwrap();
    assert!(woke, "wake-up not delivered");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "poll slept through the wake-up"
    );
}

#[test]
fn spin_mode_returns_immediately_with_no_events() {
    let mut p = Poller::new(PollMode::Spin, 8).unwrap();
    p.poll().unwrap();
    assert!(p.events().is_empty());
    p.set_mode(PollMode::Park(Duration::from_millis(1)));
    assert_eq!(p.mode(), PollMode::Park(Duration::from_millis(1)));
    p.poll().unwrap();
    assert!(p.events().is_empty());
}

#[test]
fn network_objects_can_move_to_the_network_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Poller>();
    assert_send::<binance_exec::net::http::HttpPool>();
    assert_send::<binance_exec::net::ws::WsClient>();
    assert_send::<binance_exec::net::poller::NetWaker>();
    fn assert_sync<T: Sync>() {}
    assert_sync::<binance_exec::net::poller::NetWaker>();
}
