//! Positions from fills (one-way and hedge) and venue snapshots.

use binance_exec::engine::positions::{PositionBook, PositionError, PositionSnapshot};
use binance_exec::model::ids::{ClientOrderId, InstrumentId, Symbol};
use binance_exec::model::{
    AssetCode, Decimal, Fill, FillKind, Liquidity, Money, PositionSide as PS, Price, Quantity, Side,
};

fn sym() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}
fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}
fn fill(side: Side, ps: PS, qty: &str, px: &str) -> Fill {
    Fill {
        instrument: InstrumentId::perp(sym()),
        client_id: ClientOrderId::new("x-1").unwrap(),
        venue_order_id: 1,
        trade_id: 1,
        side,
        position_side: ps,
        price: Price::parse(px).unwrap(),
        quantity: Quantity::parse(qty).unwrap(),
        commission: Money::ZERO,
        commission_asset: AssetCode::EMPTY,
        liquidity: Liquidity::Taker,
        realized_pnl: Money::ZERO,
        ts_venue_ms: 5,
        kind: FillKind::Normal,
        recovered: false,
    }
}

#[test]
fn one_way_average_realized_and_flip() {
    let mut b = PositionBook::with_capacity(8);
    b.apply_fill(&fill(Side::Buy, PS::Both, "1", "100"))
        .unwrap();
    let e = b
        .apply_fill(&fill(Side::Buy, PS::Both, "1", "101"))
        .unwrap();
    assert_eq!(
        (e.amount, e.entry_price),
        (d("2"), Price::parse("100.5").unwrap())
    );
    // Sell 3: closes 2 at +1.5 each, opens 1 short at 102.
    let e = b
        .apply_fill(&fill(Side::Sell, PS::Both, "3", "102"))
        .unwrap();
    assert_eq!(e.amount, d("-1"));
    assert_eq!(e.entry_price, Price::parse("102").unwrap());
    assert_eq!(e.realized_pnl, Money::parse("3").unwrap());
    // Cover at 100: short gains 2.
    let e = b
        .apply_fill(&fill(Side::Buy, PS::Both, "1", "100"))
        .unwrap();
    assert!(e.amount.is_zero());
    assert_eq!(e.entry_price, Price::ZERO);
    assert_eq!(e.realized_pnl, Money::parse("5").unwrap());
}

#[test]
fn exact_entry_price_and_partial_reduce_keeps_it() {
    let mut b = PositionBook::with_capacity(8);
    b.apply_fill(&fill(Side::Buy, PS::Both, "1", "0.1"))
        .unwrap();
    let e = b
        .apply_fill(&fill(Side::Buy, PS::Both, "2", "0.2"))
        .unwrap();
    assert_eq!(e.entry_price, Price::parse("0.16666667").unwrap());
    let e = b
        .apply_fill(&fill(Side::Sell, PS::Both, "1", "0.2"))
        .unwrap();
    assert_eq!(e.amount, d("2"));
    assert_eq!(e.entry_price, Price::parse("0.16666667").unwrap());
    // (0.2 - 0.1666…) × 1 = 0.0333… → 0.03333333
    assert_eq!(e.realized_pnl, Money::parse("0.03333333").unwrap());
}

#[test]
fn hedge_sides_are_separate_and_sign_checked() {
    let mut b = PositionBook::with_capacity(8);
    b.apply_fill(&fill(Side::Buy, PS::Long, "1", "100"))
        .unwrap();
    b.apply_fill(&fill(Side::Sell, PS::Short, "2", "100"))
        .unwrap();
    let long = b.get(sym(), PS::Long).unwrap();
    let short = b.get(sym(), PS::Short).unwrap();
    assert_eq!((long.amount, short.amount), (d("1"), d("-2")));
    let err = b.apply_fill(&fill(Side::Sell, PS::Long, "2", "100"));
    assert!(matches!(err, Err(PositionError::HedgeSign { .. })));
    assert_eq!(b.get(sym(), PS::Long).unwrap().amount, d("1"), "unchanged");
    let e = b
        .apply_fill(&fill(Side::Buy, PS::Short, "2", "90"))
        .unwrap();
    assert!(e.amount.is_zero());
    assert_eq!(e.realized_pnl, Money::parse("20").unwrap());
}

#[test]
fn snapshot_overwrites_and_capacity_is_enforced() {
    let mut b = PositionBook::with_capacity(1);
    b.apply_fill(&fill(Side::Buy, PS::Both, "1", "100"))
        .unwrap();
    let e = b
        .apply_snapshot(&PositionSnapshot {
            symbol: sym(),
            position_side: PS::Both,
            amount: d("-0.5"),
            entry_price: Price::parse("99").unwrap(),
            ts_venue_ms: 9,
        })
        .unwrap();
    assert!(e.from_snapshot);
    assert_eq!(
        (e.amount, e.entry_price),
        (d("-0.5"), Price::parse("99").unwrap())
    );
    let err = b.apply_fill(&fill(Side::Buy, PS::Long, "1", "100"));
    assert_eq!(err, Err(PositionError::Full(1)));
}

#[test]
fn a_late_fill_at_or_before_the_latest_snapshot_is_covered_by_it() {
    let mut b = PositionBook::with_capacity(4);
    let mut early = fill(Side::Sell, PS::Both, "0.003", "100");
    early.ts_venue_ms = 90;
    // No snapshot yet: nothing covers the fill.
    assert!(!b.covers(&early));
    b.apply_snapshot(&PositionSnapshot {
        symbol: sym(),
        position_side: PS::Both,
        amount: d("-0.003"),
        entry_price: Price::parse("100").unwrap(),
        ts_venue_ms: 100,
    })
    .unwrap();
    assert!(b.covers(&early));
    let mut same_ms = early;
    same_ms.ts_venue_ms = 100;
    assert!(b.covers(&same_ms));
    let mut later = early;
    later.ts_venue_ms = 101;
    assert!(!b.covers(&later));
    // Another side's snapshot says nothing about this one.
    let mut long = early;
    long.position_side = PS::Long;
    assert!(!b.covers(&long));
}
