//! Positions per (symbol, position side), kept by the execution thread.
//!
//! One-way mode has a single signed `BOTH` position per symbol; hedge mode has
//! `LONG` (≥ 0) and `SHORT` (≤ 0). Fills move positions immediately (the
//! strategy should not wait for ACCOUNT_UPDATE to know its exposure), and
//! venue snapshots (ACCOUNT_UPDATE, positionRisk) overwrite them, because the
//! venue is the authority — e.g. after a fill we never saw.
//!
//! The cost basis is kept exactly as Σ price × qty in units of 1e-16, so the
//! average entry price of a growing position is exact up to its final
//! rounding. Reducing a position keeps the average (as the venue does) and
//! takes the proportional cost out, rounded half-even at 1e-16.

use super::hash::{FxHashMap, map_with_room};
use crate::model::ids::TradeId;
use crate::model::order::div_half_even;
use crate::model::{Decimal, Fill, Money, PositionEvent, PositionSide, Price, Symbol};

/// Why a position update was refused (the position is unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    /// The fill or snapshot names a position side we do not know.
    #[error("unknown position side")]
    UnknownSide,
    /// A hedge-mode fill would flip a LONG below zero or a SHORT above zero
    /// (the venue refuses such orders with -2022, so our books disagree with
    /// the venue's: reconcile).
    #[error("{side:?} position of {symbol} would become {amount}")]
    HedgeSign {
        /// Symbol.
        symbol: Symbol,
        /// Side.
        side: PositionSide,
        /// The amount it would have become.
        amount: Decimal,
    },
    /// Numbers beyond what exact arithmetic can hold.
    #[error("position arithmetic overflow")]
    Overflow,
    /// More (symbol, side) pairs than the book was sized for.
    #[error("position book full ({0} positions)")]
    Full(usize),
    /// A stream snapshot older than what the book already holds: the book
    /// has booked a fill (recovered out of band, or a newer snapshot) that
    /// this snapshot predates, so applying it would undo that fill.
    #[error("stale position snapshot of {symbol}")]
    Stale {
        /// Symbol.
        symbol: Symbol,
    },
}

/// A venue position report (ACCOUNT_UPDATE `P[]`, positionRisk row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionSnapshot {
    /// Symbol (`s`).
    pub symbol: Symbol,
    /// Position side (`ps`).
    pub position_side: PositionSide,
    /// Signed amount (`pa`, `positionAmt`).
    pub amount: Decimal,
    /// Entry price (`ep`, `entryPrice`).
    pub entry_price: Price,
    /// Venue time (ms).
    pub ts_venue_ms: i64,
}

impl PositionSnapshot {
    /// A positionRisk row as a snapshot (a missing side is one-way `BOTH`,
    /// a missing amount flat, a missing time "unknown": 0).
    pub fn from_risk(r: &crate::binance::rest::PositionRisk) -> Self {
        PositionSnapshot {
            symbol: r.symbol,
            position_side: r.position_side.unwrap_or(PositionSide::Both),
            amount: r.position_amt.map_or(Decimal::ZERO, |q| q.value()),
            entry_price: r.entry_price.unwrap_or(Price::ZERO),
            ts_venue_ms: r.update_time.unwrap_or(0),
        }
    }
}

/// One position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Symbol.
    pub symbol: Symbol,
    /// `Both`, `Long` or `Short`.
    pub position_side: PositionSide,
    /// Signed amount.
    pub amount: Decimal,
    /// |amount| × average entry, units of 1e-16 (exact for growing positions).
    pub cost: i128,
    /// Realized PnL booked from fills by the engine, before fees.
    pub realized_pnl: Money,
    /// Venue time of the last change (ms).
    pub ts_venue_ms: i64,
}

impl Position {
    fn flat(symbol: Symbol, position_side: PositionSide) -> Self {
        Position {
            symbol,
            position_side,
            amount: Decimal::ZERO,
            cost: 0,
            realized_pnl: Money::ZERO,
            ts_venue_ms: 0,
        }
    }

    /// Average entry price, half-even at 1e-8 (zero when flat).
    pub fn entry_price(&self) -> Price {
        let a = self.amount.raw().unsigned_abs() as i128;
        div_half_even(self.cost, a)
            .and_then(|p| i64::try_from(p).ok())
            .map(Price::from_raw)
            .unwrap_or(Price::ZERO)
    }

    /// True when there is no exposure.
    pub fn is_flat(&self) -> bool {
        self.amount.is_zero()
    }

    fn event(&self, from_snapshot: bool) -> PositionEvent {
        PositionEvent {
            symbol: self.symbol,
            position_side: self.position_side,
            amount: self.amount,
            entry_price: self.entry_price(),
            realized_pnl: self.realized_pnl,
            from_snapshot,
            ts_venue_ms: self.ts_venue_ms,
        }
    }
}

/// All positions of the account, preallocated.
pub struct PositionBook {
    map: FxHashMap<(Symbol, PositionSide), Position>,
    /// Venue time (ms) of the latest snapshot per position: a fill recovered
    /// late (from `userTrades`) at or before it is already in that snapshot.
    snapshot_ms: FxHashMap<(Symbol, PositionSide), i64>,
    /// Highest trade id booked into each position (live or recovered).
    booked_trade: FxHashMap<(Symbol, PositionSide), TradeId>,
    /// Highest trade id the user stream itself has delivered per symbol
    /// (duplicates included): an ACCOUNT_UPDATE on the stream reflects the
    /// account as of that trade, no later.
    stream_trade: FxHashMap<Symbol, TradeId>,
    /// Stream snapshots that disagree with the book, waiting briefly for
    /// the fill they already include (the venue may send a fill's
    /// ACCOUNT_UPDATE before its ORDER_TRADE_UPDATE); preallocated.
    held: Vec<HeldSnapshot>,
    capacity: usize,
}

/// How long a stream snapshot that disagrees with the book waits for the
/// fill event it may already include. The events of one fill travel on the
/// same socket back to back, so this only has to cover the execution
/// loop's scheduling; after it the venue's word is applied.
pub const HOLD_SNAPSHOT_NS: u64 = 100_000_000;

/// A stream snapshot waiting for the book to catch up.
#[derive(Debug, Clone, Copy)]
struct HeldSnapshot {
    snap: PositionSnapshot,
    until_ns: u64,
}

impl PositionBook {
    /// Room for `capacity` (symbol, side) pairs (3 per symbol covers both modes).
    pub fn with_capacity(capacity: usize) -> Self {
        PositionBook {
            map: map_with_room(capacity),
            snapshot_ms: map_with_room(capacity),
            booked_trade: map_with_room(capacity),
            stream_trade: map_with_room(capacity),
            held: Vec::with_capacity(capacity),
            capacity,
        }
    }

    /// The position, if any fill or snapshot touched it.
    pub fn get(&self, symbol: Symbol, side: PositionSide) -> Option<&Position> {
        self.map.get(&(symbol, side))
    }

    /// Every known position.
    pub fn iter(&self) -> impl Iterator<Item = &Position> + '_ {
        self.map.values()
    }

    /// True when the venue's latest snapshot of the fill's position already
    /// includes the fill, so booking it would count it twice.
    ///
    /// A fill recovered late (from `userTrades`, after the stream moved on)
    /// is covered by a snapshot at or after its venue time; the same
    /// millisecond is a guess, which the positionRisk read every recovered
    /// fill triggers settles. A stream fill is covered only by a snapshot
    /// strictly after it: the venue computed that one (positionRisk, or an
    /// update released from a reconciliation's hold) after the trade, while
    /// the stream's own update for the fill comes in the same millisecond
    /// and after it.
    pub fn covers(&self, f: &Fill) -> bool {
        f.ts_venue_ms > 0
            && self
                .snapshot_ms
                .get(&(f.instrument.symbol, f.position_side))
                .is_some_and(|&ms| ms > f.ts_venue_ms || (f.recovered && ms == f.ts_venue_ms))
    }

    /// Records that the user stream delivered trade `trade_id` of `symbol`
    /// (booked or a duplicate): the stream's ACCOUNT_UPDATEs that follow
    /// are the account as of that trade.
    pub fn note_stream_trade(&mut self, symbol: Symbol, trade_id: TradeId) {
        let t = self.stream_trade.entry(symbol).or_insert(0);
        *t = (*t).max(trade_id);
    }

    /// Takes an ACCOUNT_UPDATE leg from the user stream. Refused
    /// ([`PositionError::Stale`]) when the book already holds something
    /// newer: a fill booked with a trade id the stream has not reached yet
    /// (recovered during a gap, so this update was sent before it), or a
    /// snapshot with a later venue time (a positionRisk read); held frames
    /// released after a reconciliation are the usual source, and applying
    /// one would undo the fills recovered meanwhile. Applied at once when
    /// it agrees with the book (`Some`, the usual case). When it disagrees
    /// it is held (`None`) until the fill it already includes is booked —
    /// the venue can send a fill's ACCOUNT_UPDATE before the fill itself,
    /// and applying it first would count that fill twice — or until
    /// [`HOLD_SNAPSHOT_NS`] pass ([`PositionBook::expire_held`]): then the
    /// venue's word wins.
    ///
    /// `from_order` is whether the update's reason is a trade (`m=ORDER`);
    /// other reasons (funding, adjustments, insurance clear) have no fill
    /// to wait for and apply at once.
    pub fn offer_stream_snapshot(
        &mut self,
        s: &PositionSnapshot,
        from_order: bool,
        now_ns: u64,
    ) -> Result<Option<PositionEvent>, PositionError> {
        self.check_fresh(s)?;
        let key = (s.symbol, s.position_side);
        self.held
            .retain(|h| (h.snap.symbol, h.snap.position_side) != key);
        let book = self.map.get(&key).map_or(Decimal::ZERO, |p| p.amount);
        if book == s.amount || !from_order {
            return self.apply_snapshot(s).map(Some);
        }
        if self.held.len() >= self.capacity {
            // Never grow: the oldest held update gets the venue's word now.
            let oldest = self.held.remove(0);
            let _ = self.apply_snapshot(&oldest.snap);
        }
        self.held.push(HeldSnapshot {
            snap: *s,
            until_ns: now_ns.saturating_add(HOLD_SNAPSHOT_NS),
        });
        Ok(None)
    }

    /// Applies one held stream snapshot whose wait is over (unless
    /// something newer was booked meanwhile) and returns its event; call
    /// until `None`. The book disagreed with it and no fill explained it: a
    /// fill the stream never delivered, which reconciliation will find (and
    /// [`PositionBook::covers`] keeps from being counted again).
    pub fn expire_held(&mut self, now_ns: u64) -> Option<PositionEvent> {
        while let Some(i) = self.held.iter().position(|h| h.until_ns <= now_ns) {
            let h = self.held.swap_remove(i);
            if self.check_fresh(&h.snap).is_ok()
                && let Ok(ev) = self.apply_snapshot(&h.snap)
            {
                return Some(ev);
            }
        }
        None
    }

    /// How many stream snapshots are waiting (for tests and logs).
    pub fn held_snapshots(&self) -> usize {
        self.held.len()
    }

    fn check_fresh(&self, s: &PositionSnapshot) -> Result<(), PositionError> {
        let key = (s.symbol, s.position_side);
        let booked = self.booked_trade.get(&key).copied().unwrap_or(0);
        let streamed = self.stream_trade.get(&s.symbol).copied().unwrap_or(0);
        let newer_in_book = self
            .map
            .get(&key)
            .is_some_and(|p| s.ts_venue_ms > 0 && p.ts_venue_ms > s.ts_venue_ms);
        if booked > streamed || newer_in_book {
            return Err(PositionError::Stale { symbol: s.symbol });
        }
        Ok(())
    }

    /// Books a fill (ours or external). On error nothing changes.
    pub fn apply_fill(&mut self, f: &Fill) -> Result<PositionEvent, PositionError> {
        let side = f.position_side;
        if side.is_unknown() || f.side.is_unknown() {
            return Err(PositionError::UnknownSide);
        }
        let symbol = f.instrument.symbol;
        let mut p = self.current(symbol, side)?;
        let a = p.amount.raw() as i128;
        let d = f.signed_quantity().raw() as i128;
        let px = f.price.raw() as i128;
        let ovf = PositionError::Overflow;
        if a == 0 || (a > 0) == (d > 0) {
            let add = px.checked_mul(d.abs()).ok_or(ovf)?;
            p.cost = p.cost.checked_add(add).ok_or(ovf)?;
            p.amount = to_decimal(a + d)?;
        } else {
            let closed = d.abs().min(a.abs());
            let portion =
                div_half_even(p.cost.checked_mul(closed).ok_or(ovf)?, a.abs()).ok_or(ovf)?;
            let exit = px.checked_mul(closed).ok_or(ovf)?;
            let pnl16 = if a > 0 {
                exit - portion
            } else {
                portion - exit
            };
            let pnl = div_half_even(pnl16, 100_000_000)
                .and_then(|v| i64::try_from(v).ok())
                .ok_or(ovf)?;
            let rest = a + d; // sign of d opposes a
            p.realized_pnl = Money::from_raw(p.realized_pnl.raw().checked_add(pnl).ok_or(ovf)?);
            if rest == 0 {
                p.cost = 0;
            } else if (rest > 0) == (a > 0) {
                p.cost -= portion;
            } else {
                // Flipped through zero: the remainder opens at the fill price.
                p.cost = px.checked_mul(rest.abs()).ok_or(ovf)?;
            }
            p.amount = to_decimal(rest)?;
        }
        check_hedge_sign(&p)?;
        p.ts_venue_ms = p.ts_venue_ms.max(f.ts_venue_ms);
        self.map.insert((symbol, side), p);
        if f.trade_id != 0 {
            let t = self.booked_trade.entry((symbol, side)).or_insert(0);
            *t = (*t).max(f.trade_id);
        }
        // The venue's update for this fill may have come first: now that
        // the book agrees with it, take its entry price and time.
        if let Some(i) = self.held.iter().position(|h| {
            (h.snap.symbol, h.snap.position_side) == (symbol, side) && h.snap.amount == p.amount
        }) {
            let h = self.held.swap_remove(i);
            if let Ok(ev) = self.apply_snapshot(&h.snap) {
                return Ok(PositionEvent {
                    from_snapshot: false,
                    ..ev
                });
            }
        }
        Ok(p.event(false))
    }

    /// Overwrites a position with the venue's view, keeping the engine's
    /// realized PnL tally.
    pub fn apply_snapshot(&mut self, s: &PositionSnapshot) -> Result<PositionEvent, PositionError> {
        if s.position_side.is_unknown() {
            return Err(PositionError::UnknownSide);
        }
        let mut p = self.current(s.symbol, s.position_side)?;
        p.amount = s.amount;
        p.cost = (s.entry_price.raw() as i128)
            .checked_mul(s.amount.raw().unsigned_abs() as i128)
            .ok_or(PositionError::Overflow)?;
        check_hedge_sign(&p)?;
        p.ts_venue_ms = s.ts_venue_ms;
        self.map.insert((s.symbol, s.position_side), p);
        let seen = self
            .snapshot_ms
            .entry((s.symbol, s.position_side))
            .or_insert(0);
        *seen = (*seen).max(s.ts_venue_ms);
        Ok(p.event(true))
    }

    fn current(&self, symbol: Symbol, side: PositionSide) -> Result<Position, PositionError> {
        match self.map.get(&(symbol, side)) {
            Some(p) => Ok(*p),
            None if self.map.len() >= self.capacity => Err(PositionError::Full(self.capacity)),
            None => Ok(Position::flat(symbol, side)),
        }
    }
}

fn to_decimal(v: i128) -> Result<Decimal, PositionError> {
    i64::try_from(v)
        .map(Decimal::from_raw)
        .map_err(|_| PositionError::Overflow)
}

fn check_hedge_sign(p: &Position) -> Result<(), PositionError> {
    let bad = match p.position_side {
        PositionSide::Long => p.amount.is_negative(),
        PositionSide::Short => p.amount.is_positive(),
        _ => false,
    };
    if bad {
        return Err(PositionError::HedgeSign {
            symbol: p.symbol,
            side: p.position_side,
            amount: p.amount,
        });
    }
    Ok(())
}
