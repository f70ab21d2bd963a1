//! Control hooks for the transport's control endpoint and for tests: drive
//! prices, pause the market, inject liquidation/ADL fills, and take the
//! ledger an audit compares an engine's view against.
use super::api::Outbox;
use super::order::{Exec, Order};
use super::state::Venue;
use crate::model::decimal::{Decimal, Rounding};
use crate::model::enums::{
    ExecutionType, OrderStatus, OrderType, PositionSide, PriceMatch, Side, StpMode, TimeInForce,
    WorkingType,
};

/// Why a control call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No such symbol.
    #[error("unknown symbol {0}")]
    UnknownSymbol(String),
    /// No such account.
    #[error("unknown account {0}")]
    UnknownAccount(usize),
    /// The price is not positive.
    #[error("price must be positive")]
    BadPrice,
    /// Nothing to liquidate.
    #[error("no open position on that side")]
    NoPosition,
    /// A position amount off the symbol's step size, or of the wrong sign
    /// for its position side.
    #[error("position amount {0} does not fit the symbol's step size or position side")]
    BadAmount(Decimal),
}

/// How an injected ADL fill is reported (`x` of its fill event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdlStyle {
    /// `x=CALCULATED` (as documented for liquidation executions).
    Calculated,
    /// `x=TRADE` (also seen on the wire).
    Trade,
}

/// Final state of one order, for audits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LedgerOrder {
    /// Account.
    pub account: usize,
    /// Symbol.
    pub symbol: String,
    /// orderId.
    pub order_id: i64,
    /// clientOrderId.
    pub client_order_id: String,
    /// Side.
    pub side: String,
    /// Type.
    pub order_type: String,
    /// Status.
    pub status: String,
    /// Price.
    pub price: Decimal,
    /// Original quantity.
    pub orig_qty: Decimal,
    /// Executed quantity.
    pub executed_qty: Decimal,
    /// Σ price × qty.
    pub cum_quote: Decimal,
    /// Position side.
    pub position_side: String,
    /// Parent algo id (0 = none).
    pub algo_id: i64,
    /// Update time.
    pub update_time: i64,
}

/// One fill, for audits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LedgerFill {
    /// Account.
    pub account: usize,
    /// Symbol.
    pub symbol: String,
    /// Trade id (`t`, per symbol).
    pub trade_id: i64,
    /// orderId.
    pub order_id: i64,
    /// Side.
    pub side: String,
    /// Price.
    pub price: Decimal,
    /// Quantity.
    pub qty: Decimal,
    /// Realized PnL.
    pub realized_pnl: Decimal,
    /// Commission (USDT).
    pub commission: Decimal,
    /// Maker flag.
    pub maker: bool,
    /// Time.
    pub time: i64,
}

/// One position leg, for audits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LedgerPosition {
    /// Account.
    pub account: usize,
    /// Symbol.
    pub symbol: String,
    /// BOTH/LONG/SHORT.
    pub position_side: String,
    /// Signed amount.
    pub amount: Decimal,
    /// Entry price.
    pub entry_price: Decimal,
    /// Accumulated realized PnL.
    pub realized_pnl: Decimal,
}

/// Everything the venue knows, for an end-of-run comparison.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ledger {
    /// Every order ever accepted (including pruned history), by id.
    pub orders: Vec<LedgerOrder>,
    /// Every fill, per account in time order.
    pub fills: Vec<LedgerFill>,
    /// Every non-flat position leg.
    pub positions: Vec<LedgerPosition>,
    /// `(account, USDT wallet balance)`.
    pub balances: Vec<(usize, Decimal)>,
}

impl Ledger {
    /// JSON text of the ledger.
    pub fn to_json(&self) -> String {
        sonic_rs::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

impl Venue {
    fn control_sym(&self, symbol: &str) -> Result<usize, ControlError> {
        self.sym_index
            .get(symbol)
            .copied()
            .ok_or_else(|| ControlError::UnknownSymbol(symbol.to_string()))
    }

    /// Sets the last and/or mark price of a symbol. A last price moves the
    /// generated book there (crossing resting orders fill), prints a trade and
    /// — unless `mark` is given too — moves the mark with it. Triggers are
    /// evaluated before returning.
    pub fn set_price(
        &mut self,
        symbol: &str,
        last: Option<Decimal>,
        mark: Option<Decimal>,
        now_ms: i64,
        out: &mut Outbox,
    ) -> Result<(), ControlError> {
        let sym = self.control_sym(symbol)?;
        if last.is_some_and(|p| !p.is_positive()) || mark.is_some_and(|p| !p.is_positive()) {
            return Err(ControlError::BadPrice);
        }
        self.now = now_ms;
        let tick = self.markets[sym].ins.cfg.tick_size;
        if let Some(p) = last {
            let p = p.round_to_step(tick, Rounding::HalfEven).unwrap_or(p);
            self.move_mid(sym, p.raw(), out);
            let q = self.markets[sym].ins.cfg.min_qty;
            let tid = self.next_trade_id(sym);
            self.on_trade(sym, p, q, Side::Buy, tid, out);
        }
        if let Some(m) = mark {
            self.markets[sym].mark = m;
        }
        self.triggers_dirty = true;
        self.check_triggers(out);
        self.publish_bbo_changes(out);
        Ok(())
    }

    /// Stops (true) or restarts (false) the self-moving price process.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Whether the price process is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Last trade and mark price of a symbol.
    pub fn prices(&self, symbol: &str) -> Option<(Decimal, Decimal)> {
        let sym = self.sym_index.get(symbol)?;
        self.markets.get(*sym).map(|m| (m.last, m.mark))
    }

    /// Liquidates (part of) an account's position: an `autoclose-…` order,
    /// `o=LIQUIDATION`, filled with `x=CALCULATED` at `price` (default mark).
    /// Returns the order id.
    #[allow(clippy::too_many_arguments)]
    pub fn inject_liquidation(
        &mut self,
        account: usize,
        symbol: &str,
        position_side: PositionSide,
        qty: Option<Decimal>,
        price: Option<Decimal>,
        now_ms: i64,
        out: &mut Outbox,
    ) -> Result<i64, ControlError> {
        let client = format!("autoclose-{now_ms}");
        self.inject_close(
            account,
            symbol,
            position_side,
            qty,
            price,
            now_ms,
            out,
            client,
            OrderType::Liquidation,
            ExecutionType::Calculated,
        )
    }

    /// Auto-deleverages (part of) a position: `adl_autoclose`, filled with
    /// `x=CALCULATED` or `x=TRADE` per `style`. Returns the order id.
    #[allow(clippy::too_many_arguments)]
    pub fn inject_adl(
        &mut self,
        account: usize,
        symbol: &str,
        position_side: PositionSide,
        qty: Option<Decimal>,
        price: Option<Decimal>,
        style: AdlStyle,
        now_ms: i64,
        out: &mut Outbox,
    ) -> Result<i64, ControlError> {
        let x = match style {
            AdlStyle::Calculated => ExecutionType::Calculated,
            AdlStyle::Trade => ExecutionType::Trade,
        };
        self.inject_close(
            account,
            symbol,
            position_side,
            qty,
            price,
            now_ms,
            out,
            "adl_autoclose".into(),
            OrderType::Limit,
            x,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn inject_close(
        &mut self,
        account: usize,
        symbol: &str,
        ps: PositionSide,
        qty: Option<Decimal>,
        price: Option<Decimal>,
        now_ms: i64,
        out: &mut Outbox,
        client_id: String,
        otype: OrderType,
        x: ExecutionType,
    ) -> Result<i64, ControlError> {
        let sym = self.control_sym(symbol)?;
        if account >= self.accounts.len() {
            return Err(ControlError::UnknownAccount(account));
        }
        self.now = now_ms;
        let pos = self.accounts[account].syms[sym].pos[super::account::ps_index(ps)].amt;
        if pos.is_zero() {
            return Err(ControlError::NoPosition);
        }
        let side = if pos.is_positive() {
            Side::Sell
        } else {
            Side::Buy
        };
        let qty = qty.map(|q| q.min(pos.abs())).unwrap_or(pos.abs());
        let price = price.unwrap_or(self.markets[sym].mark);
        if !price.is_positive() || !qty.is_positive() {
            return Err(ControlError::BadPrice);
        }
        let id = self.next_order_id;
        self.next_order_id += 1;
        let o = Order {
            id,
            account,
            sym,
            client_id: client_id.clone(),
            side,
            otype,
            orig_type: otype,
            tif: TimeInForce::Ioc,
            price,
            qty,
            executed: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: OrderStatus::New,
            reduce_only: true,
            close_position: false,
            position_side: ps,
            stop_price: Decimal::ZERO,
            working_type: WorkingType::ContractPrice,
            price_protect: false,
            price_match: PriceMatch::None,
            stp: StpMode::None,
            gtd: 0,
            time: now_ms,
            update_time: now_ms,
            im: Decimal::ZERO,
            algo_id: 0,
            activate_price: None,
            callback_rate: None,
            closing: true,
            resting: false,
            modify_count: 0,
            expire_reason: 0,
            realized: Decimal::ZERO,
            commission: Decimal::ZERO,
        };
        let st = &mut self.accounts[account].syms[sym];
        st.order_ids.push(id);
        st.open_ids.insert(id);
        st.client_ids.insert(client_id, id);
        self.orders.insert(id, o);
        self.force_orders.push(id);
        self.order_event(id, Exec::plain(ExecutionType::New), out);
        let tid = self.next_trade_id(sym);
        self.fill_order(id, qty, price, false, tid, x, out);
        Ok(id)
    }

    /// Snapshot of every order, fill, position and balance.
    pub fn ledger(&self) -> Ledger {
        let sym_name = |i: usize| {
            self.markets
                .get(i)
                .map(|m| m.ins.symbol.clone())
                .unwrap_or_default()
        };
        let mut orders: Vec<LedgerOrder> = self
            .orders
            .values()
            .chain(self.archived.iter())
            .map(|o| LedgerOrder {
                account: o.account,
                symbol: sym_name(o.sym),
                order_id: o.id,
                client_order_id: o.client_id.clone(),
                side: o.side.as_str().to_string(),
                order_type: o.otype.as_str().to_string(),
                status: o.status.as_str().to_string(),
                price: o.price,
                orig_qty: o.qty,
                executed_qty: o.executed,
                cum_quote: o.cum_quote,
                position_side: o.position_side.as_str().to_string(),
                algo_id: o.algo_id,
                update_time: o.update_time,
            })
            .collect();
        orders.sort_unstable_by_key(|o| o.order_id);
        let mut fills = Vec::new();
        let mut positions = Vec::new();
        let mut balances = Vec::new();
        for (ai, a) in self.accounts.iter().enumerate() {
            balances.push((ai, a.wallet));
            for t in &a.trades {
                fills.push(LedgerFill {
                    account: ai,
                    symbol: sym_name(t.sym),
                    trade_id: t.id,
                    order_id: t.order_id,
                    side: t.side.as_str().to_string(),
                    price: t.price,
                    qty: t.qty,
                    realized_pnl: t.realized,
                    commission: t.commission,
                    maker: t.maker,
                    time: t.time,
                });
            }
            for (si, st) in a.syms.iter().enumerate() {
                for (leg, p) in st.pos.iter().enumerate() {
                    if p.amt.is_zero() && p.realized.is_zero() {
                        continue;
                    }
                    positions.push(LedgerPosition {
                        account: ai,
                        symbol: sym_name(si),
                        position_side: super::account::ps_of(leg).as_str().to_string(),
                        amount: p.amt,
                        entry_price: p.entry,
                        realized_pnl: p.realized,
                    });
                }
            }
        }
        Ledger {
            orders,
            fills,
            positions,
            balances,
        }
    }
}

impl Venue {
    /// Open orders of an account across symbols (tests, benches, status).
    pub fn open_order_count(&self, account: usize) -> usize {
        self.accounts
            .get(account)
            .map(|a| a.syms.iter().map(|s| s.open_ids.len()).sum())
            .unwrap_or(0)
    }
}

impl Venue {
    /// Credits (positive) or debits (negative) an account's USDT wallet, with
    /// an ACCOUNT_UPDATE of the given reason (`DEPOSIT`, `WITHDRAW`,
    /// `FUNDING_FEE`, `ADJUSTMENT`...) carrying only the balance (`P` empty),
    /// as the venue reports cross-margin balance changes.
    pub fn adjust_balance(
        &mut self,
        account: usize,
        delta: Decimal,
        reason: &str,
        now_ms: i64,
        out: &mut Outbox,
    ) -> Result<Decimal, ControlError> {
        if account >= self.accounts.len() {
            return Err(ControlError::UnknownAccount(account));
        }
        self.now = now_ms;
        let a = &mut self.accounts[account];
        a.wallet = a.wallet.checked_add(delta).ok_or(ControlError::BadPrice)?;
        a.update_time = now_ms;
        let wallet = a.wallet;
        let t = self.stamp(account, super::state::EventType::AccountUpdate);
        let mut s = String::with_capacity(256);
        s.push_str("{\"e\":\"ACCOUNT_UPDATE\",");
        super::json::kv_int(&mut s, "E", t);
        super::json::kv_int(&mut s, "T", t);
        s.push_str("\"a\":{");
        super::json::kv_str(&mut s, "m", reason);
        s.push_str("\"B\":[{");
        super::json::kv_str(&mut s, "a", "USDT");
        super::json::kv_dec(&mut s, "wb", wallet, super::order::digits(wallet, 8));
        super::json::kv_dec(&mut s, "cw", wallet, super::order::digits(wallet, 8));
        super::json::kv_dec(&mut s, "bc", delta, super::order::digits(delta, 8));
        super::json::close(&mut s, '}');
        s.push_str("],\"P\":[]}}");
        super::state::push_user(
            out,
            account,
            super::state::EventType::AccountUpdate,
            s,
            t,
            0,
            "",
        );
        Ok(wallet)
    }
}

/// One position leg set by [`Venue::set_positions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionLeg {
    /// Symbol.
    pub symbol: String,
    /// BOTH (one-way), LONG or SHORT (hedge).
    pub position_side: PositionSide,
    /// Signed amount (0 closes the leg).
    pub amount: Decimal,
    /// Entry price (ignored when the amount is 0).
    pub entry_price: Decimal,
}

impl Venue {
    /// Sets several position legs of one account at once, without orders
    /// or trades, and reports all of them in ONE ACCOUNT_UPDATE (`reason`,
    /// e.g. `ADJUSTMENT` or `INSURANCE_CLEAR`). Why: the venue's own
    /// many-position updates (insurance clearing, admin adjustments,
    /// delivery) are rare and cannot be provoked by trading, yet a client
    /// must survive one that lists more positions than it keeps inline.
    /// Nothing changes unless every leg names a listed symbol.
    pub fn set_positions(
        &mut self,
        account: usize,
        legs: &[PositionLeg],
        reason: &str,
        now_ms: i64,
        out: &mut Outbox,
    ) -> Result<(), ControlError> {
        if account >= self.accounts.len() {
            return Err(ControlError::UnknownAccount(account));
        }
        let mut idx = Vec::with_capacity(legs.len());
        for l in legs {
            let sym = self.control_sym(&l.symbol)?;
            let step = self.markets[sym].ins.cfg.step_size;
            let on_step = l.amount.round_to_step(step, Rounding::TowardZero) == Ok(l.amount);
            if !on_step
                || l.amount.is_positive() && l.position_side == PositionSide::Short
                || l.amount.is_negative() && l.position_side == PositionSide::Long
            {
                return Err(ControlError::BadAmount(l.amount));
            }
            if !l.amount.is_zero() && !l.entry_price.is_positive() {
                return Err(ControlError::BadPrice);
            }
            idx.push(sym);
        }
        self.now = now_ms;
        let t = self.stamp(account, super::state::EventType::AccountUpdate);
        let wallet = self.accounts[account].wallet;
        let mut s = String::with_capacity(128 + 200 * legs.len());
        s.push_str("{\"e\":\"ACCOUNT_UPDATE\",");
        super::json::kv_int(&mut s, "E", t);
        super::json::kv_int(&mut s, "T", t);
        s.push_str("\"a\":{");
        super::json::kv_str(&mut s, "m", reason);
        s.push_str("\"B\":[{");
        super::json::kv_str(&mut s, "a", "USDT");
        super::json::kv_dec(&mut s, "wb", wallet, super::order::digits(wallet, 8));
        super::json::kv_dec(&mut s, "cw", wallet, super::order::digits(wallet, 8));
        super::json::kv_str(&mut s, "bc", "0");
        super::json::close(&mut s, '}');
        s.push_str("],\"P\":[");
        for (n, (l, &sym)) in legs.iter().zip(&idx).enumerate() {
            let leg = super::account::ps_index(l.position_side);
            let st = &mut self.accounts[account].syms[sym];
            let p = &mut st.pos[leg];
            p.amt = l.amount;
            p.entry = if l.amount.is_zero() {
                Decimal::ZERO
            } else {
                l.entry_price
            };
            p.open_fees = Decimal::ZERO;
            p.update_time = t;
            let p = *p;
            let isolated = st.isolated;
            let m = &self.markets[sym];
            if n > 0 {
                s.push(',');
            }
            s.push('{');
            super::json::kv_str(&mut s, "s", &m.ins.symbol);
            super::json::kv_dec(&mut s, "pa", p.amt, m.ins.qty_dp);
            super::json::kv_dec(
                &mut s,
                "ep",
                p.entry,
                super::order::digits(p.entry, m.ins.price_dp),
            );
            super::json::kv_dec(
                &mut s,
                "bep",
                p.entry,
                super::order::digits(p.entry, m.ins.price_dp),
            );
            super::json::kv_dec(
                &mut s,
                "cr",
                p.realized,
                super::order::digits(p.realized, 8),
            );
            let up = p.unrealized(m.mark);
            super::json::kv_dec(&mut s, "up", up, super::order::digits(up, 8));
            super::json::kv_str(&mut s, "mt", if isolated { "isolated" } else { "cross" });
            super::json::kv_str(&mut s, "iw", "0");
            super::json::kv_str(&mut s, "ps", l.position_side.as_str());
            super::json::close(&mut s, '}');
        }
        s.push_str("]}}");
        super::state::push_user(
            out,
            account,
            super::state::EventType::AccountUpdate,
            s,
            t,
            0,
            "",
        );
        Ok(())
    }
}
