//! The venue's wire protocol, shared by the engine and the simulator.
/// Fixed-capacity lists for venue arrays on the hot path.
pub mod capped;
pub mod decode;
pub mod errors;
pub mod events;
pub mod exchange_info;
pub mod market;
pub mod query;
pub mod requests;
pub mod rest;
mod scan;
pub mod sign;
pub mod ws_api;
