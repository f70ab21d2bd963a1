//! The simulated exchange: order books, matching, accounts and positions, the
//! Algo Service and the market-data process. Single-threaded state; the
//! transport layer serialises access to it.
pub mod api;

pub use api::{AccountId, Method, Outbox, Params, Reply, Request, Venue, VenueSettings};
pub use control::{
    AdlStyle, ControlError, Ledger, LedgerFill, LedgerOrder, LedgerPosition, PositionLeg,
};
pub use settings::SettingsError;
pub mod account;
pub mod algo;
pub mod book;
pub mod brackets;
pub mod control;
pub mod fasthash;
pub mod fill_stamps;
pub mod info;
pub mod json;
pub mod market;
pub mod matching;
pub mod order;
pub mod params;
pub mod rng;
pub mod settings;
pub mod state;
#[cfg(test)]
mod tests;
pub mod trading;
