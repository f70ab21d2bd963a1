//! The execution thread's one entry point for bad venue input: count it,
//! log it (rate-limited), and nothing else — the reaction (reconcile, query,
//! retry) is decided where the input was read.

use super::thread::Exec;
use crate::binance::events::{AlgoUpdate, OrderUpdate};
use crate::engine::bad_input::{BadKind, LogDecision, is_venue_error_body};
use crate::engine::clock::mono_ns;
use crate::engine::net_thread::{NetFailure, RestOutcome};
use crate::net::http::HttpError;
use crate::net::ws::{WsError, WsProtocolError};
use crate::net::ws_frame::FrameError;

impl Exec {
    /// Counts one bad input of `kind`; `what` describes it for the log and
    /// is only built when the line is written.
    pub(crate) fn bad_input(&mut self, kind: BadKind, what: impl FnOnce() -> String) {
        self.counters.bad_input.add(kind);
        match self.bad_log.decide(kind, mono_ns()) {
            LogDecision::Quiet => {}
            LogDecision::Log { suppressed: 0 } => {
                self.note(format!("bad input ({}): {}", kind.as_str(), what()));
            }
            LogDecision::Log { suppressed } => self.note(format!(
                "bad input ({}): {} ({suppressed} more not logged)",
                kind.as_str(),
                what()
            )),
        }
    }
}

impl Exec {
    /// Counts a REST completion that was not the venue's answer: a response
    /// that broke off mid-way, or an error status whose body is not the
    /// venue's `{"code","msg"}` (a gateway page).
    pub(crate) fn check_rest_outcome(&mut self, outcome: &RestOutcome) {
        match outcome {
            RestOutcome::Unknown(NetFailure::Http(HttpError::Parse(e)))
            | RestOutcome::NotSent(NetFailure::Http(HttpError::Parse(e))) => {
                let e = e.to_string();
                self.bad_input(BadKind::RestResponse, || {
                    format!("broken REST response: {e}")
                });
            }
            RestOutcome::Response { status, body, .. }
                if !(200..300).contains(status) && !is_venue_error_body(body.as_bytes()) =>
            {
                let status = *status;
                let head =
                    String::from_utf8_lossy(body.as_bytes().get(..40).unwrap_or(&[])).into_owned();
                self.bad_input(BadKind::RestResponse, || {
                    format!("HTTP {status} without a venue error body: {head:?}")
                });
            }
            _ => {}
        }
    }
}

impl Exec {
    /// An ALGO_UPDATE whose algo status the engine does not know: the
    /// tracker left the conditional order as it was (it never guesses), so
    /// the algo service is asked (by `clientAlgoId`) and the answer settles
    /// it, exactly as an order update with an unknown status is handled.
    pub(crate) fn check_algo_update_status(&mut self, a: &AlgoUpdate) {
        let o = &a.order;
        if !o.status.is_unknown() {
            return;
        }
        let id = o.client_algo_id;
        let status = o.status;
        self.bad_input(BadKind::UnknownEnum, || {
            format!("{id}: algo update with status {status:?}; querying")
        });
        if let Some(h) = self.tracker.find(&id)
            && let Ok(order) = self.tracker.get(h)
            && order.is_conditional()
        {
            let inst = order.instrument;
            self.recon_check_order(id, inst, true, false);
        }
    }
}

/// True when a stream went down because a message was over the size limit.
/// The reader closes the connection rather than skipping the message: its
/// content (possibly an order update) is unknown, so only a reconnect and
/// a reconciliation can make up for it, and a peer that ignores the limit
/// is not one to keep reading from.
pub(crate) fn is_oversized(f: &NetFailure) -> bool {
    matches!(
        f,
        NetFailure::Ws(WsError::Protocol(WsProtocolError::Frame(
            FrameError::TooLarge { .. }
        )))
    )
}

/// True when an order update carries a status or execution type the engine
/// does not know.
pub(crate) fn has_unknown_enum(u: &OrderUpdate) -> bool {
    u.status.is_unknown() || u.execution_type.is_unknown()
}
