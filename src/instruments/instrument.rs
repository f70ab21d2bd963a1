//! One tradable instrument and its grids, from an exchangeInfo symbol.

use crate::binance::exchange_info::{ContractType, Filter, SymbolInfo, SymbolStatus};
use crate::model::decimal::{Decimal, DecimalError, Money, Price, Quantity, Rounding};
use crate::model::enums::Side;
use crate::model::ids::{IdError, InstrumentId, Symbol};

/// Why a listed symbol cannot be turned into an [`Instrument`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    /// The symbol text is not a valid [`Symbol`].
    #[error("symbol {symbol:?}: {source}")]
    BadSymbol {
        /// The venue's text.
        symbol: String,
        /// Why.
        source: IdError,
    },
    /// A filter every order needs is missing, so orders cannot be checked.
    #[error("symbol {symbol}: exchangeInfo has no {filter} filter")]
    MissingFilter {
        /// The symbol.
        symbol: String,
        /// PRICE_FILTER or LOT_SIZE.
        filter: &'static str,
    },
    /// A grid that cannot work (negative step, min above max).
    #[error("symbol {symbol}: {filter} is inconsistent: {reason}")]
    BadFilter {
        /// The symbol.
        symbol: String,
        /// The filter.
        filter: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Everything the engine needs to place valid orders on one symbol. `Copy`
/// (about 300 bytes, no heap) so the execution thread can keep its own copy
/// and the strategy can hold one by value.
///
/// A zero bound or step means "check disabled", as in the venue's filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instrument {
    /// `BTCUSDT-PERP.BINANCE`.
    pub id: InstrumentId,
    /// Venue symbol.
    pub symbol: Symbol,
    /// Trading status at load time.
    pub status: SymbolStatus,
    /// Perpetual or delivery.
    pub contract_type: ContractType,
    /// PRICE_FILTER tickSize.
    pub tick_size: Price,
    /// PRICE_FILTER minPrice (also the grid origin).
    pub min_price: Price,
    /// PRICE_FILTER maxPrice.
    pub max_price: Price,
    /// LOT_SIZE stepSize.
    pub step_size: Quantity,
    /// LOT_SIZE minQty.
    pub min_qty: Quantity,
    /// LOT_SIZE maxQty.
    pub max_qty: Quantity,
    /// MARKET_LOT_SIZE stepSize (LOT_SIZE's when absent).
    pub market_step_size: Quantity,
    /// MARKET_LOT_SIZE minQty.
    pub market_min_qty: Quantity,
    /// MARKET_LOT_SIZE maxQty.
    pub market_max_qty: Quantity,
    /// MIN_NOTIONAL notional (0: none).
    pub min_notional: Money,
    /// PERCENT_PRICE multiplierUp (0: no band).
    pub multiplier_up: Decimal,
    /// PERCENT_PRICE multiplierDown (0: no band).
    pub multiplier_down: Decimal,
    /// PERCENT_PRICE multiplierDecimal.
    pub multiplier_decimal: u32,
    /// MAX_NUM_ORDERS limit (0: not listed).
    pub max_num_orders: u32,
    /// MAX_NUM_ALGO_ORDERS limit (0: not listed; the venue dropped it 2025-12-29).
    pub max_num_algo_orders: u32,
    /// Decimals a price may carry (max of pricePrecision and the tick's scale).
    pub price_precision: u32,
    /// Decimals a quantity may carry (max of quantityPrecision and the step's scale).
    pub quantity_precision: u32,
    /// Max mark-vs-last divergence for `priceProtect` conditional orders.
    pub trigger_protect: Decimal,
    /// How far from mark a MARKET order may reach.
    pub market_take_bound: Decimal,
    /// Liquidation fee rate.
    pub liquidation_fee: Decimal,
}

impl Instrument {
    /// Builds from an exchangeInfo symbol; PRICE_FILTER and LOT_SIZE are
    /// required, the other filters default to "disabled".
    pub fn from_symbol_info(info: &SymbolInfo) -> Result<Instrument, InstrumentError> {
        let symbol = Symbol::new(&info.symbol).map_err(|source| InstrumentError::BadSymbol {
            symbol: info.symbol.clone(),
            source,
        })?;
        let mut price = None;
        let mut lot = None;
        let mut market_lot = None;
        let mut min_notional = Decimal::ZERO;
        let mut band = (Decimal::ZERO, Decimal::ZERO, 0);
        let mut max_num_orders = 0;
        let mut max_num_algo_orders = 0;
        for f in &info.filters {
            match *f {
                Filter::PriceFilter {
                    min_price,
                    max_price,
                    tick_size,
                } => price = Some((min_price, max_price, tick_size)),
                Filter::LotSize {
                    min_qty,
                    max_qty,
                    step_size,
                } => lot = Some((min_qty, max_qty, step_size)),
                Filter::MarketLotSize {
                    min_qty,
                    max_qty,
                    step_size,
                } => market_lot = Some((min_qty, max_qty, step_size)),
                Filter::MinNotional { notional } => min_notional = notional,
                Filter::PercentPrice {
                    multiplier_up,
                    multiplier_down,
                    multiplier_decimal,
                } => band = (multiplier_up, multiplier_down, multiplier_decimal),
                Filter::MaxNumOrders { limit } => max_num_orders = limit,
                Filter::MaxNumAlgoOrders { limit } => max_num_algo_orders = limit,
                Filter::Unknown => {}
            }
        }
        let missing = |filter| InstrumentError::MissingFilter {
            symbol: info.symbol.clone(),
            filter,
        };
        let (min_price, max_price, tick) = price.ok_or_else(|| missing("PRICE_FILTER"))?;
        let (min_qty, max_qty, step) = lot.ok_or_else(|| missing("LOT_SIZE"))?;
        let (m_min, m_max, m_step) = market_lot.unwrap_or((min_qty, max_qty, step));
        let bad = |filter, reason| InstrumentError::BadFilter {
            symbol: info.symbol.clone(),
            filter,
            reason,
        };
        check_grid(min_price, max_price, tick).map_err(|r| bad("PRICE_FILTER", r))?;
        check_grid(min_qty, max_qty, step).map_err(|r| bad("LOT_SIZE", r))?;
        check_grid(m_min, m_max, m_step).map_err(|r| bad("MARKET_LOT_SIZE", r))?;
        if band.0.is_negative() || band.1.is_negative() {
            return Err(bad("PERCENT_PRICE", "negative multiplier"));
        }
        Ok(Instrument {
            id: InstrumentId {
                symbol,
                perpetual: info.contract_type.is_perpetual(),
            },
            symbol,
            status: info.status,
            contract_type: info.contract_type,
            tick_size: Price(tick),
            min_price: Price(min_price),
            max_price: Price(max_price),
            step_size: Quantity(step),
            min_qty: Quantity(min_qty),
            max_qty: Quantity(max_qty),
            market_step_size: Quantity(m_step),
            market_min_qty: Quantity(m_min),
            market_max_qty: Quantity(m_max),
            min_notional: Money(min_notional),
            multiplier_up: band.0,
            multiplier_down: band.1,
            multiplier_decimal: band.2,
            max_num_orders,
            max_num_algo_orders,
            price_precision: info.price_precision.max(tick.scale()).min(8),
            quantity_precision: info.quantity_precision.max(step.scale()).min(8),
            trigger_protect: info.trigger_protect,
            market_take_bound: info.market_take_bound,
            liquidation_fee: info.liquidation_fee,
        })
    }

    /// True when the venue accepts orders on it.
    pub fn is_trading(&self) -> bool {
        self.status == SymbolStatus::Trading
    }

    /// Moves a price onto the tick grid (`minPrice + k × tickSize`) on the
    /// passive side: down for buys, up for sells, so rounding never makes an
    /// order more aggressive than the strategy asked. Unchanged when the tick
    /// filter is disabled.
    pub fn round_price(&self, price: Price, side: Side) -> Result<Price, DecimalError> {
        let mode = match side {
            Side::Sell => Rounding::Ceil,
            _ => Rounding::Floor,
        };
        self.round_price_with(price, mode)
    }

    /// [`Instrument::round_price`] with an explicit rounding mode (e.g.
    /// aggressive rounding for a marketable limit).
    pub fn round_price_with(&self, price: Price, mode: Rounding) -> Result<Price, DecimalError> {
        if !self.tick_size.value().is_positive() {
            return Ok(price);
        }
        price
            .value()
            .round_to_grid(self.min_price.value(), self.tick_size.value(), mode)
            .map(Price)
    }

    /// Moves a LIMIT quantity onto the step grid toward zero, so rounding
    /// never trades more than asked.
    pub fn round_qty(&self, qty: Quantity) -> Result<Quantity, DecimalError> {
        round_step(qty, self.step_size)
    }

    /// [`Instrument::round_qty`] for MARKET orders (MARKET_LOT_SIZE step).
    pub fn round_market_qty(&self, qty: Quantity) -> Result<Quantity, DecimalError> {
        round_step(qty, self.market_step_size)
    }
}

fn round_step(qty: Quantity, step: Quantity) -> Result<Quantity, DecimalError> {
    if !step.value().is_positive() {
        return Ok(qty);
    }
    qty.value()
        .round_to_step(step.value(), Rounding::TowardZero)
        .map(Quantity)
}

fn check_grid(min: Decimal, max: Decimal, step: Decimal) -> Result<(), &'static str> {
    if min.is_negative() || max.is_negative() || step.is_negative() {
        return Err("negative bound or step");
    }
    if !max.is_zero() && min > max {
        return Err("minimum above maximum");
    }
    Ok(())
}
