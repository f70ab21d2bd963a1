//! Fills of orders the venue itself placed on our account (ADL,
//! liquidation, settlement), found by a reconciliation pass.
//!
//! Why: `userTrades` carries no client id, so a trade a live pass recovers
//! after a user-stream gap, on an order the engine never saw, could be the
//! venue's `adl_autoclose` or another process's order. Booked blind it is an
//! external fill without a client id: the strategy cannot tell it was an
//! ADL, and the journal cannot hold it. So, like start-up recovery, the
//! order is asked about once (by order id, weight 1, paced by the
//! reconciliation budget, a bounded number at a time) and the trade is
//! booked with the answer: a venue order's fill is delivered once as a fill
//! of its kind and journaled under the venue's client id; one of ours (its
//! placement reply was lost) as our fill; anything else, or no answer, as
//! before. The tracker's (symbol, trade id, side) dedupe keeps a copy the
//! stream delivers meanwhile from being booked twice.

use super::reconcile::{ReconCall, recovered_line, trade_report};
use super::thread::{Exec, Pending};
use crate::binance::errors::VenueError;
use crate::binance::rest::{OrderResponse, UserTrade, decode};
use crate::engine::clock::mono_ns;
use crate::model::fill::FillKind;
use crate::model::ids::{ClientOrderId, InstrumentId, Symbol, VenueOrderId};

/// Most orders asked about at once; more unknown orders than this are
/// booked as before (external, no client id) rather than queued.
pub const MAX_VENUE_ORDER_QUERIES: usize = 16;
/// Most trades held while their order is asked about.
const MAX_HELD_TRADES: usize = 256;
/// Answers remembered (later trades of the same order need no query).
const MAX_KNOWN: usize = 64;
/// Times a failed order query (no answer, 5xx, 429) is retried before its
/// trades are booked unclassified.
const QUERY_RETRIES: u32 = 3;

/// What the venue's own order query says about an order we did not place:
/// its client id, and the kind of fill its trades are (`Normal` for any
/// order that is not the venue's own). Shared with start-up recovery.
pub fn classify_venue_order(o: &OrderResponse) -> (ClientOrderId, FillKind) {
    let cid = o.client_order_id;
    (cid, FillKind::from_client_id(&cid))
}

/// Queries in flight and the trades waiting for them.
#[derive(Debug, Default)]
pub struct VenueFillQueries {
    asking: Vec<(Symbol, VenueOrderId)>,
    held: Vec<UserTrade>,
    known: Vec<(Symbol, VenueOrderId, ClientOrderId)>,
}

impl VenueFillQueries {
    /// True when trades wait for an answer.
    pub fn is_idle(&self) -> bool {
        self.asking.is_empty() && self.held.is_empty()
    }
}

impl Exec {
    /// A recovered trade whose owner is not known: holds it while its order
    /// is asked about (true), or returns false when it must be booked as
    /// before (query budget exhausted).
    pub(super) fn venue_fill_hold(&mut self, t: &UserTrade) -> bool {
        let key = (t.symbol, t.order_id);
        if let Some(cid) = self
            .recon
            .venue_fills
            .known
            .iter()
            .find(|k| (k.0, k.1) == key)
            .map(|k| k.2)
        {
            self.venue_fill_book(t, cid);
            return true;
        }
        let q = &mut self.recon.venue_fills;
        if q.held.len() >= MAX_HELD_TRADES {
            return false;
        }
        if q.asking.contains(&key) {
            q.held.push(*t);
            return true;
        }
        if q.asking.len() >= MAX_VENUE_ORDER_QUERIES {
            return false;
        }
        q.asking.push(key);
        q.held.push(*t);
        self.recon_queue_call(
            ReconCall::VenueOrder {
                order_id: t.order_id,
            },
            InstrumentId::perp(t.symbol),
        );
        true
    }

    /// The venue answered the order query (any HTTP status).
    pub(super) fn on_venue_order_answer(
        &mut self,
        p: Pending,
        order_id: VenueOrderId,
        status: u16,
        body: &[u8],
    ) {
        let instrument = p.instrument;
        let answer = if (200..300).contains(&status) {
            decode::<OrderResponse>(body).map_err(|e| e.to_string())
        } else {
            let e = VenueError::from_response(status, body);
            // "Does not exist" is the venue's last word; anything else
            // (5xx, 429, a gateway page) is asked again.
            if !matches!(e.code, -2013 | -2011) && self.venue_order_retry(p, status) {
                return;
            }
            Err(e.to_string())
        };
        let (cid, remember) = match answer {
            Ok(o) => {
                let (cid, kind) = classify_venue_order(&o);
                // Ours after all (a lost placement reply) or the venue's
                // own: booked under that id. Another process's: as before.
                if kind != FillKind::Normal || self.tracker.find(&cid).is_some() {
                    (cid, true)
                } else {
                    (ClientOrderId::default(), true)
                }
            }
            Err(e) => {
                self.note(format!(
                    "{instrument}: order {order_id} of a recovered trade not classified: {e}"
                ));
                (ClientOrderId::default(), false)
            }
        };
        self.venue_fill_release(instrument.symbol, order_id, cid, remember);
    }

    /// The order query got no answer: asked again (bounded), then its
    /// trades are booked as before.
    pub(super) fn on_venue_order_lost(&mut self, p: Pending, order_id: VenueOrderId, why: &str) {
        if self.venue_order_retry(p, 0) {
            return;
        }
        let instrument = p.instrument;
        self.note(format!(
            "{instrument}: order {order_id} of a recovered trade not classified: {why}"
        ));
        self.venue_fill_release(instrument.symbol, order_id, ClientOrderId::default(), false);
    }

    /// Schedules the query again unless its retries are used up; a 429/418
    /// waits longer (the venue asked for a pause).
    fn venue_order_retry(&mut self, mut p: Pending, status: u16) -> bool {
        if p.attempt >= QUERY_RETRIES {
            return false;
        }
        let base: u64 = if matches!(status, 429 | 418) {
            1_000_000_000
        } else {
            200_000_000
        };
        let delay = base << p.attempt.min(4);
        p.attempt += 1;
        self.counters.retries += 1;
        self.push_due(mono_ns().saturating_add(delay), p);
        true
    }

    /// Books every trade still held (the engine is stopping): unclassified,
    /// as before, rather than dropped with the process.
    pub(super) fn venue_fills_flush(&mut self) {
        let held = std::mem::take(&mut self.recon.venue_fills.held);
        self.recon.venue_fills.asking.clear();
        for t in &held {
            self.venue_fill_book(t, ClientOrderId::default());
        }
    }

    /// Books the trades held for one order under `cid`; `remember` keeps
    /// the answer for that order's later trades (not after a failure, so
    /// the next trade asks again).
    fn venue_fill_release(
        &mut self,
        symbol: Symbol,
        order_id: VenueOrderId,
        cid: ClientOrderId,
        remember: bool,
    ) {
        let q = &mut self.recon.venue_fills;
        q.asking.retain(|k| *k != (symbol, order_id));
        if remember {
            if q.known.len() >= MAX_KNOWN {
                q.known.remove(0);
            }
            q.known.push((symbol, order_id, cid));
        }
        let (mine, rest): (Vec<UserTrade>, Vec<UserTrade>) = std::mem::take(&mut q.held)
            .into_iter()
            .partition(|t| t.symbol == symbol && t.order_id == order_id);
        q.held = rest;
        for t in &mine {
            self.venue_fill_book(t, cid);
        }
    }

    /// Books one recovered trade under `cid` (empty: an external fill with
    /// no owner), unless the stream delivered it meanwhile.
    fn venue_fill_book(&mut self, t: &UserTrade, cid: ClientOrderId) {
        if self.tracker.has_trade(t.symbol, t.id, t.side) {
            return;
        }
        let mut r = trade_report(t, cid, mono_ns());
        if !cid.as_str().is_empty() && self.tracker.find(&cid).is_none() {
            r.fill_kind = Some(FillKind::from_client_id(&cid));
        }
        self.apply(&r, 0);
        if self.tracker.has_trade(t.symbol, t.id, t.side) {
            self.counters.recovered_fills += 1;
            self.note(recovered_line(&cid, t, ""));
        }
    }
}
