//! The engine: network I/O, execution (order state) and strategy threads,
//! connected by bounded crossbeam channels carrying preallocated orders and
//! recycled buffers.
//!
//! - [`pool`], [`tracker`], [`report`], [`positions`], [`client_ids`]: the
//!   execution core, no I/O — venue messages become [`tracker::Report`]s and
//!   the strategy sends [`strategy::Command`]s; this layer keeps the books;
//! - [`strategy`]: the API strategies are written against;
//! - [`buffers`]: recycled byte buffers;
//! - [`wait`], [`doorbell`], [`clock`], [`ratelimit`], [`journal`]: how idle threads wait and
//!   where they run, the venue clock estimate, the local rate limiter, and the
//!   crash-safe order journal;
//! - [`net_thread`]: the one thread that owns every socket.
pub mod bad_input;
pub mod buffers;
pub mod client_ids;
pub mod clock;
pub mod doorbell;
pub mod exec;
pub mod hash;
pub mod journal;
pub mod net_thread;
pub mod pool;
pub mod positions;
pub mod ratelimit;
pub mod report;
pub mod runner;
pub mod strategy;
pub mod strategy_thread;
pub mod tracker;
pub mod wait;

pub use client_ids::{ClientIdError, ClientIdGenerator};
pub use pool::{OrderHandle, OrderPool, PoolError};
pub use positions::{Position, PositionBook, PositionError, PositionSnapshot};
pub use runner::{Counters, Engine, EngineError, EngineHandle, EngineOptions, EngineSummary};
pub use strategy::{
    BookTicker, Command, CommandError, Context, OrderFactory, OrderOptions, Strategy, Trade,
};
pub use tracker::{
    OrderTracker, Outcome, Report, ReportSource, RequestKind, TrackerConfig, TrackerError,
};
