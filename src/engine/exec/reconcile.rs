//! Reconciliation: after a user-stream gap (reconnect, listenKey rotation,
//! silence), on a periodic sweep, and when a cancel is answered "unknown
//! order", the engine asks the venue what really happened and books what the
//! stream never told it.
//!
//! Why a module of its own: the venue never replays missed user events, so
//! every gap has to be closed by REST, and doing that wrong either loses
//! fills (positions drift) or double-counts them. One pass goes:
//!
//! 1. **Lists** — `openOrders` and `openAlgoOrders` per loaded instrument
//!    (weight 1 each with a symbol, never the 40-weight unfiltered form);
//! 2. **Checks** — every order the engine believes open that the venue did
//!    not list is queried by client id; `-2013` ("does not exist") is taken
//!    as "not known yet" and re-queried a few times before it is believed;
//! 3. **Trades** — when the venue's cumulative quantity is ahead of ours,
//!    the missing fills are fetched from `userTrades` (`fromId` = last trade
//!    id booked + 1 for the symbol, paged and bounded; by `orderId` when no
//!    trade was seen yet) and delivered once, in trade-id order, marked
//!    `recovered`;
//! 4. **Apply** — then the venue's states (cancelled, expired, filled) that
//!    differ from ours, then the user-stream frames buffered during the pass
//!    (the tracker drops the duplicates by symbol + trade id).
//!
//! Requests are paced by a weight budget (a token bucket well under the
//! venue's 2400/min) on top of the engine's rate limiter, so a reconnect with
//! hundreds of open orders cannot earn a 429, let alone a ban.

use std::collections::VecDeque;

use super::reports;
use super::thread::{Exec, Job, Pending, idle};
use crate::binance::errors::VenueError;
use crate::binance::events::AccountUpdate;
use crate::binance::requests::{AlgoRef, OrderRef, RequestBuilder, RestRequest, UserTradesQuery};
use crate::binance::rest::{
    AccountInfo, AlgoOrderResponse, OrderResponse, PositionRisk, UserTrade, decode,
};
use crate::config::Config;
use crate::engine::clock::mono_ns;
use crate::engine::positions::PositionSnapshot;
use crate::engine::report::{Report, ReportSource};
use crate::engine::strategy_thread::ToStrategy;
use crate::model::fill::AssetCode;
use crate::model::ids::{ClientOrderId, InstrumentId, Symbol, VenueOrderId};
use crate::model::{Decimal, Money, OrderState, OrderStatus, PositionSide, Price, Quantity};

/// Most `userTrades` pages fetched per symbol (or order) in one pass: 10 ×
/// 1000 fills; beyond that the order's cumulative quantity is still booked
/// (at the venue's average price) and the shortfall is logged.
const MAX_TRADE_PAGES: u8 = 10;
/// `userTrades` page size (the venue's maximum).
const TRADE_PAGE: usize = 1000;
/// Times a "does not exist" (-2013/-2011) answer is re-queried before it is
/// believed: the venue may not know an order it is still placing.
const NOT_KNOWN_RETRIES: u32 = 3;
/// Other failures of one reconcile request retried this many times.
const CALL_RETRIES: u32 = 3;
/// A pass that has not finished by then is closed with what it has (and the
/// buffered events are released): events are never held forever.
const PASS_TIMEOUT_NS: u64 = 30_000_000_000;
/// Weight budget: refill per second and burst. 10/s is 600 per minute, a
/// quarter of the venue's 2400 request-weight limit, leaving the rest for
/// trading and market-data calls.
const BUDGET_PER_SEC: u64 = 10;
/// Burst capacity of the budget (weight units).
const BUDGET_BURST: u64 = 40;
/// Most user frames held during a pass; beyond it the pass stops buffering
/// (events then flow unordered but are still deduplicated).
const MAX_BUFFERED: usize = 100_000;
/// A failed pass is tried again after this long (not at once: a venue
/// that is failing is not helped by a tight loop).
const RETRY_PASS_NS: u64 = 5_000_000_000;
/// A user socket still down after this long gets its listenKey checked with
/// a keepalive (weight 1): an expired key would otherwise keep the socket
/// failing until the next scheduled keepalive, up to 30 minutes later.
const KEY_PROBE_AFTER_NS: u64 = 10_000_000_000;
/// Longest a recovered trade waits for its owner to be known (see
/// `Reconciler::deferred`) before it is booked as external.
const DEFER_OWNERLESS_NS: u64 = 10_000_000_000;
/// Lower bound of the keepalive period (a mis-scaled simulator clock must
/// not turn it into a request storm).
const MIN_KEEPALIVE_NS: u64 = 200_000_000;

/// Why a reconciliation pass runs; decides whether stream events are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileReason {
    /// The user-data socket came back after being down.
    Reconnect,
    /// A new listenKey (expiry, failed keepalive): a new socket, a gap.
    ListenKey,
    /// The user stream was silent while orders were open.
    Silence,
    /// The periodic open-order sweep.
    Sweep,
    /// One order's fate needs the venue's word (a cancel answered
    /// -2011/-2013, or a query that showed fills we never saw).
    OrderCheck,
}

impl ReconcileReason {
    /// Stream gaps hold live events until the missed ones are delivered, so
    /// the strategy sees them in order.
    fn buffers(self) -> bool {
        matches!(
            self,
            ReconcileReason::Reconnect | ReconcileReason::ListenKey
        )
    }

    fn as_str(self) -> &'static str {
        match self {
            ReconcileReason::Reconnect => "user stream reconnect",
            ReconcileReason::ListenKey => "new listenKey",
            ReconcileReason::Silence => "user stream silence",
            ReconcileReason::Sweep => "periodic sweep",
            ReconcileReason::OrderCheck => "order check",
        }
    }
}

/// One reconciliation request, carried in the execution loop's job table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconCall {
    /// `GET /fapi/v1/openOrders?symbol=`.
    OpenOrders {
        /// Pass it belongs to.
        pass: u32,
    },
    /// `GET /fapi/v1/openAlgoOrders?symbol=`.
    OpenAlgoOrders {
        /// Pass it belongs to.
        pass: u32,
    },
    /// `GET /fapi/v1/order` (or `algoOrder`) by client id.
    Check {
        /// Pass it belongs to.
        pass: u32,
    },
    /// `GET /fapi/v1/userTrades`.
    Trades {
        /// Pass it belongs to.
        pass: u32,
        /// `fromId` (0 = not sent).
        from_id: i64,
        /// `orderId` (0 = not sent).
        order_id: VenueOrderId,
        /// `startTime` in venue ms (0 = not sent; only on a first page
        /// without `fromId`).
        start_ms: i64,
        /// Page number, bounded by [`MAX_TRADE_PAGES`].
        page: u8,
    },
    /// `GET /fapi/v1/order?orderId=`: whose order a recovered trade with
    /// no known owner is (see `venue_fills`). Belongs to no pass.
    VenueOrder {
        /// The trade's order id.
        order_id: VenueOrderId,
    },
    /// `GET /fapi/v3/positionRisk` (all symbols): after an ACCOUNT_UPDATE
    /// listed more positions than are kept inline. Belongs to no pass.
    Positions,
    /// `GET /fapi/v3/account`: after an ACCOUNT_UPDATE listed more
    /// balances than are kept inline. Belongs to no pass.
    Balances,
}

impl ReconCall {
    fn pass(self) -> u32 {
        match self {
            ReconCall::OpenOrders { pass }
            | ReconCall::OpenAlgoOrders { pass }
            | ReconCall::Check { pass }
            | ReconCall::Trades { pass, .. } => pass,
            // Pass ids start at 1: account reads outlive every pass.
            ReconCall::Positions | ReconCall::Balances | ReconCall::VenueOrder { .. } => 0,
        }
    }

    /// Request weight (§10 of the protocol notes).
    fn weight(self) -> u64 {
        match self {
            ReconCall::Trades { .. } | ReconCall::Positions | ReconCall::Balances => 5,
            _ => 1,
        }
    }
}

/// Builds the signed request for a reconciliation call.
pub(super) fn build_request<'a>(
    rb: &'a mut RequestBuilder,
    call: ReconCall,
    p: &Pending,
    ts: i64,
) -> Result<RestRequest<'a>, String> {
    let sym = p.instrument.symbol;
    match call {
        ReconCall::OpenOrders { .. } => Ok(rb.open_orders(Some(&sym), ts)),
        ReconCall::OpenAlgoOrders { .. } => Ok(rb.open_algo_orders(Some(&sym), ts)),
        ReconCall::Check { .. } if p.algo => {
            Ok(rb.query_algo_order(&AlgoRef::ClientAlgoId(p.client_id), ts))
        }
        ReconCall::Check { .. } => Ok(rb.query_order(&sym, &OrderRef::ClientId(p.client_id), ts)),
        ReconCall::Trades {
            from_id,
            order_id,
            start_ms,
            ..
        } => rb
            .user_trades(
                &UserTradesQuery {
                    symbol: sym,
                    order_id: (order_id > 0).then_some(order_id),
                    from_id: (from_id > 0).then_some(from_id),
                    start_time: (start_ms > 0 && from_id <= 0).then_some(start_ms),
                    end_time: None,
                    limit: Some(TRADE_PAGE as u32),
                },
                ts,
            )
            .map_err(|e| e.to_string()),
        ReconCall::VenueOrder { order_id } => {
            Ok(rb.query_order(&sym, &OrderRef::VenueId(order_id), ts))
        }
        ReconCall::Positions => Ok(rb.position_risk(None, ts)),
        ReconCall::Balances => Ok(rb.account(ts)),
    }
}

/// The keepalive period for the configured venue: the config's value, or,
/// against the simulator, that value divided by its `time_scale` (so a
/// compressed-clock soak run sees keys expire and be renewed).
pub fn keepalive_period_ns(config: &Config) -> u64 {
    let base = config.engine.listen_key_keepalive.as_nanos() as f64;
    let scale = config
        .sim
        .as_ref()
        .map(|s| s.server.time_scale)
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(1.0);
    ((base / scale) as u64).max(MIN_KEEPALIVE_NS)
}

/// How long the settlement at shutdown may take to query `open` orders:
/// the queries are paced by the reconciliation weight budget (one weight
/// each, at [`BUDGET_PER_SEC`]), plus slack for the lists, the round trips
/// and a retry. Bounded by the pass timeout: a shutdown never hangs.
pub fn settle_window_ns(open: usize) -> u64 {
    let paced = (open as u64)
        .saturating_add(4)
        .saturating_mul(1_000_000_000)
        / BUDGET_PER_SEC;
    paced.saturating_add(3_000_000_000).min(PASS_TIMEOUT_NS)
}

/// A token bucket of request weight, refilled continuously.
#[derive(Debug, Clone)]
pub struct WeightBudget {
    /// Tokens in milli-weight (integer maths, no drift).
    milli: u64,
    per_sec: u64,
    burst: u64,
    last_ns: u64,
}

impl WeightBudget {
    /// A full bucket of `burst` refilled at `per_sec` weight per second.
    pub fn new(per_sec: u64, burst: u64, now_ns: u64) -> Self {
        WeightBudget {
            milli: burst * 1000,
            per_sec,
            burst,
            last_ns: now_ns,
        }
    }

    /// Adds the weight earned since the last refill. Only the time actually
    /// converted into whole milli-weight is consumed: a loop that polls
    /// every few microseconds earns less than one milli-weight per call,
    /// and dropping that remainder each time would never refill the bucket
    /// (reconciliation would stall after its first burst).
    fn refill(&mut self, now_ns: u64) {
        let cap = self.burst * 1000;
        if now_ns <= self.last_ns {
            return;
        }
        if self.milli >= cap || self.per_sec == 0 {
            self.last_ns = now_ns;
            return;
        }
        let dt = now_ns - self.last_ns;
        let add = dt.saturating_mul(self.per_sec) / 1_000_000;
        if add == 0 {
            return;
        }
        // The exact time `add` took (rounded up so it never gains weight).
        let used = add.saturating_mul(1_000_000).div_ceil(self.per_sec).min(dt);
        self.last_ns += used;
        self.milli = self.milli.saturating_add(add).min(cap);
        if self.milli >= cap {
            self.last_ns = now_ns;
        }
    }

    /// Takes `weight` if the bucket holds it.
    pub fn try_take(&mut self, weight: u64, now_ns: u64) -> bool {
        self.refill(now_ns);
        let need = weight.min(self.burst) * 1000;
        if self.milli >= need {
            self.milli -= need;
            true
        } else {
            false
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Lists,
    Checks,
    Trades,
}

/// One pass in progress.
struct Pass {
    id: u32,
    why: ReconcileReason,
    started_ns: u64,
    phase: Phase,
    /// Requests of this phase not answered yet (queued, sent or retrying).
    outstanding: u32,
    /// Tracked orders the venue listed as open.
    listed: Vec<ClientOrderId>,
    /// Orders to query one by one (besides those the lists miss).
    checks: Vec<(ClientOrderId, InstrumentId, bool)>,
    checked: u32,
    /// The venue's view of orders that differ from ours, applied after the
    /// recovered fills.
    reports: Vec<(Report, InstrumentId)>,
    trades: Vec<UserTrade>,
    untracked: u32,
    failed: bool,
}

/// Reconciliation state owned by the execution loop.
pub struct Reconciler {
    pass: Option<Pass>,
    next: Option<ReconcileReason>,
    pending_checks: Vec<(ClientOrderId, InstrumentId, bool)>,
    /// Orders a gap pass found filled further than the trades it fetched
    /// (from the stream's last trade on) explain: their missing fill is
    /// older than that mark (its events were unreadable before the gap), so
    /// the next pass fetches their trades by order id.
    fetch_by_order: Vec<ClientOrderId>,
    seq: u32,
    buffering: bool,
    buffered: VecDeque<(Vec<u8>, u64)>,
    /// When the current hold began (0 = not holding).
    hold_since_ns: u64,
    /// A hold was cut at its bound: live events went to the book before
    /// the missed ones, so positions are read back once the passes end.
    released_early: bool,
    /// `engine.reconcile_hold_max_ms`: a hold longer than this is released
    /// even though its pass still runs (0 = never hold).
    hold_max_ns: u64,
    /// Each loaded symbol's last booked trade id when the stream gap began:
    /// a gap pass fetches missed fills from here, not from the tracker's
    /// current mark, which live events released past the hold bound may
    /// have moved beyond the missed ones. Empty = no gap recorded.
    gap_marks: Vec<(Symbol, Option<i64>)>,
    budget: WeightBudget,
    waiting: VecDeque<Pending>,
    /// The user socket went down (or its key died) and has not been
    /// reconciled since.
    pub(super) user_gap: bool,
    /// Orders whose cancel was answered -2011/-2013 and whose check has not
    /// concluded: if the venue says they are still open, the cancel is
    /// reported as refused (the strategy may send it again).
    cancel_unknown: Vec<ClientOrderId>,
    /// A listenKey request is in flight (one at a time).
    pub(super) new_key_in_flight: bool,
    /// The engine is stopping: user events are applied as they come, never
    /// held for a pass whose end the strategy would not see.
    pub(super) shutting_down: bool,
    last_user_frame_ns: u64,
    /// When the user socket went down (0 = up), and whether its key was
    /// probed since.
    user_down_since_ns: u64,
    key_probed: bool,
    /// A failed pass runs again at this time (0 = none).
    retry_pass_ns: u64,
    /// Venue time (ms) the trading loop started: with no trade booked yet on
    /// a symbol, missed fills are fetched from here (`startTime`).
    pub(super) since_ms: i64,
    sweep_every_ns: u64,
    silence_ns: u64,
    next_sweep_ns: u64,
    /// Recovered trades with no owner yet while some order of ours on the
    /// symbol has no venue id (placement reply or trigger still pending):
    /// `userTrades` carries no client id, so such a trade may be that
    /// order's. Held until the owner is known, the stream delivers it, or
    /// the deadline (then it is booked as external).
    deferred: Vec<(UserTrade, u64)>,
    /// The one ACCOUNT_UPDATE slot every such frame is decoded into (see
    /// `binance::events::decode_account_update_into`).
    pub(super) account: AccountUpdate,
    /// Account reads owed to truncated ACCOUNT_UPDATEs.
    refresh: AccountRefresh,
    /// Orders of owner-less recovered trades being asked about.
    pub(super) venue_fills: super::venue_fills::VenueFillQueries,
}

/// REST reads that replace what a truncated ACCOUNT_UPDATE could not carry.
#[derive(Debug, Default, Clone, Copy)]
struct AccountRefresh {
    /// positionRisk queued or in flight.
    positions_busy: bool,
    /// A newer truncated update arrived meanwhile: read once more after.
    positions_again: bool,
    /// The account read (balances) queued or in flight.
    balances_busy: bool,
    /// As `positions_again`, for balances.
    balances_again: bool,
    /// Venue time (ms) of the newest truncated update: a position positionRisk
    /// no longer lists, and that nothing changed since, is flat.
    since_ms: i64,
}

impl Reconciler {
    /// Timers from the config (`reconcile_interval_secs`,
    /// `user_stream_silence_secs`).
    pub fn new(config: &Config, now_ns: u64) -> Self {
        let sweep_every_ns =
            u64::try_from(config.engine.reconcile_interval.as_nanos()).unwrap_or(0);
        let silence_ns = u64::try_from(config.engine.user_stream_silence.as_nanos()).unwrap_or(0);
        Reconciler {
            pass: None,
            next: None,
            pending_checks: Vec::new(),
            fetch_by_order: Vec::new(),
            seq: 0,
            buffering: false,
            buffered: VecDeque::new(),
            hold_since_ns: 0,
            released_early: false,
            hold_max_ns: u64::try_from(config.engine.reconcile_hold_max.as_nanos())
                .unwrap_or(u64::MAX),
            gap_marks: Vec::new(),
            budget: WeightBudget::new(BUDGET_PER_SEC, BUDGET_BURST, now_ns),
            waiting: VecDeque::new(),
            user_gap: false,
            cancel_unknown: Vec::new(),
            new_key_in_flight: false,
            shutting_down: false,
            last_user_frame_ns: now_ns,
            user_down_since_ns: 0,
            key_probed: false,
            retry_pass_ns: 0,
            since_ms: 0,
            sweep_every_ns,
            silence_ns,
            next_sweep_ns: now_ns.saturating_add(sweep_every_ns),
            deferred: Vec::new(),
            account: AccountUpdate::empty(),
            refresh: AccountRefresh::default(),
            venue_fills: Default::default(),
        }
    }

    /// True while a pass runs.
    pub fn active(&self) -> bool {
        self.pass.is_some()
    }

    /// True while live user events are being held back.
    pub fn buffering(&self) -> bool {
        self.buffering
    }
}

fn pending(
    call: ReconCall,
    client_id: ClientOrderId,
    instrument: InstrumentId,
    algo: bool,
) -> Pending {
    Pending {
        job: Job::Recon(call),
        client_id,
        instrument,
        algo,
        attempt: 0,
        t_call_ns: 0,
        resynced: false,
    }
}

/// The event-log line for a recovered fill (`external` when no order of
/// ours owns it).
pub(super) fn recovered_line(client_id: &ClientOrderId, t: &UserTrade, tail: &str) -> String {
    let owner = if client_id.as_str().is_empty() {
        "external"
    } else {
        client_id.as_str()
    };
    format!(
        "recovered fill {owner} {:?} {} @ {} (trade {}, order {}{tail})",
        t.side, t.qty, t.price, t.id, t.order_id
    )
}

/// A `userTrades` record as a fill report.
pub(super) fn trade_report(t: &UserTrade, client_id: ClientOrderId, now: u64) -> Report {
    let mut r = Report::new(ReportSource::Recovered, t.symbol, client_id, now);
    r.venue_order_id = Some(t.order_id);
    r.side = t.side;
    r.position_side = t.position_side.unwrap_or(PositionSide::Both);
    r.last_qty = t.qty;
    r.last_price = t.price;
    r.trade_id = t.id;
    r.commission = t.commission;
    r.commission_asset = t
        .commission_asset
        .map(|a| AssetCode::truncated(a.as_str()))
        .unwrap_or(AssetCode::EMPTY);
    r.maker = t.maker;
    r.realized_pnl = t.realized_pnl.unwrap_or(crate::model::Money::ZERO);
    r.ts_venue_ms = t.time;
    r
}

/// Whether a user frame is the venue's `listenKeyExpired` notice (checked
/// on the raw bytes: it must never be held back or lost to a decode error).
pub(super) fn is_listen_key_expired(bytes: &[u8]) -> bool {
    bytes.windows(18).any(|w| w == b"\"listenKeyExpired\"")
}

fn is_terminal_status(r: &Report) -> bool {
    if let Some(a) = r.algo_status {
        use crate::model::AlgoStatus as A;
        return matches!(a, A::Canceled | A::Expired | A::Rejected | A::Finished);
    }
    matches!(
        r.status,
        Some(
            OrderStatus::Canceled
                | OrderStatus::Expired
                | OrderStatus::ExpiredInMatch
                | OrderStatus::Filled
                | OrderStatus::Rejected
        )
    )
}

impl Exec {
    // ------------------------------------------------------------ triggers

    /// Starts a pass (or schedules it after the running one).
    pub(super) fn recon_start(&mut self, why: ReconcileReason) {
        if why.buffers() {
            self.recon_begin_hold();
        }
        if self.recon.pass.is_some() {
            // Keep the strongest reason: a gap beats a sweep.
            let keep = match self.recon.next {
                Some(n) if n.buffers() => n,
                _ => why,
            };
            self.recon.next = Some(keep);
            return;
        }
        self.recon.seq = self.recon.seq.wrapping_add(1).max(1);
        let id = self.recon.seq;
        let checks = std::mem::take(&mut self.recon.pending_checks);
        let now = mono_ns();
        let mut pass = Pass {
            id,
            why,
            started_ns: now,
            phase: Phase::Lists,
            outstanding: 0,
            listed: Vec::new(),
            checks,
            checked: 0,
            reports: Vec::new(),
            trades: Vec::new(),
            untracked: 0,
            failed: false,
        };
        let calls: Vec<Pending> = if why == ReconcileReason::OrderCheck {
            pass.phase = Phase::Checks;
            Vec::new()
        } else {
            self.instruments
                .instruments()
                .iter()
                .flat_map(|i| {
                    [
                        pending(
                            ReconCall::OpenOrders { pass: id },
                            ClientOrderId::default(),
                            i.id,
                            false,
                        ),
                        pending(
                            ReconCall::OpenAlgoOrders { pass: id },
                            ClientOrderId::default(),
                            i.id,
                            true,
                        ),
                    ]
                })
                .collect()
        };
        pass.outstanding = calls.len() as u32;
        self.recon.pass = Some(pass);
        self.note(format!("reconciling ({})", why.as_str()));
        self.recon.waiting.extend(calls);
        if self
            .recon
            .pass
            .as_ref()
            .is_some_and(|p| p.phase == Phase::Checks)
        {
            self.recon_enter_checks();
        } else {
            self.recon_pump(now);
        }
    }

    /// Queries one order's fate with fill recovery: a cancel answered
    /// -2011/-2013 ("not known yet"), or a query that showed fills we never
    /// saw. Never concludes "cancelled" without the venue saying so.
    pub(super) fn recon_check_order(
        &mut self,
        client_id: ClientOrderId,
        instrument: InstrumentId,
        algo: bool,
        after_cancel: bool,
    ) {
        if after_cancel && !self.recon.cancel_unknown.contains(&client_id) {
            self.recon.cancel_unknown.push(client_id);
        }
        let item = (client_id, instrument, algo);
        match self.recon.pass.as_mut() {
            Some(p) if p.phase != Phase::Trades => {
                if !p.checks.contains(&item) {
                    p.checks.push(item);
                    if p.phase == Phase::Checks {
                        p.outstanding += 1;
                        let id = p.id;
                        self.recon.waiting.push_back(pending(
                            ReconCall::Check { pass: id },
                            client_id,
                            instrument,
                            algo,
                        ));
                        self.recon_pump(mono_ns());
                    }
                }
            }
            Some(_) => {
                if !self.recon.pending_checks.contains(&item) {
                    self.recon.pending_checks.push(item);
                }
                if self.recon.next.is_none() {
                    self.recon.next = Some(ReconcileReason::OrderCheck);
                }
            }
            None => {
                self.recon.pending_checks.push(item);
                self.recon_start(ReconcileReason::OrderCheck);
            }
        }
    }

    /// The user socket is up again: reconcile if it had been down or its
    /// key replaced.
    pub(super) fn recon_on_user_up(&mut self) {
        self.recon.user_down_since_ns = 0;
        self.recon.key_probed = false;
        if self.recon.user_gap {
            self.recon.user_gap = false;
            self.recon.last_user_frame_ns = mono_ns();
            self.recon_start(ReconcileReason::Reconnect);
        }
    }

    /// The user socket went down: remember when, so a key that died with it
    /// is noticed (see [`KEY_PROBE_AFTER_NS`]).
    pub(super) fn recon_on_user_down(&mut self) {
        self.recon.user_gap = true;
        self.recon_mark_gap();
        if self.recon.user_down_since_ns == 0 {
            self.recon.user_down_since_ns = mono_ns();
        }
    }

    /// The venue expired our key, or refused a keepalive: get a new one
    /// (the stream and reconciliation follow its reply).
    pub(super) fn recon_renew_key(&mut self, why: &str) {
        self.recon.user_gap = true;
        if self.recon.new_key_in_flight {
            return;
        }
        self.recon.new_key_in_flight = true;
        self.note(format!("{why}; creating a new listenKey"));
        self.send_job(idle(Job::NewKey));
    }

    /// A new listenKey arrived: point the user socket at it. The pass runs
    /// when that socket is up (so no event falls between the two); if the
    /// venue handed back the same key, the socket does not change and the
    /// pass runs now.
    pub(super) fn recon_on_new_key(&mut self, key: String) {
        self.recon.new_key_in_flight = false;
        let same = key == self.listen_key;
        self.listen_key = key.clone();
        if same {
            self.recon.user_gap = false;
            self.recon_start(ReconcileReason::ListenKey);
            return;
        }
        self.recon.user_gap = true;
        self.recon_begin_hold();
        let _ = self
            .net
            .send(crate::engine::net_thread::NetCommand::OpenUserStream { listen_key: key });
    }

    /// A listenKey request failed: allow another one (the keepalive timer
    /// or the next expiry retries).
    pub(super) fn recon_new_key_failed(&mut self) {
        self.recon.new_key_in_flight = false;
    }

    /// Live user events wait behind the gap's pass from here (unless
    /// holding is off or the engine is stopping); the gap's start is marked.
    fn recon_begin_hold(&mut self) {
        self.recon_mark_gap();
        if self.recon.buffering || self.recon.hold_max_ns == 0 || self.recon.shutting_down {
            return;
        }
        self.recon.buffering = true;
        self.recon.hold_since_ns = mono_ns().max(1);
    }

    /// Records where each symbol's booked trades stood when a gap began
    /// (kept until a gap pass has fetched from it with no newer gap open:
    /// the earliest mark wins, and refetched trades are deduplicated).
    fn recon_mark_gap(&mut self) {
        if !self.recon.gap_marks.is_empty() {
            return;
        }
        let tracker = &self.tracker;
        self.recon.gap_marks = self
            .instruments
            .instruments()
            .iter()
            .map(|i| (i.id.symbol, tracker.last_trade_id(i.id.symbol)))
            .collect();
    }

    /// Holds a user frame while a gap is being reconciled; returns true
    /// when it was taken. `listenKeyExpired` is never held.
    pub(super) fn recon_hold_user_frame(&mut self, bytes: &[u8], t: u64) -> bool {
        self.recon.last_user_frame_ns = if t != 0 { t } else { mono_ns() };
        if !self.recon.buffering {
            return false;
        }
        if self.recon.shutting_down {
            self.recon_release_early();
            return false;
        }
        if is_listen_key_expired(bytes) {
            return false;
        }
        if self.recon.buffered.len() >= MAX_BUFFERED {
            self.note("reconciliation buffer full; releasing held events".into());
            self.recon_release_early();
            return false;
        }
        self.recon.buffered.push_back((bytes.to_vec(), t));
        true
    }

    // ------------------------------------------------------------ timers

    /// Timers: pacing, sweep, silence, pass timeout. Call once per loop.
    pub(super) fn recon_tick(&mut self, now: u64) {
        // WS-API frames whose reply never came are settled by query too.
        self.ws_reply_timeouts(now);
        if self.recon.buffering
            && self.recon.hold_since_ns != 0
            && now.saturating_sub(self.recon.hold_since_ns) >= self.recon.hold_max_ns
        {
            let held = self.recon.buffered.len();
            self.note(format!(
                "{held} live user event(s) held {} ms behind a reconciliation still running; released (missed fills follow, marked recovered)",
                now.saturating_sub(self.recon.hold_since_ns) / 1_000_000
            ));
            self.recon_release_early();
        }
        if let Some(p) = &self.recon.pass
            && now.saturating_sub(p.started_ns) >= PASS_TIMEOUT_NS
        {
            self.note("reconciliation timed out; applying what it learned".into());
            if let Some(p) = self.recon.pass.as_mut() {
                p.failed = true;
            }
            self.recon_finish();
        }
        if !self.recon.waiting.is_empty() {
            self.recon_pump(now);
        }
        if self.recon.sweep_every_ns > 0 && now >= self.recon.next_sweep_ns {
            self.recon.next_sweep_ns = now.saturating_add(self.recon.sweep_every_ns);
            if self.recon.pass.is_none() {
                self.recon_start(ReconcileReason::Sweep);
            }
        }
        self.recon_settle_deferred(now);
        while let Some(ev) = self.positions.expire_held(now) {
            self.send_strategy(ToStrategy::Position(ev));
        }
        if self.recon.retry_pass_ns != 0 && now >= self.recon.retry_pass_ns {
            self.recon.retry_pass_ns = 0;
            self.recon_start(ReconcileReason::Sweep);
        }
        if self.recon.user_down_since_ns != 0
            && !self.recon.key_probed
            && now.saturating_sub(self.recon.user_down_since_ns) >= KEY_PROBE_AFTER_NS
        {
            // A refused keepalive (-1125) renews the key (see on_reply).
            self.recon.key_probed = true;
            self.note("user stream still down; checking the listenKey".into());
            self.send_job(idle(Job::Keepalive));
        }
        if self.recon.silence_ns > 0
            && self.recon.pass.is_none()
            && now.saturating_sub(self.recon.last_user_frame_ns) >= self.recon.silence_ns
        {
            self.recon.last_user_frame_ns = now;
            if self.tracker.orders().any(|(_, o)| o.state.is_open()) {
                self.recon_start(ReconcileReason::Silence);
            }
        }
    }

    /// Queues one call that belongs to no pass (paced like the rest).
    pub(super) fn recon_queue_call(&mut self, call: ReconCall, instrument: InstrumentId) {
        let p = pending(call, ClientOrderId::default(), instrument, false);
        self.recon.waiting.push_back(p);
        self.recon_pump(mono_ns());
    }

    /// Sends queued calls while the weight budget allows.
    fn recon_pump(&mut self, now: u64) {
        while let Some(p) = self.recon.waiting.front().copied() {
            let Job::Recon(c) = p.job else {
                self.recon.waiting.pop_front();
                continue;
            };
            if !self.recon.budget.try_take(c.weight(), now) {
                break;
            }
            self.recon.waiting.pop_front();
            self.send_job(p);
        }
    }

    // ------------------------------------------------------------ replies

    /// A reconciliation call finished with an HTTP answer.
    pub(super) fn on_recon_reply(
        &mut self,
        call: ReconCall,
        p: Pending,
        status: u16,
        retry_after: Option<u64>,
        body: &[u8],
        t: u64,
    ) {
        if matches!(call, ReconCall::Positions | ReconCall::Balances) {
            return self.on_account_read(call, p, status, retry_after, body);
        }
        if let ReconCall::VenueOrder { order_id } = call {
            return self.on_venue_order_answer(p, order_id, status, body);
        }
        if self.recon.pass.as_ref().map(|x| x.id) != Some(call.pass()) {
            return; // a pass that timed out
        }
        let ok = (200..300).contains(&status);
        if !ok {
            let e = VenueError::from_response(status, body);
            if status == 429 || status == 418 {
                self.recon_paused(p, status, retry_after, &e);
                return;
            }
            let not_known =
                matches!(call, ReconCall::Check { .. }) && (e.code == -2013 || e.code == -2011);
            if not_known && p.attempt < NOT_KNOWN_RETRIES {
                // "Does not exist" may mean "not yet": ask again.
                let delay = 250_000_000 * u64::from(p.attempt + 1);
                self.push_retry(p, delay);
                return;
            }
            if not_known {
                let r = reports::from_error(
                    ReportSource::Query,
                    p.instrument.symbol,
                    p.client_id,
                    -2013,
                    &e.msg,
                    t,
                );
                if let Some(pass) = self.recon.pass.as_mut() {
                    pass.reports.push((r, p.instrument));
                }
                self.recon_done_one();
                return;
            }
            self.note(format!(
                "reconciliation {:?} on {}: {e}",
                call, p.instrument
            ));
            self.recon_call_failed(p);
            return;
        }
        self.limiter.on_ok();
        match call {
            ReconCall::OpenOrders { .. } => match decode::<Vec<OrderResponse>>(body) {
                Ok(list) => {
                    for o in &list {
                        let r = reports::from_order_response(o, ReportSource::Query, t);
                        self.recon_listed(r, p.instrument);
                    }
                }
                Err(e) => {
                    self.note(format!("openOrders unreadable: {e}"));
                    self.counters
                        .bad_input
                        .add(crate::engine::bad_input::BadKind::RestResponse);
                    self.recon_mark_failed();
                }
            },
            ReconCall::OpenAlgoOrders { .. } => match decode::<Vec<AlgoOrderResponse>>(body) {
                Ok(list) => {
                    for a in &list {
                        let r = reports::from_algo_response(a, ReportSource::Query, t);
                        self.recon_listed(r, p.instrument);
                    }
                }
                Err(e) => {
                    self.note(format!("openAlgoOrders unreadable: {e}"));
                    self.counters
                        .bad_input
                        .add(crate::engine::bad_input::BadKind::RestResponse);
                    self.recon_mark_failed();
                }
            },
            ReconCall::Check { .. } => {
                let r = if p.algo {
                    decode::<AlgoOrderResponse>(body)
                        .map(|a| reports::from_algo_response(&a, ReportSource::Query, t))
                } else {
                    decode::<OrderResponse>(body)
                        .map(|o| reports::from_order_response(&o, ReportSource::Query, t))
                };
                match r {
                    Ok(r) => {
                        if let Some(pass) = self.recon.pass.as_mut() {
                            pass.checked += 1;
                            pass.reports.push((r, p.instrument));
                        }
                    }
                    Err(e) => {
                        self.note(format!("{}: order query unreadable: {e}", p.client_id));
                        self.counters
                            .bad_input
                            .add(crate::engine::bad_input::BadKind::RestResponse);
                        self.recon_mark_failed();
                    }
                }
            }
            // Answered in `on_account_read` / `on_venue_order_answer`
            // (dispatched above).
            ReconCall::Positions | ReconCall::Balances | ReconCall::VenueOrder { .. } => {}
            ReconCall::Trades {
                pass,
                order_id,
                page,
                ..
            } => match decode::<Vec<UserTrade>>(body) {
                Ok(list) => {
                    let full = list.len() >= TRADE_PAGE;
                    let max_id = list.iter().map(|t| t.id).max().unwrap_or(0);
                    if let Some(x) = self.recon.pass.as_mut() {
                        x.trades.extend(list);
                    }
                    if full && page + 1 < MAX_TRADE_PAGES && max_id > 0 {
                        let next = ReconCall::Trades {
                            pass,
                            from_id: max_id + 1,
                            order_id,
                            start_ms: 0,
                            page: page + 1,
                        };
                        if let Some(x) = self.recon.pass.as_mut() {
                            x.outstanding += 1;
                        }
                        self.recon.waiting.push_back(pending(
                            next,
                            ClientOrderId::default(),
                            p.instrument,
                            false,
                        ));
                    } else if full {
                        self.note(format!(
                            "{}: more than {} missed fills; the rest is booked at the average price",
                            p.instrument,
                            TRADE_PAGE * usize::from(MAX_TRADE_PAGES)
                        ));
                    }
                }
                Err(e) => {
                    self.note(format!("userTrades unreadable: {e}"));
                    self.counters
                        .bad_input
                        .add(crate::engine::bad_input::BadKind::RestResponse);
                    self.recon_mark_failed();
                }
            },
        }
        self.recon_done_one();
    }

    /// A reconciliation call got no answer (not sent, timed out).
    pub(super) fn on_recon_lost(&mut self, call: ReconCall, p: Pending, why: &str) {
        if matches!(call, ReconCall::Positions | ReconCall::Balances) {
            return self.account_read_failed(call, p, why);
        }
        if let ReconCall::VenueOrder { order_id } = call {
            return self.on_venue_order_lost(p, order_id, why);
        }
        if self.recon.pass.as_ref().map(|x| x.id) != Some(call.pass()) {
            return;
        }
        self.note(format!(
            "reconciliation {:?} on {}: {why}",
            call, p.instrument
        ));
        self.recon_call_failed(p);
    }

    /// A 429/418 on a reconciliation call: the limiter backs off and the
    /// call is retried after the venue's pause.
    fn recon_paused(&mut self, p: Pending, status: u16, retry_after: Option<u64>, e: &VenueError) {
        let now = self.ts_ms();
        let until = if status == 418 {
            self.limiter.on_418(Some(&e.msg), retry_after, now)
        } else {
            self.limiter.on_429(retry_after, now)
        };
        self.counters.rate_limit_backoffs += 1;
        let wait_ns = u64::try_from(until - now).unwrap_or(0).max(1) * 1_000_000;
        self.note(format!("reconciliation paused by the venue: {e}"));
        self.push_retry(p, wait_ns);
    }

    fn push_retry(&mut self, mut p: Pending, delay_ns: u64) {
        p.attempt += 1;
        self.counters.retries += 1;
        self.push_due(mono_ns().saturating_add(delay_ns), p);
    }

    fn recon_call_failed(&mut self, p: Pending) {
        if p.attempt < CALL_RETRIES {
            let delay = 200_000_000u64 << p.attempt.min(6);
            self.push_retry(p, delay);
        } else {
            self.recon_mark_failed();
            self.recon_done_one();
        }
    }

    fn recon_mark_failed(&mut self) {
        if let Some(p) = self.recon.pass.as_mut() {
            p.failed = true;
        }
    }

    /// One entry of an open-order list.
    fn recon_listed(&mut self, r: Report, instrument: InstrumentId) {
        let Some(h) = self.tracker.lookup_report(&r) else {
            if let Some(p) = self.recon.pass.as_mut() {
                p.untracked += 1;
            }
            return;
        };
        let Ok(o) = self.tracker.get(h).copied() else {
            return;
        };
        if let Some(p) = self.recon.pass.as_mut() {
            p.listed.push(o.client_id);
            if differs(&o, &r) {
                p.reports.push((r, instrument));
            }
        }
    }

    fn recon_done_one(&mut self) {
        let Some(p) = self.recon.pass.as_mut() else {
            return;
        };
        p.outstanding = p.outstanding.saturating_sub(1);
        if p.outstanding > 0 {
            self.recon_pump(mono_ns());
            return;
        }
        match p.phase {
            Phase::Lists => self.recon_enter_checks(),
            Phase::Checks => self.recon_enter_trades(),
            Phase::Trades => self.recon_finish(),
        }
    }

    /// Orders we think open that the venue did not list are queried one by
    /// one (orders still waiting for their placement reply are left to it).
    fn recon_enter_checks(&mut self) {
        let Some(pass) = self.recon.pass.as_ref() else {
            return;
        };
        let id = pass.id;
        let lists_ran = pass.why != ReconcileReason::OrderCheck;
        let mut checks = pass.checks.clone();
        if lists_ran && !pass.failed {
            for (_, o) in self.tracker.orders() {
                let open = o.state.is_open() && o.state != OrderState::Submitted;
                if !open || pass.listed.contains(&o.client_id) {
                    continue;
                }
                let item = (o.client_id, o.instrument, o.is_conditional());
                if !checks.contains(&item) {
                    checks.push(item);
                }
            }
        }
        let calls: Vec<Pending> = checks
            .iter()
            .map(|(c, i, algo)| pending(ReconCall::Check { pass: id }, *c, *i, *algo))
            .collect();
        if let Some(p) = self.recon.pass.as_mut() {
            p.phase = Phase::Checks;
            p.checks = checks;
            p.outstanding = calls.len() as u32;
        }
        if calls.is_empty() {
            self.recon_enter_trades();
            return;
        }
        self.recon.waiting.extend(calls);
        self.recon_pump(mono_ns());
    }

    /// Where the venue's cumulative quantity is ahead of ours, fetch the
    /// missing fills: per symbol from the last trade we had booked when the
    /// gap began, or per order when we had booked none on that symbol.
    fn recon_enter_trades(&mut self) {
        let Some(why) = self.recon.pass.as_ref().map(|p| p.why) else {
            return;
        };
        let gap = why.buffers() || why == ReconcileReason::Silence;
        // Where the gap began, per symbol (live events released past the
        // hold bound may have moved the tracker's mark beyond the missed
        // trades); without a recorded gap, the tracker's mark.
        let marks = if gap {
            self.recon.gap_marks.clone()
        } else {
            Vec::new()
        };
        let tracker = &self.tracker;
        let start = |sym: Symbol| -> Option<i64> {
            match marks.iter().find(|(s, _)| *s == sym) {
                Some((_, m)) => *m,
                None => tracker.last_trade_id(sym),
            }
        };
        let Some(pass) = self.recon.pass.as_ref() else {
            return;
        };
        let id = pass.id;
        let mut by_symbol: Vec<InstrumentId> = Vec::new();
        let mut by_order: Vec<(InstrumentId, VenueOrderId)> = Vec::new();
        let mut since: Vec<InstrumentId> = Vec::new();
        for (r, inst) in &pass.reports {
            let Some(h) = self.tracker.lookup_report(r) else {
                continue;
            };
            let Ok(o) = self.tracker.get(h) else { continue };
            let cum = r.cum_qty.unwrap_or(Quantity::ZERO);
            if cum.raw() <= o.filled_qty.raw() {
                continue; // caught up meanwhile (or nothing missed)
            }
            // "From the last trade we booked" only covers a stream gap
            // (everything missed is newer than what we booked before it);
            // an order checked on its own may have missed a fill older than
            // trades booked since, so it is fetched by its order id.
            if gap
                && start(inst.symbol).is_some()
                && !self.recon.fetch_by_order.contains(&o.client_id)
            {
                if !by_symbol.contains(inst) {
                    by_symbol.push(*inst);
                }
            } else {
                let venue_id = if o.is_conditional() {
                    r.child_venue_order_id.or(o.child_venue_order_id)
                } else {
                    r.venue_order_id.or(o.venue_order_id)
                };
                if let Some(v) = venue_id
                    && !by_order.contains(&(*inst, v))
                {
                    by_order.push((*inst, v));
                }
            }
        }
        // No trade booked yet on a symbol: one order → by orderId (exact);
        // several → one symbol-wide call from the session start (cheaper
        // than 5 weight per order).
        let since_ms = self
            .recon
            .since_ms
            .max(self.ts_ms() - 7 * 86_400_000 + 60_000);
        if self.recon.since_ms > 0 {
            for (inst, _) in &by_order {
                if start(inst.symbol).is_none()
                    && by_order.iter().filter(|(i, _)| i == inst).count() > 1
                    && !since.contains(inst)
                {
                    since.push(*inst);
                }
            }
            by_order.retain(|(i, _)| !since.contains(i));
        }
        let mut calls: Vec<Pending> = Vec::new();
        let trades = |from_id: i64, order_id: VenueOrderId, start_ms: i64| ReconCall::Trades {
            pass: id,
            from_id,
            order_id,
            start_ms,
            page: 0,
        };
        for inst in by_symbol {
            let from = start(inst.symbol).unwrap_or(0) + 1;
            calls.push(pending(
                trades(from, 0, 0),
                ClientOrderId::default(),
                inst,
                false,
            ));
        }
        for inst in since {
            calls.push(pending(
                trades(0, 0, since_ms),
                ClientOrderId::default(),
                inst,
                false,
            ));
        }
        for (inst, v) in by_order {
            calls.push(pending(
                trades(0, v, 0),
                ClientOrderId::default(),
                inst,
                false,
            ));
        }
        if let Some(p) = self.recon.pass.as_mut() {
            p.phase = Phase::Trades;
            p.outstanding = calls.len() as u32;
        }
        if calls.is_empty() {
            self.recon_finish();
            return;
        }
        self.recon.waiting.extend(calls);
        self.recon_pump(mono_ns());
    }

    /// Delivers what the pass learned, in order: recovered fills (by trade
    /// id), then the venue's states, then the held stream events.
    fn recon_finish(&mut self) {
        let Some(mut pass) = self.recon.pass.take() else {
            return;
        };
        // Calls of this pass still queued are dropped with it.
        self.recon.waiting.retain(|p| match p.job {
            Job::Recon(c) => c.pass() != pass.id,
            _ => true,
        });
        let now = mono_ns();
        pass.trades
            .sort_by_key(|t| (t.symbol, t.id, t.side == crate::model::Side::Sell));
        pass.trades.dedup_by_key(|t| (t.symbol, t.id, t.side)); // both sides of a self-trade stay
        let mut recovered = 0u64;
        for t in &pass.trades {
            if self.tracker.has_trade(t.symbol, t.id, t.side) {
                continue; // the stream delivered it after all
            }
            let known = self.tracker.find_venue(t.symbol, t.order_id).is_some()
                || pass.reports.iter().any(|(r, _)| {
                    r.venue_order_id == Some(t.order_id)
                        || r.child_venue_order_id == Some(t.order_id)
                });
            if !known && self.owner_may_be_pending(t.symbol) {
                if !self
                    .recon
                    .deferred
                    .iter()
                    .any(|(d, _)| d.id == t.id && d.side == t.side && d.symbol == t.symbol)
                {
                    self.recon
                        .deferred
                        .push((*t, now.saturating_add(DEFER_OWNERLESS_NS)));
                }
                continue;
            }
            // An order whose placement reply was lost has no venue id yet:
            // this pass's query of it tells which of our orders the trade
            // belongs to (else it would be booked as an external fill).
            let client_id = self
                .tracker
                .find_venue(t.symbol, t.order_id)
                .and_then(|h| self.tracker.get(h).ok())
                .map(|o| o.client_id)
                .or_else(|| {
                    pass.reports
                        .iter()
                        .find(|(r, i)| {
                            i.symbol == t.symbol
                                && !r.client_id.as_str().is_empty()
                                && (r.venue_order_id == Some(t.order_id)
                                    || r.child_venue_order_id == Some(t.order_id))
                        })
                        .map(|(r, _)| r.client_id)
                })
                .unwrap_or_default();
            if client_id.as_str().is_empty() && self.venue_fill_hold(t) {
                continue; // booked once the venue says whose order it is
            }
            let r = trade_report(t, client_id, now);
            self.apply(&r, 0);
            if self.tracker.has_trade(t.symbol, t.id, t.side) {
                recovered += 1;
                self.note(recovered_line(&client_id, t, ""));
            }
        }
        let mut fixes = 0u64;
        let mut unrecovered = 0u64;
        let gap = pass.why.buffers() || pass.why == ReconcileReason::Silence;
        for (r, _) in &pass.reports {
            let Some(h) = self.tracker.lookup_report(r) else {
                continue;
            };
            let Ok(o) = self.tracker.get(h).copied() else {
                continue;
            };
            if o.state.is_terminal() {
                continue;
            }
            let behind = r.cum_qty.is_some_and(|c| c.raw() > o.filled_qty.raw());
            if behind && pass.failed {
                // The pass ended before it recovered this order's trades:
                // taking the venue's state now would mark the order filled
                // without its fills, and no later pass would look again.
                // The retry pass queries it afresh and fetches them.
                unrecovered += 1;
                continue;
            }
            if behind && gap && !self.recon.fetch_by_order.contains(&o.client_id) {
                // The trades fetched from the stream's mark do not explain
                // the venue's quantity: the missing fill is older than the
                // mark. Check the order again and fetch by its order id.
                unrecovered += 1;
                self.recon.fetch_by_order.push(o.client_id);
                let item = (o.client_id, o.instrument, o.is_conditional());
                if !self.recon.pending_checks.contains(&item) {
                    self.recon.pending_checks.push(item);
                }
                if self.recon.next.is_none() {
                    self.recon.next = Some(ReconcileReason::OrderCheck);
                }
                continue;
            }
            // Fetched by order id this time (or given up): done with it.
            self.recon.fetch_by_order.retain(|c| *c != o.client_id);
            if r.error_code == -2013
                && !matches!(o.state, OrderState::PendingCancel | OrderState::Unknown)
            {
                // "Does not exist" for an order we saw accepted, and no
                // cancel of ours pending: take the venue's word only when it
                // is all we have; log it loudly.
                self.note(format!(
                    "{}: the venue does not know this order",
                    o.client_id
                ));
            }
            let cancel_refused = r.error_code == 0
                && o.state == OrderState::PendingCancel
                && !is_terminal_status(r)
                && self.recon.cancel_unknown.contains(&o.client_id);
            if cancel_refused {
                // The venue still has it open: the cancel did not take.
                let refusal = reports::from_error(
                    ReportSource::Reply(crate::engine::report::RequestKind::Cancel),
                    r.symbol,
                    o.client_id,
                    -2011,
                    "cancel not applied; the order is still open at the venue",
                    now,
                );
                self.apply(&refusal, 0);
            }
            if r.error_code != 0 || differs(&o, r) {
                let before = o.state;
                self.apply(r, 0);
                let after = self.tracker.get(h).map(|x| x.state).unwrap_or(before);
                if after != before {
                    fixes += 1;
                    self.note(format!(
                        "{}: reconciled {:?} -> {:?}",
                        o.client_id, before, after
                    ));
                }
            }
        }
        if !self.recon.fetch_by_order.is_empty() {
            let tracker = &self.tracker;
            self.recon.fetch_by_order.retain(|c| {
                tracker
                    .find(c)
                    .and_then(|h| tracker.get(h).ok())
                    .is_some_and(|o| !o.state.is_terminal())
            });
        }
        let checked: Vec<ClientOrderId> = pass.reports.iter().map(|(r, _)| r.client_id).collect();
        self.recon.cancel_unknown.retain(|c| !checked.contains(c));
        self.counters.reconciliations += 1;
        self.counters.recovered_fills += recovered;
        self.counters.reconcile_fixes += fixes;
        self.note(format!(
            "reconciled ({}): {} order(s) queried, {} fill(s) recovered, {} order(s) corrected, {} untracked open order(s) at the venue{}",
            pass.why.as_str(),
            pass.checked,
            recovered,
            fixes,
            pass.untracked,
            if pass.failed { "; incomplete, will retry" } else { "" }
        ));
        if unrecovered > 0 {
            self.note(format!(
                "{unrecovered} order(s) filled at the venue kept as they were until their trades are recovered"
            ));
        }
        if pass.failed && self.recon.retry_pass_ns == 0 {
            self.recon.retry_pass_ns = now.saturating_add(RETRY_PASS_NS).max(1);
        }
        let newer_gap = self.recon.user_gap || self.recon.next.is_some_and(|n| n.buffers());
        if pass.why.buffers() && !pass.failed && !newer_gap {
            self.recon.gap_marks.clear();
        }
        let next = self.recon.next.take();
        match next {
            Some(n) if n.buffers() => {
                // Keep holding: the next pass closes a newer gap first.
                self.recon_start(n);
            }
            Some(n) => {
                self.recon_release_buffer();
                self.recon_start(n);
            }
            None => self.recon_release_buffer(),
        }
        if self.recon.released_early && self.recon.pass.is_none() {
            // The position book saw live and recovered fills out of order;
            // positionRisk is the venue's word on where that left it.
            self.recon.released_early = false;
            self.note("positions read back: events were released out of trade-id order".into());
            let now_ms = self.ts_ms();
            self.recon_positions_check(now_ms);
        }
    }

    /// An account read (positionRisk or balances) is queued or in flight.
    pub(super) fn recon_account_busy(&self) -> bool {
        self.recon.refresh.positions_busy || self.recon.refresh.balances_busy
    }

    // ------------------------------------------------------------ account

    /// Applies the ACCOUNT_UPDATE just decoded into `recon.account`: each
    /// listed position is the venue's word and goes to the strategy at once.
    /// A truncated list is not the whole picture, so the account is read
    /// back (positionRisk, and the balances when those were cut) and what it
    /// corrects is delivered once more.
    pub(super) fn on_account_update(&mut self) {
        let tx_ms = self.recon.account.transaction_time;
        let from_order = self.recon.account.data.reason.as_str() == "ORDER";
        let now = mono_ns();
        let n = self.recon.account.data.positions.len();
        for i in 0..n {
            let Some(p) = self.recon.account.data.positions.get(i).copied() else {
                break;
            };
            let snap = PositionSnapshot {
                symbol: p.symbol,
                position_side: p.position_side.unwrap_or(PositionSide::Both),
                amount: p.position_amt.value(),
                entry_price: p.entry_price,
                ts_venue_ms: tx_ms,
            };
            // A stale update (released from a hold after fills it predates
            // were recovered) is skipped: the book is newer. One that
            // disagrees waits briefly for the fill it may already include.
            if let Ok(Some(ev)) = self.positions.offer_stream_snapshot(&snap, from_order, now) {
                self.send_strategy(ToStrategy::Position(ev));
            }
        }
        let data = &self.recon.account.data;
        let (positions, balances) = (data.positions.is_truncated(), data.balances.is_truncated());
        if positions || balances {
            let (dp, db) = (data.positions.dropped(), data.balances.dropped());
            self.note(format!(
                "ACCOUNT_UPDATE ({}) listed {dp} position(s) and {db} balance(s) beyond the inline lists; reading the account back",
                data.reason.as_str()
            ));
            self.recon_read_account(positions, balances, tx_ms);
        }
    }

    /// A fill recovered out of band (from `userTrades`) may or may not be in
    /// the venue's last position snapshot: both carry millisecond times, so
    /// a trade in the same millisecond as the snapshot is ambiguous. One
    /// positionRisk read (deduplicated, paced) settles it with the venue's
    /// word instead of a guess.
    pub(super) fn recon_positions_check(&mut self, fill_ms: i64) {
        self.recon_read_account(true, false, fill_ms);
    }

    /// Queues positionRisk and/or the account read (weight 5 each, paced
    /// by the reconciliation budget). One of each at a time; a truncated
    /// update that arrives while one is out gets exactly one more.
    fn recon_read_account(&mut self, positions: bool, balances: bool, since_ms: i64) {
        // Account-wide calls; the instrument only labels log lines.
        let Some(label) = self.instruments.instruments().first().map(|i| i.id) else {
            return;
        };
        let r = &mut self.recon.refresh;
        r.since_ms = r.since_ms.max(since_ms);
        let calls = [
            (positions && claim_slot(&mut r.positions_busy, &mut r.positions_again))
                .then_some(ReconCall::Positions),
            (balances && claim_slot(&mut r.balances_busy, &mut r.balances_again))
                .then_some(ReconCall::Balances),
        ];
        for call in calls.into_iter().flatten() {
            self.recon
                .waiting
                .push_back(pending(call, ClientOrderId::default(), label, false));
        }
        self.recon_pump(mono_ns());
    }

    /// An account read is over (answered or given up): free its slot and
    /// run the one owed to a newer truncated update, if any.
    fn account_read_done(&mut self, call: ReconCall) {
        let r = &mut self.recon.refresh;
        let again = match call {
            ReconCall::Positions => {
                r.positions_busy = false;
                std::mem::take(&mut r.positions_again)
            }
            _ => {
                r.balances_busy = false;
                std::mem::take(&mut r.balances_again)
            }
        };
        if again {
            let positions = call == ReconCall::Positions;
            let since = r.since_ms;
            self.recon_read_account(positions, !positions, since);
        }
    }

    fn account_read_failed(&mut self, call: ReconCall, p: Pending, why: &str) {
        if p.attempt < CALL_RETRIES {
            let delay = 200_000_000u64 << p.attempt.min(6);
            self.push_retry(p, delay);
            return;
        }
        self.note(format!(
            "account read {call:?} after a truncated ACCOUNT_UPDATE failed ({why}); positions may stay stale until the next update"
        ));
        self.account_read_done(call);
    }

    fn on_account_read(
        &mut self,
        call: ReconCall,
        p: Pending,
        status: u16,
        retry_after: Option<u64>,
        body: &[u8],
    ) {
        if !(200..300).contains(&status) {
            let e = VenueError::from_response(status, body);
            if status == 429 || status == 418 {
                return self.recon_paused(p, status, retry_after, &e);
            }
            return self.account_read_failed(call, p, &e.to_string());
        }
        self.limiter.on_ok();
        if call == ReconCall::Positions {
            match decode::<Vec<PositionRisk>>(body) {
                Ok(risks) => {
                    let fixed = self.apply_position_risk(&risks);
                    self.note(format!("positionRisk read: {fixed} position(s) corrected"));
                }
                Err(e) => return self.account_read_failed(call, p, &e.to_string()),
            }
        } else {
            match decode::<AccountInfo>(body) {
                Ok(a) => {
                    // The engine keeps no balance book (margin checks are the
                    // venue's): the venue's full list goes to the log.
                    let lines: Vec<String> = a
                        .assets
                        .iter()
                        .filter(|x| x.wallet_balance.is_some_and(|w| !w.is_zero()))
                        .map(|x| {
                            format!(
                                "{} {}",
                                x.asset.as_str(),
                                x.wallet_balance.unwrap_or(Money::ZERO)
                            )
                        })
                        .collect();
                    self.note(format!(
                        "balances after a truncated ACCOUNT_UPDATE: {}",
                        lines.join(", ")
                    ));
                }
                Err(e) => return self.account_read_failed(call, p, &e.to_string()),
            }
        }
        self.account_read_done(call);
    }

    /// Overwrites every loaded position positionRisk shows differently, and
    /// flattens the ones it no longer lists (v3 lists only open positions)
    /// unless something newer than the truncated update moved them. Each
    /// correction is delivered to the strategy once; returns how many.
    fn apply_position_risk(&mut self, risks: &[PositionRisk]) -> u32 {
        let since = self.recon.refresh.since_ms;
        let mut fixed = 0u32;
        let mut listed: Vec<(Symbol, PositionSide)> = Vec::with_capacity(risks.len());
        for r in risks {
            if self.instruments.by_symbol(r.symbol.as_str()).is_none() {
                continue;
            }
            let snap = PositionSnapshot::from_risk(r);
            listed.push((snap.symbol, snap.position_side));
            if self.position_differs(&snap) && self.correct_position(&snap) {
                fixed += 1;
            }
        }
        let gone: Vec<PositionSnapshot> = self
            .positions
            .iter()
            .filter(|p| {
                !p.is_flat()
                    && p.ts_venue_ms <= since
                    && !listed.contains(&(p.symbol, p.position_side))
                    && self.instruments.by_symbol(p.symbol.as_str()).is_some()
            })
            .map(|p| PositionSnapshot {
                symbol: p.symbol,
                position_side: p.position_side,
                amount: Decimal::ZERO,
                entry_price: Price::ZERO,
                ts_venue_ms: since,
            })
            .collect();
        for snap in &gone {
            if self.correct_position(snap) {
                fixed += 1;
            }
        }
        fixed
    }

    /// Whether the venue's row says something the book does not already
    /// hold; a book entry newer than the row (a fill booked since) wins.
    fn position_differs(&self, s: &PositionSnapshot) -> bool {
        match self.positions.get(s.symbol, s.position_side) {
            None => !s.amount.is_zero(),
            Some(p) if s.ts_venue_ms > 0 && p.ts_venue_ms > s.ts_venue_ms => false,
            Some(p) => {
                p.amount != s.amount || (!s.amount.is_zero() && p.entry_price() != s.entry_price)
            }
        }
    }

    fn correct_position(&mut self, snap: &PositionSnapshot) -> bool {
        match self.positions.apply_snapshot(snap) {
            Ok(ev) => {
                self.send_strategy(ToStrategy::Position(ev));
                true
            }
            Err(e) => {
                self.note(format!("position {} not corrected: {e}", snap.symbol));
                false
            }
        }
    }

    /// Whether a tracked, unfinished order on `symbol` has no venue id yet
    /// (so a trade we cannot place may still be its).
    fn owner_may_be_pending(&self, symbol: crate::model::ids::Symbol) -> bool {
        self.tracker.orders().any(|(_, o)| {
            o.instrument.symbol == symbol && !o.state.is_terminal() && o.live_id().is_none()
        })
    }

    /// Books held owner-less trades once their owner is known, drops those
    /// the stream delivered meanwhile, and books the rest as external after
    /// their deadline (or when no order could own them any more).
    fn recon_settle_deferred(&mut self, now: u64) {
        if self.recon.deferred.is_empty() {
            return;
        }
        let held = std::mem::take(&mut self.recon.deferred);
        for (t, deadline) in held {
            if self.tracker.has_trade(t.symbol, t.id, t.side) {
                continue;
            }
            let owner = self
                .tracker
                .find_venue(t.symbol, t.order_id)
                .and_then(|h| self.tracker.get(h).ok())
                .map(|o| o.client_id);
            if owner.is_none() && now < deadline && self.owner_may_be_pending(t.symbol) {
                self.recon.deferred.push((t, deadline));
                continue;
            }
            let client_id = owner.unwrap_or_default();
            if client_id.as_str().is_empty() && self.venue_fill_hold(&t) {
                continue;
            }
            let r = trade_report(&t, client_id, now);
            self.apply(&r, 0);
            if self.tracker.has_trade(t.symbol, t.id, t.side) {
                self.counters.recovered_fills += 1;
                self.note(recovered_line(&client_id, &t, "; owner settled later"));
            }
        }
    }

    /// Ends the engine's last pass before it exits: a pass still running
    /// is closed with what it learned (its answered queries are applied and
    /// journaled), and every user event it held back is applied, so nothing
    /// the venue already said is dropped with the process.
    pub(super) fn recon_conclude_for_exit(&mut self) {
        if let Some(p) = self.recon.pass.as_mut() {
            p.failed = true;
            self.recon.next = None;
            self.recon_finish();
        }
        self.recon.retry_pass_ns = 0;
        self.recon_release_buffer();
        self.venue_fills_flush();
        // Stream position updates still waiting for their fill: the venue's
        // word is the last one there will be.
        while let Some(ev) = self.positions.expire_held(u64::MAX) {
            self.send_strategy(ToStrategy::Position(ev));
        }
    }

    /// Lets the held live events through before their pass has ended (the
    /// hold bound, or shutdown): the book then sees them before the missed
    /// fills, so positions are read back from the venue once the passes end.
    pub(super) fn recon_release_early(&mut self) {
        self.recon_release_buffer();
        self.recon.released_early = true;
    }

    /// Applies the held user frames (duplicates are dropped by the tracker).
    fn recon_release_buffer(&mut self) {
        self.recon.buffering = false;
        self.recon.hold_since_ns = 0;
        while let Some((bytes, t)) = self.recon.buffered.pop_front() {
            self.on_user_bytes(&bytes, t);
        }
    }
}

/// Whether the venue's report says something our order does not know:
/// more filled, closed, or a state we are unsure of.
/// One account read of a kind at a time: takes the slot when it is free,
/// else owes exactly one more read after the one in flight.
fn claim_slot(busy: &mut bool, again: &mut bool) -> bool {
    if *busy {
        *again = true;
        false
    } else {
        *busy = true;
        true
    }
}

fn differs(o: &crate::model::Order, r: &Report) -> bool {
    if o.state == OrderState::Unknown {
        return true;
    }
    let cum = r.cum_qty.unwrap_or(Quantity::ZERO);
    cum.raw() > o.filled_qty.raw() || (is_terminal_status(r) && !o.state.is_terminal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Side;
    use crate::model::ids::Symbol;

    #[test]
    fn budget_refills_and_caps() {
        let mut b = WeightBudget::new(10, 40, 0);
        for _ in 0..40 {
            assert!(b.try_take(1, 0));
        }
        assert!(!b.try_take(1, 0), "burst spent");
        // 100 ms refills one unit at 10/s.
        assert!(b.try_take(1, 100_000_000));
        assert!(!b.try_take(1, 100_000_000));
        // A long idle period refills only up to the burst.
        assert!(b.try_take(40, 3_600_000_000_000));
        assert!(!b.try_take(1, 3_600_000_000_000));
    }

    #[test]
    fn budget_refills_when_polled_every_few_microseconds() {
        let mut b = WeightBudget::new(10, 40, 0);
        assert!(b.try_take(40, 0));
        // A spinning loop asks every 4 µs: each call earns 0.04 milli-weight,
        // which must add up (1 s at 10/s = 10 weight), not be dropped.
        let mut taken = 0;
        let mut now = 0u64;
        while now < 1_000_000_000 {
            now += 4_000;
            if b.try_take(1, now) {
                taken += 1;
            }
        }
        assert!((9..=10).contains(&taken), "{taken} taken in 1 s at 10/s");
    }

    #[test]
    fn heavy_calls_wait_for_enough_weight() {
        let mut b = WeightBudget::new(10, 40, 0);
        assert!(b.try_take(38, 0));
        assert!(!b.try_take(5, 0), "userTrades needs 5");
        assert!(b.try_take(5, 300_000_000));
    }

    #[test]
    fn listen_key_expired_is_recognised_with_a_string_event_time() {
        // The futures docs show `E` as a string in this event.
        let frame = br#"{"e":"listenKeyExpired","E":"1736996475556","listenKey":"abc"}"#;
        assert!(is_listen_key_expired(frame));
        match crate::binance::events::decode_user_event(frame) {
            Ok(crate::binance::events::UserEvent::ListenKeyExpired(k)) => {
                assert_eq!(k.event_time, 1_736_996_475_556);
            }
            other => panic!("decoded as {other:?}"),
        }
        assert!(!is_listen_key_expired(br#"{"e":"ORDER_TRADE_UPDATE"}"#));
    }

    #[test]
    fn only_gaps_hold_events() {
        assert!(ReconcileReason::Reconnect.buffers());
        assert!(ReconcileReason::ListenKey.buffers());
        assert!(!ReconcileReason::Sweep.buffers());
        assert!(!ReconcileReason::Silence.buffers());
        assert!(!ReconcileReason::OrderCheck.buffers());
    }

    #[test]
    fn trade_becomes_recovered_fill_report() {
        let body = br#"[{"symbol":"BTCUSDT","id":42,"orderId":7,"side":"SELL","price":"60100.0","qty":"0.010","realizedPnl":"1.5","quoteQty":"601.0","commission":"0.24","commissionAsset":"USDT","time":1760000000000,"positionSide":"BOTH","buyer":false,"maker":true}]"#;
        let list: Vec<UserTrade> = decode(body).expect("decodes");
        let t = list.first().expect("one trade");
        let r = trade_report(t, ClientOrderId::default(), 9);
        assert_eq!(r.source, ReportSource::Recovered);
        assert_eq!(r.trade_id, 42);
        assert_eq!(r.venue_order_id, Some(7));
        assert_eq!(r.side, Side::Sell);
        assert_eq!(r.last_qty.to_string(), "0.01");
        assert_eq!(r.maker, Some(true));
        assert!(r.commission.is_some());
    }

    fn config(extra: &str) -> Config {
        let text = format!(
            "base_url_http = \"http://127.0.0.1:1\"\nbase_url_ws = \"ws://127.0.0.1:1\"\n\
             base_url_ws_api = \"ws://127.0.0.1:1/ws-fapi/v1\"\n\
             [instrument_provider]\nload_ids = [\"BTCUSDT-PERP.BINANCE\"]\n{extra}"
        );
        let env = crate::config::Environment::from_pairs(&[
            ("BINANCE_API_KEY", "k"),
            ("BINANCE_API_SECRET", "s"),
        ]);
        Config::from_toml_str(&text, None, &env).expect("config")
    }

    #[test]
    fn keepalive_follows_the_config_and_the_sim_time_scale() {
        assert_eq!(keepalive_period_ns(&config("")), 1_800_000_000_000);
        let c = config("[engine]\nlisten_key_keepalive_secs = 600\n");
        assert_eq!(keepalive_period_ns(&c), 600_000_000_000);
        let c =
            config("[engine]\nlisten_key_keepalive_secs = 1800\n[sim.server]\ntime_scale = 60.0\n");
        assert_eq!(keepalive_period_ns(&c), 30_000_000_000);
        // A silly scale cannot turn the keepalive into a request storm.
        let c = config("[sim.server]\ntime_scale = 1e12\n");
        assert_eq!(keepalive_period_ns(&c), MIN_KEEPALIVE_NS);
    }

    #[test]
    fn recovered_fill_is_booked_once_and_marked() {
        use crate::engine::tracker::{OrderTracker, Outcome, TrackerConfig};
        use crate::model::{Order, OrderEventKind, OrderType, Price};
        let mut t = OrderTracker::new(TrackerConfig::default());
        let sym = Symbol::new("BTCUSDT").expect("symbol");
        let cid = ClientOrderId::new("r-1").expect("id");
        let q: Quantity = "0.002".parse().expect("qty");
        let mut o = Order::new(
            cid,
            InstrumentId::perp(sym),
            Side::Buy,
            OrderType::Limit,
            q,
            1,
        );
        o.price = Some("60000".parse::<Price>().expect("price"));
        let mut events = Vec::new();
        let h = t.submit(o, 1, &mut |_, e| events.push(e)).expect("submit");
        let mut ack = Report::new(
            ReportSource::Reply(crate::engine::report::RequestKind::Submit),
            sym,
            cid,
            2,
        );
        ack.venue_order_id = Some(77);
        ack.status = Some(OrderStatus::New);
        t.apply(&ack, &mut |_, e| events.push(e)).expect("ack");
        assert_eq!(t.last_trade_id(sym), None);
        let body = br#"[{"symbol":"BTCUSDT","id":5,"orderId":77,"side":"BUY","price":"60000","qty":"0.001","commission":"0.01","commissionAsset":"USDT","time":1,"maker":true},
                        {"symbol":"BTCUSDT","id":6,"orderId":77,"side":"BUY","price":"60000","qty":"0.001","commission":"0.01","commissionAsset":"USDT","time":2,"maker":true}]"#;
        let trades: Vec<UserTrade> = decode(body).expect("trades");
        events.clear();
        for tr in &trades {
            let r = trade_report(tr, cid, 3);
            assert_eq!(
                t.apply(&r, &mut |_, e| events.push(e)).expect("fill"),
                Outcome::Applied(1)
            );
        }
        assert!(
            events
                .iter()
                .all(|e| matches!(e.kind, OrderEventKind::Filled(f) if f.recovered))
        );
        assert_eq!(t.get(h).expect("order").state, OrderState::Filled);
        // Recovered fills do not move the stream's mark.
        assert_eq!(t.last_trade_id(sym), None);
        assert!(t.has_trade(sym, 5, Side::Buy));
        assert!(
            !t.has_trade(sym, 5, Side::Sell),
            "the other side of a trade is another fill"
        );
        // The same fill arriving late on the stream is a duplicate.
        let mut late = Report::new(ReportSource::TradeLite, sym, cid, 4);
        late.last_qty = "0.001".parse().expect("qty");
        late.last_price = "60000".parse().expect("price");
        late.trade_id = 6;
        late.venue_order_id = Some(77);
        assert_eq!(
            t.apply(&late, &mut |_, _| {}).expect("dup"),
            Outcome::DuplicateFill
        );
    }

    #[test]
    fn both_sides_of_a_self_trade_are_booked() {
        use crate::engine::tracker::{OrderTracker, Outcome, TrackerConfig};
        use crate::model::{Order, OrderType, Price};
        let mut t = OrderTracker::new(TrackerConfig::default());
        let sym = Symbol::new("BTCUSDT").expect("symbol");
        let q: Quantity = "0.001".parse().expect("qty");
        let mut ids = Vec::new();
        for (n, side) in [(1, Side::Buy), (2, Side::Sell)] {
            let cid = ClientOrderId::new(&format!("st-{n}")).expect("id");
            let mut o = Order::new(cid, InstrumentId::perp(sym), side, OrderType::Limit, q, 1);
            o.price = Some("60000".parse::<Price>().expect("price"));
            t.submit(o, 1, &mut |_, _| {}).expect("submit");
            ids.push((cid, side, 100 + n));
        }
        // Our sell (taker) crossed our own resting buy (maker): one trade id,
        // two fills.
        for (cid, side, venue_id) in ids {
            let mut r = Report::new(ReportSource::OrderTradeUpdate, sym, cid, 3);
            r.side = side;
            r.venue_order_id = Some(venue_id);
            r.exec_type = Some(crate::model::ExecutionType::Trade);
            r.status = Some(OrderStatus::Filled);
            r.last_qty = q;
            r.cum_qty = Some(q);
            r.last_price = "60000".parse().expect("price");
            r.trade_id = 9;
            assert!(matches!(
                t.apply(&r, &mut |_, _| {}).expect("fill"),
                Outcome::Applied(n) if n > 0
            ));
            let h = t.find(&cid).expect("tracked");
            assert_eq!(t.get(h).expect("order").state, OrderState::Filled);
        }
    }

    #[test]
    fn differences_that_matter() {
        use crate::model::{Order, OrderType};
        let sym = Symbol::new("BTCUSDT").expect("symbol");
        let cid = ClientOrderId::new("r-2").expect("id");
        let mut o = Order::new(
            cid,
            InstrumentId::perp(sym),
            Side::Buy,
            OrderType::Limit,
            "1".parse().expect("q"),
            1,
        );
        o.state = OrderState::Accepted;
        let mut r = Report::new(ReportSource::Query, sym, cid, 1);
        r.status = Some(OrderStatus::New);
        r.cum_qty = Some(Quantity::ZERO);
        assert!(!differs(&o, &r), "same state, same quantity");
        r.cum_qty = Some("0.5".parse().expect("q"));
        assert!(differs(&o, &r), "more filled at the venue");
        r.cum_qty = Some(Quantity::ZERO);
        r.status = Some(OrderStatus::Canceled);
        assert!(differs(&o, &r), "closed at the venue");
        o.state = OrderState::Canceled;
        assert!(!differs(&o, &r), "already closed here");
    }
}
