//! The execution core: order storage, tracking, positions and the strategy
//! API. No I/O here — the network thread decodes venue messages into
//! [`tracker::Report`]s and the strategy thread sends [`strategy::Command`]s;
//! this layer keeps the books straight between them.
pub mod client_ids;
pub mod clock;
pub mod exec;
pub mod hash;
pub mod pool;
pub mod positions;
pub mod report;
pub mod runner;
pub mod strategy;
pub mod strategy_thread;
pub mod tracker;

pub use client_ids::{ClientIdError, ClientIdGenerator};
pub use pool::{OrderHandle, OrderPool, PoolError};
pub use positions::{Position, PositionBook, PositionError, PositionSnapshot};
pub use strategy::{
    BookTicker, Command, CommandError, Context, OrderFactory, OrderOptions, Strategy, Trade,
};
pub use tracker::{
    OrderTracker, Outcome, Report, ReportSource, RequestKind, TrackerConfig, TrackerError,
};
pub use runner::{Counters, Engine, EngineError, EngineHandle, EngineOptions, EngineSummary};
