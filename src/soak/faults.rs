//! The fault scheduler: which venue failures a soak injects, when, and how
//! many of each it actually delivered.
//!
//! Why seeded and planned up front: a soak that fails must be replayable.
//! The whole schedule (offset, kind, parameters) is derived from `--seed`
//! before the run starts, so the same seed puts the same faults at the same
//! moments; the counts in the summary are of faults the simulator accepted,
//! not of faults planned.

use super::rng::SoakRng;
use crate::sim::transport::faults::FaultPatch;
use std::collections::BTreeMap;
use std::time::Duration;

/// One kind of venue failure the soak can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// Every WebSocket (streams, WS API) is cut without a close frame.
    WsDrop,
    /// A burst of 429 -1003 answers.
    RateLimit,
    /// 5xx -1001 answers to requests that never reached the matching engine.
    ServerError,
    /// 503 / -1007 "unknown" answers to orders the venue DID execute.
    UnknownPlaced,
    /// 503 / -1007 "unknown" answers to orders the venue did NOT execute.
    UnknownNotPlaced,
    /// The venue clock jumps (ahead and behind) for a few seconds.
    ClockSkew,
    /// Every live listenKey is expired (`listenKeyExpired` is pushed).
    ListenKeyExpiry,
    /// The venue's 24-hour connection cut, at a compressed time scale
    /// (continuous for the run, not a scheduled event).
    Rotation,
    /// An auto-deleverage fill on our position.
    Adl,
    /// Stream frames are cut in half (malformed JSON). Opt-in: real venues
    /// do not send them, and a lost user event is only recoverable with the
    /// periodic reconciliation sweep.
    CorruptFrames,
    /// Stream frames are delayed, so REST replies beat their events.
    StreamDelay,
    /// The engine process is SIGKILLed and restarted (`--crash` only).
    Crash,
}

impl FaultKind {
    /// Every kind, in summary order.
    pub const ALL: [FaultKind; 12] = [
        FaultKind::WsDrop,
        FaultKind::RateLimit,
        FaultKind::ServerError,
        FaultKind::UnknownPlaced,
        FaultKind::UnknownNotPlaced,
        FaultKind::ClockSkew,
        FaultKind::ListenKeyExpiry,
        FaultKind::Rotation,
        FaultKind::Adl,
        FaultKind::CorruptFrames,
        FaultKind::StreamDelay,
        FaultKind::Crash,
    ];

    /// What `--faults all` means: the issue's list (crash is added by
    /// `--crash`; corrupt frames and stream delay are opt-in by name).
    pub const DEFAULT_ALL: [FaultKind; 9] = [
        FaultKind::WsDrop,
        FaultKind::RateLimit,
        FaultKind::ServerError,
        FaultKind::UnknownPlaced,
        FaultKind::UnknownNotPlaced,
        FaultKind::ClockSkew,
        FaultKind::ListenKeyExpiry,
        FaultKind::Rotation,
        FaultKind::Adl,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::WsDrop => "ws_drop",
            FaultKind::RateLimit => "rate_limit_429",
            FaultKind::ServerError => "server_error_5xx",
            FaultKind::UnknownPlaced => "unknown_placed",
            FaultKind::UnknownNotPlaced => "unknown_not_placed",
            FaultKind::ClockSkew => "clock_skew",
            FaultKind::ListenKeyExpiry => "listen_key_expiry",
            FaultKind::Rotation => "rotation_24h",
            FaultKind::Adl => "adl",
            FaultKind::CorruptFrames => "corrupt_frames",
            FaultKind::StreamDelay => "stream_delay",
            FaultKind::Crash => "crash",
        }
    }

    fn parse_one(s: &str) -> Option<FaultKind> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        let alias = match s.as_str() {
            "429" | "rate_limit" => Some(FaultKind::RateLimit),
            "5xx" | "server_error" => Some(FaultKind::ServerError),
            "rotation" => Some(FaultKind::Rotation),
            "listenkey" | "listen_key" => Some(FaultKind::ListenKeyExpiry),
            "corrupt" => Some(FaultKind::CorruptFrames),
            _ => None,
        };
        alias.or_else(|| FaultKind::ALL.into_iter().find(|k| k.name() == s))
    }
}

/// A `--faults` value that names no known kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault kind {0:?}; use all, none or a comma list of: {list}", list = kind_list())]
pub struct FaultListError(pub String);

fn kind_list() -> String {
    FaultKind::ALL.map(FaultKind::name).join(", ")
}

/// Parses `all`, `none` or a comma list (`ws_drop,429,adl`).
pub fn parse_fault_list(s: &str) -> Result<Vec<FaultKind>, FaultListError> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("all") {
        return Ok(FaultKind::DEFAULT_ALL.to_vec());
    }
    if t.eq_ignore_ascii_case("none") || t.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for part in t.split(',').filter(|p| !p.trim().is_empty()) {
        let k = FaultKind::parse_one(part).ok_or_else(|| FaultListError(part.to_string()))?;
        if !out.contains(&k) {
            out.push(k);
        }
    }
    Ok(out)
}

/// What one planned fault does to the simulator.
#[derive(Debug, Clone)]
pub enum FaultAction {
    /// A fault patch (`POST /sim/faults`).
    Patch(Box<FaultPatch>),
    /// `POST /sim/inject {"kind":"adl",...}` for part of our position.
    Adl {
        /// `calculated` or `trade` (both are seen on the wire).
        style: &'static str,
    },
}

/// One entry of the schedule.
#[derive(Debug, Clone)]
pub struct PlannedFault {
    /// Time from the start of trading.
    pub at: Duration,
    /// Counted under this kind (`None`: a follow-up that ends a fault, e.g.
    /// the clock skew returning to 0).
    pub kind: Option<FaultKind>,
    /// What to do.
    pub action: FaultAction,
}

/// The seeded schedule of one run.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    /// Entries in time order.
    pub entries: Vec<PlannedFault>,
}

/// No fault is scheduled in the last part of the run, so the engine settles
/// (reconnects, unknown fates resolved) before the books are compared.
pub const QUIET_TAIL: Duration = Duration::from_secs(5);

fn patch(f: impl FnOnce(&mut FaultPatch)) -> FaultAction {
    let mut p = FaultPatch::default();
    f(&mut p);
    FaultAction::Patch(Box::new(p))
}

impl FaultPlan {
    /// Plans faults of `kinds` over `duration`, one every `every` on
    /// average (jittered ±50 %), kinds drawn round-robin from a seeded
    /// shuffle so each kind fires about equally often. `Rotation` and
    /// `Crash` are not scheduled here (time scale / process orchestration).
    pub fn new(kinds: &[FaultKind], duration: Duration, every: Duration, seed: u64) -> Self {
        let mut rng = SoakRng::new(seed ^ 0xfa17);
        let scheduled: Vec<FaultKind> = kinds
            .iter()
            .copied()
            .filter(|k| !matches!(k, FaultKind::Rotation | FaultKind::Crash))
            .collect();
        let mut entries = Vec::new();
        if scheduled.is_empty() {
            return FaultPlan { entries };
        }
        let end = duration.saturating_sub(QUIET_TAIL);
        let every_ms = every.as_millis().max(100) as u64;
        // Let the engine get going before the first fault.
        let mut t = Duration::from_millis(every_ms.min(2000));
        let mut order = scheduled.clone();
        let mut idx = order.len();
        while t < end {
            if idx >= order.len() {
                // A fresh seeded shuffle per round.
                for i in (1..order.len()).rev() {
                    let j = rng.below(i as u64 + 1) as usize;
                    order.swap(i, j);
                }
                idx = 0;
            }
            let Some(&kind) = order.get(idx) else { break };
            idx += 1;
            Self::push(&mut entries, &mut rng, kind, t, end);
            t += Duration::from_millis(rng.range(every_ms / 2, every_ms * 3 / 2));
        }
        entries.sort_by_key(|e| e.at);
        FaultPlan { entries }
    }

    fn push(
        entries: &mut Vec<PlannedFault>,
        rng: &mut SoakRng,
        kind: FaultKind,
        at: Duration,
        end: Duration,
    ) {
        let action = match kind {
            FaultKind::WsDrop => patch(|p| p.drop_ws = true),
            FaultKind::RateLimit => {
                let n = rng.range(2, 5) as u32;
                patch(|p| p.too_many_next = Some(n))
            }
            FaultKind::ServerError => {
                let status = [500u16, 502, 503, 504][rng.below(4) as usize];
                let n = rng.range(1, 3) as u32;
                patch(|p| {
                    p.server_error_next = Some(n);
                    p.server_error_status = Some(status);
                })
            }
            FaultKind::UnknownPlaced | FaultKind::UnknownNotPlaced => {
                let as_timeout = rng.chance(50);
                let placed = kind == FaultKind::UnknownPlaced;
                patch(|p| {
                    p.unknown_as_timeout = Some(as_timeout);
                    if placed {
                        p.unknown_placed_next = Some(1);
                    } else {
                        p.unknown_not_placed_next = Some(1);
                    }
                })
            }
            FaultKind::ClockSkew => {
                // Behind by more than the 1 s "ahead of server" allowance, or
                // ahead by more than the recvWindow: both are -1021.
                let skew = [-3000i64, -1500, 2500, 7000][rng.below(4) as usize];
                let back = (at + Duration::from_millis(rng.range(1500, 4000))).min(end);
                entries.push(PlannedFault {
                    at: back,
                    kind: None,
                    action: patch(|p| p.clock_skew_ms = Some(0)),
                });
                patch(|p| p.clock_skew_ms = Some(skew))
            }
            FaultKind::ListenKeyExpiry => patch(|p| p.expire_listen_keys = true),
            FaultKind::Adl => FaultAction::Adl {
                style: if rng.chance(50) {
                    "calculated"
                } else {
                    "trade"
                },
            },
            FaultKind::CorruptFrames => {
                // Rotates through the simulator's bad-frame kinds.
                let n = rng.range(1, 3) as u32;
                match rng.below(8) {
                    0 => patch(|p| p.corrupt_next_frames = Some(n)),
                    1 => patch(|p| p.unknown_event_next_frames = Some(n)),
                    2 => patch(|p| p.unknown_enum_next_frames = Some(n)),
                    3 => patch(|p| p.extra_fields_next_frames = Some(n)),
                    4 => patch(|p| p.missing_field_next_frames = Some(n)),
                    5 => patch(|p| p.non_json_next_frames = Some(n)),
                    6 => patch(|p| p.binary_next_frames = Some(n)),
                    _ => patch(|p| p.oversized_next_frames = Some(1)),
                }
            }
            FaultKind::StreamDelay => {
                let ms = rng.range(50, 400);
                let back = (at + Duration::from_millis(rng.range(1000, 3000))).min(end);
                entries.push(PlannedFault {
                    at: back,
                    kind: None,
                    action: patch(|p| p.stream_delay_ms = Some(0)),
                });
                patch(|p| p.stream_delay_ms = Some(ms))
            }
            FaultKind::Rotation | FaultKind::Crash => return,
        };
        entries.push(PlannedFault {
            at,
            kind: Some(kind),
            action,
        });
    }
}

/// Faults delivered, by kind (and ADL injections the venue refused because
/// we were flat at that moment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Delivered faults by kind.
    pub by_kind: BTreeMap<FaultKind, u64>,
    /// Planned faults that could not be delivered, with the reason.
    pub skipped: BTreeMap<FaultKind, u64>,
}

impl FaultCounts {
    /// Counts one delivered fault.
    pub fn add(&mut self, kind: FaultKind, n: u64) {
        *self.by_kind.entry(kind).or_insert(0) += n;
    }
    /// Counts one fault that could not be delivered.
    pub fn skip(&mut self, kind: FaultKind) {
        *self.skipped.entry(kind).or_insert(0) += 1;
    }
    /// Total delivered.
    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }
}

/// Where faults go: the in-process simulator's handle, or a test double.
pub trait FaultTarget {
    /// Applies a fault patch.
    fn apply(&self, patch: &FaultPatch);
    /// Injects an ADL fill for part of the position; `Err` when there is
    /// nothing to deleverage.
    fn inject_adl(&self, style: &str) -> Result<(), String>;
}

/// Plays `plan` against `target` until it is done or `stop` returns true,
/// sleeping in short steps; returns what was delivered. Ends with every
/// fault cleared.
pub fn play(
    plan: &FaultPlan,
    target: &dyn FaultTarget,
    start: std::time::Instant,
    stop: &dyn Fn() -> bool,
) -> FaultCounts {
    let mut counts = FaultCounts::default();
    for e in &plan.entries {
        loop {
            if stop() {
                target.apply(&FaultPatch {
                    clear: true,
                    ..Default::default()
                });
                return counts;
            }
            let now = start.elapsed();
            if now >= e.at {
                break;
            }
            std::thread::sleep((e.at - now).min(Duration::from_millis(50)));
        }
        match &e.action {
            FaultAction::Patch(p) => {
                target.apply(p);
                if let Some(k) = e.kind {
                    counts.add(k, 1);
                }
            }
            FaultAction::Adl { style } => match target.inject_adl(style) {
                Ok(()) => counts.add(FaultKind::Adl, 1),
                Err(_) => counts.skip(FaultKind::Adl),
            },
        }
    }
    target.apply(&FaultPatch {
        clear: true,
        ..Default::default()
    });
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn lists_parse_and_all_is_the_issue_list() {
        assert_eq!(parse_fault_list("all").unwrap(), FaultKind::DEFAULT_ALL);
        assert!(parse_fault_list("none").unwrap().is_empty());
        assert_eq!(
            parse_fault_list("ws_drop, 429,adl,ws-drop").unwrap(),
            vec![FaultKind::WsDrop, FaultKind::RateLimit, FaultKind::Adl]
        );
        let e = parse_fault_list("ws_drop,meteor").unwrap_err();
        assert!(e.to_string().contains("meteor"), "{e}");
    }

    #[test]
    fn plan_is_seeded_covers_every_kind_and_keeps_a_quiet_tail() {
        let kinds = FaultKind::DEFAULT_ALL;
        let d = Duration::from_secs(60);
        let a = FaultPlan::new(&kinds, d, Duration::from_millis(1500), 3);
        let b = FaultPlan::new(&kinds, d, Duration::from_millis(1500), 3);
        let c = FaultPlan::new(&kinds, d, Duration::from_millis(1500), 4);
        assert_eq!(format!("{:?}", a.entries), format!("{:?}", b.entries));
        assert_ne!(format!("{:?}", a.entries), format!("{:?}", c.entries));
        for k in kinds {
            if k == FaultKind::Rotation {
                continue;
            }
            assert!(
                a.entries.iter().any(|e| e.kind == Some(k)),
                "{} never planned",
                k.name()
            );
        }
        assert!(a.entries.iter().all(|e| e.at <= d - QUIET_TAIL));
        assert!(a.entries.windows(2).all(|w| w[0].at <= w[1].at));
    }

    struct Recorder(Mutex<Vec<FaultPatch>>, bool);
    impl FaultTarget for Recorder {
        fn apply(&self, patch: &FaultPatch) {
            self.0.lock().unwrap().push(patch.clone());
        }
        fn inject_adl(&self, _style: &str) -> Result<(), String> {
            if self.1 { Ok(()) } else { Err("flat".into()) }
        }
    }

    #[test]
    fn play_counts_delivered_and_skipped_and_clears_at_the_end() {
        let plan = FaultPlan {
            entries: vec![
                PlannedFault {
                    at: Duration::ZERO,
                    kind: Some(FaultKind::WsDrop),
                    action: patch(|p| p.drop_ws = true),
                },
                PlannedFault {
                    at: Duration::from_millis(5),
                    kind: Some(FaultKind::Adl),
                    action: FaultAction::Adl { style: "trade" },
                },
                PlannedFault {
                    at: Duration::from_millis(10),
                    kind: None,
                    action: patch(|p| p.clock_skew_ms = Some(0)),
                },
            ],
        };
        let r = Recorder(Mutex::new(Vec::new()), false);
        let c = play(&plan, &r, std::time::Instant::now(), &|| false);
        assert_eq!(c.by_kind.get(&FaultKind::WsDrop), Some(&1));
        assert_eq!(c.by_kind.get(&FaultKind::Adl), None);
        assert_eq!(c.skipped.get(&FaultKind::Adl), Some(&1));
        assert_eq!(c.total(), 1);
        let applied = r.0.lock().unwrap();
        assert_eq!(applied.len(), 3);
        assert!(applied.last().is_some_and(|p| p.clear));
    }
}
