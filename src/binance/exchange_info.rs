//! `GET /fapi/v1/exchangeInfo`: rate limits, assets, symbols and their filters.
//!
//! The venue adds fields, filter types and enum values without notice
//! (`TRADIFI_PERPETUAL`, removed `MAX_NUM_ALGO_ORDERS`…). One unseen value
//! must not make the whole document undecodable — that would stop the engine
//! from starting — so unknown keys are ignored, unknown enum values decode to
//! `Unknown(tag)`, and unknown filter types to [`Filter::Unknown`]. Numbers
//! arrive as decimal strings and stay exact ([`Decimal`]).

use crate::model::decimal::Decimal;
use crate::model::enums::{OrderType, TimeInForce, wire_enum};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::time::Duration;

wire_enum!(
    /// Trading status of a symbol; only `Trading` accepts orders.
    SymbolStatus {
        /// Listed, not yet open.
        PendingTrading = "PENDING_TRADING",
        /// Open for orders.
        Trading = "TRADING",
        /// Delivery approaching.
        PreDelivering = "PRE_DELIVERING",
        /// Delivering.
        Delivering = "DELIVERING",
        /// Delivered.
        Delivered = "DELIVERED",
        /// Settlement approaching.
        PreSettle = "PRE_SETTLE",
        /// Settling.
        Settling = "SETTLING",
        /// Closed / delisted.
        Close = "CLOSE",
    }
);

wire_enum!(
    /// Contract type of a symbol.
    ContractType {
        /// Perpetual swap.
        Perpetual = "PERPETUAL",
        /// Quarterly delivery, current.
        CurrentQuarter = "CURRENT_QUARTER",
        /// Quarterly delivery, next.
        NextQuarter = "NEXT_QUARTER",
        /// Monthly delivery, current.
        CurrentMonth = "CURRENT_MONTH",
        /// Monthly delivery, next.
        NextMonth = "NEXT_MONTH",
        /// Perpetual being delivered (delisting).
        PerpetualDelivering = "PERPETUAL_DELIVERING",
        /// Perpetual on a traditional-finance underlying (2026).
        TradifiPerpetual = "TRADIFI_PERPETUAL",
    }
);

impl ContractType {
    /// True for the types traded as perpetuals (`-PERP` instrument ids).
    pub fn is_perpetual(self) -> bool {
        matches!(
            self,
            ContractType::Perpetual
                | ContractType::TradifiPerpetual
                | ContractType::PerpetualDelivering
        )
    }
}

wire_enum!(
    /// Which counter a rate limit applies to.
    RateLimitType {
        /// IP request weight.
        RequestWeight = "REQUEST_WEIGHT",
        /// Account order count.
        Orders = "ORDERS",
    }
);

wire_enum!(
    /// Unit of a rate-limit window.
    RateLimitInterval {
        /// Seconds.
        Second = "SECOND",
        /// Minutes.
        Minute = "MINUTE",
        /// Days.
        Day = "DAY",
    }
);

/// Why an exchangeInfo document could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeInfoError {
    /// Not the expected JSON shape (the decoder's message names the field).
    #[error("cannot decode exchangeInfo: {0}")]
    Json(String),
}

/// The whole exchangeInfo response. `serverTime` is kept but should not be
/// used for clock sync (spec §3: use `/fapi/v1/time`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfo {
    /// Always "UTC".
    #[serde(default)]
    pub timezone: String,
    /// Server time in ms (informational).
    #[serde(default)]
    pub server_time: i64,
    /// The IP and account limits the rate limiter enforces.
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// Margin assets.
    #[serde(default)]
    pub assets: Vec<AssetInfo>,
    /// Every listed symbol.
    #[serde(default)]
    pub symbols: Vec<SymbolInfo>,
}

impl ExchangeInfo {
    /// Decodes the response body.
    pub fn from_json(body: &[u8]) -> Result<ExchangeInfo, ExchangeInfoError> {
        sonic_rs::from_slice(body).map_err(|e| ExchangeInfoError::Json(e.to_string()))
    }

    /// The symbol with this exact venue name.
    pub fn symbol(&self, symbol: &str) -> Option<&SymbolInfo> {
        self.symbols.iter().find(|s| s.symbol == symbol)
    }
}

/// One rate-limit rule, e.g. 2400 REQUEST_WEIGHT per 1 MINUTE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// Counter.
    pub rate_limit_type: RateLimitType,
    /// Window unit.
    pub interval: RateLimitInterval,
    /// Window length in units.
    #[serde(deserialize_with = "flex_u32")]
    pub interval_num: u32,
    /// Maximum in the window.
    #[serde(deserialize_with = "flex_u32")]
    pub limit: u32,
}

impl RateLimit {
    /// The window length, or `None` for an unknown unit.
    pub fn window(&self) -> Option<Duration> {
        let unit = match self.interval {
            RateLimitInterval::Second => 1,
            RateLimitInterval::Minute => 60,
            RateLimitInterval::Day => 86_400,
            RateLimitInterval::Unknown(_) => return None,
        };
        Some(Duration::from_secs(unit * u64::from(self.interval_num)))
    }
}

/// A margin asset.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetInfo {
    /// e.g. "USDT".
    pub asset: String,
    /// Usable as margin in multi-assets mode.
    #[serde(default)]
    pub margin_available: bool,
    /// Auto-exchange threshold (may be absent).
    #[serde(default)]
    pub auto_asset_exchange: Option<Decimal>,
}

/// One symbol with every field of spec §3.1.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolInfo {
    /// Venue symbol, opaque UTF-8 (`币安人生USDT`). A `String` here so one
    /// over-long or odd symbol cannot fail the whole document; the provider
    /// validates the ones it loads.
    pub symbol: String,
    /// Underlying pair.
    #[serde(default)]
    pub pair: String,
    /// Perpetual / delivery kind.
    pub contract_type: ContractType,
    /// Delivery time (ms; far future for perpetuals).
    #[serde(default)]
    pub delivery_date: i64,
    /// Listing time (ms).
    #[serde(default)]
    pub onboard_date: i64,
    /// Trading status.
    pub status: SymbolStatus,
    /// Ignored by the venue's own docs; kept for completeness.
    #[serde(default)]
    pub maint_margin_percent: Option<Decimal>,
    /// Ignored by the venue's own docs; kept for completeness.
    #[serde(default)]
    pub required_margin_percent: Option<Decimal>,
    /// e.g. BTC.
    #[serde(default)]
    pub base_asset: String,
    /// e.g. USDT.
    #[serde(default)]
    pub quote_asset: String,
    /// e.g. USDT.
    #[serde(default)]
    pub margin_asset: String,
    /// Display precision of prices — not the tick size.
    #[serde(default, deserialize_with = "flex_u32")]
    pub price_precision: u32,
    /// Display precision of quantities — not the step size.
    #[serde(default, deserialize_with = "flex_u32")]
    pub quantity_precision: u32,
    /// Informational.
    #[serde(default, deserialize_with = "flex_u32")]
    pub base_asset_precision: u32,
    /// Informational.
    #[serde(default, deserialize_with = "flex_u32")]
    pub quote_precision: u32,
    /// e.g. COIN.
    #[serde(default)]
    pub underlying_type: String,
    /// e.g. ["PoW"].
    #[serde(default)]
    pub underlying_sub_type: Vec<String>,
    /// Informational.
    #[serde(default)]
    pub settle_plan: Option<i64>,
    /// Max mark-vs-last divergence for `priceProtect` conditional orders.
    #[serde(default)]
    pub trigger_protect: Decimal,
    /// Liquidation fee rate.
    #[serde(default)]
    pub liquidation_fee: Decimal,
    /// How far from mark a MARKET order may reach.
    #[serde(default)]
    pub market_take_bound: Decimal,
    /// Informational.
    #[serde(default)]
    pub max_move_order_limit: Option<i64>,
    /// The venue's order filters.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Order types accepted.
    #[serde(default)]
    pub order_types: Vec<OrderType>,
    /// Time-in-force values accepted.
    #[serde(default)]
    pub time_in_force: Vec<TimeInForce>,
}

/// One filter of a symbol; the pre-submit validator enforces them so a
/// violating order never leaves the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(tag = "filterType")]
pub enum Filter {
    /// Price bounds and tick.
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    PriceFilter {
        /// 0 disables.
        min_price: Decimal,
        /// 0 disables.
        max_price: Decimal,
        /// 0 disables.
        tick_size: Decimal,
    },
    /// Quantity bounds and step for LIMIT (and conditional) orders.
    #[serde(rename = "LOT_SIZE", rename_all = "camelCase")]
    LotSize {
        /// Minimum.
        min_qty: Decimal,
        /// Maximum.
        max_qty: Decimal,
        /// Step.
        step_size: Decimal,
    },
    /// Quantity bounds and step for MARKET orders (usually a lower max).
    #[serde(rename = "MARKET_LOT_SIZE", rename_all = "camelCase")]
    MarketLotSize {
        /// Minimum.
        min_qty: Decimal,
        /// Maximum.
        max_qty: Decimal,
        /// Step.
        step_size: Decimal,
    },
    /// Open orders per symbol.
    #[serde(rename = "MAX_NUM_ORDERS")]
    MaxNumOrders {
        /// e.g. 200.
        #[serde(deserialize_with = "flex_u32")]
        limit: u32,
    },
    /// Conditional orders (removed by the venue 2025-12-29; still decoded).
    #[serde(rename = "MAX_NUM_ALGO_ORDERS")]
    MaxNumAlgoOrders {
        /// e.g. 10.
        #[serde(deserialize_with = "flex_u32")]
        limit: u32,
    },
    /// Minimum price × quantity.
    #[serde(rename = "MIN_NOTIONAL")]
    MinNotional {
        /// e.g. 5 (100 on BTCUSDT).
        notional: Decimal,
    },
    /// Limit price band around the mark price.
    #[serde(rename = "PERCENT_PRICE", rename_all = "camelCase")]
    PercentPrice {
        /// BUY price ≤ mark × this.
        multiplier_up: Decimal,
        /// SELL price ≥ mark × this.
        multiplier_down: Decimal,
        /// Decimals of the multipliers.
        #[serde(default, deserialize_with = "flex_u32")]
        multiplier_decimal: u32,
    },
    /// A filter type this build does not know.
    #[serde(other)]
    Unknown,
}

/// Integers the venue sends sometimes as numbers, sometimes as strings
/// (`"multiplierDecimal":"4"` vs `"limit":200`).
fn flex_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = u32;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative integer or integer string")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u32, E> {
            u32::try_from(v).map_err(E::custom)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u32, E> {
            u32::try_from(v).map_err(E::custom)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u32, E> {
            v.trim().parse().map_err(E::custom)
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../instruments/fixtures/exchange_info.json");

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn decodes_the_sample() {
        let info = ExchangeInfo::from_json(SAMPLE.as_bytes()).unwrap();
        assert_eq!(info.timezone, "UTC");
        assert_eq!(info.rate_limits.len(), 3);
        assert_eq!(
            info.rate_limits[0].rate_limit_type,
            RateLimitType::RequestWeight
        );
        assert_eq!(info.rate_limits[0].limit, 2400);
        assert_eq!(info.rate_limits[0].window(), Some(Duration::from_secs(60)));
        assert_eq!(info.rate_limits[2].window(), Some(Duration::from_secs(10)));
        assert_eq!(info.assets[0].asset, "USDT");
        assert!(info.assets[0].margin_available);

        let btc = info.symbol("BTCUSDT").unwrap();
        assert_eq!(btc.contract_type, ContractType::Perpetual);
        assert_eq!(btc.status, SymbolStatus::Trading);
        assert_eq!(btc.price_precision, 2);
        assert_eq!(btc.trigger_protect, d("0.0500"));
        assert_eq!(btc.market_take_bound, d("0.05"));
        assert_eq!(btc.underlying_sub_type, vec!["PoW".to_string()]);
        assert!(btc.order_types.contains(&OrderType::TrailingStopMarket));
        assert!(btc.time_in_force.contains(&TimeInForce::from_wire("GTX")));
        assert!(btc.filters.contains(&Filter::PriceFilter {
            min_price: d("261.10"),
            max_price: d("809484"),
            tick_size: d("0.10"),
        }));
        assert!(
            btc.filters
                .contains(&Filter::MinNotional { notional: d("100") })
        );
        assert!(btc.filters.contains(&Filter::PercentPrice {
            multiplier_up: d("1.0500"),
            multiplier_down: d("0.9500"),
            multiplier_decimal: 4,
        }));
        assert!(btc.filters.contains(&Filter::MaxNumOrders { limit: 200 }));
        assert!(
            btc.filters
                .contains(&Filter::MaxNumAlgoOrders { limit: 10 })
        );

        let cn = info.symbol("币安人生USDT").unwrap();
        assert_eq!(cn.base_asset, "币安人生");
        assert!(cn.filters.contains(&Filter::LotSize {
            min_qty: d("1"),
            max_qty: d("20000000"),
            step_size: d("1"),
        }));
    }

    #[test]
    fn tolerates_unknown_filters_enums_and_fields() {
        let info = ExchangeInfo::from_json(SAMPLE.as_bytes()).unwrap();
        let x = info.symbol("XAUUSDT").unwrap();
        assert_eq!(x.contract_type, ContractType::TradifiPerpetual);
        assert!(x.contract_type.is_perpetual());
        assert!(x.filters.contains(&Filter::Unknown));
        assert!(x.order_types.iter().any(|t| t.is_unknown()));
        let q = info.symbol("BTCUSDT_260327").unwrap();
        assert_eq!(q.contract_type, ContractType::CurrentQuarter);
        assert!(!q.contract_type.is_perpetual());
        let s = info.symbol("OLDUSDT").unwrap();
        assert_eq!(s.status, SymbolStatus::Settling);
        let odd = info.symbol("NEWUSDT").unwrap();
        assert_eq!(odd.status.as_str(), "HALTED_FOR_TEST");
        assert!(matches!(odd.status, SymbolStatus::Unknown(_)));
    }

    #[test]
    fn malformed_documents_fail_with_a_message() {
        for bad in [
            &b"{\"symbols\":[{\"symbol\":\"BTCUSDT\"}]}"[..],
            b"{\"symbols\":[",
            b"not json",
            b"{\"symbols\":[{\"symbol\":\"X\",\"contractType\":\"PERPETUAL\",\"status\":\"TRADING\",\"filters\":[{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"abc\",\"maxPrice\":\"1\",\"tickSize\":\"1\"}]}]}",
        ] {
            let e = ExchangeInfo::from_json(bad).unwrap_err();
            assert!(e.to_string().starts_with("cannot decode exchangeInfo: "), "{e}");
        }
    }
}
