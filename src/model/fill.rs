//! One execution against one of our orders (or a venue-generated order on our
//! account), as the venue reports it.
//!
//! A `Fill` is `Copy` and heap-free so it can ride inside an
//! [`OrderEvent`](super::events::OrderEvent) over a preallocated channel.
//! Amounts are exact decimals: a fill's price × quantity is the notional the
//! venue books, and rounding it through a float would make positions drift.

use super::decimal::{Decimal, Money, Price, Quantity, Rounding};
use super::enums::{PositionSide, Side};
use super::ids::{ClientOrderId, InlineStr, InstrumentId, TradeId, VenueOrderId};

/// A commission asset such as `USDT` or `BNB`, inline so `Fill` stays `Copy`.
pub type AssetCode = InlineStr<12>;

/// Whether our side of the trade rested on the book. Fees differ (and may be a
/// rebate for makers), so strategies and reports care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Liquidity {
    /// Our order was resting (`m: true`).
    Maker,
    /// Our order took liquidity (`m: false`).
    Taker,
    /// The report did not say.
    #[default]
    Unknown,
}

impl Liquidity {
    /// Maps the venue's `m` flag (absent ⇒ unknown).
    pub fn from_maker_flag(maker: Option<bool>) -> Self {
        match maker {
            Some(true) => Liquidity::Maker,
            Some(false) => Liquidity::Taker,
            None => Liquidity::Unknown,
        }
    }
}

/// Why this fill happened. Liquidation and ADL fills move our position without
/// any order of ours, so risk and PnL reports must tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FillKind {
    /// A fill of an order we (or another client on the account) placed.
    #[default]
    Normal,
    /// The venue liquidated the position (`autoclose-…` client id).
    Liquidation,
    /// Auto-deleveraging closed part of a profitable position (`adl_autoclose`).
    Adl,
    /// Delisting / delivery settlement (`settlement_autoclose-…`).
    Settlement,
}

impl FillKind {
    /// Classifies by the client order id, which is the only marker the venue
    /// gives for its own orders (the execution type may be TRADE or CALCULATED).
    pub fn from_client_id(id: &ClientOrderId) -> Self {
        if id.is_liquidation() {
            FillKind::Liquidation
        } else if id.is_adl() {
            FillKind::Adl
        } else if id.is_settlement() {
            FillKind::Settlement
        } else {
            FillKind::Normal
        }
    }
}

/// One execution: what moved, at what price, and what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// Instrument traded.
    pub instrument: InstrumentId,
    /// Client id of the order (ours, or the venue's `autoclose-…`).
    pub client_id: ClientOrderId,
    /// The venue's order id (`i`).
    pub venue_order_id: VenueOrderId,
    /// The venue's trade id (`t`), unique per symbol: the dedupe key.
    pub trade_id: TradeId,
    /// Our side.
    pub side: Side,
    /// Position the fill applies to (`BOTH` in one-way mode).
    pub position_side: PositionSide,
    /// Execution price (`L`).
    pub price: Price,
    /// Executed quantity (`l`), always positive.
    pub quantity: Quantity,
    /// Commission of this fill (`n`); negative is a rebate. Zero when the
    /// report (e.g. TRADE_LITE) does not carry it.
    pub commission: Money,
    /// Commission asset (`N`); empty when not reported.
    pub commission_asset: AssetCode,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Realized PnL the venue booked for this fill (`rp`), before fees.
    pub realized_pnl: Money,
    /// Venue transaction time (ms since the epoch).
    pub ts_venue_ms: i64,
    /// Normal, liquidation, ADL or settlement.
    pub kind: FillKind,
    /// True when the stream never delivered this fill and the engine
    /// recovered it from `GET /fapi/v1/userTrades` during reconciliation:
    /// it arrives late, so a trader may want to treat it differently.
    pub recovered: bool,
}

impl Fill {
    /// Price × quantity, rounded half-even to 1e-8; `None` on overflow. The
    /// quote amount this fill moved, for notional limits and reports.
    pub fn notional(&self) -> Option<Decimal> {
        self.price
            .value()
            .checked_mul(self.quantity.value(), Rounding::HalfEven)
    }

    /// Quantity signed by side (+ buy, − sell), the amount a one-way position
    /// moves by.
    pub fn signed_quantity(&self) -> Decimal {
        Decimal::from_raw(self.quantity.raw().saturating_mul(self.side.sign()))
    }

    /// True when the venue, not an order of ours, caused this fill.
    pub fn is_forced(&self) -> bool {
        self.kind != FillKind::Normal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::Symbol;

    fn fill(side: Side, px: &str, qty: &str) -> Fill {
        Fill {
            instrument: InstrumentId::perp(Symbol::new("ETHUSDT").unwrap()),
            client_id: ClientOrderId::new("e1-1").unwrap(),
            venue_order_id: 1,
            trade_id: 7,
            side,
            position_side: PositionSide::Both,
            price: Price::parse(px).unwrap(),
            quantity: Quantity::parse(qty).unwrap(),
            commission: Money::ZERO,
            commission_asset: AssetCode::EMPTY,
            liquidity: Liquidity::Taker,
            realized_pnl: Money::ZERO,
            ts_venue_ms: 0,
            kind: FillKind::Normal,
            recovered: false,
        }
    }

    #[test]
    fn notional_and_sign() {
        let f = fill(Side::Sell, "2400.95", "0.020");
        assert_eq!(f.notional().unwrap().to_string(), "48.019");
        assert_eq!(f.signed_quantity().to_string(), "-0.02");
        assert!(!f.is_forced());
    }

    #[test]
    fn kinds_from_client_ids() {
        let k = |s: &str| FillKind::from_client_id(&ClientOrderId::from_venue(s));
        assert_eq!(k("autoclose-1760000000000"), FillKind::Liquidation);
        assert_eq!(k("adl_autoclose"), FillKind::Adl);
        assert_eq!(k("settlement_autoclose-BTC"), FillKind::Settlement);
        assert_eq!(k("e1-000042"), FillKind::Normal);
        assert_eq!(Liquidity::from_maker_flag(Some(true)), Liquidity::Maker);
        assert_eq!(Liquidity::from_maker_flag(None), Liquidity::Unknown);
    }
}
