//! Order journal: round trip, torn tails at every byte, corrupt middles,
//! sequence continuation, and replay after SIGKILL at random moments.

use binance_exec::config::{Jitter, SplitMix64};
use binance_exec::engine::journal::{
    FsyncPolicy, Intent, Journal, JournalError, MAGIC, OrderState, Record, read_journal,
    replay_bytes,
};
use binance_exec::model::decimal::{Price, Quantity};
use binance_exec::model::enums::{OrderStatus, OrderType, Side};
use binance_exec::model::ids::{ClientOrderId, Symbol};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A fresh directory under the target dir, unique per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bx-journal-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn cid(seq: u64) -> ClientOrderId {
    ClientOrderId::new(&format!("bx-{seq}")).expect("valid id")
}

fn intent(seq: u64, symbol: &str) -> Record {
    Record::Intent(Intent {
        seq,
        client_id: cid(seq),
        symbol: Symbol::new(symbol).expect("symbol"),
        side: if seq.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        },
        order_type: OrderType::Limit,
        qty: Quantity::parse("0.001").expect("qty"),
        price: Some(Price::parse("60000.1").expect("price")),
        time_ms: 1_763_000_000_000 + seq as i64,
    })
}

/// Appends a fixed history and returns the file offsets where each of the
/// records (after the session header) starts, plus the final length.
fn write_history(path: &Path) -> (Vec<u64>, u64) {
    let mut j = Journal::open(path, FsyncPolicy::Never).expect("open");
    let btc = Symbol::new("BTCUSDT").expect("symbol");
    let cn = Symbol::new("币安人生USDT").expect("symbol");
    let records = [
        intent(1, "BTCUSDT"),
        Record::Ack {
            client_id: cid(1),
            venue_id: 555,
            time_ms: 1,
        },
        intent(2, "币安人生USDT"),
        Record::Fill {
            client_id: cid(1),
            symbol: btc,
            trade_id: 90,
            qty: Quantity::parse("0.0004").expect("q"),
            price: Price::parse("60000.1").expect("p"),
            time_ms: 2,
        },
        Record::Fill {
            client_id: cid(1),
            symbol: btc,
            trade_id: 91,
            qty: Quantity::parse("0.0006").expect("q"),
            price: Price::parse("60000").expect("p"),
            time_ms: 3,
        },
        Record::Terminal {
            client_id: cid(1),
            status: OrderStatus::Filled,
            time_ms: 4,
        },
        Record::Fill {
            client_id: ClientOrderId::from_venue("autoclose-1"),
            symbol: cn,
            trade_id: 7,
            qty: Quantity::parse("3").expect("q"),
            price: Price::parse("0.1").expect("p"),
            time_ms: 5,
        },
        intent(3, "BTCUSDT"),
    ];
    let mut offsets = Vec::new();
    for r in &records {
        offsets.push(std::fs::metadata(path).expect("meta").len());
        j.append(r).expect("append");
    }
    drop(j);
    (offsets, std::fs::metadata(path).expect("meta").len())
}

#[test]
fn round_trip_rebuilds_every_order_and_trade_id() {
    let dir = scratch("roundtrip");
    let path = dir.join("orders.journal");
    write_history(&path);
    let j = Journal::open(&path, FsyncPolicy::Always).expect("reopen");
    let r = j.replay();
    assert_eq!(r.tail_repair, None);
    assert_eq!(
        r.sessions, 1,
        "one earlier session (this one is appended now)"
    );
    assert_eq!(r.records, 9);
    assert_eq!(r.orders.len(), 3);
    let o1 = r.orders.get(&cid(1)).expect("order 1");
    assert_eq!(o1.venue_id, Some(555));
    assert_eq!(o1.state, OrderState::Status(OrderStatus::Filled));
    assert_eq!(o1.filled, Quantity::parse("0.001").expect("q"));
    assert_eq!(o1.price, Some(Price::parse("60000.1").expect("p")));
    let o2 = r.orders.get(&cid(2)).expect("order 2");
    assert_eq!(o2.symbol.as_str(), "币安人生USDT");
    assert_eq!(o2.state, OrderState::Sent);
    assert_eq!(o2.side, Side::Buy);
    assert_eq!(r.orphan_events, 1, "the venue-generated fill");
    let btc = Symbol::new("BTCUSDT").expect("s");
    assert_eq!(r.last_trade_id.get(&btc), Some(&91));
    assert_eq!(r.max_seq, Some(3));
    assert_eq!(j.next_seq(), 4);
    let mut open: Vec<u64> = r.open_orders().map(|(_, o)| o.seq).collect();
    open.sort();
    assert_eq!(open, vec![2, 3]);
    drop(j);
    assert_eq!(read_journal(&path).expect("read").sessions, 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn torn_tail_at_every_byte_of_the_last_record_is_cut_and_reported() {
    let dir = scratch("torn");
    let path = dir.join("orders.journal");
    let (offsets, end) = write_history(&path);
    let full = std::fs::read(&path).expect("read");
    let last = *offsets.last().expect("records");
    for cut in last..end {
        std::fs::write(&path, &full[..cut as usize]).expect("write cut");
        let j = Journal::open(&path, FsyncPolicy::Never).expect("a torn tail is repaired");
        let r = j.replay();
        if cut == last {
            assert_eq!(r.tail_repair, None, "cut on a boundary is clean");
        } else {
            let t = r.tail_repair.as_ref().expect("reported");
            assert_eq!((t.offset, t.dropped_bytes), (last, cut - last), "cut {cut}");
        }
        assert_eq!(r.max_seq, Some(2), "the last intent is gone (cut {cut})");
        assert!(!r.orders.contains_key(&cid(3)));
        drop(j);
        // The repaired file replays cleanly, with the new session appended
        // right after the last good record.
        let again = read_journal(&path).expect("clean after repair");
        assert_eq!(again.tail_repair, None, "cut {cut}");
        assert_eq!(again.records, 9, "8 old records minus 1 + 2 sessions");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn damaged_last_record_at_full_length_is_a_tail_too() {
    let dir = scratch("flip-tail");
    let path = dir.join("orders.journal");
    let (offsets, end) = write_history(&path);
    let last = *offsets.last().expect("records");
    let mut bytes = std::fs::read(&path).expect("read");
    let i = (end - 3) as usize;
    bytes[i] ^= 0x40;
    std::fs::write(&path, &bytes).expect("write");
    let j = Journal::open(&path, FsyncPolicy::Never).expect("repaired");
    assert_eq!(
        j.replay().tail_repair.as_ref().map(|t| t.offset),
        Some(last)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn corrupt_middle_is_refused_and_the_file_left_alone() {
    let dir = scratch("middle");
    let path = dir.join("orders.journal");
    let (offsets, _) = write_history(&path);
    let original = std::fs::read(&path).expect("read");
    // Damage each middle record in turn: in its length, its CRC, its payload.
    for w in offsets.windows(2) {
        let (start, next) = (w[0] as usize, w[1] as usize);
        for at in [start, start + 5, (start + next) / 2, next - 1] {
            let mut bytes = original.clone();
            bytes[at] ^= 0x01;
            std::fs::write(&path, &bytes).expect("write");
            match Journal::open(&path, FsyncPolicy::Never) {
                Err(JournalError::CorruptMiddle { offset, .. }) => {
                    assert_eq!(offset, start as u64, "damage at byte {at}")
                }
                other => panic!("damage at byte {at}: expected CorruptMiddle, got {other:?}"),
            }
            assert_eq!(std::fs::read(&path).expect("read"), bytes, "untouched");
        }
    }
    let msg = replay_bytes(Path::new("x.journal"), &{
        let mut b = original.clone();
        b[offsets[1] as usize + 9] ^= 0xff;
        b
    })
    .expect_err("corrupt")
    .to_string();
    assert!(msg.contains("corrupt at byte"), "{msg}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn foreign_and_half_created_files() {
    let dir = scratch("foreign");
    let path = dir.join("orders.journal");
    std::fs::write(&path, b"hello, this is not a journal").expect("write");
    assert!(matches!(
        Journal::open(&path, FsyncPolicy::Never),
        Err(JournalError::NotAJournal { .. })
    ));
    assert_eq!(
        std::fs::read(&path).expect("read"),
        b"hello, this is not a journal"
    );
    // Crash while writing the magic: start afresh.
    std::fs::write(&path, &MAGIC[..3]).expect("write");
    let j = Journal::open(&path, FsyncPolicy::Never).expect("recovered");
    assert_eq!(j.next_seq(), 0);
    assert!(j.replay().tail_repair.is_some());
    drop(j);
    assert_eq!(read_journal(&path).expect("read").sessions, 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn garbage_never_panics() {
    let mut rng = SplitMix64(99);
    for n in 0..3000usize {
        let len = n % 200;
        let mut bytes = MAGIC.to_vec();
        for _ in 0..len {
            bytes.push((rng.next_unit() * 256.0) as u8);
        }
        // Sometimes a plausible header, to get past the length check.
        if n % 3 == 0 && bytes.len() > 12 {
            bytes[8] = (len as u8).saturating_sub(8);
            bytes[9..12].fill(0);
        }
        let _ = replay_bytes(Path::new("garbage"), &bytes);
    }
}

#[test]
fn sequence_continues_across_sessions() {
    let dir = scratch("seq");
    let path = dir.join("orders.journal");
    for session in 0..3u64 {
        let mut j = Journal::open(&path, FsyncPolicy::EveryN(2)).expect("open");
        assert_eq!(j.next_seq(), session * 5);
        for _ in 0..5 {
            let seq = j.next_seq();
            j.append(&intent(seq, "ETHUSDT")).expect("append");
        }
    }
    let r = read_journal(&path).expect("read");
    assert_eq!(r.max_seq, Some(14));
    assert_eq!(r.sessions, 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fsync_policy_spellings() {
    let table: &[(&str, Option<FsyncPolicy>)] = &[
        ("always", Some(FsyncPolicy::Always)),
        ("never", Some(FsyncPolicy::Never)),
        ("every_n:10", Some(FsyncPolicy::EveryN(10))),
        (
            "interval_ms:5",
            Some(FsyncPolicy::Interval(Duration::from_millis(5))),
        ),
        ("every_n:0", None),
        ("every_n:-1", None),
        ("every_n:99999999999", None),
        ("interval_ms:", None),
        ("sometimes", None),
        ("", None),
    ];
    for (s, want) in table {
        assert_eq!(FsyncPolicy::parse(s).ok(), *want, "{s:?}");
    }
}

const CHILD_ENV: &str = "BX_JOURNAL_KILL_CHILD";

/// Child side of the SIGKILL test: appends numbered intents (continuing from
/// whatever the journal holds) until killed. Does nothing in a normal run.
#[test]
fn kill_child_entry() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let policy = match std::env::var("BX_JOURNAL_POLICY").as_deref() {
        Ok("always") => FsyncPolicy::Always,
        Ok("every_n") => FsyncPolicy::EveryN(4),
        _ => FsyncPolicy::Never,
    };
    let mut j = Journal::open(Path::new(&path), policy).expect("child open");
    let first = j.next_seq();
    let deadline = Instant::now() + Duration::from_secs(5);
    // Bounded: the parent kills us long before either limit.
    for seq in first..first + 2_000_000 {
        if Instant::now() > deadline {
            break;
        }
        j.append(&intent(seq, "BTCUSDT")).expect("append");
        j.append(&Record::Ack {
            client_id: cid(seq),
            venue_id: seq as i64,
            time_ms: 0,
        })
        .expect("append");
    }
}

/// Kills a writer with SIGKILL at random moments, 20 times; after each kill
/// the journal must replay to a gap-free prefix: intents 0..n, each with its
/// ack except the one in flight when a child was killed.
#[cfg(unix)]
#[test]
fn replay_after_sigkill_is_a_consistent_prefix() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = scratch("sigkill");
    let path = dir.join("orders.journal");
    let exe = std::env::current_exe().expect("test binary");
    let mut rng = SplitMix64(0x5EED);
    let started = Instant::now();
    let mut last_max = None;
    let mut kills_mid_write = 0;
    for round in 0..20 {
        if started.elapsed() > Duration::from_secs(20) {
            break;
        }
        let size_before = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let policy = ["never", "every_n", "always"][round % 3];
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "kill_child_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .env("BX_JOURNAL_POLICY", policy)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn child");
        // Wait (bounded) until the child is appending, then a random moment.
        let wait_start = Instant::now();
        while wait_start.elapsed() < Duration::from_secs(3) {
            let now = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if now > size_before + 200 {
                kills_mid_write += 1;
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_micros((rng.next_unit() * 3000.0) as u64));
        child.kill().expect("SIGKILL");
        let _ = child.wait();

        let r = read_journal(&path).expect("replay after kill");
        let Some(max) = r.max_seq else {
            continue;
        };
        assert_eq!(r.orders.len() as u64, max + 1, "round {round}: gap in ids");
        let mut unacked = 0;
        for seq in 0..=max {
            let o = r.orders.get(&cid(seq)).expect("every id present");
            assert_eq!(o.seq, seq);
            match o.venue_id {
                Some(v) => assert_eq!(v, seq as i64, "round {round}: wrong ack"),
                None => unacked += 1,
            }
        }
        // Only the intent in flight at each kill may lack its ack.
        assert!(unacked <= round + 1, "round {round}: {unacked} acks lost");
        if let Some(prev) = last_max {
            assert!(max >= prev, "round {round}: journal went backwards");
        }
        last_max = Some(max);
    }
    assert!(
        kills_mid_write >= 10,
        "only {kills_mid_write} kills hit a writing child"
    );
    assert!(last_max.is_some_and(|m| m > 0));
    let _ = std::fs::remove_dir_all(dir);
}
