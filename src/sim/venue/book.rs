//! One symbol's order book: resting user orders (price-time queues) layered
//! over generated liquidity around the mid. User orders at a price match
//! before the synthetic quantity there, so tests that cross two accounts see
//! each other deterministically.
use crate::model::decimal::Decimal;
use crate::model::enums::Side;
use std::collections::{BTreeMap, VecDeque};

/// A price level of generated liquidity (raw decimal mantissas).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Price (raw).
    pub px: i64,
    /// Quantity left (raw).
    pub qty: i64,
}

/// `(price, qty)` raw levels, best first.
pub type Levels = Vec<(i64, i64)>;

/// Best bid and best ask `(price, qty)` raw, if any.
pub type Bbo = (Option<(i64, i64)>, Option<(i64, i64)>);

/// Resting user orders of one side: price (raw) → FIFO of order ids.
pub type Queues = BTreeMap<i64, VecDeque<i64>>;

/// The book of one symbol.
#[derive(Debug, Clone, Default)]
pub struct Book {
    /// User bids.
    pub bids: Queues,
    /// User asks.
    pub asks: Queues,
    /// Resting user quantity per bid price (raw), for depth.
    pub bid_qty: BTreeMap<i64, i64>,
    /// Resting user quantity per ask price (raw).
    pub ask_qty: BTreeMap<i64, i64>,
    /// Generated bids, best (highest) first.
    pub syn_bids: Vec<Level>,
    /// Generated asks, best (lowest) first.
    pub syn_asks: Vec<Level>,
    /// Book update id: bumped on every change (depth `u`, bookTicker `u`).
    pub update_id: i64,
}

impl Book {
    /// Adds a resting order at the back of its price queue.
    pub fn insert(&mut self, side: Side, px: Decimal, id: i64, qty: Decimal) {
        let (q, agg) = self.side_mut(side);
        q.entry(px.raw()).or_default().push_back(id);
        *agg.entry(px.raw()).or_insert(0) += qty.raw();
        self.update_id += 1;
    }

    /// Removes a resting order (cancel, fill-out, expiry).
    pub fn remove(&mut self, side: Side, px: Decimal, id: i64, remaining: Decimal) {
        let (q, agg) = self.side_mut(side);
        if let Some(level) = q.get_mut(&px.raw()) {
            if let Some(pos) = level.iter().position(|&x| x == id) {
                level.remove(pos);
            }
            if level.is_empty() {
                q.remove(&px.raw());
            }
        }
        reduce(agg, px.raw(), remaining.raw());
        self.update_id += 1;
    }

    /// Lowers the aggregated resting quantity after a partial fill.
    pub fn reduce_qty(&mut self, side: Side, px: Decimal, qty: Decimal) {
        let (_, agg) = self.side_mut(side);
        reduce(agg, px.raw(), qty.raw());
        self.update_id += 1;
    }

    fn side_mut(&mut self, side: Side) -> (&mut Queues, &mut BTreeMap<i64, i64>) {
        if side == Side::Buy {
            (&mut self.bids, &mut self.bid_qty)
        } else {
            (&mut self.asks, &mut self.ask_qty)
        }
    }

    /// Best user price and the first order there, for the side a taker of
    /// `taker_side` would hit.
    pub fn best_user(&self, taker_side: Side) -> Option<(i64, i64)> {
        if taker_side == Side::Buy {
            self.asks
                .iter()
                .next()
                .and_then(|(p, q)| q.front().map(|id| (*p, *id)))
        } else {
            self.bids
                .iter()
                .next_back()
                .and_then(|(p, q)| q.front().map(|id| (*p, *id)))
        }
    }

    /// Index of the best generated level with quantity left on the side a
    /// taker of `taker_side` hits.
    pub fn best_synthetic(&self, taker_side: Side) -> Option<usize> {
        let levels = if taker_side == Side::Buy {
            &self.syn_asks
        } else {
            &self.syn_bids
        };
        levels.iter().position(|l| l.qty > 0)
    }

    /// Regenerates the synthetic book around `mid`: `levels` per side,
    /// `spacing` raw apart, `qty` raw each; levels that would cross a resting
    /// user order are left out (the user order is the better price there).
    pub fn regenerate(
        &mut self,
        best_bid: i64,
        best_ask: i64,
        spacing: i64,
        levels: usize,
        qty: i64,
    ) {
        self.syn_bids.clear();
        self.syn_asks.clear();
        let spacing = spacing.max(1);
        for k in 0..levels as i64 {
            let b = best_bid - k * spacing;
            if b > 0 {
                self.syn_bids.push(Level { px: b, qty });
            }
            self.syn_asks.push(Level {
                px: best_ask + k * spacing,
                qty,
            });
        }
        self.update_id += 1;
    }

    /// Combined top `n` levels per side `(px, qty)` raw: synthetic plus user.
    pub fn top(&self, n: usize) -> (Levels, Levels) {
        let mut bids: BTreeMap<i64, i64> = BTreeMap::new();
        let mut asks: BTreeMap<i64, i64> = BTreeMap::new();
        for l in self.syn_bids.iter().filter(|l| l.qty > 0).take(n) {
            *bids.entry(l.px).or_insert(0) += l.qty;
        }
        for (p, q) in self.bid_qty.iter().rev().take(n) {
            *bids.entry(*p).or_insert(0) += *q;
        }
        for l in self.syn_asks.iter().filter(|l| l.qty > 0).take(n) {
            *asks.entry(l.px).or_insert(0) += l.qty;
        }
        for (p, q) in self.ask_qty.iter().take(n) {
            *asks.entry(*p).or_insert(0) += *q;
        }
        (
            bids.into_iter().rev().take(n).collect(),
            asks.into_iter().take(n).collect(),
        )
    }

    /// Best bid and ask `(px, qty)` raw, combined.
    pub fn bbo(&self) -> Bbo {
        let bid = best_of(
            self.syn_bids
                .iter()
                .find(|l| l.qty > 0)
                .map(|l| (l.px, l.qty)),
            self.bid_qty.iter().next_back().map(|(p, q)| (*p, *q)),
            true,
        );
        let ask = best_of(
            self.syn_asks
                .iter()
                .find(|l| l.qty > 0)
                .map(|l| (l.px, l.qty)),
            self.ask_qty.iter().next().map(|(p, q)| (*p, *q)),
            false,
        );
        (bid, ask)
    }
}

/// Combines the best generated and best user level of one side (summing
/// quantities at an equal price) without building the whole book.
fn best_of(syn: Option<(i64, i64)>, user: Option<(i64, i64)>, bids: bool) -> Option<(i64, i64)> {
    match (syn, user) {
        (Some(s), Some(u)) if s.0 == u.0 => Some((s.0, s.1 + u.1)),
        (Some(s), Some(u)) => Some(if (s.0 > u.0) == bids { s } else { u }),
        (s, u) => s.or(u),
    }
}

fn reduce(agg: &mut BTreeMap<i64, i64>, px: i64, by: i64) {
    if let Some(v) = agg.get_mut(&px) {
        *v -= by;
        if *v <= 0 {
            agg.remove(&px);
        }
    }
}

/// Publishes `depthUpdate` diffs for one stream cadence, chaining `U`/`u`/`pu`.
#[derive(Debug, Clone)]
pub struct DepthPublisher {
    /// Stream suffix (`@depth`, `@depth@100ms`, `@depth@500ms`).
    pub suffix: &'static str,
    /// Cadence (ms).
    pub interval_ms: i64,
    /// Next due time.
    pub next_due: i64,
    /// `u` of the last frame.
    pub last_u: i64,
    /// Snapshot sent last (bids, asks).
    pub last: (Levels, Levels),
}

impl DepthPublisher {
    /// A publisher starting at `now` with update id `u`.
    pub fn new(suffix: &'static str, interval_ms: i64, now: i64, u: i64) -> Self {
        DepthPublisher {
            suffix,
            interval_ms,
            next_due: now + interval_ms,
            last_u: u,
            last: (Vec::new(), Vec::new()),
        }
    }
}

/// Levels that changed between two sorted snapshots: new quantity, or 0 for
/// a level that disappeared. `desc` = bids (sorted high to low).
pub fn diff_levels(old: &[(i64, i64)], new: &[(i64, i64)], desc: bool) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let o = old.get(i);
        let n = new.get(j);
        match (o, n) {
            (Some(&(op, oq)), Some(&(np, nq))) if op == np => {
                if oq != nq {
                    out.push((np, nq));
                }
                i += 1;
                j += 1;
            }
            (Some(&(op, _)), Some(&(np, _))) => {
                let old_first = if desc { op > np } else { op < np };
                if old_first {
                    out.push((op, 0));
                    i += 1;
                } else {
                    out.push((np, new[j].1));
                    j += 1;
                }
            }
            (Some(&(op, _)), None) => {
                out.push((op, 0));
                i += 1;
            }
            (None, Some(&(np, nq))) => {
                out.push((np, nq));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_orders_queue_in_time_order() {
        let mut b = Book::default();
        let px = Decimal::from_raw(100);
        b.insert(Side::Sell, px, 1, Decimal::from_raw(5));
        b.insert(Side::Sell, px, 2, Decimal::from_raw(5));
        assert_eq!(b.best_user(Side::Buy), Some((100, 1)));
        b.remove(Side::Sell, px, 1, Decimal::from_raw(5));
        assert_eq!(b.best_user(Side::Buy), Some((100, 2)));
        assert_eq!(b.ask_qty.get(&100), Some(&5));
        b.regenerate(90, 110, 10, 3, 7);
        let (bids, asks) = b.top(2);
        assert_eq!(bids, vec![(90, 7), (80, 7)]);
        assert_eq!(asks, vec![(100, 5), (110, 7)]);
    }

    #[test]
    fn diff_reports_changes_and_removals() {
        let old = vec![(100, 1), (99, 2), (98, 3)];
        let new = vec![(101, 4), (100, 1), (98, 5)];
        let d = diff_levels(&old, &new, true);
        assert_eq!(d, vec![(101, 4), (99, 0), (98, 5)]);
    }
}
