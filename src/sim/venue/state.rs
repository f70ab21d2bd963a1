//! The venue's state and its request dispatch (in progress).
use super::api::{Outbox, Reply, Request};
use super::settings::VenueSettings;

/// The simulated exchange.
#[derive(Debug)]
pub struct Venue {
    _settings: VenueSettings,
}

impl Venue {
    /// A venue with the configured accounts and symbols, at time `now_ms`.
    pub fn new(settings: &VenueSettings, _now_ms: i64) -> Self {
        Venue {
            _settings: settings.clone(),
        }
    }
    /// Handles one authenticated request.
    pub fn handle(&mut self, _req: &Request<'_>, _now_ms: i64, _out: &mut Outbox) -> Reply {
        Reply::error(404, -1000, "not implemented yet")
    }
    /// Advances time: market process, triggers, expiries.
    pub fn tick(&mut self, _now_ms: i64, _out: &mut Outbox) {}
}
