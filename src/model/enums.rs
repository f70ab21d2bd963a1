//! The venue's enumerations, each with an `Unknown` fallback.
//!
//! Binance adds enum values without notice (`RPI`, `GTE_GTC`,
//! `EXPIRED_IN_MATCH`, `TRADIFI_PERPETUAL`…). A decoder that failed on an
//! unseen value would drop the whole event — possibly a fill — so every enum
//! here decodes an unseen value to `Unknown(tag)` and keeps the text for logs.
//! The types are `Copy` so they fit in preallocated order structs.

use super::ids::InlineStr;

/// The text of an enum value we did not recognise, kept inline.
pub type UnknownTag = InlineStr<24>;

/// Declares a wire enum: `as_str` gives the venue's spelling, `from_wire`
/// never fails, and serde uses the venue's spelling both ways.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this build does not know; the venue's text is kept.
            Unknown($crate::model::enums::UnknownTag),
        }

        impl $name {
            /// Every known value, for tables and exhaustive tests.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The venue's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Unknown(t) => t.as_str(),
                }
            }

            /// Maps the venue's text; unseen values become `Unknown`.
            #[inline]
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $($wire => $name::$variant,)+
                    other => $name::Unknown($crate::model::enums::UnknownTag::truncated(other)),
                }
            }

            /// True for the `Unknown` fallback.
            pub fn is_unknown(&self) -> bool {
                matches!(self, $name::Unknown(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($name::from_wire(s))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
                Ok($name::from_wire(&s))
            }
        }
    };
}

/// Other wire-protocol modules (exchangeInfo's status and contract enums)
/// declare their enums with the same never-fail contract.
pub(crate) use wire_enum;

wire_enum!(
    /// Order side.
    Side { Buy = "BUY", Sell = "SELL" }
);

impl Side {
    /// The other side (closing a long is a sell).
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
            u @ Side::Unknown(_) => u,
        }
    }
    /// +1 for buys, -1 for sells, 0 when unknown: the sign a fill moves a position by.
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
            Side::Unknown(_) => 0,
        }
    }
}

wire_enum!(
    /// Order type. Only `Market` and `Limit` go to `/fapi/v1/order`; the rest
    /// are conditional and live in the Algo Service (`/fapi/v1/algoOrder`).
    OrderType {
        /// Fills immediately against the book.
        Market = "MARKET",
        /// Rests at a price.
        Limit = "LIMIT",
        /// Stop-limit: a LIMIT child at `price` when the trigger fires.
        Stop = "STOP",
        /// A MARKET child when the stop trigger fires.
        StopMarket = "STOP_MARKET",
        /// A LIMIT child when the take-profit trigger fires.
        TakeProfit = "TAKE_PROFIT",
        /// A MARKET child when the take-profit trigger fires.
        TakeProfitMarket = "TAKE_PROFIT_MARKET",
        /// A MARKET child when price retraces by the callback rate.
        TrailingStopMarket = "TRAILING_STOP_MARKET",
        /// Venue-generated liquidation order (user stream only).
        Liquidation = "LIQUIDATION",
    }
);

impl OrderType {
    /// True for the types the venue only accepts through the Algo Service.
    pub fn is_conditional(self) -> bool {
        matches!(
            self,
            OrderType::Stop
                | OrderType::StopMarket
                | OrderType::TakeProfit
                | OrderType::TakeProfitMarket
                | OrderType::TrailingStopMarket
        )
    }
    /// The type of the order the algo service sends to the matching engine
    /// when this conditional order triggers.
    pub fn child_type(self) -> OrderType {
        match self {
            OrderType::Stop | OrderType::TakeProfit => OrderType::Limit,
            OrderType::StopMarket | OrderType::TakeProfitMarket | OrderType::TrailingStopMarket => {
                OrderType::Market
            }
            other => other,
        }
    }
}

wire_enum!(
    /// Time in force.
    TimeInForce {
        /// Good till cancelled.
        Gtc = "GTC",
        /// Immediate or cancel.
        Ioc = "IOC",
        /// Fill or kill.
        Fok = "FOK",
        /// Post-only (good till crossing): rejected with -5022 if it would take.
        Gtx = "GTX",
        /// Good till `goodTillDate`.
        Gtd = "GTD",
        /// Retail price improvement (post-only, app/web flow only).
        Rpi = "RPI",
        /// Position-bound GTC of conditional orders.
        GteGtc = "GTE_GTC",
    }
);

wire_enum!(
    /// Position side: `Both` in one-way mode, `Long`/`Short` in hedge mode.
    PositionSide { Both = "BOTH", Long = "LONG", Short = "SHORT" }
);

wire_enum!(
    /// Which price triggers a conditional order.
    WorkingType { ContractPrice = "CONTRACT_PRICE", MarkPrice = "MARK_PRICE" }
);

wire_enum!(
    /// Order status as the venue reports it.
    OrderStatus {
        /// Accepted, resting or about to match.
        New = "NEW",
        /// Some quantity filled.
        PartiallyFilled = "PARTIALLY_FILLED",
        /// Fully filled.
        Filled = "FILLED",
        /// Cancelled by user or venue.
        Canceled = "CANCELED",
        /// Rejected.
        Rejected = "REJECTED",
        /// Expired (IOC/FOK remainder, GTD, reduce-only knock-out).
        Expired = "EXPIRED",
        /// Expired by self-trade prevention.
        ExpiredInMatch = "EXPIRED_IN_MATCH",
        /// Legacy liquidation status.
        NewInsurance = "NEW_INSURANCE",
        /// Legacy ADL status.
        NewAdl = "NEW_ADL",
    }
);

impl OrderStatus {
    /// True once the order can no longer trade.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Rejected
                | OrderStatus::Expired
                | OrderStatus::ExpiredInMatch
        )
    }
}

wire_enum!(
    /// Execution type of one ORDER_TRADE_UPDATE (`x`).
    ExecutionType {
        /// Order accepted.
        New = "NEW",
        /// Order cancelled.
        Canceled = "CANCELED",
        /// Liquidation/ADL execution: a fill even though it is not `TRADE`.
        Calculated = "CALCULATED",
        /// Order expired.
        Expired = "EXPIRED",
        /// A fill.
        Trade = "TRADE",
        /// Price/quantity modified.
        Amendment = "AMENDMENT",
    }
);

wire_enum!(
    /// Status of a conditional order in the Algo Service.
    AlgoStatus {
        /// Waiting for its trigger.
        New = "NEW",
        /// Trigger met, being sent to the matching engine.
        Triggering = "TRIGGERING",
        /// Child order accepted by the matching engine (`actualOrderId` set).
        Triggered = "TRIGGERED",
        /// Child filled or cancelled.
        Finished = "FINISHED",
        /// Cancelled before triggering.
        Canceled = "CANCELED",
        /// Matching engine refused the child (see `rm`).
        Rejected = "REJECTED",
        /// Cancelled by the system.
        Expired = "EXPIRED",
    }
);

impl AlgoStatus {
    /// True once the algo order will not trigger any more.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            AlgoStatus::Finished
                | AlgoStatus::Canceled
                | AlgoStatus::Rejected
                | AlgoStatus::Expired
        )
    }
}

wire_enum!(
    /// Self-trade prevention mode.
    StpMode {
        /// No prevention.
        None = "NONE",
        /// Expire the incoming (taker) order.
        ExpireTaker = "EXPIRE_TAKER",
        /// Expire the resting (maker) order.
        ExpireMaker = "EXPIRE_MAKER",
        /// Expire both.
        ExpireBoth = "EXPIRE_BOTH",
    }
);

wire_enum!(
    /// Price match mode (venue chooses the price from the book).
    PriceMatch {
        /// No price match.
        None = "NONE",
        /// Opponent best.
        Opponent = "OPPONENT",
        /// Opponent 5th level.
        Opponent5 = "OPPONENT_5",
        /// Opponent 10th level.
        Opponent10 = "OPPONENT_10",
        /// Opponent 20th level.
        Opponent20 = "OPPONENT_20",
        /// Own-side best.
        Queue = "QUEUE",
        /// Own-side 5th level.
        Queue5 = "QUEUE_5",
        /// Own-side 10th level.
        Queue10 = "QUEUE_10",
        /// Own-side 20th level.
        Queue20 = "QUEUE_20",
    }
);

wire_enum!(
    /// What the venue returns in an order reply.
    RespType { Ack = "ACK", Result = "RESULT" }
);

/// Margin type of a position. The venue spells it `cross`/`isolated` in
/// position data and `CROSSED`/`ISOLATED` in requests; both decode here.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum MarginType {
    /// Cross margin (the default).
    #[default]
    Cross,
    /// Isolated margin.
    Isolated,
}

impl MarginType {
    /// The request spelling (`CROSSED`/`ISOLATED`).
    pub fn as_request_str(self) -> &'static str {
        match self {
            MarginType::Cross => "CROSSED",
            MarginType::Isolated => "ISOLATED",
        }
    }
    /// The position-data spelling (`cross`/`isolated`).
    pub fn as_str(self) -> &'static str {
        match self {
            MarginType::Cross => "cross",
            MarginType::Isolated => "isolated",
        }
    }
    /// Accepts either spelling, any case; anything else is `None`.
    pub fn from_wire(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("cross") || s.eq_ignore_ascii_case("crossed") {
            Some(MarginType::Cross)
        } else if s.eq_ignore_ascii_case("isolated") {
            Some(MarginType::Isolated)
        } else {
            None
        }
    }
}

impl serde::Serialize for MarginType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for MarginType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: std::borrow::Cow<'de, str> = serde::Deserialize::deserialize(d)?;
        MarginType::from_wire(&s)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown margin type {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_unknowns() {
        for t in OrderType::ALL {
            assert_eq!(OrderType::from_wire(t.as_str()), *t);
        }
        let u = TimeInForce::from_wire("SOMETHING_NEW");
        assert!(u.is_unknown());
        assert_eq!(u.as_str(), "SOMETHING_NEW");
        let x: ExecutionType = sonic_rs::from_str("\"CALCULATED\"").unwrap();
        assert_eq!(x, ExecutionType::Calculated);
        let s: OrderStatus = sonic_rs::from_str("\"BRAND_NEW_STATUS\"").unwrap();
        assert!(s.is_unknown());
        assert_eq!(sonic_rs::to_string(&Side::Sell).unwrap(), "\"SELL\"");
        assert!(OrderType::TrailingStopMarket.is_conditional());
        assert!(!OrderType::Limit.is_conditional());
        assert_eq!(OrderType::Stop.child_type(), OrderType::Limit);
        assert_eq!(Side::Buy.opposite(), Side::Sell);
    }
}
