//! Instrument provider (in progress)
