//! Serving the venue over loopback HTTP/1.1 and WebSocket (in progress).

/// `[sim.server]`: how the simulator serves (extended by the transport owner).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {}
