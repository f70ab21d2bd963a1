//! The start-up sequence, run on the caller's thread before trading begins.
//!
//! Why blocking: nothing may trade before the clock offset, the instruments,
//! the position mode and the current open orders/positions are known, so
//! there is nothing to overlap with; simple request/answer calls through the
//! network thread keep the order obvious and each failure precise.

use std::collections::VecDeque;
use std::time::Duration;

use crate::binance::errors::{Reaction, VenueError};
use crate::binance::exchange_info::ExchangeInfo;
use crate::binance::requests::{RequestBuilder, RestRequest};
use crate::binance::rest::{ListenKey, PositionMode as VenuePositionMode, ServerTime, decode};
use crate::config::{Backoff, Config, PositionMode, SplitMix64};
use crate::engine::buffers::mono_ns as net_ns;
use crate::engine::net_thread::{NetCommand, NetEvent, NetHandle, RestOutcome, StreamKind};
use crate::engine::ratelimit::{LimitSpec, specs_from_exchange_info};
use crate::engine::runner::EngineError;
use crate::instruments::{InstrumentProvider, ProviderError};
use crate::latency::wall_ns;

/// Tags at or above this are start-up calls (the trading loop's tags are
/// far below).
pub const STARTUP_TAG: u64 = 1 << 62;

/// How long one start-up call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A blocking REST caller over the network thread; frames that arrive while
/// waiting are kept for the trading loop, not dropped.
pub struct Blocking<'a> {
    /// The network thread.
    pub net: &'a NetHandle,
    /// Events that were not the answer being waited for.
    pub held: &'a mut VecDeque<NetEvent>,
    /// Next tag.
    pub next_tag: u64,
    /// How transient failures are retried (the config's `max_retries` and
    /// retry delays): a start-up that gives up on one 429 or 503 leaves a
    /// supervisor restarting the engine into the same storm.
    pub backoff: Backoff,
    /// Retries made, with why, for the start-up log.
    pub retried: Vec<String>,
}

/// Turns a built request into a network command.
pub fn to_command(
    net: &NetHandle,
    tag: u64,
    req: &RestRequest<'_>,
    deadline_ns: u64,
) -> NetCommand {
    let mut target = net.bufs.get();
    target.extend_from_slice(req.path.as_bytes());
    if !req.query.is_empty() {
        target.extend_from_slice(b"?");
        target.extend_from_slice(req.query);
    }
    let body = (!req.body.is_empty()).then(|| net.bufs.copy_of(req.body));
    NetCommand::Rest {
        tag,
        method: req.method,
        target,
        body,
        deadline_ns,
    }
}

/// Longest `Retry-After` start-up waits out before it gives up instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Whether a failed start-up call may simply be sent again: every start-up
/// call is a read (or the idempotent listenKey create), so a retry cannot
/// duplicate anything. Clock (-1021), signature and parameter errors repeat
/// and are not retried here.
fn transient(e: &EngineError) -> bool {
    match e {
        EngineError::Startup { source, .. } => matches!(
            source.reaction(),
            Reaction::Retry | Reaction::BackOff | Reaction::RateLimited | Reaction::ResolveUnknown
        ),
        EngineError::StartupIo { reason, .. } => reason != NO_NET_THREAD,
        _ => false,
    }
}

const NO_NET_THREAD: &str = "no answer from the network thread";

impl Blocking<'_> {
    /// Sends `req` and waits for its answer: `(status, body)`. Transient
    /// failures (network, 5xx, 429/418 with `Retry-After`, -1001/-1008) are
    /// retried with the config's backoff; `Retry-After` is honoured (up to
    /// 30 s) so a rate-limited start-up never earns a ban.
    pub fn call(
        &mut self,
        step: &'static str,
        req: &RestRequest<'_>,
    ) -> Result<(u16, Vec<u8>), EngineError> {
        let mut jitter = SplitMix64(self.next_tag);
        let mut attempt = 0u32;
        loop {
            let mut retry_after = None;
            let e = match self.call_once(step, req, &mut retry_after) {
                Ok(x) => return Ok(x),
                Err(e) => e,
            };
            attempt += 1;
            if !transient(&e) {
                return Err(e);
            }
            let Some(backoff) = self.backoff.delay(attempt, &mut jitter) else {
                return Err(e);
            };
            let wait = match retry_after {
                Some(s) if Duration::from_secs(s) > MAX_RETRY_AFTER => return Err(e),
                Some(s) => backoff.max(Duration::from_secs(s)),
                None => backoff,
            };
            self.retried.push(format!(
                "{step}: {e}; retry {attempt} in {} ms",
                wait.as_millis()
            ));
            std::thread::sleep(wait);
        }
    }

    fn call_once(
        &mut self,
        step: &'static str,
        req: &RestRequest<'_>,
        retry_after: &mut Option<u64>,
    ) -> Result<(u16, Vec<u8>), EngineError> {
        let tag = self.next_tag;
        self.next_tag += 1;
        let deadline = net_ns().saturating_add(CALL_TIMEOUT.as_nanos() as u64);
        let cmd = to_command(self.net, tag, req, deadline);
        self.net.send(cmd).map_err(|e| EngineError::StartupIo {
            step,
            reason: e.to_string(),
        })?;
        // Bounded: the network thread answers every request by its deadline;
        // the extra second covers the thread itself being gone.
        let give_up = std::time::Instant::now() + CALL_TIMEOUT + Duration::from_secs(1);
        loop {
            let left = give_up.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(EngineError::StartupIo {
                    step,
                    reason: NO_NET_THREAD.into(),
                });
            }
            match self.net.events.recv_timeout(left) {
                Ok(NetEvent::RestDone {
                    tag: t, outcome, ..
                }) if t == tag => {
                    return match outcome {
                        RestOutcome::Response {
                            status,
                            body,
                            limits,
                        } => {
                            *retry_after = limits.retry_after_s;
                            let b = body.as_bytes().to_vec();
                            self.net.bufs.put(body);
                            if (200..300).contains(&status) {
                                Ok((status, b))
                            } else {
                                Err(EngineError::Startup {
                                    step,
                                    source: VenueError::from_response(status, &b),
                                })
                            }
                        }
                        RestOutcome::NotSent(f) | RestOutcome::Unknown(f) => {
                            Err(EngineError::StartupIo {
                                step,
                                reason: f.to_string(),
                            })
                        }
                    };
                }
                Ok(other) => self.held.push_back(other),
                Err(_) => {
                    return Err(EngineError::StartupIo {
                        step,
                        reason: "timed out".into(),
                    });
                }
            }
        }
    }

    /// Waits for a stream to come up (events meanwhile are held).
    pub fn wait_stream(&mut self, kind: StreamKind, step: &'static str) -> Result<(), EngineError> {
        let give_up = std::time::Instant::now() + CALL_TIMEOUT;
        loop {
            let left = give_up.saturating_duration_since(std::time::Instant::now());
            match self.net.events.recv_timeout(left) {
                Ok(NetEvent::StreamUp(k)) if k == kind => return Ok(()),
                Ok(NetEvent::StreamDown(k, f)) if k == kind => {
                    // Reconnects are automatic; remember why for the error.
                    if left.is_zero() {
                        return Err(EngineError::StartupIo {
                            step,
                            reason: f.to_string(),
                        });
                    }
                }
                Ok(other) => self.held.push_back(other),
                Err(_) => {
                    return Err(EngineError::StartupIo {
                        step,
                        reason: "stream did not come up in time".into(),
                    });
                }
            }
        }
    }
}

fn bad_body(step: &'static str, e: impl std::fmt::Display) -> EngineError {
    EngineError::StartupIo {
        step,
        reason: format!("unreadable reply: {e}"),
    }
}

/// Estimates `server - local` wall clock in ms from the midpoint of one
/// `GET /fapi/v1/time` round trip (takes the best of three: the shortest
/// round trip bounds the error best).
pub fn clock_offset_ms(b: &mut Blocking<'_>, rb: &mut RequestBuilder) -> Result<i64, EngineError> {
    let mut best: Option<(i64, i64)> = None;
    for _ in 0..3 {
        let t0 = wall_ns();
        let (_, body) = b.call("server time", &rb.server_time())?;
        let t1 = wall_ns();
        let st: ServerTime = decode(&body).map_err(|e| bad_body("server time", e))?;
        let rtt = t1 - t0;
        let mid_ms = (t0 + rtt / 2) / 1_000_000;
        let off = st.server_time - mid_ms;
        if best.is_none_or(|(r, _)| rtt < r) {
            best = Some((rtt, off));
        }
    }
    Ok(best.map(|(_, o)| o).unwrap_or(0))
}

/// Loads the configured instruments (and the venue's rate-limit windows); an id the venue does not list (or that
/// is not trading) fails here, naming it.
pub fn instruments(
    b: &mut Blocking<'_>,
    rb: &mut RequestBuilder,
    config: &Config,
) -> Result<(InstrumentProvider, Vec<LimitSpec>), EngineError> {
    let (_, body) = b.call("exchangeInfo", &rb.exchange_info())?;
    let info = ExchangeInfo::from_json(&body).map_err(|e| bad_body("exchangeInfo", e))?;
    let provider = InstrumentProvider::from_exchange_info(&info, &config.instrument_provider)
        .map_err(|e| match e {
            ProviderError::NotListed { id } => EngineError::InvalidSymbol(id.to_string()),
            other => EngineError::InvalidSymbol(other.to_string()),
        })?;
    Ok((provider, specs_from_exchange_info(&info.rate_limits)))
}

/// Reads the account's position mode and refuses to trade if it differs from
/// the config (orders would carry the wrong `positionSide`/`reduceOnly`).
pub fn check_position_mode(
    b: &mut Blocking<'_>,
    rb: &mut RequestBuilder,
    config: &Config,
    ts_ms: i64,
) -> Result<(), EngineError> {
    let (_, body) = b.call("position mode", &rb.position_mode(ts_ms))?;
    let m: VenuePositionMode = decode(&body).map_err(|e| bad_body("position mode", e))?;
    let actual = if m.dual_side_position {
        PositionMode::Hedge
    } else {
        PositionMode::OneWay
    };
    if actual != config.position_mode {
        return Err(EngineError::PositionModeMismatch {
            configured: config.position_mode.as_str(),
            actual: actual.as_str(),
        });
    }
    Ok(())
}

/// Creates a listenKey.
pub fn listen_key(b: &mut Blocking<'_>, rb: &mut RequestBuilder) -> Result<String, EngineError> {
    let (_, body) = b.call("listenKey", &rb.listen_key_create())?;
    let k: ListenKey = decode(&body).map_err(|e| bad_body("listenKey", e))?;
    Ok(k.listen_key)
}
