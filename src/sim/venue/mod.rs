//! The simulated exchange: order books, matching, accounts and positions, the
//! Algo Service and the market-data process. Single-threaded state; the
//! transport layer serialises access to it.
pub mod api;

pub use api::{AccountId, Method, Outbox, Params, Reply, Request, Venue, VenueSettings};
pub mod settings;
pub mod state;
