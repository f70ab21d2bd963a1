//! `[sim.venue]`: what the simulated exchange lists and who trades on it.

/// Accounts, symbols and venue behaviour of the simulator (extended by the
/// venue layer's owner).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VenueSettings {}

impl VenueSettings {
    /// API key and secret of the first simulated account, so a client config
    /// that targets the built-in simulator works without environment
    /// variables (the simulator's keys are not real secrets).
    pub fn first_account_credentials(&self) -> Option<(String, String)> {
        None
    }
}
