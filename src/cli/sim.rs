//! `binance-exec sim`: serve the Binance USDⓈ-M venue simulator on loopback
//! until Ctrl-C/SIGTERM, or (`--self-bench`) measure its order round trip.
use crate::binance::sign::Signer;
use crate::sim::SimSettings;
use crate::sim::transport::{SimHandle, SimServer, auth};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `binance-exec sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Config file with a `[sim]` table (`[sim.server]`, `[sim.venue]`);
    /// without it the simulator runs on defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Listen address (`127.0.0.1:PORT`); overrides `[sim.server] listen`.
    #[arg(long)]
    pub listen: Option<String>,
    /// Serve HTTPS/WSS with a generated CA (path printed at start).
    #[arg(long)]
    pub tls: bool,
    /// Seed for reproducible runs.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write one JSON line per stream frame sent.
    #[arg(long)]
    pub event_log: Option<PathBuf>,
    /// Allow a non-loopback listen address (the simulator accepts any key it
    /// knows; never expose it unintentionally).
    #[arg(long)]
    pub allow_remote: bool,
    /// Start in-process, measure order acknowledgement latency and
    /// throughput from a raw keep-alive client, print them, exit.
    #[arg(long)]
    pub self_bench: bool,
    /// Orders sent by `--self-bench` (each phase).
    #[arg(long, default_value_t = 20_000)]
    pub bench_orders: usize,
    /// Symbol `--self-bench` trades.
    #[arg(long, default_value = "BTCUSDT")]
    pub bench_symbol: String,
    /// LIMIT price for `--self-bench` orders (kept far from the market so
    /// they rest; each is cancelled right after).
    #[arg(long, default_value = "10000")]
    pub bench_price: String,
    /// Quantity of `--self-bench` orders.
    #[arg(long, default_value = "0.01")]
    pub bench_qty: String,
}

/// Why `sim` could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimCliError {
    /// Config not valid TOML or `[sim]` not valid.
    #[error("config {path}: {msg}")]
    Parse {
        /// File.
        path: PathBuf,
        /// Parser message.
        msg: String,
    },
    /// The simulator failed to start.
    #[error(transparent)]
    Start(#[from] crate::sim::transport::SimError),
    /// Signal handler registration failed.
    #[error("signal handler: {0}")]
    Signal(std::io::Error),
    /// The self-bench client failed.
    #[error("self-bench: {0}")]
    Bench(String),
}

/// Loads `[sim]` from a TOML file (other tables are ignored: they belong to
/// other layers).
pub fn load_settings(path: &Path) -> Result<SimSettings, SimCliError> {
    crate::config::Config::load_sim_settings(path)
        .map(Option::unwrap_or_default)
        .map_err(|e| SimCliError::Parse {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })
}

/// Runs the subcommand; returns the process exit code.
pub fn run(args: SimArgs) -> i32 {
    match run_inner(&args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("binance-exec sim: {e}");
            1
        }
    }
}

fn run_inner(args: &SimArgs) -> Result<(), SimCliError> {
    let mut settings = match &args.config {
        Some(p) => load_settings(p)?,
        None => SimSettings::default(),
    };
    if let Some(l) = &args.listen {
        settings.server.listen = Some(l.clone());
    }
    settings.server.tls |= args.tls;
    settings.server.allow_non_loopback |= args.allow_remote;
    if let Some(s) = args.seed {
        settings.server.seed = s;
    }
    if let Some(p) = &args.event_log {
        settings.server.event_log = Some(p.clone());
    }
    if args.self_bench {
        return self_bench(settings, args);
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).map_err(SimCliError::Signal)?;
    }
    let handle = SimServer::start(&settings)?;
    print_urls(&handle);
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("shutting down");
    handle.shutdown();
    Ok(())
}

fn print_urls(h: &SimHandle) {
    println!("binance-exec sim listening on {}", h.local_addr());
    println!("  REST        {}", h.rest_url());
    println!(
        "  streams     {}  (/ws/<s>, /stream?streams=, /public /market /private)",
        h.stream_url()
    );
    println!("  WS API      {}", h.ws_api_url());
    println!(
        "  control     {}  (POST /sim/faults, GET /sim/status)",
        h.control_url()
    );
    if let Some(p) = h.ca_pem_path() {
        println!("  TLS CA      {}", p.display());
    }
}

/// One raw keep-alive HTTP client, independent of the engine's code so the
/// bench measures the simulator, not our own client.
struct RawClient {
    tcp: TcpStream,
    buf: Vec<u8>,
    signer: Signer,
    key: String,
}

impl RawClient {
    fn connect(h: &SimHandle) -> Result<Self, SimCliError> {
        let tcp =
            TcpStream::connect(h.local_addr()).map_err(|e| SimCliError::Bench(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        Ok(RawClient {
            tcp,
            buf: Vec::with_capacity(4096),
            signer: Signer::new(auth::DEMO_SECRET.as_bytes()),
            key: auth::DEMO_API_KEY.to_string(),
        })
    }

    /// Sends a signed request; returns (status, body).
    fn signed(
        &mut self,
        method: &str,
        path: &str,
        params: &str,
    ) -> Result<(u16, String), SimCliError> {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let mut body = format!("{params}&timestamp={ts}");
        let sig = self.signer.sign_hex(body.as_bytes());
        body.push_str("&signature=");
        body.push_str(&sig);
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-MBX-APIKEY: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.key,
            body.len()
        );
        self.tcp
            .write_all(req.as_bytes())
            .map_err(|e| SimCliError::Bench(e.to_string()))?;
        self.read_response()
    }

    fn read_response(&mut self) -> Result<(u16, String), SimCliError> {
        let mut chunk = [0u8; 8192];
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(n)) = resp.parse(&self.buf) {
                let status = resp.code.unwrap_or(0);
                let len = resp
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if self.buf.len() >= n + len {
                    let body = String::from_utf8_lossy(&self.buf[n..n + len]).into_owned();
                    self.buf.drain(..n + len);
                    return Ok((status, body));
                }
            }
            let r = self
                .tcp
                .read(&mut chunk)
                .map_err(|e| SimCliError::Bench(e.to_string()))?;
            if r == 0 {
                return Err(SimCliError::Bench("server closed the connection".into()));
            }
            self.buf.extend_from_slice(&chunk[..r]);
        }
    }
}

fn order_id(body: &str) -> Option<i64> {
    let v: sonic_rs::Value = sonic_rs::from_str(body).ok()?;
    use sonic_rs::JsonValueTrait;
    v.get("orderId").and_then(|x| x.as_i64())
}

/// Places LIMIT orders (each cancelled right after so the book stays small)
/// and reports the placement round trip and the sustained placement rate.
fn self_bench(mut settings: SimSettings, args: &SimArgs) -> Result<(), SimCliError> {
    settings.server.limits.weight_per_minute = u32::MAX;
    settings.server.limits.orders_per_10s = u32::MAX / 2;
    settings.server.limits.orders_per_minute = u32::MAX / 2;
    let handle = SimServer::start(&settings)?;
    print_urls(&handle);
    let n = args.bench_orders.max(10_000);
    let place = format!(
        "symbol={}&side=BUY&type=LIMIT&timeInForce=GTC&quantity={}&price={}",
        args.bench_symbol, args.bench_qty, args.bench_price
    );
    let cancel_of = |id: i64| format!("symbol={}&orderId={id}", args.bench_symbol);

    // Phase 1: latency, one keep-alive connection, one order in flight.
    let mut c = RawClient::connect(&handle)?;
    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
        .map_err(|e| SimCliError::Bench(e.to_string()))?;
    let mut rejected = 0usize;
    let mut first_err = None;
    for _ in 0..n {
        let t0 = Instant::now();
        let (status, body) = c.signed("POST", "/fapi/v1/order", &place)?;
        let ns = t0.elapsed().as_nanos() as u64;
        let _ = hist.record(ns.max(1));
        if status != 200 {
            rejected += 1;
            first_err.get_or_insert((status, body.clone()));
        }
        if let Some(id) = order_id(&body) {
            let _ = c.signed("DELETE", "/fapi/v1/order", &cancel_of(id))?;
        }
    }
    println!(
        "order ack latency over {n} LIMIT orders (raw keep-alive HTTP/1.1 client, signed): p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs, max {:.1} µs",
        hist.value_at_quantile(0.5) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0,
        hist.value_at_quantile(0.999) as f64 / 1000.0,
        hist.max() as f64 / 1000.0
    );
    if let Some((s, b)) = &first_err {
        println!("  {rejected} of {n} placements were not accepted; first answer: HTTP {s} {b}");
    }

    // Phase 2: throughput, several connections in parallel.
    let conns = 4usize;
    let per = n / conns;
    let start = Instant::now();
    let mut joins = Vec::new();
    for _ in 0..conns {
        let mut c = RawClient::connect(&handle)?;
        let place = place.clone();
        let sym = args.bench_symbol.clone();
        joins.push(std::thread::spawn(move || -> Result<usize, SimCliError> {
            let mut placed = 0;
            for _ in 0..per {
                let (_, body) = c.signed("POST", "/fapi/v1/order", &place)?;
                placed += 1;
                if let Some(id) = order_id(&body) {
                    let _ = c.signed(
                        "DELETE",
                        "/fapi/v1/order",
                        &format!("symbol={sym}&orderId={id}"),
                    )?;
                }
            }
            Ok(placed)
        }));
    }
    let mut total = 0usize;
    for j in joins {
        total += j
            .join()
            .map_err(|_| SimCliError::Bench("client thread panicked".into()))??;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "throughput: {total} placements (+ their cancels) over {conns} connections in {secs:.2} s = {:.0} orders/s",
        total as f64 / secs
    );
    handle.shutdown();
    Ok(())
}
