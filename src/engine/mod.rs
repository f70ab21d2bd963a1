//! Engine (in progress)
