//! Fan-out of stream frames to WebSocket connections: which connection wants
//! which market stream and which account's user events, the combined-stream
//! wrapper, route rules, and the per-frame fault effects (delay, corruption).
//! Connection threads own their sockets; the hub only queues text for them and
//! wakes them.
use super::direct::{OPCODE_BINARY, OPCODE_TEXT, StreamWriter, encode_frame};
use super::faults::{FaultSettings, WireFrame, mangle_frame};
use crate::sim::venue::fill_stamps::{FillStage, FillStamps};
use crate::sim::venue::{AccountId, Outbox, api::push_json_str};
use crossbeam_channel::Sender;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which URL prefix a connection came in on (2026 route split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/ws`, `/stream` without prefix.
    Legacy,
    /// `/public/...`: book streams.
    Public,
    /// `/market/...`: everything else.
    Market,
    /// `/private/...`: user data.
    Private,
}

/// Book-data streams live on `/public` (and on legacy URLs).
pub fn is_book_stream(name: &str) -> bool {
    name == "!bookTicker"
        || name.contains("@bookTicker")
        || name.contains("@depth")
        || name.contains("@rpiDepth")
}

/// Stream names are matched with the symbol part lower-cased (clients send
/// `BTCUSDT@bookTicker` now and then; Binance lower-cases it).
pub fn normalise_stream(name: &str) -> String {
    match name.split_once('@') {
        Some((sym, rest)) => {
            let mut s = sym.to_ascii_lowercase();
            s.push('@');
            s.push_str(rest);
            s
        }
        None => name.to_string(),
    }
}

/// What the event log records about a frame.
#[derive(Debug, Clone)]
pub struct FrameMeta {
    /// Stream name (market) or listenKey (user).
    pub stream: String,
    /// `e` of the event.
    pub event_type: String,
    /// `E`.
    pub event_time: i64,
    /// `T` (0 = none).
    pub tx_time: i64,
    /// Order id (0 = none).
    pub order_id: i64,
    /// Client order id ("" = none).
    pub client_id: String,
    /// Trade the frame reports (0 = none), for the fill-stage stamps.
    pub trade_id: i64,
    /// Where to stamp when the frame is on the socket (benchmarks only).
    pub fill_stamps: Option<Arc<FillStamps>>,
}

impl FrameMeta {
    /// Stamps `stage` of the frame's trade, when it reports one and a
    /// fill-stage table is installed.
    pub fn stamp(&self, stage: FillStage) {
        if let (Some(t), true) = (&self.fill_stamps, self.trade_id != 0) {
            t.stamp_stage(self.trade_id, stage, crate::latency::now_ns());
        }
    }
}

/// Something for a connection thread to do.
#[derive(Debug)]
pub enum Out {
    /// Send a data frame, not before `due`.
    Frame {
        /// Frame payload (text, or binary from the binary-frame fault).
        text: WireFrame,
        /// Earliest send time (stream-delay fault).
        due: Option<Instant>,
        /// For the event log.
        meta: Arc<FrameMeta>,
        /// Signalled once the frame is on the socket (event-first ordering
        /// waits for it before writing the REST/WS-API reply).
        written: Option<Sender<()>>,
    },
    /// Close the connection abruptly (drop-all fault, forced disconnect).
    Drop,
}

/// One user-data binding of a connection.
#[derive(Debug, Clone)]
pub struct UserBinding {
    /// Account whose events flow.
    pub account: AccountId,
    /// The listenKey (combined-stream name, expiry matching).
    pub key: String,
    /// `events=A/B` filter of `/private` URLs; `None` = all.
    pub events: Option<Vec<String>>,
}

/// A stream connection's subscriptions and its wake-up handle.
#[derive(Debug)]
pub struct Subscriber {
    /// Queue into the connection thread.
    pub tx: Sender<Out>,
    /// Wakes the connection thread's poll.
    pub waker: Arc<mio::Waker>,
    /// Wrap frames as `{"stream":..,"data":..}`.
    pub combined: bool,
    /// URL route.
    pub route: Route,
    /// Market streams (normalised names).
    pub streams: Vec<String>,
    /// User-data bindings.
    pub users: Vec<UserBinding>,
    /// The connection's shared writer, when publishers may write its
    /// frames themselves (plain-TCP stream connections; see
    /// [`super::direct`]).
    pub direct: Option<Arc<StreamWriter>>,
}

impl Subscriber {
    fn wants_market(&self, stream: &str, strict: bool) -> bool {
        if strict {
            let book = is_book_stream(stream);
            let allowed = match self.route {
                Route::Legacy | Route::Public => book,
                Route::Market => !book,
                Route::Private => false,
            };
            if !allowed {
                return false;
            }
        }
        self.streams.iter().any(|s| s == stream)
    }

    /// The writer to put a frame on the socket with now, if nothing queued
    /// for the connection thread is ahead of it and it is not delayed.
    fn direct_now(&self, delay: Duration) -> Option<&Arc<StreamWriter>> {
        self.direct
            .as_ref()
            .filter(|w| delay.is_zero() && w.queued() == 0)
    }

    fn send(
        &self,
        text: WireFrame,
        delay: Duration,
        meta: Arc<FrameMeta>,
        written: Option<&Sender<()>>,
    ) -> bool {
        let due = (!delay.is_zero()).then(|| Instant::now() + delay);
        if let Some(w) = &self.direct {
            // Counted before it is visible to the connection thread, which
            // counts it down once written.
            w.note_queued();
        }
        let frame = Out::Frame {
            text,
            due,
            meta,
            written: written.cloned(),
        };
        if self.tx.send(frame).is_ok() {
            let _ = self.waker.wake();
            true
        } else {
            if let Some(w) = &self.direct {
                w.note_dequeued();
            }
            false
        }
    }
}

/// Frames one publication writes straight onto one connection's socket, in
/// order, with a single write.
struct Batch {
    conn: u64,
    writer: Arc<StreamWriter>,
    bytes: Vec<u8>,
    metas: Vec<Arc<FrameMeta>>,
}

impl Batch {
    fn push(&mut self, text: &WireFrame, meta: Arc<FrameMeta>) {
        match text {
            WireFrame::Text(t) => encode_frame(&mut self.bytes, OPCODE_TEXT, t.as_bytes()),
            WireFrame::Binary(b) => encode_frame(&mut self.bytes, OPCODE_BINARY, b),
        }
        self.metas.push(meta);
    }
}

/// The batch of connection `conn`, started on first use.
fn batch_for<'a>(
    batches: &'a mut Vec<Batch>,
    conn: u64,
    writer: &Arc<StreamWriter>,
) -> &'a mut Batch {
    let i = match batches.iter().position(|b| b.conn == conn) {
        Some(i) => i,
        None => {
            batches.push(Batch {
                conn,
                writer: Arc::clone(writer),
                bytes: Vec::with_capacity(2048),
                metas: Vec::new(),
            });
            batches.len() - 1
        }
    };
    &mut batches[i]
}

/// Stream-related fault state for one publication.
#[derive(Debug)]
pub struct StreamFaults<'a> {
    /// Drop market frames.
    pub market_paused: bool,
    /// Delay each frame.
    pub delay: Duration,
    /// The bad-frame counters (consumed per frame sent).
    pub settings: &'a mut FaultSettings,
}

impl StreamFaults<'_> {
    /// The frames to send for one event on one connection: the event as is,
    /// or as the next armed bad-frame fault mangles it.
    fn frames(&mut self, json: &str, combined: bool, stream: &str, user: bool) -> Vec<WireFrame> {
        match self.settings.take_frame_fault_for(json, user) {
            None => vec![WireFrame::Text(wrap(combined, stream, json))],
            Some(f) => {
                let limit = self.settings.frame_limit();
                mangle_frame(f, json, &|j| wrap(combined, stream, j), limit)
            }
        }
    }
}

/// The registry of stream connections.
#[derive(Debug, Default)]
pub struct Hub {
    subs: Mutex<HashMap<u64, Subscriber>>,
    strict_routes: bool,
    log: Option<Mutex<std::io::BufWriter<std::fs::File>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn wrap(combined: bool, stream: &str, json: &str) -> String {
    if !combined {
        return json.to_string();
    }
    let mut s = String::with_capacity(json.len() + stream.len() + 24);
    s.push_str("{\"stream\":");
    push_json_str(&mut s, stream);
    s.push_str(",\"data\":");
    s.push_str(json);
    s.push('}');
    s
}

impl Hub {
    /// A hub; `log` receives one JSON line per frame actually sent.
    pub fn new(strict_routes: bool, log: Option<std::fs::File>) -> Self {
        Hub {
            subs: Mutex::new(HashMap::new()),
            strict_routes,
            log: log.map(|f| Mutex::new(std::io::BufWriter::new(f))),
        }
    }

    /// Adds a connection.
    pub fn register(&self, id: u64, sub: Subscriber) {
        lock(&self.subs).insert(id, sub);
    }

    /// Removes a connection.
    pub fn unregister(&self, id: u64) {
        lock(&self.subs).remove(&id);
    }

    /// Runs `f` on a connection's subscription (SUBSCRIBE & co).
    pub fn with<R>(&self, id: u64, f: impl FnOnce(&mut Subscriber) -> R) -> Option<R> {
        lock(&self.subs).get_mut(&id).map(f)
    }

    /// Number of live stream connections (tests, shutdown checks).
    pub fn len(&self) -> usize {
        lock(&self.subs).len()
    }

    /// True when no stream connection is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fans out the venue's frames. User frames go to bindings of the
    /// frame's account whose listenKey is still live (`live` decides).
    /// Frames for plain-TCP connections with nothing queued are written
    /// onto their sockets by the calling thread, one write per connection,
    /// user-stream connections first; the rest are queued for the
    /// connection threads. With `written`, each frame signals it once on
    /// the socket; returns how many frames were sent or queued.
    pub fn publish(
        &self,
        out: &Outbox,
        faults: &mut StreamFaults<'_>,
        live: &dyn Fn(AccountId, &str) -> bool,
        written: Option<&Sender<()>>,
    ) -> usize {
        let mut queued = 0;
        if out.is_empty() {
            return queued;
        }
        let subs = lock(&self.subs);
        let mut batches: Vec<Batch> = Vec::new();
        for f in &out.user {
            let meta = Arc::new(FrameMeta {
                stream: String::new(),
                event_type: f.event_type.to_string(),
                event_time: f.event_time,
                tx_time: f.tx_time,
                order_id: f.order_id,
                client_id: f.client_id.clone(),
                trade_id: f.trade_id,
                fill_stamps: out.fill_stamps.clone(),
            });
            for (id, sub) in subs.iter() {
                for b in &sub.users {
                    if b.account != f.account || !live(b.account, &b.key) {
                        continue;
                    }
                    if let Some(ev) = &b.events
                        && !ev.iter().any(|e| e == f.event_type)
                    {
                        continue;
                    }
                    let mut m = (*meta).clone();
                    m.stream.clone_from(&b.key);
                    let m = Arc::new(m);
                    for text in faults.frames(&f.json, sub.combined, &b.key, true) {
                        match sub.direct_now(faults.delay) {
                            Some(w) => {
                                batch_for(&mut batches, *id, w).push(&text, m.clone());
                                queued += 1;
                            }
                            None => {
                                queued +=
                                    usize::from(sub.send(text, faults.delay, m.clone(), written));
                            }
                        }
                    }
                    m.stamp(FillStage::Published);
                }
            }
        }
        // The user-stream frames go out before the market data is even
        // wrapped: a fill's events are what a trader waits for.
        let mut done = 0;
        self.write_batches(&mut batches, &mut done, written);
        if !faults.market_paused {
            for f in &out.market {
                let name = normalise_stream(&f.stream);
                let meta = Arc::new(FrameMeta {
                    stream: name.clone(),
                    event_type: f.event_type.to_string(),
                    event_time: f.event_time,
                    tx_time: 0,
                    order_id: 0,
                    client_id: String::new(),
                    trade_id: 0,
                    fill_stamps: None,
                });
                for (id, sub) in subs.iter() {
                    if !sub.wants_market(&name, self.strict_routes) {
                        continue;
                    }
                    for text in faults.frames(&f.json, sub.combined, &name, false) {
                        match sub.direct_now(faults.delay) {
                            Some(w) => {
                                batch_for(&mut batches, *id, w).push(&text, meta.clone());
                                queued += 1;
                            }
                            None => {
                                queued += usize::from(sub.send(
                                    text,
                                    faults.delay,
                                    meta.clone(),
                                    written,
                                ));
                            }
                        }
                    }
                }
            }
            self.write_batches(&mut batches, &mut done, written);
        }
        queued
    }

    /// Writes the batches from `*done` on, logs and stamps their frames and
    /// signals `written` per frame (also for a connection that just died:
    /// nobody must wait for it).
    fn write_batches(&self, batches: &mut [Batch], done: &mut usize, written: Option<&Sender<()>>) {
        for b in batches.iter_mut().skip(*done) {
            if b.writer.send(&b.bytes).is_ok() {
                for m in &b.metas {
                    self.log_sent(b.conn, m);
                    m.stamp(FillStage::Written);
                }
            }
            if let Some(w) = written {
                for _ in &b.metas {
                    let _ = w.send(());
                }
            }
            b.bytes.clear();
            b.metas.clear();
        }
        *done = batches.len();
    }

    /// Pushes `listenKeyExpired` to connections bound to `key` and unbinds
    /// them: the socket stays open but user events stop (Binance's behaviour).
    pub fn expire_key(&self, key: &str, now_ms: i64) {
        let mut subs = lock(&self.subs);
        for sub in subs.values_mut() {
            let before = sub.users.len();
            sub.users.retain(|b| b.key != key);
            if sub.users.len() != before {
                let mut json = String::with_capacity(128);
                json.push_str("{\"e\":\"listenKeyExpired\",\"E\":");
                json.push_str(&now_ms.to_string());
                json.push_str(",\"listenKey\":");
                push_json_str(&mut json, key);
                json.push('}');
                let meta = Arc::new(FrameMeta {
                    stream: key.to_string(),
                    event_type: "listenKeyExpired".into(),
                    event_time: now_ms,
                    tx_time: 0,
                    order_id: 0,
                    client_id: String::new(),
                    trade_id: 0,
                    fill_stamps: None,
                });
                let text = WireFrame::Text(wrap(sub.combined, key, &json));
                sub.send(text, Duration::ZERO, meta, None);
            }
        }
    }

    /// Unbinds a deleted key without notice.
    pub fn unbind_key(&self, key: &str) {
        for sub in lock(&self.subs).values_mut() {
            sub.users.retain(|b| b.key != key);
        }
    }

    /// Tells every stream connection to drop.
    pub fn drop_all(&self) {
        for sub in lock(&self.subs).values() {
            if sub.tx.send(Out::Drop).is_ok() {
                let _ = sub.waker.wake();
            }
        }
    }

    /// Appends one event-log line for a frame just written to a socket.
    pub fn log_sent(&self, conn: u64, meta: &FrameMeta) {
        let Some(log) = &self.log else { return };
        let ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut line = String::with_capacity(160);
        line.push_str("{\"send_ns\":");
        line.push_str(&ns.to_string());
        line.push_str(",\"conn\":");
        line.push_str(&conn.to_string());
        line.push_str(",\"stream\":");
        push_json_str(&mut line, &meta.stream);
        line.push_str(",\"e\":");
        push_json_str(&mut line, &meta.event_type);
        line.push_str(&format!(
            ",\"E\":{},\"T\":{},\"orderId\":{},\"clientOrderId\":",
            meta.event_time, meta.tx_time, meta.order_id
        ));
        push_json_str(&mut line, &meta.client_id);
        line.push_str("}\n");
        let mut w = lock(log);
        let _ = w.write_all(line.as_bytes());
    }

    /// Flushes the event log (shutdown, tests).
    pub fn flush_log(&self) {
        if let Some(log) = &self.log {
            let _ = lock(log).flush();
        }
    }
}
