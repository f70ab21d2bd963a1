//! The Binance USDⓈ-M venue simulator (`binance-exec sim`).
//!
//! Split in two layers: [`venue`] is the exchange itself (books, matching,
//! accounts, algo service, market data) as plain single-threaded state, and
//! [`transport`] serves it over loopback HTTP/1.1 and WebSocket with
//! Binance's authentication, rate limits and fault injection.
pub mod transport;
pub mod venue;
