//! Instrument provider selection and pre-submit filter validation against the
//! sample exchangeInfo, plus grid-rounding properties.

use binance_exec::binance::exchange_info::{ExchangeInfo, SymbolStatus};
use binance_exec::config::InstrumentSelection;
use binance_exec::instruments::{
    FilterKind, FilterViolation, Instrument, InstrumentProvider, OrderCheck, ProviderError,
};
use binance_exec::model::decimal::{Decimal, Price, Quantity, Rounding};
use binance_exec::model::enums::{OrderType, Side};
use binance_exec::model::ids::InstrumentId;
use proptest::prelude::*;

const SAMPLE: &str = include_str!("../src/instruments/fixtures/exchange_info.json");

fn info() -> ExchangeInfo {
    ExchangeInfo::from_json(SAMPLE.as_bytes()).unwrap()
}

fn select(ids: &[&str]) -> InstrumentSelection {
    InstrumentSelection {
        load_all: false,
        load_ids: ids.iter().map(|s| s.parse().unwrap()).collect(),
    }
}

fn inst(id: &str) -> Instrument {
    let p = InstrumentProvider::from_exchange_info(&info(), &select(&[id])).unwrap();
    *p.instruments().first().unwrap()
}

fn px(s: &str) -> Price {
    Price::parse(s).unwrap()
}
fn qty(s: &str) -> Quantity {
    Quantity::parse(s).unwrap()
}

fn limit(side: Side, price: &str, q: &str) -> OrderCheck {
    OrderCheck {
        side,
        order_type: OrderType::Limit,
        quantity: qty(q),
        price: Some(px(price)),
        trigger_price: None,
        reduce_only: false,
        close_position: false,
        mark_price: None,
    }
}

#[test]
fn provider_keeps_only_requested_ids_in_order() {
    let p = InstrumentProvider::from_exchange_info(
        &info(),
        &select(&["币安人生USDT-PERP.BINANCE", "BTCUSDT-PERP.BINANCE"]),
    )
    .unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p.instruments()[0].symbol.as_str(), "币安人生USDT");
    let id: InstrumentId = "BTCUSDT-PERP.BINANCE".parse().unwrap();
    let btc = p.get(&id).unwrap();
    assert_eq!(btc.tick_size, px("0.1"));
    assert_eq!(btc.min_price, px("261.1"));
    assert_eq!(btc.max_price, px("809484"));
    assert_eq!(btc.step_size, qty("0.001"));
    assert_eq!(btc.max_qty, qty("1000"));
    assert_eq!(btc.market_max_qty, qty("120"));
    assert_eq!(btc.min_notional.value(), Decimal::parse("100").unwrap());
    assert_eq!(btc.multiplier_up, Decimal::parse("1.05").unwrap());
    assert_eq!(btc.multiplier_down, Decimal::parse("0.95").unwrap());
    assert_eq!(btc.multiplier_decimal, 4);
    assert_eq!((btc.max_num_orders, btc.max_num_algo_orders), (200, 10));
    assert_eq!((btc.price_precision, btc.quantity_precision), (2, 3));
    assert_eq!(btc.trigger_protect, Decimal::parse("0.05").unwrap());
    assert_eq!(btc.status, SymbolStatus::Trading);
    assert!(p.by_symbol("币安人生USDT").is_some());
    assert!(p.by_symbol("ETHUSDT").is_none());
    // Delivery contracts use the id without -PERP.
    let q = inst("BTCUSDT_260327.BINANCE");
    assert!(!q.id.perpetual);
    assert_eq!(q.id.to_string(), "BTCUSDT_260327.BINANCE");
}

#[test]
fn provider_fails_fast_with_the_id() {
    let e = InstrumentProvider::from_exchange_info(
        &info(),
        &select(&["BTCUSDT-PERP.BINANCE", "DOGEUSDT-PERP.BINANCE"]),
    )
    .unwrap_err();
    assert!(matches!(e, ProviderError::NotListed { .. }));
    assert!(
        e.to_string().starts_with(
            "instrument DOGEUSDT-PERP.BINANCE is not listed by the venue's exchangeInfo"
        ),
        "{e}"
    );
    let e = InstrumentProvider::from_exchange_info(&info(), &select(&["OLDUSDT-PERP.BINANCE"]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "instrument OLDUSDT-PERP.BINANCE has status SETTLING, not TRADING; orders would be rejected"
    );
    let e = InstrumentProvider::from_exchange_info(&info(), &select(&["NEWUSDT-PERP.BINANCE"]))
        .unwrap_err();
    assert!(e.to_string().contains("status HALTED_FOR_TEST"), "{e}");
    let e =
        InstrumentProvider::from_exchange_info(&info(), &select(&["BTCUSDT.BINANCE"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "instrument BTCUSDT.BINANCE: the venue lists BTCUSDT as PERPETUAL; use BTCUSDT-PERP.BINANCE"
    );
}

#[test]
fn load_all_keeps_trading_symbols_and_reports_the_rest() {
    let sel = InstrumentSelection {
        load_all: true,
        load_ids: vec![],
    };
    let p = InstrumentProvider::from_exchange_info(&info(), &sel).unwrap();
    assert_eq!(p.len(), 5);
    assert_eq!(p.skipped().len(), 2);
    assert!(
        p.skipped()
            .iter()
            .any(|s| s.starts_with("OLDUSDT: status SETTLING"))
    );
}

#[test]
fn missing_required_filter_is_an_error() {
    let doc = r#"{"symbols":[{"symbol":"ABCUSDT","contractType":"PERPETUAL","status":"TRADING",
        "filters":[{"filterType":"LOT_SIZE","minQty":"1","maxQty":"10","stepSize":"1"}]}]}"#;
    let info = ExchangeInfo::from_json(doc.as_bytes()).unwrap();
    let e = InstrumentProvider::from_exchange_info(&info, &select(&["ABCUSDT-PERP.BINANCE"]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "instrument ABCUSDT-PERP.BINANCE: symbol ABCUSDT: exchangeInfo has no PRICE_FILTER filter"
    );
}

/// Each filter breach with the venue code it would have produced.
#[test]
fn violations_name_filter_and_code() {
    let btc = inst("BTCUSDT-PERP.BINANCE");
    let mark = Some(px("60000"));
    let check = |o: OrderCheck| btc.validate(&o).map_err(|v| (v.filter(), v.code()));
    assert_eq!(check(limit(Side::Buy, "60000.1", "0.002")), Ok(()));
    let cases: Vec<(OrderCheck, FilterKind, i32)> = vec![
        (
            limit(Side::Buy, "60000.123", "0.002"),
            FilterKind::PriceFilter,
            -1111,
        ),
        (
            limit(Side::Buy, "60000.15", "0.002"),
            FilterKind::PriceFilter,
            -4014,
        ),
        (
            limit(Side::Buy, "60000", "0.0021"),
            FilterKind::LotSize,
            -1111,
        ),
        (limit(Side::Buy, "60000", "0"), FilterKind::LotSize, -4003),
        (
            limit(Side::Buy, "60000", "-0.001"),
            FilterKind::LotSize,
            -4003,
        ),
        (limit(Side::Buy, "100", "2"), FilterKind::PriceFilter, -4013),
        (
            limit(Side::Buy, "900000", "0.002"),
            FilterKind::PriceFilter,
            -4002,
        ),
        (
            limit(Side::Buy, "0", "0.002"),
            FilterKind::PriceFilter,
            -4001,
        ),
        (
            limit(Side::Buy, "60000", "1001"),
            FilterKind::LotSize,
            -4005,
        ),
        (
            limit(Side::Buy, "60000", "0.001"),
            FilterKind::MinNotional,
            -4164,
        ),
        (
            OrderCheck {
                mark_price: mark,
                ..limit(Side::Buy, "63000.1", "0.002")
            },
            FilterKind::PercentPrice,
            -4016,
        ),
        (
            OrderCheck {
                mark_price: mark,
                ..limit(Side::Sell, "56999.9", "0.002")
            },
            FilterKind::PercentPrice,
            -4024,
        ),
        (
            OrderCheck {
                price: None,
                ..limit(Side::Buy, "1", "0.002")
            },
            FilterKind::Parameters,
            -1102,
        ),
        (
            OrderCheck {
                order_type: OrderType::Market,
                price: None,
                ..limit(Side::Buy, "1", "121")
            },
            FilterKind::MarketLotSize,
            -4005,
        ),
        (
            OrderCheck {
                order_type: OrderType::StopMarket,
                price: None,
                trigger_price: Some(px("59000.05")),
                ..limit(Side::Sell, "1", "0.002")
            },
            FilterKind::PriceFilter,
            -4014,
        ),
        (
            OrderCheck {
                order_type: OrderType::StopMarket,
                price: None,
                trigger_price: None,
                ..limit(Side::Sell, "1", "0.002")
            },
            FilterKind::Parameters,
            -1102,
        ),
        (
            OrderCheck {
                order_type: OrderType::Market,
                price: None,
                mark_price: mark,
                ..limit(Side::Sell, "1", "0.001")
            },
            FilterKind::MinNotional,
            -4164,
        ),
    ];
    for (o, filter, code) in cases {
        assert_eq!(check(o), Err((filter, code)), "{o:?}");
    }
    // closePosition orders carry no quantity; trailing stops need no trigger.
    let close = OrderCheck {
        order_type: OrderType::StopMarket,
        price: None,
        trigger_price: Some(px("59000")),
        close_position: true,
        ..limit(Side::Sell, "1", "0")
    };
    assert_eq!(check(close), Ok(()));
    let trailing = OrderCheck {
        order_type: OrderType::TrailingStopMarket,
        price: None,
        ..limit(Side::Sell, "1", "0.002")
    };
    assert_eq!(check(trailing), Ok(()));
    // On the band edge is accepted; reduce-only is exempt from MIN_NOTIONAL.
    assert_eq!(
        check(OrderCheck {
            mark_price: mark,
            ..limit(Side::Buy, "63000", "0.002")
        }),
        Ok(())
    );
    assert_eq!(
        check(OrderCheck {
            mark_price: mark,
            ..limit(Side::Sell, "57000", "0.002")
        }),
        Ok(())
    );
    assert_eq!(
        check(OrderCheck {
            reduce_only: true,
            ..limit(Side::Buy, "60000", "0.001")
        }),
        Ok(())
    );
    // Exactly the minimum notional passes (100 = 50000 × 0.002).
    assert_eq!(check(limit(Side::Buy, "50000", "0.002")), Ok(()));
}

#[test]
fn messages_carry_the_values() {
    let btc = inst("BTCUSDT-PERP.BINANCE");
    let v = btc
        .validate(&limit(Side::Buy, "60000.15", "0.002"))
        .unwrap_err();
    assert_eq!(
        v.to_string(),
        "price 60000.15 is not on the tick grid (0.1 from 261.1)"
    );
    let v = btc
        .validate(&limit(Side::Buy, "60000", "0.001"))
        .unwrap_err();
    assert_eq!(
        v,
        FilterViolation::BelowMinNotional {
            notional: binance_exec::model::decimal::Money::parse("60").unwrap(),
            min: binance_exec::model::decimal::Money::parse("100").unwrap(),
        }
    );
    assert_eq!(
        v.to_string(),
        "notional 60 is below the minimum 100 (not reduce-only)"
    );
}

#[test]
fn non_ascii_symbol_grid() {
    let cn = inst("币安人生USDT-PERP.BINANCE");
    assert_eq!(cn.validate(&limit(Side::Buy, "0.21345", "100")), Ok(()));
    let v = cn
        .validate(&limit(Side::Buy, "0.21345", "100.5"))
        .unwrap_err();
    assert_eq!((v.filter(), v.code()), (FilterKind::LotSize, -1111));
    let v = cn
        .validate(&limit(Side::Buy, "0.213451", "100"))
        .unwrap_err();
    assert_eq!(v.code(), -1111);
    let v = cn.validate(&limit(Side::Buy, "0.21345", "10")).unwrap_err();
    assert_eq!(v.code(), -4164);
    assert_eq!(
        cn.round_price(px("0.213459"), Side::Buy).unwrap(),
        px("0.21345")
    );
    assert_eq!(
        cn.round_price(px("0.213451"), Side::Sell).unwrap(),
        px("0.21346")
    );
    assert_eq!(cn.round_qty(qty("99.9")).unwrap(), qty("99"));
}

#[test]
fn rounding_helpers() {
    let btc = inst("BTCUSDT-PERP.BINANCE");
    assert_eq!(
        btc.round_price(px("60000.17"), Side::Buy).unwrap(),
        px("60000.1")
    );
    assert_eq!(
        btc.round_price(px("60000.11"), Side::Sell).unwrap(),
        px("60000.2")
    );
    assert_eq!(
        btc.round_price(px("60000.1"), Side::Sell).unwrap(),
        px("60000.1")
    );
    assert_eq!(
        btc.round_price_with(px("60000.16"), Rounding::HalfEven)
            .unwrap(),
        px("60000.2")
    );
    assert_eq!(btc.round_qty(qty("0.0029")).unwrap(), qty("0.002"));
    assert_eq!(btc.round_qty(qty("-0.0029")).unwrap(), qty("-0.002"));
    assert_eq!(btc.round_market_qty(qty("1.23456")).unwrap(), qty("1.234"));
}

fn instruments() -> Vec<Instrument> {
    [
        "BTCUSDT-PERP.BINANCE",
        "ETHUSDT-PERP.BINANCE",
        "币安人生USDT-PERP.BINANCE",
        "XAUUSDT-PERP.BINANCE",
    ]
    .iter()
    .map(|id| inst(id))
    .collect()
}

/// The point `pos / 1e9` of the way from `lo` to `hi`, so every generated
/// value is inside the instrument's range whatever its scale.
fn between(lo: i64, hi: i64, pos: u32) -> i64 {
    (lo as i128 + (hi as i128 - lo as i128) * pos as i128 / 1_000_000_000) as i64
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A rounded price is on the grid, passive, within one tick, and passes
    /// PRICE_FILTER whenever the raw price lay inside [minPrice, maxPrice].
    #[test]
    fn rounded_prices_pass_the_price_filter(which in 0usize..4, pos in 0u32..=1_000_000_000, buy: bool) {
        let i = instruments()[which];
        let p = Price(Decimal::from_raw(between(i.min_price.raw(), i.max_price.raw(), pos)));
        let side = if buy { Side::Buy } else { Side::Sell };
        let r = i.round_price(p, side).unwrap();
        let tick = i.tick_size.value();
        let diff = r.value().checked_sub(p.value()).unwrap();
        if buy { prop_assert!(r <= p); } else { prop_assert!(r >= p); }
        prop_assert!(diff.abs() < tick);
        prop_assert_eq!(i.round_price(r, side).unwrap(), r);
        prop_assume!(r >= i.min_price && r <= i.max_price);
        // A quantity that keeps notional far above the minimum.
        let q = i.max_qty;
        let o = OrderCheck { side, order_type: OrderType::Limit, quantity: q, price: Some(r),
            trigger_price: None, reduce_only: true, close_position: false, mark_price: None };
        prop_assert_eq!(i.validate(&o), Ok(()));
    }

    /// A rounded quantity never grows, stays on the step grid, and passes
    /// LOT_SIZE when it is within [minQty, maxQty].
    #[test]
    fn rounded_quantities_pass_lot_size(which in 0usize..4, pos in 0u32..=1_000_000_000) {
        let i = instruments()[which];
        let q = Quantity(Decimal::from_raw(between(i.min_qty.raw(), i.max_qty.raw(), pos)));
        let r = i.round_qty(q).unwrap();
        prop_assert!(r <= q);
        prop_assert!(q.value().checked_sub(r.value()).unwrap() < i.step_size.value());
        prop_assume!(r >= i.min_qty && r <= i.max_qty);
        let o = OrderCheck { side: Side::Buy, order_type: OrderType::Limit, quantity: r,
            price: Some(i.max_price), trigger_price: None, reduce_only: true, close_position: false, mark_price: None };
        prop_assert_eq!(i.validate(&o), Ok(()));
    }

    /// Any price off the grid is refused with -1111 or -4014, never accepted.
    #[test]
    fn off_grid_prices_are_refused(which in 0usize..4, pos in 0u32..1_000_000_000, frac in 1i64..1_000) {
        let i = instruments()[which];
        let tick = i.tick_size.raw();
        let on_grid = i.round_price(Price(Decimal::from_raw(between(i.min_price.raw(), i.max_price.raw(), pos))), Side::Buy).unwrap();
        let p = Price(Decimal::from_raw(on_grid.raw() + frac % tick.max(2)));
        prop_assume!(p.raw() % tick != on_grid.raw() % tick && p < i.max_price);
        let o = OrderCheck { side: Side::Buy, order_type: OrderType::Limit, quantity: i.max_qty,
            price: Some(p), trigger_price: None, reduce_only: true, close_position: false, mark_price: None };
        let code = i.validate(&o).map_err(|v| v.code());
        prop_assert!(code == Err(-1111) || code == Err(-4014), "{:?} {:?}", p, code);
    }
}
