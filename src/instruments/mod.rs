//! Instrument provider and pre-submit filter validation.
//!
//! The provider keeps only the instruments a config asks for (failing fast on
//! any the venue does not list or does not trade), as small `Copy` records the
//! execution thread reads without locks. [`Instrument::validate`] applies the
//! venue's filters before an order leaves the process: a rejected order costs
//! a round trip and an ORDERS rate-limit slot, and the answer is known locally.

mod instrument;
mod provider;
mod validate;

pub use instrument::{Instrument, InstrumentError};
pub use provider::{InstrumentProvider, ProviderError};
pub use validate::{FilterKind, FilterViolation, OrderCheck, PriceField};
