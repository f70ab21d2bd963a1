//! The Binance USDⓈ-M venue simulator (`binance-exec sim`).
//!
//! Split in two layers: [`venue`] is the exchange itself (books, matching,
//! accounts, algo service, market data) as plain single-threaded state behind
//! the small API in [`venue::api`], and [`transport`] serves it over loopback
//! HTTP/1.1 and WebSocket with Binance's authentication, rate limits, listenKeys
//! and fault injection.
pub mod transport;
pub mod venue;

/// The `[sim]` table of a config file: how the simulator serves (`[sim.server]`)
/// and what venue it simulates (`[sim.venue]`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimSettings {
    /// Listening address, TLS, rate limits, faults, time scale, event log.
    pub server: transport::ServerSettings,
    /// Accounts, symbols, balances, fees, market process.
    pub venue: venue::VenueSettings,
}
