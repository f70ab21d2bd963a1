//! Order entry: validation with the venue's codes, placement, cancel, modify
//! and the order queries. Matching itself is in `matching.rs`.
use super::api::{Outbox, Params};
use super::json;
use super::order::{Exec, Order, write_order, write_order_update};
use super::params::{self, VResult, VenueError};
use super::state::{EventType, Venue, push_user};
use crate::model::decimal::{Decimal, Rounding};
use crate::model::enums::{
    ExecutionType, OrderStatus, OrderType, PositionSide, PriceMatch, RespType, Side, StpMode,
    TimeInForce, WorkingType,
};

/// A validated new order, from REST, a batch item, an algo trigger or a
/// venue-generated (liquidation/ADL) order.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Symbol index.
    pub sym: usize,
    /// Side.
    pub side: Side,
    /// LIMIT or MARKET (LIQUIDATION for venue orders).
    pub otype: OrderType,
    /// Reported origType.
    pub orig_type: OrderType,
    /// Time in force.
    pub tif: TimeInForce,
    /// Limit price (0 for MARKET).
    pub price: Decimal,
    /// Quantity.
    pub qty: Decimal,
    /// reduceOnly flag as sent.
    pub reduce_only: bool,
    /// closePosition (algo children).
    pub close_position: bool,
    /// Position side.
    pub ps: PositionSide,
    /// STP mode.
    pub stp: StpMode,
    /// goodTillDate.
    pub gtd: i64,
    /// priceMatch.
    pub price_match: PriceMatch,
    /// workingType (algo children).
    pub working_type: WorkingType,
    /// stopPrice (algo children).
    pub stop_price: Decimal,
    /// priceProtect (algo children).
    pub price_protect: bool,
    /// Client id (None ⇒ generated).
    pub client_id: Option<String>,
    /// ACK or RESULT.
    pub resp: RespType,
    /// Parent algo order (0 = none).
    pub algo_id: i64,
    /// Trailing parameters of the parent.
    pub activate_price: Option<Decimal>,
    /// Trailing callback rate of the parent.
    pub callback_rate: Option<Decimal>,
}

/// -2013, shared by queries.
pub fn no_such_order() -> VenueError {
    VenueError::new(-2013, "Order does not exist.")
}

impl Venue {
    /// Parses and filter-checks `POST /fapi/v1/order` parameters (everything
    /// that does not depend on the account's positions and orders).
    pub(crate) fn parse_new_order(&self, acct: usize, p: &Params) -> VResult<Spec> {
        let sym = self.symbol_param(p)?;
        let side = match Side::from_wire(params::required(p, "side")?) {
            s @ (Side::Buy | Side::Sell) => s,
            _ => return Err(VenueError::new(-1117, "Invalid side.")),
        };
        let otype = OrderType::from_wire(params::required(p, "type")?);
        if otype.is_conditional() {
            return Err(VenueError::new(
                -4120,
                "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
            ));
        }
        if !matches!(otype, OrderType::Limit | OrderType::Market) {
            return Err(VenueError::new(-1116, "Invalid orderType."));
        }
        let hedge = self.accounts.get(acct).is_some_and(|a| a.hedge);
        let ps = self.position_side_param(p, hedge)?;
        let reduce_only = if hedge {
            if p.get("reduceOnly").is_some() {
                return Err(VenueError::not_required("reduceonly"));
            }
            false
        } else {
            params::boolean(p, "reduceOnly")?.unwrap_or(false)
        };
        let qty =
            params::decimal(p, "quantity")?.ok_or_else(|| VenueError::mandatory("quantity"))?;
        let price_match = match params::optional(p, "priceMatch") {
            None => PriceMatch::None,
            Some(v) => match PriceMatch::from_wire(v) {
                PriceMatch::Opponent10 | PriceMatch::Opponent20 | PriceMatch::Unknown(_) => {
                    return Err(VenueError::new(-5037, "Invalid price match."));
                }
                pm => pm,
            },
        };
        let mut price = params::decimal(p, "price")?;
        let tif = if otype == OrderType::Limit {
            let tif = TimeInForce::from_wire(params::required(p, "timeInForce")?);
            if !matches!(
                tif,
                TimeInForce::Gtc
                    | TimeInForce::Ioc
                    | TimeInForce::Fok
                    | TimeInForce::Gtx
                    | TimeInForce::Gtd
            ) {
                return Err(VenueError::new(-1115, "Invalid timeInForce."));
            }
            if price.is_some() && price_match != PriceMatch::None {
                return Err(VenueError::not_required("priceMatch"));
            }
            if price_match != PriceMatch::None {
                price = Some(self.match_price(sym, side, price_match)?);
            }
            if price.is_none() {
                return Err(VenueError::mandatory("price"));
            }
            tif
        } else {
            if price.is_some() {
                return Err(VenueError::not_required("price"));
            }
            TimeInForce::Gtc
        };
        let price = price.unwrap_or(Decimal::ZERO);
        let client_id = match p.get("newClientOrderId") {
            None => None,
            Some(c) if params::valid_client_id(c) => Some(c.to_string()),
            Some(_) => return Err(VenueError::new(-4015, "Client order id is not valid.")),
        };
        let resp = match params::optional(p, "newOrderRespType") {
            None => RespType::Ack,
            Some(v) => match RespType::from_wire(v) {
                RespType::Unknown(_) => {
                    return Err(VenueError::new(-1136, "Invalid newOrderRespType."));
                }
                r => r,
            },
        };
        let stp = self.stp_param(p)?;
        let gtd = self.gtd_param(p, tif)?;
        self.check_filters(sym, otype, price, qty, reduce_only, side)?;
        Ok(Spec {
            sym,
            side,
            otype,
            orig_type: otype,
            tif,
            price,
            qty,
            reduce_only,
            close_position: false,
            ps,
            stp,
            gtd,
            price_match,
            working_type: WorkingType::ContractPrice,
            stop_price: Decimal::ZERO,
            price_protect: false,
            client_id,
            resp,
            algo_id: 0,
            activate_price: None,
            callback_rate: None,
        })
    }

    /// `positionSide` against the account's mode (-4061).
    pub(crate) fn position_side_param(&self, p: &Params, hedge: bool) -> VResult<PositionSide> {
        let ps = match params::optional(p, "positionSide") {
            None => PositionSide::Both,
            Some(v) => match PositionSide::from_wire(v) {
                PositionSide::Unknown(_) => {
                    return Err(VenueError::new(-4060, "Invalid position side."));
                }
                ps => ps,
            },
        };
        let ok = if hedge {
            ps != PositionSide::Both
        } else {
            ps == PositionSide::Both
        };
        if ok {
            Ok(ps)
        } else {
            Err(VenueError::new(
                -4061,
                "Order's position side does not match user's setting.",
            ))
        }
    }

    /// `selfTradePreventionMode` (default from settings).
    pub(crate) fn stp_param(&self, p: &Params) -> VResult<StpMode> {
        match params::optional(p, "selfTradePreventionMode") {
            None => Ok(self.cfg.default_stp),
            Some(v) => match StpMode::from_wire(v) {
                StpMode::Unknown(_) => {
                    Err(VenueError::new(-5039, "Invalid self trade prevention mode"))
                }
                m => Ok(m),
            },
        }
    }

    /// `goodTillDate`: required for GTD, > now + 600 s and < 253402300799000
    /// (-5040); second precision.
    pub(crate) fn gtd_param(&self, p: &Params, tif: TimeInForce) -> VResult<i64> {
        let g = params::integer(p, "goodTillDate")?;
        if tif != TimeInForce::Gtd {
            return Ok(0);
        }
        let g = g.ok_or_else(|| VenueError::mandatory("goodTillDate"))?;
        if g <= self.now + 600_000 || g >= 253_402_300_799_000 {
            return Err(VenueError::new(
                -5040,
                "The goodTillDate timestamp must be greater than the current time plus 600 seconds and smaller than 253402300799000.",
            ));
        }
        Ok(g / 1000 * 1000)
    }

    /// Price chosen by `priceMatch` from the current book.
    fn match_price(&self, sym: usize, side: Side, pm: PriceMatch) -> VResult<Decimal> {
        let (bids, asks) = self.markets[sym].book.top(20);
        let (levels, n) = match pm {
            PriceMatch::Opponent => (if side == Side::Buy { &asks } else { &bids }, 1),
            PriceMatch::Opponent5 => (if side == Side::Buy { &asks } else { &bids }, 5),
            PriceMatch::Queue => (if side == Side::Buy { &bids } else { &asks }, 1),
            PriceMatch::Queue5 => (if side == Side::Buy { &bids } else { &asks }, 5),
            PriceMatch::Queue10 => (if side == Side::Buy { &bids } else { &asks }, 10),
            PriceMatch::Queue20 => (if side == Side::Buy { &bids } else { &asks }, 20),
            _ => return Err(VenueError::new(-5037, "Invalid price match.")),
        };
        levels
            .get(n - 1)
            .or(levels.last())
            .map(|l| Decimal::from_raw(l.0))
            .ok_or_else(|| VenueError::new(-5041, "No depth matches this BBO order."))
    }

    /// PRICE_FILTER, LOT_SIZE/MARKET_LOT_SIZE, MIN_NOTIONAL, PERCENT_PRICE.
    pub(crate) fn check_filters(
        &self,
        sym: usize,
        otype: OrderType,
        price: Decimal,
        qty: Decimal,
        reduce_only: bool,
        side: Side,
    ) -> VResult<()> {
        let m = &self.markets[sym];
        let c = &m.ins.cfg;
        let precision = || {
            VenueError::new(
                -1111,
                "Precision is over the maximum defined for this asset.",
            )
        };
        if qty.scale() > c.quantity_precision.max(c.step_size.scale()) {
            return Err(precision());
        }
        if !qty.is_positive() {
            return Err(VenueError::new(-4003, "Quantity less than zero."));
        }
        if qty < c.min_qty {
            return Err(VenueError::new(-4004, "Quantity less than min quantity."));
        }
        let max_qty = if otype == OrderType::Market {
            c.market_max_qty
        } else {
            c.max_qty
        };
        if !max_qty.is_zero() && qty > max_qty {
            return Err(VenueError::new(
                -4005,
                "Quantity greater than max quantity.",
            ));
        }
        if let Some(rel) = qty.checked_sub(c.min_qty)
            && !c.step_size.is_zero()
            && !rel.is_multiple_of(c.step_size)
        {
            return Err(VenueError::new(-4023, "Qty not increased by step size."));
        }
        let ref_price = if otype == OrderType::Limit {
            if price.scale() > c.price_precision.max(c.tick_size.scale()) {
                return Err(precision());
            }
            if !price.is_positive() {
                return Err(VenueError::new(-4001, "Price less than 0."));
            }
            if !c.min_price.is_zero() && price < c.min_price {
                return Err(VenueError::new(-4013, "Price less than min price."));
            }
            if !c.max_price.is_zero() && price > c.max_price {
                return Err(VenueError::new(-4002, "Price greater than max price."));
            }
            let rel = price.checked_sub(c.min_price).unwrap_or(price);
            if !c.tick_size.is_zero() && !rel.is_multiple_of(c.tick_size) {
                return Err(VenueError::new(-4014, "Price not increased by tick size."));
            }
            price
        } else {
            m.mark
        };
        let notional = ref_price
            .checked_mul(qty, Rounding::HalfEven)
            .unwrap_or(Decimal::MAX);
        if !reduce_only && notional < c.min_notional {
            let mut buf = [0u8; 24];
            return Err(VenueError::owned(
                -4164,
                format!(
                    "Order's notional must be no smaller than {} (unless you choose reduce only).",
                    c.min_notional.format_into(&mut buf)
                ),
            ));
        }
        if otype == OrderType::Limit {
            let mut buf = [0u8; 24];
            if side == Side::Buy {
                let cap = m
                    .mark
                    .checked_mul(c.multiplier_up, Rounding::Floor)
                    .and_then(|v| v.round_to_step(c.tick_size, Rounding::Floor).ok())
                    .unwrap_or(Decimal::MAX);
                if price > cap {
                    return Err(VenueError::owned(
                        -4016,
                        format!(
                            "Limit price can't be higher than {}.",
                            cap.format_into(&mut buf)
                        ),
                    ));
                }
            } else {
                let floor = m
                    .mark
                    .checked_mul(c.multiplier_down, Rounding::Ceil)
                    .and_then(|v| v.round_to_step(c.tick_size, Rounding::Ceil).ok())
                    .unwrap_or(Decimal::ZERO);
                if price < floor {
                    return Err(VenueError::owned(
                        -4024,
                        format!(
                            "Limit price can't be lower than {}.",
                            floor.format_into(&mut buf)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// `POST /fapi/v1/order` and `/order/test`: the reply body.
    pub(crate) fn new_order(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
        test: bool,
    ) -> VResult<String> {
        let spec = self.parse_new_order(acct, p)?;
        self.place(acct, spec, out, test)
    }

    /// Account-level checks, then creation, NEW event, matching; returns the
    /// ACK or RESULT body.
    pub(crate) fn place(
        &mut self,
        acct: usize,
        spec: Spec,
        out: &mut Outbox,
        test: bool,
    ) -> VResult<String> {
        let (closing, im) = self.pre_trade_checks(acct, &spec)?;
        let sym = spec.sym;
        if test {
            let o = self.build_order(acct, &spec, 0, closing, Decimal::ZERO);
            let mut body = String::with_capacity(600);
            write_order(&mut body, &o, &self.markets[sym].ins, false);
            return Ok(body);
        }
        let id = self.next_order_id;
        self.next_order_id += 1;
        let o = self.build_order(acct, &spec, id, closing, im);
        let client = o.client_id.clone();
        let a = &mut self.accounts[acct];
        a.open_order_im = a.open_order_im.checked_add(im).unwrap_or(a.open_order_im);
        let st = &mut a.syms[sym];
        st.client_ids.insert(client.clone(), id);
        st.order_ids.push(id);
        st.open_ids.insert(id);
        self.orders.insert(id, o);
        if spec.algo_id != 0 {
            self.algo_child_accepted(spec.algo_id, id, out);
        }
        let mut body = String::new();
        if spec.resp == RespType::Ack {
            body.reserve(600);
            if let Some(o) = self.orders.get(&id) {
                write_order(&mut body, o, &self.markets[sym].ins, false);
            }
        }
        self.order_event(id, Exec::plain(ExecutionType::New), out);
        self.match_taker(id, out);
        if spec.resp == RespType::Result {
            body.reserve(600);
            if let Some(o) = self.orders.get(&id) {
                write_order(&mut body, o, &self.markets[sym].ins, false);
            }
        }
        Ok(body)
    }

    fn build_order(&self, acct: usize, s: &Spec, id: i64, closing: bool, im: Decimal) -> Order {
        let client_id = s
            .client_id
            .clone()
            .unwrap_or_else(|| generated_client_id(id));
        Order {
            id,
            account: acct,
            sym: s.sym,
            client_id,
            side: s.side,
            otype: s.otype,
            orig_type: s.orig_type,
            tif: s.tif,
            price: s.price,
            qty: s.qty,
            executed: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: OrderStatus::New,
            reduce_only: s.reduce_only,
            close_position: s.close_position,
            position_side: s.ps,
            stop_price: s.stop_price,
            working_type: s.working_type,
            price_protect: s.price_protect,
            price_match: s.price_match,
            stp: s.stp,
            gtd: s.gtd,
            time: self.now,
            update_time: self.now,
            im,
            algo_id: s.algo_id,
            activate_price: s.activate_price,
            callback_rate: s.callback_rate,
            closing,
            resting: false,
            modify_count: 0,
            expire_reason: 0,
            realized: Decimal::ZERO,
            commission: Decimal::ZERO,
        }
    }

    /// Duplicate id (-4116), open order cap (-2025), reduce-only (-2022),
    /// balance (-2018) and initial margin (-2019), FOK (-5021), GTX (-5022).
    /// Returns (closing, initial margin to reserve).
    fn pre_trade_checks(&self, acct: usize, s: &Spec) -> VResult<(bool, Decimal)> {
        let a = &self.accounts[acct];
        let st = &a.syms[s.sym];
        let m = &self.markets[s.sym];
        if let Some(c) = &s.client_id
            && st
                .client_ids
                .get(c)
                .is_some_and(|id| st.open_ids.contains(id))
        {
            return Err(VenueError::new(-4116, "clientOrderId is duplicated"));
        }
        if st.open_ids.len() >= m.ins.cfg.max_num_orders {
            return Err(VenueError::new(-2025, "Reach max open order limit."));
        }
        let pos = st.pos[super::account::ps_index(s.ps)].amt;
        let hedge_close = matches!(
            (s.ps, s.side),
            (PositionSide::Long, Side::Sell) | (PositionSide::Short, Side::Buy)
        );
        let closing = s.reduce_only || s.close_position || hedge_close;
        if closing {
            let opposes = (s.side == Side::Buy && pos.is_negative())
                || (s.side == Side::Sell && pos.is_positive());
            if !opposes || (hedge_close && s.qty > pos.abs() && !s.close_position) {
                return Err(VenueError::new(-2022, "ReduceOnly Order is rejected."));
            }
        }
        if !a.wallet.is_positive() {
            return Err(VenueError::new(-2018, "Balance is insufficient."));
        }
        let ref_price = if s.otype == OrderType::Market {
            let best = self.best_opposite(s.sym, s.side).unwrap_or(m.mark);
            // PERCENT_PRICE for MARKET: the counterparty's best price must lie
            // inside the mark band (-4131).
            let c = &m.ins.cfg;
            let outside = if s.side == Side::Buy {
                m.mark
                    .checked_mul(c.multiplier_up, Rounding::Floor)
                    .is_some_and(|cap| best > cap)
            } else {
                m.mark
                    .checked_mul(c.multiplier_down, Rounding::Ceil)
                    .is_some_and(|floor| best < floor)
            };
            if outside && s.otype != OrderType::Liquidation {
                return Err(VenueError::new(
                    -4131,
                    "The counterparty's best price does not meet the PERCENT_PRICE filter limit",
                ));
            }
            best
        } else {
            s.price
        };
        let im = if closing {
            Decimal::ZERO
        } else {
            let opening = if !a.hedge
                && ((s.side == Side::Buy && pos.is_negative())
                    || (s.side == Side::Sell && pos.is_positive()))
            {
                s.qty
                    .checked_sub(pos.abs())
                    .filter(|v| v.is_positive())
                    .unwrap_or(Decimal::ZERO)
            } else {
                s.qty
            };
            let lev = Decimal::from_int(i64::from(st.leverage)).unwrap_or(Decimal::ONE);
            ref_price
                .checked_mul(opening, Rounding::HalfEven)
                .and_then(|n| n.checked_div(lev, Rounding::Ceil))
                .unwrap_or(Decimal::MAX)
        };
        if im.is_positive() && a.available(self.markets.iter().map(|m| m.mark)) < im {
            return Err(VenueError::new(-2019, "Margin is insufficient."));
        }
        if s.otype == OrderType::Limit {
            match s.tif {
                TimeInForce::Gtx if self.would_cross(s.sym, s.side, s.price) => {
                    return Err(VenueError::new(
                        -5022,
                        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
                    ));
                }
                TimeInForce::Fok if self.fillable(s.sym, s.side, s.price, s.qty) < s.qty => {
                    return Err(VenueError::new(
                        -5021,
                        "Due to the order could not be filled immediately, the FOK order has been rejected.",
                    ));
                }
                _ => {}
            }
        }
        Ok((closing, im))
    }

    /// Best price a taker of `side` would hit.
    pub(crate) fn best_opposite(&self, sym: usize, side: Side) -> Option<Decimal> {
        let b = &self.markets[sym].book;
        let user = b.best_user(side).map(|(p, _)| p);
        let syn = b.best_synthetic(side).map(|i| {
            if side == Side::Buy {
                b.syn_asks[i].px
            } else {
                b.syn_bids[i].px
            }
        });
        let best = match (user, syn) {
            (Some(u), Some(s)) => Some(if side == Side::Buy {
                u.min(s)
            } else {
                u.max(s)
            }),
            (u, s) => u.or(s),
        };
        best.map(Decimal::from_raw)
    }

    fn would_cross(&self, sym: usize, side: Side, price: Decimal) -> bool {
        match self.best_opposite(sym, side) {
            Some(b) if side == Side::Buy => b <= price,
            Some(b) => b >= price,
            None => false,
        }
    }

    /// Quantity available to a taker up to `limit` (FOK check; STP is
    /// inactive for FOK so every order counts).
    fn fillable(&self, sym: usize, side: Side, limit: Decimal, want: Decimal) -> Decimal {
        let b = &self.markets[sym].book;
        let lim = limit.raw();
        let mut sum: i64 = 0;
        let target = want.raw();
        if side == Side::Buy {
            for (_, q) in b.ask_qty.range(..=lim) {
                sum = sum.saturating_add(*q);
                if sum >= target {
                    return want;
                }
            }
            for l in b.syn_asks.iter().filter(|l| l.px <= lim) {
                sum = sum.saturating_add(l.qty);
            }
        } else {
            for (_, q) in b.bid_qty.range(lim..).rev() {
                sum = sum.saturating_add(*q);
                if sum >= target {
                    return want;
                }
            }
            for l in b.syn_bids.iter().filter(|l| l.px >= lim) {
                sum = sum.saturating_add(l.qty);
            }
        }
        Decimal::from_raw(sum)
    }

    /// Emits an ORDER_TRADE_UPDATE for `id` with the account's open notional.
    pub(crate) fn order_event(&mut self, id: i64, mut ex: Exec, out: &mut Outbox) {
        let Some(acct) = self.orders.get(&id).map(|o| o.account) else {
            return;
        };
        let t = self.stamp(acct, EventType::OrderTradeUpdate);
        let Some(o) = self.orders.get(&id) else {
            return;
        };
        let st = &self.accounts[acct].syms[o.sym];
        ex.bid_notional = st.bid_notional;
        ex.ask_notional = st.ask_notional;
        let mut s = String::with_capacity(720);
        write_order_update(&mut s, o, &self.markets[o.sym].ins, &ex, t, t);
        push_user(
            out,
            acct,
            EventType::OrderTradeUpdate,
            s,
            t,
            id,
            &o.client_id,
        );
    }

    /// Closes an order: out of the book, margin released, bookkeeping, the
    /// event, and the parent algo order finished.
    pub(crate) fn close_order(
        &mut self,
        id: i64,
        status: OrderStatus,
        x: ExecutionType,
        er: u8,
        out: &mut Outbox,
    ) {
        let now = self.now;
        let Some(o) = self.orders.get_mut(&id) else {
            return;
        };
        if o.status.is_closed() {
            return;
        }
        o.status = status;
        o.expire_reason = er;
        o.update_time = now;
        let (acct, sym, side, price, rem, resting, im, gtd) = (
            o.account,
            o.sym,
            o.side,
            o.price,
            o.remaining(),
            o.resting,
            o.im,
            o.gtd,
        );
        o.resting = false;
        o.im = Decimal::ZERO;
        let unfilled = o.executed.is_zero();
        if resting {
            self.markets[sym].book.remove(side, price, id, rem);
            self.adjust_notional(acct, sym, side, price, rem, false);
        }
        self.finish_bookkeeping(acct, sym, id, im, gtd);
        if unfilled && status != OrderStatus::Filled {
            self.history.push_back((now, id, false));
        }
        self.order_event(id, Exec::plain(x), out);
        self.after_order_closed(id, out);
    }

    /// Open-order sets, reserved margin, GTD index.
    pub(crate) fn finish_bookkeeping(
        &mut self,
        acct: usize,
        sym: usize,
        id: i64,
        im: Decimal,
        gtd: i64,
    ) {
        let a = &mut self.accounts[acct];
        a.open_order_im = a.open_order_im.checked_sub(im).unwrap_or(Decimal::ZERO);
        let st = &mut a.syms[sym];
        st.open_ids.remove(&id);
        st.reduce_only_resting.retain(|x| *x != id);
        if gtd != 0 {
            self.gtd.remove(&(gtd, id));
        }
    }

    /// Adds (`add`) or removes resting notional for `b`/`a`.
    pub(crate) fn adjust_notional(
        &mut self,
        acct: usize,
        sym: usize,
        side: Side,
        price: Decimal,
        qty: Decimal,
        add: bool,
    ) {
        let n = price
            .checked_mul(qty, Rounding::HalfEven)
            .unwrap_or(Decimal::ZERO);
        let st = &mut self.accounts[acct].syms[sym];
        let slot = if side == Side::Buy {
            &mut st.bid_notional
        } else {
            &mut st.ask_notional
        };
        *slot = if add {
            slot.checked_add(n).unwrap_or(*slot)
        } else {
            slot.checked_sub(n)
                .filter(|v| !v.is_negative())
                .unwrap_or(Decimal::ZERO)
        };
    }

    /// Finds an order of `acct` on `sym` by `orderId` (wins) or
    /// `origClientOrderId`.
    pub(crate) fn find_order(&self, acct: usize, sym: usize, p: &Params) -> VResult<Option<i64>> {
        if let Some(id) = params::integer(p, "orderId")? {
            return Ok(self
                .orders
                .get(&id)
                .filter(|o| o.account == acct && o.sym == sym)
                .map(|o| o.id));
        }
        match params::optional(p, "origClientOrderId") {
            Some(c) => Ok(self.accounts[acct].syms[sym]
                .client_ids
                .get(c)
                .copied()
                .filter(|id| self.orders.contains_key(id))),
            None => Err(VenueError::owned(
                -1102,
                "Either orderId or origClientOrderId must be sent.".into(),
            )),
        }
    }

    /// `DELETE /fapi/v1/order`.
    pub(crate) fn cancel_order_req(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let id = self.find_order(acct, sym, p)?;
        self.cancel_one(acct, sym, id, out)
    }

    fn cancel_one(
        &mut self,
        _acct: usize,
        sym: usize,
        id: Option<i64>,
        out: &mut Outbox,
    ) -> VResult<String> {
        let id = id
            .filter(|id| self.orders.get(id).is_some_and(|o| !o.status.is_closed()))
            .ok_or_else(|| VenueError::new(-2011, "Unknown order sent."))?;
        self.close_order(id, OrderStatus::Canceled, ExecutionType::Canceled, 0, out);
        let mut body = String::with_capacity(600);
        if let Some(o) = self.orders.get(&id) {
            write_order(&mut body, o, &self.markets[sym].ins, false);
        }
        Ok(body)
    }

    /// `GET /fapi/v1/order` (`open_only` = `/openOrder`).
    pub(crate) fn query_order(&self, acct: usize, p: &Params, open_only: bool) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let o = self
            .find_order(acct, sym, p)?
            .and_then(|id| self.orders.get(&id))
            .filter(|o| !open_only || !o.status.is_closed())
            .ok_or_else(no_such_order)?;
        let mut body = String::with_capacity(640);
        write_order(&mut body, o, &self.markets[sym].ins, true);
        Ok(body)
    }

    /// `GET /fapi/v1/openOrders` (symbol optional).
    pub(crate) fn open_orders(&self, acct: usize, p: &Params) -> VResult<String> {
        let only = self.optional_symbol_param(p)?;
        let mut body = String::from("[");
        for (sym, st) in self.accounts[acct].syms.iter().enumerate() {
            if only.is_some_and(|s| s != sym) {
                continue;
            }
            for id in &st.open_ids {
                if let Some(o) = self.orders.get(id) {
                    write_order(&mut body, o, &self.markets[sym].ins, true);
                    body.push(',');
                }
            }
        }
        json::close(&mut body, ']');
        Ok(body)
    }

    /// `GET /fapi/v1/allOrders`.
    pub(crate) fn all_orders(&self, acct: usize, p: &Params) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let anchor = params::integer(p, "orderId")?;
        let start = params::integer(p, "startTime")?;
        let end = params::integer(p, "endTime")?;
        let limit = params::integer(p, "limit")?.unwrap_or(500).clamp(1, 1000) as usize;
        let st = &self.accounts[acct].syms[sym];
        let begin = st.order_ids.partition_point(|id| *id < anchor.unwrap_or(0));
        let matching: Vec<_> = st.order_ids[begin..]
            .iter()
            .filter_map(|id| self.orders.get(id))
            .filter(|o| start.is_none_or(|s| o.time >= s) && end.is_none_or(|e| o.time <= e))
            .collect();
        // Without an orderId or startTime anchor the venue answers the most
        // recent `limit` orders (still oldest first), not the oldest ones.
        let skip = match (anchor, start) {
            (None, None) => matching.len().saturating_sub(limit),
            _ => 0,
        };
        let mut body = String::from("[");
        for o in matching.iter().skip(skip).take(limit) {
            write_order(&mut body, o, &self.markets[sym].ins, true);
            body.push(',');
        }
        json::close(&mut body, ']');
        Ok(body)
    }

    /// `DELETE /fapi/v1/allOpenOrders`.
    pub(crate) fn cancel_all(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        self.cancel_all_of(acct, sym, out);
        Ok("{\"code\":200,\"msg\":\"The operation of cancel all open order is done.\"}".into())
    }

    /// Cancels every open order of the account on the symbol.
    pub(crate) fn cancel_all_of(&mut self, acct: usize, sym: usize, out: &mut Outbox) {
        let ids: Vec<i64> = self.accounts[acct].syms[sym]
            .open_ids
            .iter()
            .copied()
            .collect();
        for id in ids {
            self.close_order(id, OrderStatus::Canceled, ExecutionType::Canceled, 0, out);
        }
    }

    /// `PUT /fapi/v1/order`.
    pub(crate) fn modify_order(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let side = match Side::from_wire(params::required(p, "side")?) {
            s @ (Side::Buy | Side::Sell) => s,
            _ => return Err(VenueError::new(-1117, "Invalid side.")),
        };
        let qty =
            params::decimal(p, "quantity")?.ok_or_else(|| VenueError::mandatory("quantity"))?;
        let price = params::decimal(p, "price")?.ok_or_else(|| VenueError::mandatory("price"))?;
        let modify_id = params::integer(p, "modifyId")?.unwrap_or(0);
        let id = self
            .find_order(acct, sym, p)?
            .filter(|id| self.orders.get(id).is_some_and(|o| !o.status.is_closed()))
            .ok_or_else(no_such_order)?;
        let o = self.orders.get(&id).ok_or_else(no_such_order)?;
        if o.otype != OrderType::Limit {
            return Err(VenueError::new(-5025, "Only limit order is supported."));
        }
        if o.side != side {
            return Err(VenueError::new(
                -1100,
                "Illegal characters found in parameter 'side'.",
            ));
        }
        if o.price == price && o.qty == qty {
            return Err(VenueError::new(-5027, "No need to modify the order."));
        }
        if o.modify_count >= 10_000 {
            return Err(VenueError::new(-5026, "Exceed maximum modify order limit."));
        }
        let (reduce_only, tif, executed) = (o.reduce_only || o.closing, o.tif, o.executed);
        if let Err(e) = self.check_filters(sym, OrderType::Limit, price, qty, reduce_only, side) {
            return Err(if e.code == -4164 {
                VenueError::new(
                    -5029,
                    "Order's notional must be no smaller than the minimum (unless you choose reduce only).",
                )
            } else {
                e
            });
        }
        let cancel =
            qty <= executed || (tif == TimeInForce::Gtx && self.would_cross(sym, side, price));
        if cancel {
            self.close_order(id, OrderStatus::Canceled, ExecutionType::Canceled, 0, out);
        } else {
            // Re-reserve margin for the new remaining size at the new price.
            let lev = Decimal::from_int(i64::from(self.accounts[acct].syms[sym].leverage))
                .unwrap_or(Decimal::ONE);
            let new_im = if reduce_only {
                Decimal::ZERO
            } else {
                price
                    .checked_mul(qty.checked_sub(executed).unwrap_or(qty), Rounding::HalfEven)
                    .and_then(|n| n.checked_div(lev, Rounding::Ceil))
                    .unwrap_or(Decimal::MAX)
            };
            let old_im = self.orders.get(&id).map(|o| o.im).unwrap_or(Decimal::ZERO);
            if new_im > old_im {
                let extra = new_im.checked_sub(old_im).unwrap_or(Decimal::MAX);
                if self.accounts[acct].available(self.markets.iter().map(|m| m.mark)) < extra {
                    return Err(VenueError::new(-2019, "Margin is insufficient."));
                }
            }
            let now = self.now;
            let Some(o) = self.orders.get_mut(&id) else {
                return Err(no_such_order());
            };
            let (old_price, old_rem, was_resting) = (o.price, o.remaining(), o.resting);
            o.price = price;
            o.qty = qty;
            o.stp = StpMode::None;
            o.modify_count += 1;
            o.update_time = now;
            o.im = new_im;
            o.resting = false;
            let new_rem = o.remaining();
            let a = &mut self.accounts[acct];
            a.open_order_im = a
                .open_order_im
                .checked_sub(old_im)
                .and_then(|v| v.checked_add(new_im))
                .unwrap_or(a.open_order_im);
            if was_resting {
                self.markets[sym].book.remove(side, old_price, id, old_rem);
                self.adjust_notional(acct, sym, side, old_price, old_rem, false);
            }
            let _ = new_rem;
            let mut ex = Exec::plain(ExecutionType::Amendment);
            ex.modify_id = modify_id;
            // Lost priority: re-queued at the back (or matched if it crosses).
            self.match_taker_or_rest(id, out, Some(ex));
        }
        let mut body = String::with_capacity(640);
        if let Some(o) = self.orders.get(&id) {
            write_order(&mut body, o, &self.markets[sym].ins, false);
        }
        Ok(body)
    }

    /// `POST /fapi/v1/batchOrders` (≤ 5 items; per-item order or error).
    pub(crate) fn batch_new(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        let items = batch_items(p, "batchOrders", 5)?;
        let mut body = String::from("[");
        for item in items {
            let r = params::params_from_json_object(&item).and_then(|ip| {
                let spec = self.parse_new_order(acct, &ip)?;
                self.place(acct, spec, out, false)
            });
            match r {
                Ok(s) => body.push_str(&s),
                Err(e) => e.push_json(&mut body),
            }
            body.push(',');
        }
        json::close(&mut body, ']');
        Ok(body)
    }

    /// `PUT /fapi/v1/batchOrders` (≤ 5 modifies).
    pub(crate) fn batch_modify(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        let items = batch_items(p, "batchOrders", 5)?;
        let mut body = String::from("[");
        for item in items {
            let r = params::params_from_json_object(&item)
                .and_then(|ip| self.modify_order(acct, &ip, out));
            match r {
                Ok(s) => body.push_str(&s),
                Err(e) => e.push_json(&mut body),
            }
            body.push(',');
        }
        json::close(&mut body, ']');
        Ok(body)
    }

    /// `DELETE /fapi/v1/batchOrders` (`orderIdList` or `origClientOrderIdList`, ≤ 10).
    pub(crate) fn batch_cancel(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        use sonic_rs::JsonValueTrait;
        let sym = self.symbol_param(p)?;
        let mut targets: Vec<Option<i64>> = Vec::new();
        if let Some(list) = params::optional(p, "orderIdList") {
            let ids: Vec<i64> =
                sonic_rs::from_str(list).map_err(|_| VenueError::illegal("orderIdList"))?;
            if ids.len() > 10 {
                return Err(VenueError::new(
                    -1130,
                    "Data sent for parameter 'orderIdList' is not valid.",
                ));
            }
            for id in ids {
                targets.push(
                    self.orders
                        .get(&id)
                        .filter(|o| o.account == acct && o.sym == sym)
                        .map(|o| o.id),
                );
            }
        } else if let Some(list) = params::optional(p, "origClientOrderIdList") {
            let ids: Vec<sonic_rs::Value> = sonic_rs::from_str(list)
                .map_err(|_| VenueError::illegal("origClientOrderIdList"))?;
            if ids.len() > 10 {
                return Err(VenueError::new(
                    -1130,
                    "Data sent for parameter 'origClientOrderIdList' is not valid.",
                ));
            }
            for c in ids {
                let c = c.as_str().unwrap_or("");
                targets.push(self.accounts[acct].syms[sym].client_ids.get(c).copied());
            }
        } else {
            return Err(VenueError::mandatory("orderIdList"));
        }
        let mut body = String::from("[");
        for t in targets {
            match self.cancel_one(acct, sym, t, out) {
                Ok(s) => body.push_str(&s),
                Err(e) => e.push_json(&mut body),
            }
            body.push(',');
        }
        json::close(&mut body, ']');
        Ok(body)
    }

    /// `GET /fapi/v1/userTrades`.
    pub(crate) fn user_trades(&self, acct: usize, p: &Params) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let order = params::integer(p, "orderId")?;
        let from = params::integer(p, "fromId")?;
        let start = params::integer(p, "startTime")?;
        let end = params::integer(p, "endTime")?;
        let limit = params::integer(p, "limit")?.unwrap_or(500).clamp(1, 1000) as usize;
        let ins = &self.markets[sym].ins;
        let matching: Vec<_> = self.accounts[acct]
            .trades
            .iter()
            .filter(|t| {
                t.sym == sym
                    && order.is_none_or(|o| t.order_id == o)
                    && from.is_none_or(|f| t.id >= f)
                    && start.is_none_or(|s| t.time >= s)
                    && end.is_none_or(|e| t.time <= e)
            })
            .collect();
        // Without fromId/startTime the venue answers the most recent trades.
        let skip = match (from, start) {
            (None, None) => matching.len().saturating_sub(limit),
            _ => 0,
        };
        let mut body = String::from("[");
        let mut n = 0;
        for t in matching.into_iter().skip(skip) {
            body.push('{');
            json::kv_str(&mut body, "symbol", &ins.symbol);
            json::kv_int(&mut body, "id", t.id);
            json::kv_int(&mut body, "orderId", t.order_id);
            json::kv_str(&mut body, "side", t.side.as_str());
            json::kv_dec(&mut body, "price", t.price, ins.price_dp);
            json::kv_dec(&mut body, "qty", t.qty, ins.qty_dp);
            json::kv_dec(
                &mut body,
                "realizedPnl",
                t.realized,
                super::order::digits(t.realized, 8),
            );
            let quote = t
                .price
                .checked_mul(t.qty, Rounding::HalfEven)
                .unwrap_or(Decimal::ZERO);
            json::kv_dec(&mut body, "quoteQty", quote, super::order::digits(quote, 5));
            json::kv_dec(
                &mut body,
                "commission",
                t.commission,
                super::order::digits(t.commission, 8),
            );
            json::kv_str(&mut body, "commissionAsset", "USDT");
            json::kv_int(&mut body, "time", t.time);
            json::kv_str(&mut body, "positionSide", t.position_side.as_str());
            json::kv_bool(&mut body, "buyer", t.side == Side::Buy);
            json::kv_bool(&mut body, "maker", t.maker);
            json::close(&mut body, '}');
            body.push(',');
            n += 1;
            if n >= limit {
                break;
            }
        }
        json::close(&mut body, ']');
        Ok(body)
    }

    /// `POST /fapi/v1/countdownCancelAll` (0 disarms).
    pub(crate) fn countdown(&mut self, acct: usize, p: &Params) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let ms = params::integer(p, "countdownTime")?
            .ok_or_else(|| VenueError::mandatory("countdownTime"))?;
        if ms < 0 {
            return Err(VenueError::illegal("countdownTime"));
        }
        self.accounts[acct].syms[sym].countdown_deadline = if ms == 0 { 0 } else { self.now + ms };
        let mut body = String::from("{");
        json::kv_str(&mut body, "symbol", &self.markets[sym].ins.symbol);
        json::kv_str(&mut body, "countdownTime", &ms.to_string());
        json::close(&mut body, '}');
        Ok(body)
    }

    /// Dead-man switches whose deadline passed cancel all the symbol's orders.
    pub(crate) fn fire_countdowns(&mut self, now: i64, out: &mut Outbox) {
        for acct in 0..self.accounts.len() {
            for sym in 0..self.markets.len() {
                let d = self.accounts[acct].syms[sym].countdown_deadline;
                if d != 0 && now >= d {
                    self.accounts[acct].syms[sym].countdown_deadline = 0;
                    self.cancel_all_of(acct, sym, out);
                }
            }
        }
    }

    /// GTD orders past their goodTillDate expire.
    pub(crate) fn expire_gtd(&mut self, now: i64, out: &mut Outbox) {
        while let Some(&(t, id)) = self.gtd.iter().next() {
            if t > now {
                break;
            }
            self.gtd.remove(&(t, id));
            self.close_order(id, OrderStatus::Expired, ExecutionType::Expired, 0, out);
        }
    }

    /// Unfilled CANCELED/EXPIRED orders leave the queryable history after the
    /// retention period (kept in the ledger archive).
    pub(crate) fn prune_history(&mut self, now: i64) {
        let keep = self.cfg.history_retention_ms;
        while let Some(&(t, id, algo)) = self.history.front() {
            if t.saturating_add(keep) > now {
                break;
            }
            self.history.pop_front();
            if algo {
                if let Some(a) = self.algos.remove(&id) {
                    self.archived_algos.push(a);
                }
            } else if let Some(o) = self.orders.remove(&id) {
                let st = &mut self.accounts[o.account].syms[o.sym];
                if st.client_ids.get(&o.client_id) == Some(&id) {
                    st.client_ids.remove(&o.client_id);
                }
                self.archived.push(o);
            }
        }
    }
}

/// Parses a batch parameter into its items (-1102 absent, -1130 malformed or
/// too many).
fn batch_items(p: &Params, name: &str, max: usize) -> VResult<Vec<sonic_rs::Value>> {
    let raw = params::required(p, name)?;
    let items: Vec<sonic_rs::Value> = sonic_rs::from_str(raw).map_err(|_| {
        VenueError::owned(
            -1130,
            format!("Data sent for parameter '{name}' is not valid."),
        )
    })?;
    if items.is_empty() || items.len() > max {
        return Err(VenueError::owned(
            -4082,
            format!("Invalid number of batch place orders: {}", items.len()),
        ));
    }
    Ok(items)
}

/// A venue-style generated client id (22 characters, derived from the order
/// id so it is unique and reproducible).
pub fn generated_client_id(id: i64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = super::rng::SplitMix64::new(id as u64 ^ 0x5eed);
    let mut s = String::with_capacity(22);
    for _ in 0..22 {
        let i = (h.next_u64() % ALPHABET.len() as u64) as usize;
        s.push(char::from(ALPHABET.get(i).copied().unwrap_or(b'x')));
    }
    s
}
