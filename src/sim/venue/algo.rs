//! The Algo Service: conditional orders (STOP, TAKE_PROFIT, their _MARKET
//! forms and TRAILING_STOP_MARKET) wait here, outside the matching engine and
//! without a margin check, until last or mark price triggers them; the child
//! then lives in the matching engine like any order.
use super::api::{Outbox, Params};
use super::json::{self, close, kv_bool, kv_dec, kv_int, kv_str};
use super::order::digits;
use super::params::{self, VResult, VenueError};
use super::state::{EventType, Venue, push_user};
use super::trading::Spec;
use crate::model::decimal::{Decimal, Rounding};
use crate::model::enums::{
    AlgoStatus, OrderType, PositionSide, PriceMatch, RespType, Side, StpMode, TimeInForce,
    WorkingType,
};

/// One conditional order.
#[derive(Debug, Clone)]
pub struct AlgoOrder {
    /// `algoId`.
    pub id: i64,
    /// Owner.
    pub account: usize,
    /// Symbol index.
    pub sym: usize,
    /// `clientAlgoId`.
    pub client_id: String,
    /// Conditional type.
    pub otype: OrderType,
    /// Side.
    pub side: Side,
    /// Position side.
    pub ps: PositionSide,
    /// TIF of a LIMIT child.
    pub tif: TimeInForce,
    /// Quantity (0 with closePosition).
    pub qty: Decimal,
    /// Child limit price (STOP/TAKE_PROFIT).
    pub price: Decimal,
    /// Trigger price (0 for trailing).
    pub trigger: Decimal,
    /// Last trade or mark price.
    pub working_type: WorkingType,
    /// Close the whole position at trigger.
    pub close_position: bool,
    /// Mark-vs-last divergence guard.
    pub price_protect: bool,
    /// reduceOnly.
    pub reduce_only: bool,
    /// Trailing activation price.
    pub activate_price: Option<Decimal>,
    /// Trailing callback rate (%).
    pub callback_rate: Option<Decimal>,
    /// STP mode handed to the child.
    pub stp: StpMode,
    /// priceMatch.
    pub price_match: PriceMatch,
    /// goodTillDate.
    pub gtd: i64,
    /// Status.
    pub status: AlgoStatus,
    /// Child order id (0 before trigger).
    pub actual_order_id: i64,
    /// Creation time.
    pub create_time: i64,
    /// Last update.
    pub update_time: i64,
    /// Trigger time (0 before).
    pub trigger_time: i64,
    /// Failure reason (`rm`).
    pub reject_reason: String,
    /// Trailing: activated yet.
    pub activated: bool,
    /// Trailing: best price since activation.
    pub extreme: Decimal,
}

fn cmp_trigger(a: &AlgoOrder, p: Decimal) -> bool {
    match (a.otype, a.side) {
        (OrderType::Stop | OrderType::StopMarket, Side::Buy) => p >= a.trigger,
        (OrderType::Stop | OrderType::StopMarket, Side::Sell) => p <= a.trigger,
        (OrderType::TakeProfit | OrderType::TakeProfitMarket, Side::Buy) => p <= a.trigger,
        (OrderType::TakeProfit | OrderType::TakeProfitMarket, Side::Sell) => p >= a.trigger,
        _ => false,
    }
}

/// Updates a trailing stop with price `p`; true when it fires.
fn trailing_step(a: &mut AlgoOrder, p: Decimal) -> bool {
    let act = a.activate_price.unwrap_or(p);
    let cb = a.callback_rate.unwrap_or(Decimal::ONE);
    let hundred = Decimal::from_int(100).unwrap_or(Decimal::ONE);
    let frac = cb
        .checked_div(hundred, Rounding::HalfEven)
        .unwrap_or(Decimal::ZERO);
    if a.side == Side::Sell {
        if !a.activated && p >= act {
            a.activated = true;
            a.extreme = p;
        }
        if !a.activated {
            return false;
        }
        a.extreme = a.extreme.max(p);
        let stop = a
            .extreme
            .checked_mul(
                Decimal::ONE.checked_sub(frac).unwrap_or(Decimal::ONE),
                Rounding::HalfEven,
            )
            .unwrap_or(Decimal::ZERO);
        p <= stop
    } else {
        if !a.activated && p <= act {
            a.activated = true;
            a.extreme = p;
        }
        if !a.activated {
            return false;
        }
        a.extreme = a.extreme.min(p);
        let stop = a
            .extreme
            .checked_mul(
                Decimal::ONE.checked_add(frac).unwrap_or(Decimal::ONE),
                Rounding::HalfEven,
            )
            .unwrap_or(Decimal::MAX);
        p >= stop
    }
}

impl Venue {
    fn algo_price(&self, sym: usize, wt: WorkingType) -> Decimal {
        let m = &self.markets[sym];
        if wt == WorkingType::MarkPrice {
            m.mark
        } else {
            m.last
        }
    }

    /// `POST /fapi/v1/algoOrder`.
    pub(crate) fn new_algo(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        let at = params::required(p, "algoType")?;
        if at != "CONDITIONAL" {
            return Err(VenueError::illegal("algoType"));
        }
        let sym = self.symbol_param(p)?;
        let side = match Side::from_wire(params::required(p, "side")?) {
            s @ (Side::Buy | Side::Sell) => s,
            _ => return Err(VenueError::new(-1117, "Invalid side.")),
        };
        let otype = OrderType::from_wire(params::required(p, "type")?);
        if !otype.is_conditional() {
            return Err(VenueError::new(-1116, "Invalid orderType."));
        }
        let hedge = self.accounts[acct].hedge;
        let ps = self.position_side_param(p, hedge)?;
        let close_position = params::boolean(p, "closePosition")?.unwrap_or(false);
        let reduce_only = if hedge || close_position {
            if p.get("reduceOnly").is_some() {
                return Err(VenueError::not_required("reduceonly"));
            }
            false
        } else {
            params::boolean(p, "reduceOnly")?.unwrap_or(false)
        };
        let qty = params::decimal(p, "quantity")?;
        let qty = if close_position {
            if !matches!(otype, OrderType::StopMarket | OrderType::TakeProfitMarket) {
                return Err(VenueError::not_required("closePosition"));
            }
            if qty.is_some() {
                return Err(VenueError::new(
                    -4137,
                    "Quantity must be zero with closePosition equals true.",
                ));
            }
            if matches!(
                (side, ps),
                (Side::Buy, PositionSide::Long) | (Side::Sell, PositionSide::Short)
            ) {
                return Err(VenueError::new(-2022, "ReduceOnly Order is rejected."));
            }
            Decimal::ZERO
        } else {
            qty.ok_or_else(|| VenueError::mandatory("quantity"))?
        };
        let tif = match params::optional(p, "timeInForce") {
            None => TimeInForce::Gtc,
            Some(v) => match TimeInForce::from_wire(v) {
                t @ (TimeInForce::Gtc
                | TimeInForce::Ioc
                | TimeInForce::Fok
                | TimeInForce::Gtx
                | TimeInForce::Gtd) => t,
                _ => return Err(VenueError::new(-1115, "Invalid timeInForce.")),
            },
        };
        let working_type = match params::optional(p, "workingType") {
            None => WorkingType::ContractPrice,
            Some(v) => match WorkingType::from_wire(v) {
                WorkingType::Unknown(_) => {
                    return Err(VenueError::owned(
                        -4031,
                        format!("Invalid parameter working type: {v}"),
                    ));
                }
                w => w,
            },
        };
        let price_protect = params::boolean(p, "priceProtect")?.unwrap_or(false);
        let limit_child = matches!(otype, OrderType::Stop | OrderType::TakeProfit);
        let price = params::decimal(p, "price")?;
        let price = if limit_child {
            price.ok_or_else(|| VenueError::mandatory("price"))?
        } else {
            Decimal::ZERO
        };
        let current = self.algo_price(sym, working_type);
        let trailing = otype == OrderType::TrailingStopMarket;
        let (trigger, activate_price, callback_rate) = if trailing {
            let cb = params::decimal(p, "callbackRate")?
                .ok_or_else(|| VenueError::mandatory("callbackRate"))?;
            let lo = Decimal::parse("0.1").unwrap_or(Decimal::ZERO);
            let hi = Decimal::from_int(10).unwrap_or(Decimal::MAX);
            if cb < lo || cb > hi {
                return Err(VenueError::new(
                    -1130,
                    "Data sent for parameter 'callbackRate' is not valid.",
                ));
            }
            let ap = params::decimal(p, "activatePrice")?;
            if let Some(ap) = ap {
                let crossed = if side == Side::Buy {
                    ap >= current
                } else {
                    ap <= current
                };
                if crossed {
                    return Err(VenueError::new(-2021, "Order would immediately trigger."));
                }
            }
            (Decimal::ZERO, Some(ap.unwrap_or(current)), Some(cb))
        } else {
            let t = params::decimal(p, "triggerPrice")?
                .ok_or_else(|| VenueError::mandatory("triggerPrice"))?;
            (t, None, None)
        };
        // Filters on what the child will be (reference price: limit or trigger).
        let ref_type = OrderType::Limit;
        let ref_price = if limit_child {
            price
        } else if trailing {
            activate_price
                .unwrap_or(current)
                .round_to_step(self.markets[sym].ins.cfg.tick_size, Rounding::HalfEven)
                .unwrap_or(current)
        } else {
            trigger
        };
        if !close_position {
            self.check_filters_no_band(sym, ref_type, ref_price, qty, reduce_only)?;
        }
        if !trailing {
            self.check_price_grid(sym, trigger)?;
        }
        let client_id = match p.get("clientAlgoId") {
            None => super::trading::generated_client_id(self.next_algo_id),
            Some(c) if params::valid_client_id(c) => c.to_string(),
            Some(_) => return Err(VenueError::new(-4015, "Client order id is not valid.")),
        };
        let a = &self.accounts[acct];
        if a.algo_client_ids
            .get(&client_id)
            .and_then(|id| self.algos.get(id))
            .is_some_and(|x| !x.status.is_closed())
        {
            return Err(VenueError::new(-4116, "clientOrderId is duplicated"));
        }
        if a.open_algos >= self.cfg.max_algo_orders {
            return Err(VenueError::new(-4045, "Reach max stop order limit."));
        }
        let stp = self.stp_param(p)?;
        let gtd = self.gtd_param(p, tif)?;
        let resp_ok = match params::optional(p, "newOrderRespType") {
            None => true,
            Some(v) => !RespType::from_wire(v).is_unknown(),
        };
        if !resp_ok {
            return Err(VenueError::new(-1136, "Invalid newOrderRespType."));
        }
        let mut algo = AlgoOrder {
            id: self.next_algo_id,
            account: acct,
            sym,
            client_id,
            otype,
            side,
            ps,
            tif,
            qty,
            price,
            trigger,
            working_type,
            close_position,
            price_protect,
            reduce_only,
            activate_price,
            callback_rate,
            stp,
            price_match: PriceMatch::None,
            gtd,
            status: AlgoStatus::New,
            actual_order_id: 0,
            create_time: self.now,
            update_time: self.now,
            trigger_time: 0,
            reject_reason: String::new(),
            activated: false,
            extreme: current,
        };
        if !trailing && cmp_trigger(&algo, current) {
            return Err(VenueError::new(-2021, "Order would immediately trigger."));
        }
        if trailing {
            // An absent activatePrice means "active now".
            let _ = trailing_step(&mut algo, current);
        }
        self.next_algo_id += 1;
        let id = algo.id;
        let a = &mut self.accounts[acct];
        a.open_algos += 1;
        a.algo_client_ids.insert(algo.client_id.clone(), id);
        self.markets[sym].open_algos.push(id);
        self.algos.insert(id, algo);
        self.algo_event(id, out);
        let mut body = String::with_capacity(700);
        if let Some(a) = self.algos.get(&id) {
            self.write_algo(&mut body, a, false);
        }
        Ok(body)
    }

    /// LOT_SIZE and MIN_NOTIONAL for an algo order (no PERCENT_PRICE band:
    /// the child is checked when it reaches the matching engine).
    fn check_filters_no_band(
        &self,
        sym: usize,
        otype: OrderType,
        price: Decimal,
        qty: Decimal,
        reduce_only: bool,
    ) -> VResult<()> {
        let c = &self.markets[sym].ins.cfg;
        let up = c.max_price;
        let _ = up;
        match self.check_filters(sym, otype, price, qty, reduce_only, Side::Buy) {
            Err(e) if e.code == -4016 || e.code == -4024 => Ok(()),
            r => r,
        }
    }

    fn check_price_grid(&self, sym: usize, px: Decimal) -> VResult<()> {
        let c = &self.markets[sym].ins.cfg;
        if px.scale() > c.price_precision.max(c.tick_size.scale()) {
            return Err(VenueError::new(
                -1111,
                "Precision is over the maximum defined for this asset.",
            ));
        }
        if !px.is_positive() {
            return Err(VenueError::new(-4001, "Price less than 0."));
        }
        let rel = px.checked_sub(c.min_price).unwrap_or(px);
        if !c.tick_size.is_zero() && !rel.is_multiple_of(c.tick_size) {
            return Err(VenueError::new(-4014, "Price not increased by tick size."));
        }
        Ok(())
    }

    /// Checks every open algo order against current prices (bounded passes:
    /// a child's fills move the last price and may fire more orders).
    pub(crate) fn check_triggers(&mut self, out: &mut Outbox) {
        for _ in 0..8 {
            if !self.triggers_dirty {
                return;
            }
            self.triggers_dirty = false;
            for sym in 0..self.markets.len() {
                if self.markets[sym].open_algos.is_empty() {
                    continue;
                }
                let (last, mark) = (self.markets[sym].last, self.markets[sym].mark);
                let protect = self.markets[sym].ins.cfg.trigger_protect;
                let ids = self.markets[sym].open_algos.clone();
                for id in ids {
                    let Some(a) = self.algos.get_mut(&id) else {
                        continue;
                    };
                    if a.status != AlgoStatus::New {
                        continue;
                    }
                    let p = if a.working_type == WorkingType::MarkPrice {
                        mark
                    } else {
                        last
                    };
                    let fire = if a.otype == OrderType::TrailingStopMarket {
                        trailing_step(a, p)
                    } else {
                        cmp_trigger(a, p)
                    };
                    if !fire {
                        continue;
                    }
                    if a.price_protect && !mark.is_zero() {
                        let div = mark
                            .checked_sub(last)
                            .map(|d| d.abs())
                            .and_then(|d| d.checked_div(mark, Rounding::HalfEven))
                            .unwrap_or(Decimal::ZERO);
                        if div > protect {
                            continue;
                        }
                    }
                    self.trigger_algo(id, out);
                }
            }
        }
    }

    /// NEW → TRIGGERING → child to the matching engine → TRIGGERED (or
    /// REJECTED with `rm`).
    fn trigger_algo(&mut self, id: i64, out: &mut Outbox) {
        let now = self.now;
        let Some(a) = self.algos.get_mut(&id) else {
            return;
        };
        a.status = AlgoStatus::Triggering;
        a.trigger_time = now;
        a.update_time = now;
        let (acct, sym) = (a.account, a.sym);
        self.markets[sym].open_algos.retain(|x| *x != id);
        let acc = &mut self.accounts[acct];
        acc.open_algos = acc.open_algos.saturating_sub(1);
        self.algo_event(id, out);
        let Some(a) = self.algos.get(&id) else { return };
        let qty = if a.close_position {
            self.closable(acct, sym, a.ps, a.side)
        } else {
            a.qty
        };
        let child_type = a.otype.child_type();
        let open_dup = self.accounts[acct].syms[sym]
            .client_ids
            .get(&a.client_id)
            .is_some_and(|oid| self.accounts[acct].syms[sym].open_ids.contains(oid));
        let spec = Spec {
            sym,
            side: a.side,
            otype: child_type,
            orig_type: a.otype,
            tif: if child_type == OrderType::Market {
                TimeInForce::Gtc
            } else {
                a.tif
            },
            price: if child_type == OrderType::Market {
                Decimal::ZERO
            } else {
                a.price
            },
            qty,
            reduce_only: a.reduce_only,
            close_position: a.close_position,
            ps: a.ps,
            stp: a.stp,
            gtd: a.gtd,
            price_match: a.price_match,
            working_type: a.working_type,
            stop_price: a.trigger,
            price_protect: a.price_protect,
            client_id: (!open_dup).then(|| a.client_id.clone()),
            resp: RespType::Ack,
            algo_id: id,
            activate_price: a.activate_price,
            callback_rate: a.callback_rate,
        };
        let result = if qty.is_zero() {
            Err(VenueError::new(-2022, "ReduceOnly Order is rejected."))
        } else {
            self.place(acct, spec, out, false).map(|_| ())
        };
        if let Err(e) = result {
            if let Some(a) = self.algos.get_mut(&id) {
                a.status = AlgoStatus::Rejected;
                a.reject_reason = e.msg.to_string();
                a.update_time = now;
            }
            self.history.push_back((now, id, true));
            self.algo_event(id, out);
        }
    }

    /// Called by placement between validation and the child's NEW event.
    pub(crate) fn algo_child_accepted(&mut self, algo_id: i64, order_id: i64, out: &mut Outbox) {
        if let Some(a) = self.algos.get_mut(&algo_id) {
            a.status = AlgoStatus::Triggered;
            a.actual_order_id = order_id;
            a.update_time = self.now;
            self.algo_event(algo_id, out);
        }
    }

    /// A child order closed: its algo order is FINISHED.
    pub(crate) fn after_order_closed(&mut self, order_id: i64, out: &mut Outbox) {
        let Some(algo_id) = self
            .orders
            .get(&order_id)
            .map(|o| o.algo_id)
            .filter(|a| *a != 0)
        else {
            return;
        };
        if let Some(a) = self.algos.get_mut(&algo_id)
            && a.status == AlgoStatus::Triggered
        {
            a.status = AlgoStatus::Finished;
            a.update_time = self.now;
            self.algo_event(algo_id, out);
        }
    }

    fn find_algo(&self, acct: usize, p: &Params) -> VResult<Option<i64>> {
        if let Some(id) = params::integer(p, "algoId")? {
            return Ok(self
                .algos
                .get(&id)
                .filter(|a| a.account == acct)
                .map(|a| a.id));
        }
        match params::optional(p, "clientAlgoId") {
            Some(c) => Ok(self.accounts[acct]
                .algo_client_ids
                .get(c)
                .copied()
                .filter(|id| self.algos.contains_key(id))),
            None => Err(VenueError::new(
                -1102,
                "Either algoId or clientAlgoId must be sent.",
            )),
        }
    }

    /// `DELETE /fapi/v1/algoOrder`.
    pub(crate) fn cancel_algo_req(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        let id = self
            .find_algo(acct, p)?
            .filter(|id| {
                self.algos
                    .get(id)
                    .is_some_and(|a| a.status == AlgoStatus::New)
            })
            .ok_or_else(|| VenueError::new(-2011, "Unknown order sent."))?;
        self.cancel_algo(id, AlgoStatus::Canceled, out);
        let mut body = String::from("{");
        kv_int(&mut body, "algoId", id);
        if let Some(a) = self.algos.get(&id) {
            kv_str(&mut body, "clientAlgoId", &a.client_id);
        }
        kv_str(&mut body, "code", "200");
        kv_str(&mut body, "msg", "success");
        close(&mut body, '}');
        Ok(body)
    }

    /// Cancels (or expires) an untriggered algo order.
    pub(crate) fn cancel_algo(&mut self, id: i64, status: AlgoStatus, out: &mut Outbox) {
        let now = self.now;
        let Some(a) = self.algos.get_mut(&id) else {
            return;
        };
        if a.status != AlgoStatus::New {
            return;
        }
        a.status = status;
        a.update_time = now;
        let (acct, sym) = (a.account, a.sym);
        self.markets[sym].open_algos.retain(|x| *x != id);
        let acc = &mut self.accounts[acct];
        acc.open_algos = acc.open_algos.saturating_sub(1);
        self.history.push_back((now, id, true));
        self.algo_event(id, out);
    }

    /// `DELETE /fapi/v1/algoOpenOrders`.
    pub(crate) fn cancel_all_algos(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let ids: Vec<i64> = self.markets[sym]
            .open_algos
            .iter()
            .copied()
            .filter(|id| self.algos.get(id).is_some_and(|a| a.account == acct))
            .collect();
        for id in ids {
            self.cancel_algo(id, AlgoStatus::Canceled, out);
        }
        Ok("{\"code\":200,\"msg\":\"The operation of cancel all open order is done.\"}".into())
    }

    /// `GET /fapi/v1/algoOrder`.
    pub(crate) fn query_algo(&self, acct: usize, p: &Params) -> VResult<String> {
        let a = self
            .find_algo(acct, p)?
            .and_then(|id| self.algos.get(&id))
            .ok_or_else(super::trading::no_such_order)?;
        let mut body = String::with_capacity(800);
        self.write_algo(&mut body, a, true);
        Ok(body)
    }

    /// `GET /fapi/v1/openAlgoOrders` (symbol optional).
    pub(crate) fn open_algos(&self, acct: usize, p: &Params) -> VResult<String> {
        let only = self.optional_symbol_param(p)?;
        let want = params::integer(p, "algoId")?;
        let mut ids: Vec<i64> = Vec::new();
        for (i, m) in self.markets.iter().enumerate() {
            if only.is_none_or(|s| s == i) {
                ids.extend(m.open_algos.iter().copied());
            }
        }
        ids.sort_unstable();
        let mut body = String::from("[");
        for id in ids {
            if want.is_some_and(|w| w != id) {
                continue;
            }
            if let Some(a) = self.algos.get(&id).filter(|a| a.account == acct) {
                self.write_algo(&mut body, a, true);
                body.push(',');
            }
        }
        json::close(&mut body, ']');
        Ok(body)
    }

    /// `GET /fapi/v1/allAlgoOrders`.
    pub(crate) fn all_algos(&self, acct: usize, p: &Params) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let from = params::integer(p, "algoId")?.unwrap_or(0);
        let start = params::integer(p, "startTime")?;
        let end = params::integer(p, "endTime")?;
        let limit = params::integer(p, "limit")?.unwrap_or(500).clamp(1, 1000) as usize;
        let mut list: Vec<&AlgoOrder> = self
            .algos
            .values()
            .filter(|a| a.account == acct && a.sym == sym && a.id >= from)
            .filter(|a| {
                start.is_none_or(|s| a.create_time >= s) && end.is_none_or(|e| a.create_time <= e)
            })
            .collect();
        list.sort_unstable_by_key(|a| a.id);
        let mut body = String::from("[");
        for a in list.into_iter().take(limit) {
            self.write_algo(&mut body, a, true);
            body.push(',');
        }
        json::close(&mut body, ']');
        Ok(body)
    }

    /// The REST algo object; `query` adds the `actual*` fields.
    fn write_algo(&self, out: &mut String, a: &AlgoOrder, query: bool) {
        let ins = &self.markets[a.sym].ins;
        let pd = ins.price_dp;
        out.push('{');
        kv_int(out, "algoId", a.id);
        kv_str(out, "clientAlgoId", &a.client_id);
        kv_str(out, "algoType", "CONDITIONAL");
        kv_str(out, "orderType", a.otype.as_str());
        kv_str(out, "symbol", &ins.symbol);
        kv_str(out, "side", a.side.as_str());
        kv_str(out, "positionSide", a.ps.as_str());
        kv_str(out, "timeInForce", a.tif.as_str());
        kv_dec(out, "quantity", a.qty, ins.qty_dp);
        kv_str(out, "algoStatus", a.status.as_str());
        kv_dec(out, "triggerPrice", a.trigger, pd);
        kv_dec(out, "price", a.price, pd);
        out.push_str("\"icebergQuantity\":null,");
        kv_str(out, "selfTradePreventionMode", a.stp.as_str());
        kv_str(out, "workingType", a.working_type.as_str());
        kv_str(out, "priceMatch", a.price_match.as_str());
        kv_bool(out, "closePosition", a.close_position);
        kv_bool(out, "priceProtect", a.price_protect);
        kv_bool(out, "reduceOnly", a.reduce_only);
        match a.activate_price {
            Some(v) => kv_dec(out, "activatePrice", v, pd),
            None => kv_str(out, "activatePrice", ""),
        }
        match a.callback_rate {
            Some(v) => kv_dec(out, "callbackRate", v, digits(v, 1)),
            None => kv_str(out, "callbackRate", ""),
        }
        kv_int(out, "createTime", a.create_time);
        kv_int(out, "updateTime", a.update_time);
        kv_int(out, "triggerTime", a.trigger_time);
        kv_int(out, "goodTillDate", a.gtd);
        if query {
            let child = self
                .orders
                .get(&a.actual_order_id)
                .filter(|_| a.actual_order_id != 0);
            if a.actual_order_id != 0 {
                kv_str(out, "actualOrderId", &a.actual_order_id.to_string());
            } else {
                kv_str(out, "actualOrderId", "");
            }
            match child {
                Some(o) => {
                    let avg = o.avg_price();
                    kv_dec(out, "actualPrice", avg, digits(avg, pd));
                    kv_dec(out, "actualQty", o.executed, ins.qty_dp);
                    kv_str(out, "actualType", o.otype.as_str());
                }
                None => {
                    kv_str(out, "actualPrice", "");
                    kv_str(out, "actualQty", "");
                    kv_str(out, "actualType", "");
                }
            }
        }
        close(out, '}');
    }

    /// ALGO_UPDATE for the algo order's current state.
    pub(crate) fn algo_event(&mut self, id: i64, out: &mut Outbox) {
        let Some(acct) = self.algos.get(&id).map(|a| a.account) else {
            return;
        };
        let t = self.stamp(acct, EventType::AlgoUpdate);
        let Some(a) = self.algos.get(&id) else { return };
        let ins = &self.markets[a.sym].ins;
        let pd = ins.price_dp;
        let child = self
            .orders
            .get(&a.actual_order_id)
            .filter(|_| a.actual_order_id != 0);
        let mut s = String::with_capacity(600);
        s.push_str("{\"e\":\"ALGO_UPDATE\",");
        kv_int(&mut s, "T", t);
        kv_int(&mut s, "E", t);
        s.push_str("\"o\":{");
        kv_str(&mut s, "caid", &a.client_id);
        kv_int(&mut s, "aid", a.id);
        kv_str(&mut s, "at", "CONDITIONAL");
        kv_str(&mut s, "o", a.otype.as_str());
        kv_str(&mut s, "s", &ins.symbol);
        kv_str(&mut s, "S", a.side.as_str());
        kv_str(&mut s, "ps", a.ps.as_str());
        kv_str(&mut s, "f", a.tif.as_str());
        kv_dec(&mut s, "q", a.qty, ins.qty_dp);
        kv_str(&mut s, "X", a.status.as_str());
        if a.actual_order_id != 0 {
            kv_str(&mut s, "ai", &a.actual_order_id.to_string());
        } else {
            kv_str(&mut s, "ai", "");
        }
        let (ap, aq) = child
            .map(|o| (o.avg_price(), o.executed))
            .unwrap_or((Decimal::ZERO, Decimal::ZERO));
        kv_dec(&mut s, "ap", ap, digits(ap, pd));
        kv_dec(&mut s, "aq", aq, ins.qty_dp);
        kv_str(&mut s, "act", a.otype.child_type().as_str());
        kv_dec(&mut s, "tp", a.trigger, pd);
        kv_dec(&mut s, "p", a.price, pd);
        kv_str(&mut s, "V", a.stp.as_str());
        kv_str(&mut s, "wt", a.working_type.as_str());
        kv_str(&mut s, "pm", a.price_match.as_str());
        kv_bool(&mut s, "cp", a.close_position);
        kv_bool(&mut s, "pP", a.price_protect);
        kv_bool(&mut s, "R", a.reduce_only);
        kv_int(&mut s, "tt", a.trigger_time);
        kv_int(&mut s, "gtd", a.gtd);
        kv_str(&mut s, "rm", &a.reject_reason);
        close(&mut s, '}');
        s.push('}');
        let client = a.client_id.clone();
        push_user(
            out,
            acct,
            EventType::AlgoUpdate,
            s,
            t,
            a.actual_order_id,
            &client,
        );
    }
}
