//! Optional Prometheus `/metrics` endpoint for Grafana dashboards.
//!
//! A colocated trader wants order flow, rejects, reconnects, rate-limit
//! headroom and latency on the same dashboard as the rest of the box. The
//! engine threads only touch a [`Metrics`] registry of preallocated atomics
//! (no lock, no allocation, no syscall); a separate thread started by
//! [`MetricsServer::start`] renders the text format when scraped. Latency
//! percentiles are copied into the registry by the execution thread at its
//! own pace ([`Metrics::publish_report`]), never computed by the scraper.
//!
//! ```
//! use binance_exec::metrics::{Counter, Metrics, MetricsServer};
//! use std::sync::Arc;
//! let metrics = Arc::new(Metrics::new());
//! let server = MetricsServer::start(Arc::clone(&metrics), "127.0.0.1:0".parse().unwrap()).unwrap();
//! metrics.inc(Counter::OrdersSubmitted);
//! metrics.reject(-2019);
//! // curl http://{server.local_addr()}/metrics
//! server.shutdown().unwrap();
//! ```
pub mod registry;
pub mod render;
pub mod server;

pub use registry::{Counter, LatencyStat, Metrics, REJECT_CODES, RateGauge, STREAMS, stream_label};
pub use render::{CONTENT_TYPE, render};
pub use server::{MetricsError, MetricsHandle, MetricsServer};
