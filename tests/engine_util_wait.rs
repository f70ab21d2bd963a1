//! Waiting strategies, channel receive, pinning and named threads.

use binance_exec::config::{ThreadSettings, WaitStrategy};
use binance_exec::engine::wait::{
    JoinError, PinError, Recv, SpawnError, Waiter, pin_current_thread, spawn_named,
};
use std::time::{Duration, Instant};

const ALL: [WaitStrategy; 4] = [
    WaitStrategy::Spin,
    WaitStrategy::Yield,
    WaitStrategy::Park,
    WaitStrategy::SpinPark,
];

fn waiter(s: WaitStrategy) -> Waiter {
    Waiter::new(s)
        .with_spin_limit(50)
        .with_park_timeout(Duration::from_millis(1))
}

#[test]
fn recv_delivers_reports_empty_and_disconnect_for_every_strategy() {
    for s in ALL {
        let (tx, rx) = crossbeam_channel::bounded::<u32>(4);
        let mut w = waiter(s);
        assert_eq!(w.recv(&rx), Recv::Empty, "{s:?}: nothing sent");
        tx.send(7).expect("send");
        assert_eq!(w.recv(&rx), Recv::Msg(7), "{s:?}");
        assert_eq!(w.idle_polls(), 0, "{s:?}: work resets the spin count");
        drop(tx);
        assert_eq!(w.recv(&rx), Recv::Disconnected, "{s:?}");
    }
}

#[test]
fn parked_receiver_is_woken_by_a_sender_on_another_thread() {
    for s in [WaitStrategy::Park, WaitStrategy::SpinPark] {
        let (tx, rx) = crossbeam_channel::bounded::<u64>(1);
        let producer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            tx.send(42).expect("send");
        });
        let mut w = Waiter::new(s).with_park_timeout(Duration::from_millis(50));
        let deadline = Instant::now() + Duration::from_secs(5);
        let got = loop {
            match w.recv(&rx) {
                Recv::Msg(v) => break Some(v),
                Recv::Disconnected => break None,
                Recv::Empty if Instant::now() > deadline => break None,
                Recv::Empty => {}
            }
        };
        assert_eq!(got, Some(42), "{s:?}");
        producer.join().expect("producer");
    }
}

#[test]
fn spawn_names_the_thread_and_returns_its_result() {
    let t = spawn_named("bx-test-exec", ThreadSettings::default(), || {
        std::thread::current().name().map(str::to_string)
    })
    .expect("spawn");
    assert_eq!(t.name(), "bx-test-exec");
    assert_eq!(t.join(), Ok(Some("bx-test-exec".to_string())));
}

#[test]
fn a_panicking_body_is_reported_on_join() {
    let t = spawn_named("bx-test-panic", ThreadSettings::default(), || {
        if std::env::var("BX_NEVER_SET_THIS").is_err() {
            panic!("strategy blew up");
        }
    })
    .expect("spawn");
    match t.join() {
        Err(JoinError::Panicked { name, message }) => {
            assert_eq!(name, "bx-test-panic");
            assert!(message.contains("strategy blew up"), "{message}");
        }
        other => panic!("expected a panic report, got {other:?}"),
    }
}

#[test]
fn pinning_to_a_missing_core_names_it_and_never_runs_the_body() {
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = ran.clone();
    let settings = ThreadSettings {
        core: Some(9999),
        wait: WaitStrategy::Park,
        spin_us: None,
    };
    let err = spawn_named("bx-test-pin", settings, move || {
        flag.store(true, std::sync::atomic::Ordering::SeqCst)
    })
    .expect_err("core 9999 does not exist");
    match &err {
        SpawnError::Pin {
            name,
            source: PinError::MissingCore { core, .. } | PinError::NoCoreList { core },
        } => {
            assert_eq!((name.as_str(), *core), ("bx-test-pin", 9999));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("9999"), "{err}");
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(pin_current_thread(None), Ok(()));
}

#[test]
fn pinning_to_an_available_core_works() {
    let Some(first) = core_affinity::get_core_ids().and_then(|ids| ids.first().copied()) else {
        return; // platform without a core list: covered by the error test
    };
    let settings = ThreadSettings {
        core: Some(first.id),
        wait: WaitStrategy::Park,
        spin_us: None,
    };
    let t = spawn_named("bx-test-pinned", settings, || 1).expect("pinned");
    assert_eq!(t.join(), Ok(1));
}
