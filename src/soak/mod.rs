//! `binance-exec soak`: hours of steady mixed order flow against the
//! simulator while it injects venue failures, then an audit of the engine's
//! view against the venue's ledger.
//!
//! - [`mix`]: the `soak-mix` strategy (steady rate, every order type,
//!   bounded inventory, a log of what it asked for and was told);
//! - [`faults`]: the seeded fault schedule, counted by kind;
//! - [`compare`]: the audit (lost orders, duplicated/missed fills, position
//!   mismatches, fill rate of fillable orders);
//! - [`journal_audit`]: the crash audit (journal against ledger);
//! - [`rest_client`], [`rest_audit`]: the venue's own lists over signed
//!   REST, for the venue-side audit of a remote venue;
//! - [`summary`]: the verdict, table and JSON;
//! - [`secrets`]: the API-secret search over everything the run wrote;
//! - [`sim_run`]: one in-process run; [`crash`]: the engine as a child
//!   process, SIGKILLed and restarted.
pub mod compare;
pub mod crash;
pub mod faults;
pub mod journal_audit;
pub mod mix;
pub mod rest_audit;
pub mod rest_client;
pub mod rng;
pub mod secrets;
pub mod sim_run;
pub mod summary;
pub mod testnet;

pub use compare::{Comparison, EngineView, VenueAlgo, VenueView, compare};
pub use faults::{FaultCounts, FaultKind, FaultPlan, parse_fault_list};
pub use mix::{MixLog, MixSettings, MixShared, SoakMix, SubmittedOrder};
pub use sim_run::{SoakOptions, run_sim};
pub use summary::{MIN_FILL_RATE, SoakSummary};
