//! Example strategies shipped with the engine (`order-cycle`, `maker`).
