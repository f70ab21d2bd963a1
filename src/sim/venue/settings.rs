//! `[sim.venue]`: what the simulated exchange lists and who trades on it.

/// Accounts, symbols and venue behaviour of the simulator (extended by the
/// venue layer's owner).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VenueSettings {}
