//! binance-exec: a low-latency execution engine for Binance USDⓈ-M Futures,
//! and the loopback venue simulator it is tested and benchmarked against.
//!
//! The tree is laid out by layer:
//! - [`model`]: exact decimals, identifiers, venue enums, orders and fills;
//! - [`binance`]: the venue's wire protocol (signing, requests, responses,
//!   stream events, error codes, exchangeInfo), shared by engine and simulator;
//! - [`config`]: the one TOML file that configures a client;
//! - [`instruments`]: instrument provider and pre-submit filter validation;
//! - [`net`]: mio sockets, TLS, HTTP/1.1 and WebSocket clients (no async runtime);
//! - [`engine`]: network, execution and strategy threads;
//! - [`latency`]: always-on hdrhistogram recording, budget reports and plots;
//! - [`metrics`]: optional loopback Prometheus endpoint fed by lock-free counters;
//! - [`sim`]: the Binance USDⓈ-M venue simulator;
//! - [`soak`]: the soak test (mixed order flow under injected faults, audited
//!   against the simulator's ledger);
//! - [`strategies`]: example strategies (`order-cycle`, `maker`);
//! - [`bench`]: the `bench` subcommand's flow, floor, allocation and memory accounting;
//! - [`cli`]: the `binance-exec` subcommands.
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod bench;
pub mod binance;
pub mod cli;
pub mod config;
pub mod engine;
pub mod instruments;
pub mod latency;
pub mod metrics;
pub mod model;
pub mod net;
pub mod sim;
pub mod soak;
pub mod strategies;
