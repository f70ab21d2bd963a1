//! The synthetic market: a seeded random walk of the mid, a generated book
//! around it that trades through resting user orders, and the market-data
//! frames (bookTicker, aggTrade, depthUpdate, markPriceUpdate).
use super::api::{MarketFrame, Outbox};
use super::book::diff_levels;
use super::json;
use super::state::Venue;
use crate::model::decimal::{Decimal, Rounding};
use crate::model::enums::{ExecutionType, OrderStatus, Side};

impl Venue {
    /// Rebuilds the generated levels around the symbol's mid (best bid = mid,
    /// best ask = mid + 1 tick).
    pub(crate) fn regenerate_book(&mut self, sym: usize) {
        let mc = &self.cfg.market;
        let m = &mut self.markets[sym];
        let tick = m.ins.cfg.tick_size.raw().max(1);
        let step = m.ins.cfg.step_size;
        let mid = Decimal::from_raw(m.mid.max(tick));
        let qty = mc
            .level_notional
            .checked_div(mid, Rounding::Floor)
            .and_then(|q| q.round_to_step(step, Rounding::Floor).ok())
            .unwrap_or(m.ins.cfg.min_qty)
            .max(m.ins.cfg.min_qty);
        let spacing = tick * mc.level_spacing_ticks.max(1);
        m.book.regenerate(
            mid.raw(),
            mid.raw() + tick,
            spacing,
            mc.book_levels.max(1),
            qty.raw(),
        );
    }

    /// Runs the market process up to `now` (bounded catch-up after a stall).
    pub(crate) fn run_market(&mut self, now: i64, out: &mut Outbox) {
        let interval = self.cfg.market.tick_interval_ms.max(1);
        if now - self.next_step > interval * 100 {
            self.next_step = now;
        }
        while self.next_step <= now {
            self.next_step += interval;
            if self.paused {
                continue;
            }
            for sym in 0..self.markets.len() {
                self.step_symbol(sym, out);
            }
        }
        self.check_triggers(out);
    }

    fn step_symbol(&mut self, sym: usize, out: &mut Outbox) {
        let vol = self.cfg.market.volatility;
        let g = self.rng.next_gaussian();
        let u = self.rng.next_f64();
        let size_draw = self.rng.next_f64();
        let m = &self.markets[sym];
        let tick = m.ins.cfg.tick_size.raw().max(1);
        let old = m.mid;
        let moved = (old as f64 * (1.0 + vol * g)) as i64;
        let mut new_mid = (moved + tick / 2) / tick * tick;
        if new_mid <= 0 {
            new_mid = old;
        }
        let changed = new_mid != old;
        if changed {
            self.move_mid(sym, new_mid, out);
        }
        if changed || u < self.cfg.market.trade_probability {
            let m = &self.markets[sym];
            let lvl = m.book.syn_asks.first().map(|l| l.qty).unwrap_or(0);
            let step = m.ins.cfg.step_size.raw().max(1);
            let q = ((lvl as f64 * (0.01 + 0.1 * size_draw)) as i64 / step * step)
                .max(m.ins.cfg.min_qty.raw());
            let (px, side) = if new_mid >= old {
                (new_mid + tick, Side::Buy)
            } else {
                (new_mid, Side::Sell)
            };
            let tid = self.next_trade_id(sym);
            self.on_trade(
                sym,
                Decimal::from_raw(px),
                Decimal::from_raw(q),
                side,
                tid,
                out,
            );
        }
    }

    /// Moves the mid: new generated book, resting user orders it crosses are
    /// filled (as makers, at their own price), mark follows.
    pub(crate) fn move_mid(&mut self, sym: usize, new_mid: i64, out: &mut Outbox) {
        self.markets[sym].mid = new_mid;
        self.markets[sym].mark = Decimal::from_raw(new_mid);
        self.triggers_dirty = true;
        self.regenerate_book(sym);
        self.cross_resting(sym, out);
    }

    /// Generated liquidity trades through resting user orders it crosses.
    fn cross_resting(&mut self, sym: usize, out: &mut Outbox) {
        for _ in 0..100_000 {
            let b = &self.markets[sym].book;
            // User bids vs generated asks.
            let bid = b
                .bids
                .iter()
                .next_back()
                .and_then(|(p, q)| q.front().map(|id| (*p, *id)));
            let ask_lvl = b.best_synthetic(Side::Buy);
            if let (Some((bp, id)), Some(i)) = (bid, ask_lvl)
                && b.syn_asks.get(i).is_some_and(|l| l.px <= bp)
            {
                self.synthetic_hit(sym, id, i, Side::Buy, out);
                continue;
            }
            let b = &self.markets[sym].book;
            let ask = b
                .asks
                .iter()
                .next()
                .and_then(|(p, q)| q.front().map(|id| (*p, *id)));
            let bid_lvl = b.best_synthetic(Side::Sell);
            if let (Some((ap, id)), Some(i)) = (ask, bid_lvl)
                && b.syn_bids.get(i).is_some_and(|l| l.px >= ap)
            {
                self.synthetic_hit(sym, id, i, Side::Sell, out);
                continue;
            }
            break;
        }
    }

    /// A generated taker fills resting user order `id` (side `maker_side`)
    /// against generated level `i` of the other side.
    fn synthetic_hit(&mut self, sym: usize, id: i64, i: usize, maker_side: Side, out: &mut Outbox) {
        let Some(o) = self.orders.get(&id) else {
            return;
        };
        let (price, rem, closing, acct, ps, side) = (
            o.price,
            o.remaining(),
            o.closing,
            o.account,
            o.position_side,
            o.side,
        );
        let mut q = rem;
        if closing {
            let c = self.closable(acct, sym, ps, side);
            if c.is_zero() {
                self.close_order(id, OrderStatus::Expired, ExecutionType::Expired, 4, out);
                return;
            }
            q = q.min(c);
        }
        let book = &mut self.markets[sym].book;
        let levels = if maker_side == Side::Buy {
            &mut book.syn_asks
        } else {
            &mut book.syn_bids
        };
        let Some(level) = levels.get_mut(i) else {
            return;
        };
        let q = q.min(Decimal::from_raw(level.qty));
        level.qty -= q.raw();
        book.update_id += 1;
        let tid = self.next_trade_id(sym);
        self.fill_order(id, q, price, true, tid, ExecutionType::Trade, out);
        self.on_trade(sym, price, q, maker_side.opposite(), tid, out);
    }

    /// bookTicker frames for symbols whose best bid/ask changed.
    pub(crate) fn publish_bbo_changes(&mut self, out: &mut Outbox) {
        let now = self.now;
        for m in self.markets.iter_mut() {
            let bbo = m.book.bbo();
            if bbo == m.last_bbo {
                continue;
            }
            m.last_bbo = bbo;
            let (b, a) = bbo;
            let (bp, bq) = b.unwrap_or((0, 0));
            let (ap, aq) = a.unwrap_or((0, 0));
            let mut s = String::with_capacity(200);
            s.push_str("{\"e\":\"bookTicker\",");
            json::kv_int(&mut s, "u", m.book.update_id);
            json::kv_int(&mut s, "E", now);
            json::kv_int(&mut s, "T", now);
            json::kv_str(&mut s, "s", &m.ins.symbol);
            json::kv_dec(&mut s, "b", Decimal::from_raw(bp), m.ins.price_dp);
            json::kv_dec(&mut s, "B", Decimal::from_raw(bq), m.ins.qty_dp);
            json::kv_dec(&mut s, "a", Decimal::from_raw(ap), m.ins.price_dp);
            json::kv_dec(&mut s, "A", Decimal::from_raw(aq), m.ins.qty_dp);
            json::close(&mut s, '}');
            out.market.push(MarketFrame {
                stream: format!("{}@bookTicker", m.ins.stream),
                event_type: "bookTicker",
                json: s,
                event_time: now,
            });
        }
    }

    /// depthUpdate diffs and markPriceUpdate frames that are due.
    pub(crate) fn publish_periodic(&mut self, now: i64, out: &mut Outbox) {
        let levels = self.cfg.market.book_levels.max(1) * 2;
        let mark_iv = self.cfg.market.mark_price_interval_ms.max(1);
        for m in self.markets.iter_mut() {
            let mut snapshot = None;
            for p in m.depth_pubs.iter_mut() {
                if now < p.next_due {
                    continue;
                }
                p.next_due = if now - p.next_due > p.interval_ms {
                    now + p.interval_ms
                } else {
                    p.next_due + p.interval_ms
                };
                let u = m.book.update_id;
                if u == p.last_u {
                    continue;
                }
                let snap = snapshot.get_or_insert_with(|| m.book.top(levels)).clone();
                let db = diff_levels(&p.last.0, &snap.0, true);
                let da = diff_levels(&p.last.1, &snap.1, false);
                let mut s = String::with_capacity(256 + 40 * (db.len() + da.len()));
                s.push_str("{\"e\":\"depthUpdate\",");
                json::kv_int(&mut s, "E", now);
                json::kv_int(&mut s, "T", now);
                json::kv_str(&mut s, "s", &m.ins.symbol);
                json::kv_int(&mut s, "U", p.last_u + 1);
                json::kv_int(&mut s, "u", u);
                json::kv_int(&mut s, "pu", p.last_u);
                write_levels(&mut s, "b", &db, m.ins.price_dp, m.ins.qty_dp);
                s.push(',');
                write_levels(&mut s, "a", &da, m.ins.price_dp, m.ins.qty_dp);
                s.push('}');
                // Partial book streams (`@depth5/10/20` at the same cadence)
                // share the diff stream's update ids.
                for (n, name) in [(5usize, "@depth5"), (10, "@depth10"), (20, "@depth20")] {
                    let mut ps = String::with_capacity(256 + 40 * n);
                    ps.push_str("{\"e\":\"depthUpdate\",");
                    json::kv_int(&mut ps, "E", now);
                    json::kv_int(&mut ps, "T", now);
                    json::kv_str(&mut ps, "s", &m.ins.symbol);
                    json::kv_int(&mut ps, "U", p.last_u + 1);
                    json::kv_int(&mut ps, "u", u);
                    json::kv_int(&mut ps, "pu", p.last_u);
                    let nb = snap.0.len().min(n);
                    let na = snap.1.len().min(n);
                    write_levels(
                        &mut ps,
                        "b",
                        snap.0.get(..nb).unwrap_or(&[]),
                        m.ins.price_dp,
                        m.ins.qty_dp,
                    );
                    ps.push(',');
                    write_levels(
                        &mut ps,
                        "a",
                        snap.1.get(..na).unwrap_or(&[]),
                        m.ins.price_dp,
                        m.ins.qty_dp,
                    );
                    ps.push('}');
                    out.market.push(MarketFrame {
                        stream: format!(
                            "{}{}{}",
                            m.ins.stream,
                            name,
                            p.suffix.strip_prefix("@depth").unwrap_or("")
                        ),
                        event_type: "depthUpdate",
                        json: ps,
                        event_time: now,
                    });
                }
                p.last_u = u;
                p.last = snap;
                out.market.push(MarketFrame {
                    stream: format!("{}{}", m.ins.stream, p.suffix),
                    event_type: "depthUpdate",
                    json: s,
                    event_time: now,
                });
            }
            for (due, suffix, iv) in [
                (&mut m.next_mark_1s, "@markPrice@1s", mark_iv),
                (&mut m.next_mark_3s, "@markPrice", mark_iv * 3),
            ] {
                if now < *due {
                    continue;
                }
                *due = if now - *due > iv { now + iv } else { *due + iv };
                let mut s = String::with_capacity(220);
                s.push_str("{\"e\":\"markPriceUpdate\",");
                json::kv_int(&mut s, "E", now);
                json::kv_str(&mut s, "s", &m.ins.symbol);
                json::kv_dec(&mut s, "p", m.mark, m.ins.price_dp + 1);
                json::kv_dec(&mut s, "ap", m.mark, m.ins.price_dp + 1);
                json::kv_dec(&mut s, "i", m.mark, m.ins.price_dp + 1);
                json::kv_dec(&mut s, "P", m.mark, m.ins.price_dp + 1);
                json::kv_str(&mut s, "r", "0.00010000");
                json::kv_int(&mut s, "T", next_funding(now));
                json::close(&mut s, '}');
                out.market.push(MarketFrame {
                    stream: format!("{}{}", m.ins.stream, suffix),
                    event_type: "markPriceUpdate",
                    json: s,
                    event_time: now,
                });
            }
        }
    }
}

/// Next 8-hourly funding time after `now`.
pub fn next_funding(now: i64) -> i64 {
    const EIGHT_H: i64 = 8 * 3600 * 1000;
    (now / EIGHT_H + 1) * EIGHT_H
}

/// `"b":[["px","qty"],...]`.
pub fn write_levels(s: &mut String, k: &str, levels: &[(i64, i64)], pd: u32, qd: u32) {
    json::key(s, k);
    s.push('[');
    for (i, (p, q)) in levels.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('[');
        json::dec(s, Decimal::from_raw(*p), pd);
        s.push(',');
        json::dec(s, Decimal::from_raw(*q), qd);
        s.push(']');
    }
    s.push(']');
}
