//! Network layer: one thread, mio readiness, no async runtime.
//!
//! Why: an execution engine's critical path is "order ready → bytes on the wire" and
//! "bytes in → event parsed". A single network thread owning every socket, polled with
//! mio (busy-poll or park), keeps that path free of executor hops, wakers and locks.
//! Every module is a small explicit state machine that treats `WouldBlock` as "resume on
//! the next readiness event" and never panics on peer input.
//!
//! - [`url`]: base URLs (`http(s)`, `ws(s)`), resolved at connect time;
//! - [`tls`]: rustls client config (ring provider, webpki roots or a CA file);
//! - [`stream`]: [`stream::Transport`], TCP (no Nagle) optionally wrapped in TLS;
//! - [`http`]: HTTP/1.1 keep-alive connections and a pool with deadlines and honest
//!   `NotSent`/`Unknown` outcomes;
//! - [`ws`]: non-blocking WebSocket client on tungstenite;
//! - [`poller`]: `mio::Poll` + events + token allocation + cross-thread waker.
//!
//! A network-thread loop, in outline:
//!
//! ```text
//! loop {
//!     poller.poll_for(timeout.min(pool.next_deadline() - now))?;
//!     for ev in poller.events() {
//!         if ev.token() == WAKE_TOKEN { drain the command channel; pool.submit(..) / ws.send_text(..) }
//!         else if pool.owns(ev.token()) { pool.on_event(ev.token(), registry, now, |c| deliver(c)) }
//!         else if ev.token() == ws.token() { ws.progress(registry)?; while let Some(f) = ws.read()? { .. } ws.update_interest(registry)? }
//!     }
//!     pool.maintain(now, registry, |c| deliver(c));
//! }
//! ```

pub mod http;
pub mod poller;
pub mod stream;
pub mod tls;
pub mod url;
pub mod ws;
pub mod ws_frame;
