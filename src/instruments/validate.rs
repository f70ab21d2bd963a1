//! Pre-submit checks: the venue's filters applied locally, reporting the
//! filter broken and the error code the venue would have answered, so the
//! strategy gets the same information without the round trip (and without
//! spending an ORDERS rate-limit slot).
//!
//! Checks run in a fixed order (parameters, quantity, price, trigger, band,
//! notional) and the first violation is returned. Which violation the venue
//! reports first when several apply is not documented (unconfirmed).

use super::instrument::Instrument;
use crate::model::decimal::{Money, Price, Quantity, Rounding};
use crate::model::enums::{OrderType, Side};

/// The exchangeInfo filter (or request rule) an order breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// A mandatory parameter is missing.
    Parameters,
    /// PRICE_FILTER.
    PriceFilter,
    /// LOT_SIZE.
    LotSize,
    /// MARKET_LOT_SIZE.
    MarketLotSize,
    /// MIN_NOTIONAL.
    MinNotional,
    /// PERCENT_PRICE.
    PercentPrice,
}

impl FilterKind {
    /// The venue's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterKind::Parameters => "parameters",
            FilterKind::PriceFilter => "PRICE_FILTER",
            FilterKind::LotSize => "LOT_SIZE",
            FilterKind::MarketLotSize => "MARKET_LOT_SIZE",
            FilterKind::MinNotional => "MIN_NOTIONAL",
            FilterKind::PercentPrice => "PERCENT_PRICE",
        }
    }
}

/// Which price of the order a price violation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceField {
    /// `price` (LIMIT, STOP, TAKE_PROFIT).
    Limit,
    /// `stopPrice` / `triggerPrice` of a conditional order.
    Trigger,
}

impl PriceField {
    fn name(self) -> &'static str {
        match self {
            PriceField::Limit => "price",
            PriceField::Trigger => "trigger price",
        }
    }
}

/// An order the venue would reject, with the values involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FilterViolation {
    /// A LIMIT-type order without a price (-1102).
    #[error("{order_type} order needs a price")]
    MissingPrice {
        /// The order type.
        order_type: OrderType,
    },
    /// A conditional order without a trigger price (-1102).
    #[error("{order_type} order needs a trigger price")]
    MissingTrigger {
        /// The order type.
        order_type: OrderType,
    },
    /// More decimals than the instrument allows (-1111).
    #[error("{} {price} has more than {decimals} decimals", .field.name())]
    PriceTooPrecise {
        /// Which price.
        field: PriceField,
        /// The price.
        price: Price,
        /// Allowed decimals.
        decimals: u32,
    },
    /// More decimals than the instrument allows (-1111).
    #[error("quantity {qty} has more than {decimals} decimals")]
    QuantityTooPrecise {
        /// The quantity.
        qty: Quantity,
        /// Allowed decimals.
        decimals: u32,
    },
    /// Price ≤ 0 (-4001; trigger -4006).
    #[error("{} {price} must be positive", .field.name())]
    PriceNotPositive {
        /// Which price.
        field: PriceField,
        /// The price.
        price: Price,
    },
    /// Below minPrice (-4013).
    #[error("{} {price} is below minPrice {min}", .field.name())]
    PriceBelowMin {
        /// Which price.
        field: PriceField,
        /// The price.
        price: Price,
        /// minPrice.
        min: Price,
    },
    /// Above maxPrice (-4002; trigger -4007).
    #[error("{} {price} is above maxPrice {max}", .field.name())]
    PriceAboveMax {
        /// Which price.
        field: PriceField,
        /// The price.
        price: Price,
        /// maxPrice.
        max: Price,
    },
    /// Not on `minPrice + k × tickSize` (-4014).
    #[error("{} {price} is not on the tick grid ({tick} from {origin})", .field.name())]
    PriceOffTick {
        /// Which price.
        field: PriceField,
        /// The price.
        price: Price,
        /// tickSize.
        tick: Price,
        /// minPrice, the grid origin.
        origin: Price,
    },
    /// Quantity ≤ 0 (-4003).
    #[error("quantity {qty} must be positive")]
    QuantityNotPositive {
        /// The quantity.
        qty: Quantity,
    },
    /// Below minQty (-4004).
    #[error("quantity {qty} is below minQty {min} ({})", .filter.as_str())]
    QuantityBelowMin {
        /// LOT_SIZE or MARKET_LOT_SIZE.
        filter: FilterKind,
        /// The quantity.
        qty: Quantity,
        /// minQty.
        min: Quantity,
    },
    /// Above maxQty (-4005).
    #[error("quantity {qty} is above maxQty {max} ({})", .filter.as_str())]
    QuantityAboveMax {
        /// LOT_SIZE or MARKET_LOT_SIZE.
        filter: FilterKind,
        /// The quantity.
        qty: Quantity,
        /// maxQty.
        max: Quantity,
    },
    /// Not a multiple of stepSize (-4023).
    #[error("quantity {qty} is not a multiple of stepSize {step} ({})", .filter.as_str())]
    QuantityOffStep {
        /// LOT_SIZE or MARKET_LOT_SIZE.
        filter: FilterKind,
        /// The quantity.
        qty: Quantity,
        /// stepSize.
        step: Quantity,
    },
    /// BUY price above mark × multiplierUp (-4016).
    #[error("buy price {price} is above {limit} (mark × multiplierUp)")]
    PriceAboveBand {
        /// The price.
        price: Price,
        /// The highest accepted price.
        limit: Price,
    },
    /// SELL price below mark × multiplierDown (-4024).
    #[error("sell price {price} is below {limit} (mark × multiplierDown)")]
    PriceBelowBand {
        /// The price.
        price: Price,
        /// The lowest accepted price.
        limit: Price,
    },
    /// price × quantity below MIN_NOTIONAL for an order that is not reduce-only (-4164).
    #[error("notional {notional} is below the minimum {min} (not reduce-only)")]
    BelowMinNotional {
        /// price × quantity.
        notional: Money,
        /// MIN_NOTIONAL.
        min: Money,
    },
}

impl FilterViolation {
    /// The error code the venue would have answered.
    pub fn code(&self) -> i32 {
        use FilterViolation::*;
        match self {
            MissingPrice { .. } | MissingTrigger { .. } => -1102,
            PriceTooPrecise { .. } | QuantityTooPrecise { .. } => -1111,
            PriceNotPositive {
                field: PriceField::Limit,
                ..
            } => -4001,
            PriceNotPositive { .. } => -4006,
            PriceBelowMin { .. } => -4013,
            PriceAboveMax {
                field: PriceField::Limit,
                ..
            } => -4002,
            PriceAboveMax { .. } => -4007,
            PriceOffTick { .. } => -4014,
            QuantityNotPositive { .. } => -4003,
            QuantityBelowMin { .. } => -4004,
            QuantityAboveMax { .. } => -4005,
            QuantityOffStep { .. } => -4023,
            PriceAboveBand { .. } => -4016,
            PriceBelowBand { .. } => -4024,
            BelowMinNotional { .. } => -4164,
        }
    }

    /// The filter broken.
    pub fn filter(&self) -> FilterKind {
        use FilterViolation::*;
        match self {
            MissingPrice { .. } | MissingTrigger { .. } => FilterKind::Parameters,
            PriceTooPrecise { .. }
            | PriceNotPositive { .. }
            | PriceBelowMin { .. }
            | PriceAboveMax { .. }
            | PriceOffTick { .. } => FilterKind::PriceFilter,
            QuantityTooPrecise { .. } | QuantityNotPositive { .. } => FilterKind::LotSize,
            QuantityBelowMin { filter, .. }
            | QuantityAboveMax { filter, .. }
            | QuantityOffStep { filter, .. } => *filter,
            PriceAboveBand { .. } | PriceBelowBand { .. } => FilterKind::PercentPrice,
            BelowMinNotional { .. } => FilterKind::MinNotional,
        }
    }
}

/// The parts of an order the filters look at. `Copy` and allocation-free so
/// the execution thread can run it on every submit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCheck {
    /// Side.
    pub side: Side,
    /// Type; conditional types are checked like the child they trigger.
    pub order_type: OrderType,
    /// Quantity.
    pub quantity: Quantity,
    /// Limit price (LIMIT, STOP, TAKE_PROFIT).
    pub price: Option<Price>,
    /// Trigger price of a conditional order.
    pub trigger_price: Option<Price>,
    /// Reduce-only (or a hedge-mode closing leg): exempt from MIN_NOTIONAL.
    pub reduce_only: bool,
    /// A conditional `closePosition=true` order: it carries no quantity, so
    /// the quantity and notional checks do not apply.
    pub close_position: bool,
    /// Latest mark price, for PERCENT_PRICE and MARKET notional; `None` skips
    /// those checks (the venue still applies them).
    pub mark_price: Option<Price>,
}

impl Instrument {
    /// Checks an order against this instrument's filters; `Err` carries the
    /// filter broken ([`FilterViolation::filter`]) and the venue's code
    /// ([`FilterViolation::code`]). No allocation.
    pub fn validate(&self, order: &OrderCheck) -> Result<(), FilterViolation> {
        let is_market = order.order_type.child_type() == OrderType::Market;
        let qty = order.quantity;
        let sized = !order.close_position;
        if sized && !qty.value().is_positive() {
            return Err(FilterViolation::QuantityNotPositive { qty });
        }
        if sized && qty.value().scale() > self.quantity_precision {
            return Err(FilterViolation::QuantityTooPrecise {
                qty,
                decimals: self.quantity_precision,
            });
        }
        let price = if is_market {
            None
        } else {
            match order.price {
                Some(p) => Some(p),
                None => {
                    return Err(FilterViolation::MissingPrice {
                        order_type: order.order_type,
                    });
                }
            }
        };
        // Trailing stops trigger on a callback rate; their activation price
        // is optional, so only the fixed-trigger types need one.
        let needs_trigger =
            order.order_type.is_conditional() && order.order_type != OrderType::TrailingStopMarket;
        if needs_trigger && order.trigger_price.is_none() {
            return Err(FilterViolation::MissingTrigger {
                order_type: order.order_type,
            });
        }
        if let Some(p) = price {
            self.check_price(PriceField::Limit, p)?;
        }
        if let Some(t) = order.trigger_price {
            self.check_price(PriceField::Trigger, t)?;
        }
        let (filter, min, max, step) = if is_market {
            (
                FilterKind::MarketLotSize,
                self.market_min_qty,
                self.market_max_qty,
                self.market_step_size,
            )
        } else {
            (
                FilterKind::LotSize,
                self.min_qty,
                self.max_qty,
                self.step_size,
            )
        };
        if sized && qty < min {
            return Err(FilterViolation::QuantityBelowMin { filter, qty, min });
        }
        if sized && max.value().is_positive() && qty > max {
            return Err(FilterViolation::QuantityAboveMax { filter, qty, max });
        }
        if sized && step.value().is_positive() {
            let rel = qty.value().checked_sub(min.value()).unwrap_or(qty.value());
            if !rel.is_multiple_of(step.value()) {
                return Err(FilterViolation::QuantityOffStep { filter, qty, step });
            }
        }
        if let (Some(p), Some(mark)) = (price, order.mark_price) {
            self.check_band(order.side, p, mark)?;
        }
        if sized && !order.reduce_only && self.min_notional.value().is_positive() {
            // MARKET orders are valued at the mark price (spec §3.1).
            let valued_at = if is_market { order.mark_price } else { price };
            if let Some(p) = valued_at {
                // Floor keeps the comparison exact: MIN_NOTIONAL has at most
                // eight decimals, so floor(p×q) ≥ min ⇔ p×q ≥ min.
                if let Some(n) = p.value().checked_mul(qty.value(), Rounding::Floor)
                    && n < self.min_notional.value()
                {
                    return Err(FilterViolation::BelowMinNotional {
                        notional: Money(n),
                        min: self.min_notional,
                    });
                }
            }
        }
        Ok(())
    }

    fn check_price(&self, field: PriceField, price: Price) -> Result<(), FilterViolation> {
        let v = price.value();
        if v.scale() > self.price_precision {
            return Err(FilterViolation::PriceTooPrecise {
                field,
                price,
                decimals: self.price_precision,
            });
        }
        if !v.is_positive() {
            return Err(FilterViolation::PriceNotPositive { field, price });
        }
        if self.min_price.value().is_positive() && price < self.min_price {
            return Err(FilterViolation::PriceBelowMin {
                field,
                price,
                min: self.min_price,
            });
        }
        if self.max_price.value().is_positive() && price > self.max_price {
            return Err(FilterViolation::PriceAboveMax {
                field,
                price,
                max: self.max_price,
            });
        }
        let tick = self.tick_size.value();
        if tick.is_positive() {
            let rel = v.checked_sub(self.min_price.value()).unwrap_or(v);
            if !rel.is_multiple_of(tick) {
                return Err(FilterViolation::PriceOffTick {
                    field,
                    price,
                    tick: self.tick_size,
                    origin: self.min_price,
                });
            }
        }
        Ok(())
    }

    fn check_band(&self, side: Side, price: Price, mark: Price) -> Result<(), FilterViolation> {
        let m = mark.value();
        match side {
            Side::Buy if self.multiplier_up.is_positive() => {
                // Round the bound outward: never refuse what the venue accepts.
                if let Some(limit) = m.checked_mul(self.multiplier_up, Rounding::Ceil)
                    && price.value() > limit
                {
                    return Err(FilterViolation::PriceAboveBand {
                        price,
                        limit: Price(limit),
                    });
                }
            }
            Side::Sell if self.multiplier_down.is_positive() => {
                if let Some(limit) = m.checked_mul(self.multiplier_down, Rounding::Floor)
                    && price.value() < limit
                {
                    return Err(FilterViolation::PriceBelowBand {
                        price,
                        limit: Price(limit),
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }
}
