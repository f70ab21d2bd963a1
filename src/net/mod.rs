//! Network layer (in progress)
