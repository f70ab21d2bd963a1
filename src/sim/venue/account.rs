//! Accounts: wallet, positions per (symbol, position side), leverage, open
//! order bookkeeping and the arithmetic of a fill (entry price, realized PnL,
//! commission) — kept incremental so placing an order never scans history.
use super::fasthash::FastMap;
use crate::model::decimal::{Decimal, Rounding};
use crate::model::enums::{PositionSide, Side};

/// One position leg.
#[derive(Debug, Clone, Copy, Default)]
pub struct Position {
    /// Signed amount (BOTH: signed; LONG ≥ 0; SHORT ≤ 0).
    pub amt: Decimal,
    /// Average entry price.
    pub entry: Decimal,
    /// Accumulated realized PnL before fees (`cr`).
    pub realized: Decimal,
    /// Commission paid while opening the current amount (for break-even).
    pub open_fees: Decimal,
    /// Last change.
    pub update_time: i64,
}

impl Position {
    /// Break-even price: entry moved by the opening fees per unit.
    pub fn break_even(&self) -> Decimal {
        if self.amt.is_zero() {
            return Decimal::ZERO;
        }
        let per_unit = self
            .open_fees
            .checked_div(self.amt.abs(), Rounding::HalfEven)
            .unwrap_or(Decimal::ZERO);
        if self.amt.is_positive() {
            self.entry.checked_add(per_unit).unwrap_or(self.entry)
        } else {
            self.entry.checked_sub(per_unit).unwrap_or(self.entry)
        }
    }
    /// Unrealized PnL at `mark`.
    pub fn unrealized(&self, mark: Decimal) -> Decimal {
        mark.checked_sub(self.entry)
            .and_then(|d| d.checked_mul(self.amt, Rounding::HalfEven))
            .unwrap_or(Decimal::ZERO)
    }
}

/// Index of a position side in [`AccountSymbol::pos`].
pub fn ps_index(ps: PositionSide) -> usize {
    match ps {
        PositionSide::Long => 1,
        PositionSide::Short => 2,
        _ => 0,
    }
}

/// The position side of index `i` of [`AccountSymbol::pos`].
pub fn ps_of(i: usize) -> PositionSide {
    match i {
        1 => PositionSide::Long,
        2 => PositionSide::Short,
        _ => PositionSide::Both,
    }
}

/// An account's state on one symbol.
#[derive(Debug, Clone)]
pub struct AccountSymbol {
    /// Leverage (1–125).
    pub leverage: u32,
    /// Isolated margin flag (reported; margin is computed as cross).
    pub isolated: bool,
    /// BOTH, LONG, SHORT.
    pub pos: [Position; 3],
    /// Open (resting or matching) orders, by id (openOrders, -2025).
    pub open_ids: std::collections::BTreeSet<i64>,
    /// Σ remaining × price of resting BUY orders (`b`).
    pub bid_notional: Decimal,
    /// Σ remaining × price of resting SELL orders (`a`).
    pub ask_notional: Decimal,
    /// clientOrderId → latest orderId with that id.
    pub client_ids: FastMap<String, i64>,
    /// Every orderId of this account on the symbol, ascending (allOrders).
    pub order_ids: Vec<i64>,
    /// Resting reduce-only orders, re-checked when the position changes.
    pub reduce_only_resting: Vec<i64>,
    /// Dead-man switch deadline (0 = off).
    pub countdown_deadline: i64,
}

impl AccountSymbol {
    fn new(leverage: u32) -> Self {
        AccountSymbol {
            leverage,
            isolated: false,
            pos: [Position::default(); 3],
            open_ids: std::collections::BTreeSet::new(),
            bid_notional: Decimal::ZERO,
            ask_notional: Decimal::ZERO,
            client_ids: FastMap::default(),
            order_ids: Vec::new(),
            reduce_only_resting: Vec::new(),
            countdown_deadline: 0,
        }
    }
}

/// A fill's effect on a position, for events and the ledger.
#[derive(Debug, Clone, Copy, Default)]
pub struct FillEffect {
    /// Realized PnL (before fees).
    pub realized: Decimal,
    /// Commission charged.
    pub commission: Decimal,
}

/// One own trade (`userTrades`, ledger).
#[derive(Debug, Clone)]
pub struct Trade {
    /// Trade id (per symbol).
    pub id: i64,
    /// Symbol index.
    pub sym: usize,
    /// Order id.
    pub order_id: i64,
    /// Side of the order.
    pub side: Side,
    /// Fill price.
    pub price: Decimal,
    /// Fill quantity.
    pub qty: Decimal,
    /// Realized PnL.
    pub realized: Decimal,
    /// Commission (USDT).
    pub commission: Decimal,
    /// Time.
    pub time: i64,
    /// Position side.
    pub position_side: PositionSide,
    /// Maker flag.
    pub maker: bool,
}

/// A simulated account.
#[derive(Debug, Clone)]
pub struct Account {
    /// USDT wallet balance (realized PnL and fees included).
    pub wallet: Decimal,
    /// Hedge (dual-side) mode.
    pub hedge: bool,
    /// Maker fee rate.
    pub maker_fee: Decimal,
    /// Taker fee rate.
    pub taker_fee: Decimal,
    /// Per symbol state.
    pub syms: Vec<AccountSymbol>,
    /// Σ reserved initial margin of open orders.
    pub open_order_im: Decimal,
    /// Own trades, ascending.
    pub trades: Vec<Trade>,
    /// Open algo orders (cap: `max_algo_orders`).
    pub open_algos: usize,
    /// clientAlgoId → algoId (latest).
    pub algo_client_ids: FastMap<String, i64>,
    /// Last balance change.
    pub update_time: i64,
    /// Last E per user event type (monotonic clocks).
    pub clocks: [i64; 6],
}

impl Account {
    /// A fresh account.
    pub fn new(cfg: &super::settings::AccountSettings, nsyms: usize) -> Self {
        Account {
            wallet: cfg.balance,
            hedge: cfg.position_mode == super::settings::PositionMode::Hedge,
            maker_fee: cfg.maker_fee,
            taker_fee: cfg.taker_fee,
            syms: (0..nsyms)
                .map(|_| AccountSymbol::new(cfg.leverage.clamp(1, 125)))
                .collect(),
            open_order_im: Decimal::ZERO,
            trades: Vec::new(),
            open_algos: 0,
            algo_client_ids: FastMap::default(),
            update_time: 0,
            clocks: [0; 6],
        }
    }

    /// Whether any position is open.
    pub fn has_position(&self) -> bool {
        self.syms
            .iter()
            .any(|s| s.pos.iter().any(|p| !p.amt.is_zero()))
    }

    /// Whether any order is open.
    pub fn has_open_orders(&self) -> bool {
        self.syms.iter().any(|s| !s.open_ids.is_empty()) || self.open_algos > 0
    }

    /// Σ unrealized PnL and Σ position initial margin at the given marks.
    pub fn unrealized_and_margin(
        &self,
        marks: impl IntoIterator<Item = Decimal>,
    ) -> (Decimal, Decimal) {
        let mut up = Decimal::ZERO;
        let mut im = Decimal::ZERO;
        for (s, mark) in self.syms.iter().zip(marks) {
            for p in &s.pos {
                if p.amt.is_zero() {
                    continue;
                }
                up = up.checked_add(p.unrealized(mark)).unwrap_or(up);
                let notional = p
                    .amt
                    .abs()
                    .checked_mul(mark, Rounding::HalfEven)
                    .unwrap_or(Decimal::ZERO);
                let m = notional
                    .checked_div(
                        Decimal::from_int(i64::from(s.leverage)).unwrap_or(Decimal::ONE),
                        Rounding::Ceil,
                    )
                    .unwrap_or(Decimal::ZERO);
                im = im.checked_add(m).unwrap_or(im);
            }
        }
        (up, im)
    }

    /// Available balance: wallet + unrealized − position IM − open order IM.
    pub fn available(&self, marks: impl IntoIterator<Item = Decimal>) -> Decimal {
        let (up, im) = self.unrealized_and_margin(marks);
        self.wallet
            .checked_add(up)
            .and_then(|v| v.checked_sub(im))
            .and_then(|v| v.checked_sub(self.open_order_im))
            .unwrap_or(Decimal::ZERO)
    }

    /// Applies one fill to the position leg and the wallet: entry price
    /// averaging on increase, realized PnL on decrease, flip through zero in
    /// one-way mode, commission at `fee_rate`.
    #[allow(clippy::too_many_arguments)]
    pub fn apply_fill(
        &mut self,
        sym: usize,
        ps: PositionSide,
        side: Side,
        qty: Decimal,
        price: Decimal,
        fee_rate: Decimal,
        now: i64,
    ) -> FillEffect {
        let notional = price
            .checked_mul(qty, Rounding::HalfEven)
            .unwrap_or(Decimal::ZERO);
        let commission = notional
            .checked_mul(fee_rate, Rounding::HalfEven)
            .unwrap_or(Decimal::ZERO);
        let Some(st) = self.syms.get_mut(sym) else {
            return FillEffect::default();
        };
        let p = &mut st.pos[ps_index(ps)];
        let signed = if side == Side::Buy { qty } else { qty.neg() };
        let mut realized = Decimal::ZERO;
        let same_dir = p.amt.is_zero() || (p.amt.is_positive() == signed.is_positive());
        if same_dir {
            let old_abs = p.amt.abs();
            let new_abs = old_abs.checked_add(qty).unwrap_or(old_abs);
            let cost = p
                .entry
                .checked_mul(old_abs, Rounding::HalfEven)
                .and_then(|c| c.checked_add(notional))
                .unwrap_or(Decimal::ZERO);
            p.entry = cost
                .checked_div(new_abs, Rounding::HalfEven)
                .unwrap_or(price);
            p.amt = p.amt.checked_add(signed).unwrap_or(p.amt);
            p.open_fees = p.open_fees.checked_add(commission).unwrap_or(p.open_fees);
        } else {
            let old_abs = p.amt.abs();
            let closed = if qty < old_abs { qty } else { old_abs };
            let dir = if p.amt.is_positive() {
                Decimal::ONE
            } else {
                Decimal::ONE.neg()
            };
            realized = price
                .checked_sub(p.entry)
                .and_then(|d| d.checked_mul(closed, Rounding::HalfEven))
                .and_then(|d| d.checked_mul(dir, Rounding::HalfEven))
                .unwrap_or(Decimal::ZERO);
            // Opening fees leave with the closed share.
            let fee_share = p
                .open_fees
                .checked_mul(closed, Rounding::HalfEven)
                .and_then(|f| f.checked_div(old_abs, Rounding::HalfEven))
                .unwrap_or(Decimal::ZERO);
            p.open_fees = p.open_fees.checked_sub(fee_share).unwrap_or(Decimal::ZERO);
            p.amt = p.amt.checked_add(signed).unwrap_or(p.amt);
            if p.amt.is_zero() {
                p.entry = Decimal::ZERO;
                p.open_fees = Decimal::ZERO;
            } else if p.amt.is_positive() != (dir.is_positive()) {
                // Flipped through zero: the remainder opens at the fill price.
                p.entry = price;
                p.open_fees = Decimal::ZERO;
            }
            p.realized = p.realized.checked_add(realized).unwrap_or(p.realized);
        }
        p.update_time = now;
        self.wallet = self
            .wallet
            .checked_add(realized)
            .and_then(|w| w.checked_sub(commission))
            .unwrap_or(self.wallet);
        self.update_time = now;
        FillEffect {
            realized,
            commission,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::venue::settings::AccountSettings;

    fn dd(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_default()
    }

    #[test]
    fn open_add_reduce_flip() {
        let mut a = Account::new(&AccountSettings::default(), 1);
        let w0 = a.wallet;
        let f = a.apply_fill(
            0,
            PositionSide::Both,
            Side::Buy,
            dd("1"),
            dd("100"),
            dd("0.001"),
            1,
        );
        assert_eq!(f.commission, dd("0.1"));
        a.apply_fill(
            0,
            PositionSide::Both,
            Side::Buy,
            dd("1"),
            dd("110"),
            Decimal::ZERO,
            2,
        );
        assert_eq!(a.syms[0].pos[0].entry, dd("105"));
        assert_eq!(a.syms[0].pos[0].break_even(), dd("105.05"));
        let f = a.apply_fill(
            0,
            PositionSide::Both,
            Side::Sell,
            dd("3"),
            dd("120"),
            Decimal::ZERO,
            3,
        );
        assert_eq!(f.realized, dd("30"));
        assert_eq!(a.syms[0].pos[0].amt, dd("-1"));
        assert_eq!(a.syms[0].pos[0].entry, dd("120"));
        assert_eq!(a.wallet, w0.checked_add(dd("29.9")).unwrap_or_default());
        let f = a.apply_fill(
            0,
            PositionSide::Both,
            Side::Buy,
            dd("1"),
            dd("100"),
            Decimal::ZERO,
            4,
        );
        assert_eq!(f.realized, dd("20"));
        assert!(a.syms[0].pos[0].amt.is_zero());
        assert_eq!(a.syms[0].pos[0].realized, dd("50"));
    }
}
