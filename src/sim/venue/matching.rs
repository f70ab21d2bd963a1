//! Price-time matching of an incoming (or re-priced) order against resting
//! user orders and the generated book, with self-trade prevention, reduce-only
//! caps and the fill's account effects and events.
use super::api::{MarketFrame, Outbox};
use super::json;
use super::order::{Exec, digits, write_trade_lite};
use super::state::{EventType, Venue, push_user};
use crate::model::decimal::{Decimal, Rounding};
use crate::model::enums::{
    ExecutionType, OrderStatus, OrderType, PositionSide, Side, StpMode, TimeInForce,
};

/// Where the next fill of a taker comes from.
enum Source {
    /// A resting user order (price raw, order id).
    User(i64, i64),
    /// A generated level (index, price raw).
    Synthetic(usize, i64),
}

impl Venue {
    /// Matches a freshly placed order, then rests or expires the remainder.
    pub(crate) fn match_taker(&mut self, id: i64, out: &mut Outbox) {
        self.match_taker_or_rest(id, out, None);
    }

    /// Matching core; `amend` (a modify's AMENDMENT event) is emitted first.
    pub(crate) fn match_taker_or_rest(&mut self, id: i64, out: &mut Outbox, amend: Option<Exec>) {
        if let Some(ex) = amend {
            self.order_event(id, ex, out);
        }
        // Bounded: every iteration fills, expires or stops.
        for _ in 0..100_000 {
            let Some(o) = self.orders.get(&id) else {
                return;
            };
            if o.status.is_closed() {
                return;
            }
            let rem = o.remaining();
            if rem.is_zero() {
                return;
            }
            let (acct, sym, side, tif, stp) = (o.account, o.sym, o.side, o.tif, o.stp);
            let limit = (o.otype != OrderType::Market).then_some(o.price.raw());
            let mut cap = rem;
            if o.closing {
                let closable = self.closable(acct, sym, o.position_side, side);
                if closable.is_zero() {
                    self.close_order(id, OrderStatus::Expired, ExecutionType::Expired, 4, out);
                    return;
                }
                cap = cap.min(closable);
            }
            let Some(src) = self.next_source(sym, side) else {
                break;
            };
            let px = match src {
                Source::User(p, _) | Source::Synthetic(_, p) => p,
            };
            let crosses = match limit {
                None => true,
                Some(l) => (side == Side::Buy && px <= l) || (side == Side::Sell && px >= l),
            };
            if !crosses {
                break;
            }
            match src {
                Source::User(_, maker_id) => {
                    let Some(maker) = self.orders.get(&maker_id) else {
                        // Stale queue entry: drop it.
                        self.markets[sym].book.remove(
                            side.opposite(),
                            Decimal::from_raw(px),
                            maker_id,
                            Decimal::ZERO,
                        );
                        continue;
                    };
                    let stp_active =
                        matches!(tif, TimeInForce::Gtc | TimeInForce::Ioc | TimeInForce::Gtd)
                            && stp != StpMode::None;
                    if maker.account == acct && stp_active {
                        let taker_er = if tif == TimeInForce::Ioc { 3 } else { 1 };
                        match stp {
                            StpMode::ExpireTaker => {
                                self.close_order(
                                    id,
                                    OrderStatus::ExpiredInMatch,
                                    ExecutionType::Expired,
                                    taker_er,
                                    out,
                                );
                                return;
                            }
                            StpMode::ExpireBoth => {
                                self.close_order(
                                    maker_id,
                                    OrderStatus::ExpiredInMatch,
                                    ExecutionType::Expired,
                                    1,
                                    out,
                                );
                                self.close_order(
                                    id,
                                    OrderStatus::ExpiredInMatch,
                                    ExecutionType::Expired,
                                    taker_er,
                                    out,
                                );
                                return;
                            }
                            _ => {
                                self.close_order(
                                    maker_id,
                                    OrderStatus::ExpiredInMatch,
                                    ExecutionType::Expired,
                                    1,
                                    out,
                                );
                                continue;
                            }
                        }
                    }
                    let mut q = cap.min(maker.remaining());
                    if maker.closing {
                        let (m_acct, m_ps, m_side) =
                            (maker.account, maker.position_side, maker.side);
                        let c = self.closable(m_acct, sym, m_ps, m_side);
                        if c.is_zero() {
                            self.close_order(
                                maker_id,
                                OrderStatus::Expired,
                                ExecutionType::Expired,
                                4,
                                out,
                            );
                            continue;
                        }
                        q = q.min(c);
                    }
                    let tid = self.next_trade_id(sym);
                    let price = Decimal::from_raw(px);
                    self.fill_order(id, q, price, false, tid, ExecutionType::Trade, out);
                    self.fill_order(maker_id, q, price, true, tid, ExecutionType::Trade, out);
                    self.on_trade(sym, price, q, side, tid, out);
                }
                Source::Synthetic(i, _) => {
                    let book = &mut self.markets[sym].book;
                    let levels = if side == Side::Buy {
                        &mut book.syn_asks
                    } else {
                        &mut book.syn_bids
                    };
                    let Some(level) = levels.get_mut(i) else {
                        break;
                    };
                    let q = cap.min(Decimal::from_raw(level.qty));
                    level.qty -= q.raw();
                    book.update_id += 1;
                    let tid = self.next_trade_id(sym);
                    let price = Decimal::from_raw(px);
                    self.fill_order(id, q, price, false, tid, ExecutionType::Trade, out);
                    self.on_trade(sym, price, q, side, tid, out);
                }
            }
        }
        self.rest_or_expire(id, out);
    }

    /// After matching: LIMIT GTC/GTD/GTX rests, IOC/FOK remainder expires
    /// (`er=2`), MARKET remainder expires (`er=9`).
    fn rest_or_expire(&mut self, id: i64, out: &mut Outbox) {
        let Some(o) = self.orders.get(&id) else {
            return;
        };
        if o.status.is_closed() || o.remaining().is_zero() {
            return;
        }
        match (o.otype, o.tif) {
            (OrderType::Market | OrderType::Liquidation, _) => {
                self.close_order(id, OrderStatus::Expired, ExecutionType::Expired, 9, out)
            }
            (_, TimeInForce::Ioc | TimeInForce::Fok) => {
                self.close_order(id, OrderStatus::Expired, ExecutionType::Expired, 2, out)
            }
            _ => self.rest(id),
        }
    }

    /// Puts an open order in the book.
    fn rest(&mut self, id: i64) {
        let Some(o) = self.orders.get_mut(&id) else {
            return;
        };
        o.resting = true;
        let (acct, sym, side, price, rem, closing, gtd) = (
            o.account,
            o.sym,
            o.side,
            o.price,
            o.remaining(),
            o.closing,
            o.gtd,
        );
        self.markets[sym].book.insert(side, price, id, rem);
        self.adjust_notional(acct, sym, side, price, rem, true);
        if closing {
            let list = &mut self.accounts[acct].syms[sym].reduce_only_resting;
            if !list.contains(&id) {
                list.push(id);
            }
        }
        if gtd != 0 {
            self.gtd.insert((gtd, id));
        }
    }

    fn next_source(&self, sym: usize, side: Side) -> Option<Source> {
        let b = &self.markets[sym].book;
        let user = b.best_user(side);
        let syn = b.best_synthetic(side).and_then(|i| {
            let l = if side == Side::Buy {
                b.syn_asks.get(i)
            } else {
                b.syn_bids.get(i)
            };
            l.map(|l| (i, l.px))
        });
        match (user, syn) {
            (Some((up, uid)), Some((si, sp))) => {
                let user_better = if side == Side::Buy {
                    up <= sp
                } else {
                    up >= sp
                };
                Some(if user_better {
                    Source::User(up, uid)
                } else {
                    Source::Synthetic(si, sp)
                })
            }
            (Some((up, uid)), None) => Some(Source::User(up, uid)),
            (None, Some((si, sp))) => Some(Source::Synthetic(si, sp)),
            (None, None) => None,
        }
    }

    /// How much a closing order may still fill: the opposing position size.
    pub(crate) fn closable(
        &self,
        acct: usize,
        sym: usize,
        ps: PositionSide,
        side: Side,
    ) -> Decimal {
        let pos = self.accounts[acct].syms[sym].pos[super::account::ps_index(ps)].amt;
        let opposes =
            (side == Side::Buy && pos.is_negative()) || (side == Side::Sell && pos.is_positive());
        if opposes { pos.abs() } else { Decimal::ZERO }
    }

    pub(crate) fn next_trade_id(&mut self, sym: usize) -> i64 {
        let m = &mut self.markets[sym];
        m.next_trade_id += 1;
        m.next_trade_id
    }

    /// A trade printed on the tape: last price and an aggTrade frame.
    pub(crate) fn on_trade(
        &mut self,
        sym: usize,
        price: Decimal,
        qty: Decimal,
        taker_side: Side,
        tid: i64,
        out: &mut Outbox,
    ) {
        let now = self.now;
        let m = &mut self.markets[sym];
        m.last = price;
        let st = &mut m.stats;
        st.high = st.high.max(price);
        st.low = st.low.min(price);
        st.volume = st.volume.checked_add(qty).unwrap_or(st.volume);
        st.quote_volume = price
            .checked_mul(qty, Rounding::HalfEven)
            .and_then(|q| st.quote_volume.checked_add(q))
            .unwrap_or(st.quote_volume);
        st.last_qty = qty;
        st.count += 1;
        m.next_agg_id += 1;
        let mut s = String::with_capacity(200);
        s.push_str("{\"e\":\"aggTrade\",");
        json::kv_int(&mut s, "E", now);
        json::kv_str(&mut s, "s", &m.ins.symbol);
        json::kv_int(&mut s, "a", m.next_agg_id);
        json::kv_dec(&mut s, "p", price, m.ins.price_dp);
        json::kv_dec(&mut s, "q", qty, m.ins.qty_dp);
        json::kv_dec(&mut s, "nq", qty, m.ins.qty_dp);
        json::kv_int(&mut s, "f", tid);
        json::kv_int(&mut s, "l", tid);
        json::kv_int(&mut s, "T", now);
        json::kv_bool(&mut s, "m", taker_side == Side::Sell);
        json::close(&mut s, '}');
        out.market.push(MarketFrame {
            stream: format!("{}@aggTrade", m.ins.stream),
            event_type: "aggTrade",
            json: s,
            event_time: now,
        });
        self.triggers_dirty = true;
    }

    /// Applies one fill to an order and its account, with TRADE_LITE,
    /// ORDER_TRADE_UPDATE and ACCOUNT_UPDATE (in that order).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn fill_order(
        &mut self,
        id: i64,
        qty: Decimal,
        price: Decimal,
        maker: bool,
        trade_id: i64,
        x: ExecutionType,
        out: &mut Outbox,
    ) {
        if let Some(stamps) = &self.fill_stamps {
            stamps.stamp(trade_id, crate::latency::now_ns());
            if out.fill_stamps.is_none() {
                out.fill_stamps = Some(std::sync::Arc::clone(stamps));
            }
        }
        let first_frame = out.user.len();
        let now = self.now;
        let Some(o) = self.orders.get_mut(&id) else {
            return;
        };
        let before = o.remaining();
        o.executed = o.executed.checked_add(qty).unwrap_or(o.executed);
        let quote = price
            .checked_mul(qty, Rounding::HalfEven)
            .unwrap_or(Decimal::ZERO);
        o.cum_quote = o.cum_quote.checked_add(quote).unwrap_or(o.cum_quote);
        let filled = o.remaining().is_zero();
        o.status = if filled {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        o.update_time = now;
        let release = if filled || before.is_zero() {
            o.im
        } else {
            o.im.checked_mul(qty, Rounding::HalfEven)
                .and_then(|v| v.checked_div(before, Rounding::HalfEven))
                .unwrap_or(o.im)
        };
        o.im = o.im.checked_sub(release).unwrap_or(Decimal::ZERO);
        let (acct, sym, side, ps, oprice, resting, gtd, algo) = (
            o.account,
            o.sym,
            o.side,
            o.position_side,
            o.price,
            o.resting,
            o.gtd,
            o.algo_id,
        );
        if resting {
            if filled {
                o.resting = false;
                self.markets[sym].book.remove(side, oprice, id, qty);
            } else {
                self.markets[sym].book.reduce_qty(side, oprice, qty);
            }
            self.adjust_notional(acct, sym, side, oprice, qty, false);
        }
        let a = &mut self.accounts[acct];
        a.open_order_im = a
            .open_order_im
            .checked_sub(release)
            .unwrap_or(Decimal::ZERO);
        let rate = if maker { a.maker_fee } else { a.taker_fee };
        let eff = a.apply_fill(sym, ps, side, qty, price, rate, now);
        a.trades.push(super::account::Trade {
            id: trade_id,
            sym,
            order_id: id,
            side,
            price,
            qty,
            realized: eff.realized,
            commission: eff.commission,
            time: now,
            position_side: ps,
            maker,
        });
        if let Some(o) = self.orders.get_mut(&id) {
            o.realized = o.realized.checked_add(eff.realized).unwrap_or(o.realized);
            o.commission = o
                .commission
                .checked_add(eff.commission)
                .unwrap_or(o.commission);
        }
        if filled {
            self.finish_bookkeeping(acct, sym, id, Decimal::ZERO, gtd);
        }
        let mut ex = Exec::plain(x);
        ex.last_qty = qty;
        ex.last_price = price;
        ex.commission = Some(eff.commission);
        ex.trade_id = trade_id;
        ex.maker = maker;
        ex.realized = eff.realized;
        let first = self.cfg.account_update_first;
        if first {
            self.account_update(acct, sym, ps, "ORDER", out);
        }
        let t = self.stamp(acct, EventType::TradeLite);
        if let Some(o) = self.orders.get(&id) {
            let mut s = String::with_capacity(300);
            write_trade_lite(&mut s, o, &self.markets[sym].ins, &ex, t, t);
            push_user(out, acct, EventType::TradeLite, s, t, id, &o.client_id);
        }
        self.order_event(id, ex, out);
        for f in out.user.iter_mut().skip(first_frame) {
            if f.order_id == id {
                f.trade_id = trade_id;
            }
        }
        if !first {
            self.account_update(acct, sym, ps, "ORDER", out);
        }
        if filled && algo != 0 {
            self.after_order_closed(id, out);
        }
        self.knock_out_reduce_only(acct, sym, out);
    }

    /// ACCOUNT_UPDATE with the USDT balance and one position leg.
    pub(crate) fn account_update(
        &mut self,
        acct: usize,
        sym: usize,
        ps: PositionSide,
        reason: &str,
        out: &mut Outbox,
    ) {
        let t = self.stamp(acct, EventType::AccountUpdate);
        let a = &self.accounts[acct];
        let m = &self.markets[sym];
        let st = &a.syms[sym];
        let p = &st.pos[super::account::ps_index(ps)];
        let mut s = String::with_capacity(400);
        s.push_str("{\"e\":\"ACCOUNT_UPDATE\",");
        json::kv_int(&mut s, "E", t);
        json::kv_int(&mut s, "T", t);
        s.push_str("\"a\":{");
        json::kv_str(&mut s, "m", reason);
        s.push_str("\"B\":[{");
        json::kv_str(&mut s, "a", "USDT");
        json::kv_dec(&mut s, "wb", a.wallet, digits(a.wallet, 8));
        json::kv_dec(&mut s, "cw", a.wallet, digits(a.wallet, 8));
        json::kv_str(&mut s, "bc", "0");
        json::close(&mut s, '}');
        s.push_str("],\"P\":[{");
        json::kv_str(&mut s, "s", &m.ins.symbol);
        json::kv_dec(&mut s, "pa", p.amt, m.ins.qty_dp);
        json::kv_dec(&mut s, "ep", p.entry, digits(p.entry, m.ins.price_dp));
        let bep = p.break_even();
        json::kv_dec(&mut s, "bep", bep, digits(bep, m.ins.price_dp));
        json::kv_dec(&mut s, "cr", p.realized, digits(p.realized, 8));
        let up = p.unrealized(m.mark);
        json::kv_dec(&mut s, "up", up, digits(up, 8));
        json::kv_str(&mut s, "mt", if st.isolated { "isolated" } else { "cross" });
        json::kv_str(&mut s, "iw", "0");
        json::kv_str(&mut s, "ps", ps.as_str());
        json::close(&mut s, '}');
        s.push_str("]}}");
        push_user(out, acct, EventType::AccountUpdate, s, t, 0, "");
    }

    /// Resting reduce-only (or hedge closing) orders that can no longer
    /// reduce the position are expired with `er=4`.
    fn knock_out_reduce_only(&mut self, acct: usize, sym: usize, out: &mut Outbox) {
        if self.accounts[acct].syms[sym].reduce_only_resting.is_empty() {
            return;
        }
        let ids = self.accounts[acct].syms[sym].reduce_only_resting.clone();
        for id in ids {
            let Some(o) = self.orders.get(&id) else {
                continue;
            };
            if self.closable(acct, sym, o.position_side, o.side).is_zero() {
                self.close_order(id, OrderStatus::Expired, ExecutionType::Expired, 4, out);
            }
        }
    }
}
