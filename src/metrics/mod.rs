//! Optional Prometheus `/metrics` endpoint for Grafana dashboards.
//!
//! A colocated trader wants order flow, rejects, reconnects, rate-limit
//! headroom and latency on the same dashboard as the rest of the box. The
//! engine threads only touch a [`Metrics`] registry of preallocated atomics
//! (no lock, no allocation, no syscall); a separate thread started by
//! [`MetricsServer::start`] renders the text format when scraped. Latency
//! percentiles are computed on that thread too, from histogram copies the
//! recording threads hand over at their periodic tick ([`tap`]), never on a
//! trading thread.
//!
//! ```
//! use binance_exec::metrics::{Metrics, MetricsServer, OrderFlow};
//! use binance_exec::model::OrderType;
//! use std::sync::Arc;
//! let metrics = Arc::new(Metrics::new());
//! let server = MetricsServer::start(Arc::clone(&metrics), "127.0.0.1:0".parse().unwrap()).unwrap();
//! metrics.order(OrderFlow::Submitted, &OrderType::Limit);
//! metrics.reject(-2019);
//! // curl http://{server.local_addr()}/metrics
//! server.shutdown().unwrap();
//! ```
pub mod registry;
pub mod render;
pub mod server;
pub mod tap;

pub use registry::{
    Counter, LatencyStat, Metrics, ORDER_TYPES, OrderFlow, REJECT_CODES, RateGauge, STREAMS,
    stream_label,
};
pub use render::{CONTENT_TYPE, render};
pub use server::{MetricsError, MetricsHandle, MetricsServer};
pub use tap::{LatencySnapshot, LatencyTap, PUBLISH_EVERY, TapSink, latency_tap};
