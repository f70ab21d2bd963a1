//! Domain types a trader reasons in: exact decimals, identifiers, venue enums,
//! orders with their state machine, fills and order events.
pub mod decimal;
pub mod enums;
pub mod events;
pub mod fill;
pub mod ids;
pub mod order;

pub use decimal::{Decimal, DecimalError, Money, Price, Quantity, Rounding};
pub use enums::*;
pub use events::{ErrorText, OrderEvent, OrderEventKind, PositionEvent};
pub use fill::{AssetCode, Fill, FillKind, Liquidity};
pub use ids::{ClientOrderId, InstrumentId, Symbol};
pub use order::{Order, OrderError, OrderState};
