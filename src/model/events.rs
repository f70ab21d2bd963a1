//! What happened to an order or a position, as the engine tells the strategy.
//!
//! Events are `Copy` and fixed-size so the execution thread can hand them to
//! the strategy thread through a bounded crossbeam channel without touching the
//! heap. Every order event names the order by its client id (the one id we
//! know from the moment we create the order) and carries both the venue's
//! transaction time and our own monotonic receipt time, so latency can be
//! measured honestly per event.

use super::decimal::{Decimal, Money, Price, Quantity};
use super::enums::PositionSide;
use super::fill::Fill;
use super::ids::{ClientOrderId, InlineStr, InstrumentId, Symbol, VenueOrderId};
use super::order::OrderState;

/// A venue error message (or our own reason) kept inline; long messages are
/// cut at a char boundary — the code is the part to act on.
pub type ErrorText = InlineStr<64>;

/// An order's life event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderEvent {
    /// The order's client id (`newClientOrderId`, or `clientAlgoId` for
    /// conditional orders); for external fills the venue's client id.
    pub client_id: ClientOrderId,
    /// Instrument of the order.
    pub instrument: InstrumentId,
    /// The venue's order id when known (child order id after a trigger).
    pub venue_order_id: Option<VenueOrderId>,
    /// Venue transaction time in ms since the epoch; 0 for local events.
    pub ts_venue_ms: i64,
    /// Engine monotonic time in ns at which the event was created/received.
    pub ts_local_ns: u64,
    /// What happened.
    pub kind: OrderEventKind,
}

/// The kinds of order events. Local intents (`Submitted`, `PendingCancel`,
/// `PendingUpdate`) are events too so the order's history is one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEventKind {
    /// Sent to the venue (local).
    Submitted,
    /// The venue accepted the order (or the algo service accepted the
    /// conditional order).
    Accepted,
    /// The venue refused the order; nothing is live.
    Rejected {
        /// Venue error code (e.g. -5022 post-only would cross), 0 if none.
        code: i32,
        /// Venue message or reason text.
        reason: ErrorText,
    },
    /// One fill of this order (quantity counted once, deduplicated).
    Filled(Fill),
    /// A fill on an order the engine does not track: venue liquidation/ADL
    /// orders or orders placed elsewhere. Positions must still book it.
    ExternalFill(Fill),
    /// Full details (commission, realized PnL) of a fill already reported by
    /// TRADE_LITE. The quantity was already counted: do not book it again.
    FillDetails(Fill),
    /// Cancelled (by us or the venue).
    Canceled,
    /// Expired: IOC/FOK remainder, GTD, STP, reduce-only knock-out.
    Expired {
        /// The venue's expiry reason (`er`, 0–9; see the protocol notes).
        reason: u8,
    },
    /// A conditional order fired; its child order is live in the matching
    /// engine under `child`.
    Triggered {
        /// The child's venue order id (`ai` / `actualOrderId`).
        child: VenueOrderId,
    },
    /// Price/quantity changed (`x=AMENDMENT`).
    Amended {
        /// New price.
        price: Price,
        /// New original quantity.
        quantity: Quantity,
    },
    /// A cancel request was sent (local).
    PendingCancel,
    /// A modify request was sent (local).
    PendingUpdate,
    /// The venue refused a cancel (e.g. -2011 already closed).
    CancelRejected {
        /// Venue error code.
        code: i32,
        /// Venue message.
        reason: ErrorText,
    },
    /// The venue refused a modify; the order keeps its old price/quantity.
    ModifyRejected {
        /// Venue error code.
        code: i32,
        /// Venue message.
        reason: ErrorText,
    },
    /// A request's outcome is unknown (timeout, HTTP 503, -1006/-1007): the
    /// order may or may not be live. Must be reconciled, never resubmitted
    /// under a new id.
    StatusUnknown {
        /// The error code that made it unknown (0 for a transport timeout).
        code: i32,
    },
    /// Reconciliation (an order query) established the venue's view of an
    /// order that was `Unknown` or out of sync.
    Resolved {
        /// The state the venue reports.
        state: OrderState,
        /// The venue's cumulative filled quantity.
        filled_qty: Quantity,
        /// The venue's average fill price (zero if nothing filled).
        avg_price: Price,
    },
}

impl OrderEventKind {
    /// Short name for logs and transition errors.
    pub fn name(&self) -> &'static str {
        match self {
            OrderEventKind::Submitted => "Submitted",
            OrderEventKind::Accepted => "Accepted",
            OrderEventKind::Rejected { .. } => "Rejected",
            OrderEventKind::Filled(_) => "Filled",
            OrderEventKind::ExternalFill(_) => "ExternalFill",
            OrderEventKind::FillDetails(_) => "FillDetails",
            OrderEventKind::Canceled => "Canceled",
            OrderEventKind::Expired { .. } => "Expired",
            OrderEventKind::Triggered { .. } => "Triggered",
            OrderEventKind::Amended { .. } => "Amended",
            OrderEventKind::PendingCancel => "PendingCancel",
            OrderEventKind::PendingUpdate => "PendingUpdate",
            OrderEventKind::CancelRejected { .. } => "CancelRejected",
            OrderEventKind::ModifyRejected { .. } => "ModifyRejected",
            OrderEventKind::StatusUnknown { .. } => "StatusUnknown",
            OrderEventKind::Resolved { .. } => "Resolved",
        }
    }

    /// The fill carried by this event, if any (including external fills and
    /// details-only fills — check the variant before booking quantity).
    pub fn fill(&self) -> Option<&Fill> {
        match self {
            OrderEventKind::Filled(f)
            | OrderEventKind::ExternalFill(f)
            | OrderEventKind::FillDetails(f) => Some(f),
            _ => None,
        }
    }
}

/// Where a position stands after a fill or a venue snapshot: what the
/// strategy needs to size the next order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionEvent {
    /// Symbol of the position.
    pub symbol: Symbol,
    /// `Both` (one-way) or `Long`/`Short` (hedge).
    pub position_side: PositionSide,
    /// Signed amount: > 0 long, < 0 short (hedge `Long` ≥ 0, `Short` ≤ 0).
    pub amount: Decimal,
    /// Average entry price (zero when flat).
    pub entry_price: Price,
    /// Realized PnL accumulated by the engine for this position, before fees.
    pub realized_pnl: Money,
    /// True when this came from a venue snapshot (ACCOUNT_UPDATE,
    /// positionRisk) rather than from a fill the engine booked.
    pub from_snapshot: bool,
    /// Venue time (ms) of the fill or snapshot.
    pub ts_venue_ms: i64,
}
