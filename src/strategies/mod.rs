//! Example strategies shipped with the engine (`order-cycle`, `maker`).
//!
//! They are real strategies (they run through the same [`Strategy`] API a
//! user's strategy does) and double as the acceptance test of the engine:
//! `order-cycle` walks every order type through its venue lifecycle and
//! reports, scenario by scenario, whether the venue and the engine agreed
//! with what the protocol says should happen.
//!
//! [`Strategy`]: crate::engine::Strategy

pub mod maker;
pub mod order_cycle;

pub use maker::{Maker, MakerSettings, MakerStats};
pub use order_cycle::{
    CycleReport, OrderCycle, OrderCycleSettings, Scenario, ScenarioResult, SharedReport,
};

use crate::model::{Decimal, Price, Rounding};

/// Moves the venue's price on request. Conditional orders only complete when
/// the market crosses their trigger; against the simulator the demo supplies
/// a nudger that calls its control endpoint (`POST /sim/price`), against a
/// real venue there is none and the strategy waits for the market instead.
pub trait PriceNudge: Send {
    /// Asks the venue to trade at `last` on `symbol`. Errors are reported in
    /// the scenario's observed column, never panicked on.
    fn nudge(&mut self, symbol: &str, last: Price) -> Result<(), String>;

    /// Asks the venue to publish a fresh top of book. A real venue streams
    /// `bookTicker` on every quantity change, but a quiet simulated market
    /// publishes only when the best prices move, so a coarse-tick contract
    /// may never send the first ticker a strategy waits for. `tick` is the
    /// instrument's tick size. The default does nothing.
    fn wake(&mut self, _symbol: &str, _tick: Price) -> Result<(), String> {
        Ok(())
    }
}

/// `price × (1 + bps / 10 000)` on the tick grid, rounded away from the book
/// side asked for (`Ceil` above, `Floor` below) so the offset is never
/// smaller than requested. `None` on overflow or a zero tick.
pub(crate) fn offset_bps(price: Price, bps: i64, tick: Price, mode: Rounding) -> Option<Price> {
    let factor = Decimal::from_raw(
        Decimal::ONE
            .raw()
            .checked_add(bps.checked_mul(Decimal::ONE.raw() / 10_000)?)?,
    );
    let raw = price.value().checked_mul(factor, Rounding::HalfEven)?;
    on_grid(raw, tick, mode)
}

/// `price + n × tick` (n may be negative).
pub(crate) fn offset_ticks(price: Price, n: i64, tick: Price) -> Option<Price> {
    let delta = tick.raw().checked_mul(n)?;
    let raw = price.raw().checked_add(delta)?;
    (raw > 0).then_some(Price::from_raw(raw))
}

/// Rounds to the tick grid; `None` for a non-positive tick or result.
pub(crate) fn on_grid(value: Decimal, tick: Price, mode: Rounding) -> Option<Price> {
    if tick.raw() <= 0 {
        return None;
    }
    let p = value.round_to_step(tick.value(), mode).ok()?;
    p.is_positive().then_some(Price(p))
}

#[cfg(test)]
mod price_tests {
    use super::*;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap_or(Price::ZERO)
    }

    #[test]
    fn offsets_land_on_the_grid_and_away_from_the_book() {
        assert_eq!(
            offset_bps(p("60000"), 5, p("0.1"), Rounding::Ceil),
            Some(p("60030"))
        );
        assert_eq!(
            offset_bps(p("60000.05"), -100, p("0.1"), Rounding::Floor),
            Some(p("59400"))
        );
        assert_eq!(
            offset_bps(p("0.15"), -100, p("0.0001"), Rounding::Floor),
            Some(p("0.1485"))
        );
        assert_eq!(offset_ticks(p("0.15"), -3, p("0.0001")), Some(p("0.1497")));
        assert_eq!(offset_ticks(p("0.0001"), -3, p("0.0001")), None);
        assert_eq!(offset_bps(p("1"), 5, Price::ZERO, Rounding::Ceil), None);
    }
}

#[cfg(test)]
mod tests;
