//! Issue 5: killing the engine with SIGKILL at any moment and restarting it
//! loses nothing. The real binary runs the maker against an in-process
//! simulator with a journal; it is killed at seeded random moments and
//! restarted; at the end the venue's ledger is audited against the journal.
//! Also: a torn journal tail is tolerated on restart.

mod support;

use binance_exec::engine::journal::{OrderState as JState, Record, read_journal};
use binance_exec::engine::{Engine, journal::FsyncPolicy, journal::Journal};
use binance_exec::model::{ClientOrderId, OrderStatus, OrderType, Price, Quantity, Side, Symbol};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Probe, Sim, Spec, instrument, options, wait_until};

const SYM: &str = "BTCUSDT";
/// SIGKILLs per run (bounded).
const KILLS: usize = 4;

/// A fresh directory under the system temp dir for this test's files.
fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("bx-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// The client config file `run` reads: the simulator's URLs, a journal,
/// cancel-all on (clean) shutdown.
pub fn write_config(sim: &Sim, dir: &Path, extra_engine: &str) -> PathBuf {
    let h = &sim.handle;
    let text = format!(
        "base_url_http = \"{}\"\nbase_url_ws = \"{}\"\nbase_url_ws_api = \"{}\"\n\
         position_mode = \"one_way\"\nretry_delay_secs = 0.05\nretry_delay_max_secs = 0.5\n\
         [instrument_provider]\nload_ids = [\"{SYM}-PERP.BINANCE\"]\n\
         [engine]\ncancel_all_on_shutdown = true\njournal_path = \"j.journal\"\n{extra_engine}\n[sim]\n",
        h.rest_url(),
        h.stream_url(),
        h.ws_api_url(),
    );
    let path = dir.join("client.toml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

/// Starts `binance-exec run --strategy maker` with its output in `dir`.
pub fn spawn_maker(sim: &Sim, cfg: &Path, dir: &Path, n: usize, duration: Option<u64>) -> Child {
    let (tick, qty) = sim.size(SYM);
    let out = std::fs::File::create(dir.join(format!("run{n}.out"))).ok();
    let err = std::fs::File::create(dir.join(format!("run{n}.err"))).ok();
    let mut c = Command::new(env!("CARGO_BIN_EXE_binance-exec"));
    c.arg("run")
        .arg("--config")
        .arg(cfg)
        .args(["--strategy", "maker", "--qty", &qty.to_string(), "--tick"])
        .arg(tick.to_string())
        .env_remove("BINANCE_API_KEY")
        .env_remove("BINANCE_API_SECRET")
        .env_remove("BINANCE_TESTNET")
        .stdin(Stdio::null())
        .stdout(out.map_or(Stdio::null(), Stdio::from))
        .stderr(err.map_or(Stdio::null(), Stdio::from));
    if let Some(d) = duration {
        c.args(["--duration", &d.to_string()]);
    }
    c.spawn().unwrap_or_else(|e| panic!("spawn: {e}"))
}

/// Intents in the journal so far (0 while it does not exist yet).
fn intents(path: &Path) -> usize {
    read_journal(path).map(|r| r.orders.len()).unwrap_or(0)
}

/// xorshift64*: the seeded source of kill moments.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

fn output(dir: &Path, n: usize) -> String {
    let read =
        |s: &str| std::fs::read_to_string(dir.join(format!("run{n}.{s}"))).unwrap_or_default();
    format!("--- stdout\n{}\n--- stderr\n{}", read("out"), read("err"))
}

#[test]
fn sigkill_at_random_moments_loses_nothing() {
    let sim = Sim::start(false, |s| s.venue.market.volatility = 0.000_5);
    let dir = scratch("crash");
    let cfg = write_config(&sim, &dir, "journal_fsync = \"never\"");
    let journal = dir.join("j.journal");
    let mut rng = Rng(0x5EED_0005);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (tick, _) = sim.size(SYM);
    for n in 0..KILLS {
        let before = intents(&journal);
        let mut child = spawn_maker(&sim, &cfg, &dir, n, None);
        // Trading has begun once new intents appear (bounded wait).
        let until = Instant::now() + Duration::from_secs(15);
        while intents(&journal) <= before && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            intents(&journal) > before,
            "run {n} never traded\n{}",
            output(&dir, n)
        );
        // Sweep the book through the quotes now and then, so fills happen
        // while the engine is alive and while it is dead.
        if let Ok(last) = sim.control.last_price(SYM) {
            let step = Price::from_raw(tick.raw() * 40);
            let moved = if n % 2 == 0 {
                last.value().checked_sub(step.value())
            } else {
                last.value().checked_add(step.value())
            };
            if let Some(p) = moved {
                let _ = sim.control.set_price(SYM, Price(p));
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(1200)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if let Ok(last) = sim.control.last_price(SYM) {
            let step = Price::from_raw(tick.raw() * 25);
            if let Some(p) = last.value().checked_add(step.value()) {
                let _ = sim.control.set_price(SYM, Price(p));
            }
        }
        assert!(Instant::now() < deadline, "crash loop took too long");
    }
    // A last, clean run: reconciles, trades briefly, cancels all, exits 0.
    let mut last = spawn_maker(&sim, &cfg, &dir, KILLS, Some(3));
    let until = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Ok(Some(s)) = last.try_wait() {
            break Some(s);
        }
        if Instant::now() > until {
            let _ = last.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.is_some_and(|s| s.success()),
        "final run failed: {status:?}\n{}",
        output(&dir, KILLS)
    );

    let replay = read_journal(&journal).unwrap_or_else(|e| panic!("{e}"));
    assert!(replay.sessions as usize > KILLS, "{}", replay.sessions);
    assert_eq!(replay.duplicate_intents, 0, "a client id was sent twice");
    assert_eq!(replay.duplicate_fills, 0, "a fill was booked twice");
    let ledger = sim.handle.with_venue(|v| v.ledger());
    let ours: Vec<_> = ledger.orders.iter().filter(|o| o.account == 0).collect();
    assert!(
        ours.len() >= KILLS,
        "too few orders reached the venue: {}",
        ours.len()
    );
    let mut ids = HashSet::new();
    for o in &ours {
        assert!(
            ids.insert(o.client_order_id.clone()),
            "client id {} used twice at the venue",
            o.client_order_id
        );
        let cid = ClientOrderId::from_venue(&o.client_order_id);
        let Some(j) = replay.orders.get(&cid) else {
            panic!("venue order {} is not in the journal", o.client_order_id);
        };
        // The final run cancelled everything: the venue has nothing open and
        // the journal knows how every order ended.
        assert!(
            matches!(
                o.status.as_str(),
                "FILLED" | "CANCELED" | "EXPIRED" | "REJECTED" | "EXPIRED_IN_MATCH"
            ),
            "{} still {} at the venue",
            o.client_order_id,
            o.status
        );
        assert!(
            j.state.is_closed(),
            "journal forgot how {} ended (venue {}, journal {:?})",
            o.client_order_id,
            o.status,
            j.state
        );
    }
    assert_eq!(sim.open_orders(), 0, "orders left open at the venue");
    // Journal orders the venue never saw were settled as never placed.
    let unsettled: Vec<_> = replay.open_orders().map(|(c, _)| *c).collect();
    assert!(
        unsettled.is_empty(),
        "journal orders never settled: {unsettled:?}"
    );
    // Every fill of ours is journaled exactly once (live or recovered).
    let fills: Vec<_> = ledger.fills.iter().filter(|f| f.account == 0).collect();
    for f in &fills {
        let sym = Symbol::new(&f.symbol).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            replay.trades.contains(&(sym, f.trade_id)),
            "fill {} of order {} is not in the journal",
            f.trade_id,
            f.order_id
        );
    }
    eprintln!(
        "{} orders, {} fills, {} sessions, {} records",
        ours.len(),
        fills.len(),
        replay.sessions,
        replay.records
    );
    let _ = std::fs::remove_dir_all(&dir);
    sim.handle.shutdown();
}

#[test]
fn torn_journal_tail_is_cut_and_the_engine_carries_on() {
    let sim = Sim::start(false, |_| {});
    let dir = scratch("torn");
    let path = dir.join("j.journal");
    // A journal from an "earlier run": one intent the venue never saw, then
    // half a record (the write a crash interrupted).
    let old = ClientOrderId::from_venue("bx.old-5");
    {
        let mut j = Journal::open(&path, FsyncPolicy::Always).unwrap_or_else(|e| panic!("{e}"));
        j.append(&Record::Intent(binance_exec::engine::journal::Intent {
            seq: 5,
            client_id: old,
            symbol: Symbol::new(SYM).unwrap_or_else(|e| panic!("{e}")),
            side: Side::Buy,
            order_type: OrderType::Limit,
            qty: Quantity::parse("0.01").unwrap_or_default(),
            price: Price::parse("50000").ok(),
            time_ms: 1,
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("{e}"));
    f.write_all(&[40, 0, 0, 0, 1, 2, 3, 4, 2, 9, 9])
        .unwrap_or_else(|e| panic!("{e}"));
    drop(f);

    let (tick, q) = sim.size(SYM);
    let probe = Probe::new(instrument(SYM), tick, vec![Spec::RestingBuy(q)]);
    let seen = probe.seen.clone();
    let mut config = sim.config(SYM, false);
    config.engine.journal_path = Some(path.clone());
    config.engine.journal_fsync = FsyncPolicy::EveryN(1);
    let h = Engine::start(config, probe, options()).unwrap_or_else(|e| panic!("start: {e}"));
    let sent = wait_until(&seen, Duration::from_secs(20), |s| {
        s.sent.len() == 1
            && s.events.iter().any(|e| {
                e.client_id == s.sent[0]
                    && matches!(e.kind, binance_exec::model::OrderEventKind::Accepted)
            })
    });
    let summary = h.stop().unwrap_or_else(|e| panic!("{e}"));
    assert!(sent, "the order was not accepted: {:?}", summary.events);
    assert!(
        summary.events.iter().any(|e| e.contains("torn tail cut")),
        "{:?}",
        summary.events
    );
    let replay = read_journal(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(replay.tail_repair.is_none(), "{:?}", replay.tail_repair);
    // The old intent was reconciled (the venue never saw it) and the new
    // order's id continues past it.
    let old_state = replay.orders.get(&old).map(|o| o.state);
    assert_eq!(old_state, Some(JState::Status(OrderStatus::Rejected)));
    let new_id = seen.lock().map(|s| s.sent[0]).unwrap_or_default();
    let seq = replay.orders.get(&new_id).map(|o| o.seq);
    assert!(seq.is_some_and(|s| s > 5), "new id {new_id} seq {seq:?}");
    let _ = std::fs::remove_dir_all(&dir);
    sim.handle.shutdown();
}

#[test]
fn journal_keys_resolve_and_bad_values_name_the_field() {
    use binance_exec::config::{Config, Environment};
    let dir = scratch("keys");
    let base = "base_url_http = \"http://127.0.0.1:1\"\nbase_url_ws = \"ws://127.0.0.1:1\"\n\
                base_url_ws_api = \"ws://127.0.0.1:1/ws-fapi/v1\"\n\
                [instrument_provider]\nload_ids = [\"BTCUSDT-PERP.BINANCE\"]\n";
    let env = Environment::from_pairs(&[]);
    let load = |engine: &str| {
        let text = format!("{base}[engine]\n{engine}\n[sim]\n");
        Config::from_toml_str(&text, Some(&dir), &env)
    };
    let c = load("journal_path = \"sub.journal\"\njournal_fsync = \"interval_ms:50\"\ndead_man_switch_secs = 30")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.engine.journal_path, Some(dir.join("sub.journal")));
    assert_eq!(
        c.engine.journal_fsync,
        FsyncPolicy::Interval(Duration::from_millis(50))
    );
    assert_eq!(c.engine.dead_man_switch_secs, 30);
    let d = load("").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(d.engine.journal_path, None);
    assert_eq!(d.engine.journal_fsync, FsyncPolicy::EveryN(1));
    assert_eq!(d.engine.dead_man_switch_secs, 0);
    for (bad, field) in [
        ("journal_fsync = \"sometimes\"", "journal_fsync"),
        ("journal_fsync = \"every_n:0\"", "journal_fsync"),
        ("journal_path = \"\"", "journal_path"),
        ("dead_man_switch_secs = -1", "dead_man_switch_secs"),
    ] {
        let e = load(bad)
            .map(|_| ())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(field), "{bad}: {e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
