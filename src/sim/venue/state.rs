//! The venue's state and its request dispatch.
//!
//! `Venue` is plain single-threaded state: the transport serialises calls to
//! [`Venue::handle`] and [`Venue::tick`]. Handlers live in sibling modules
//! (`trading`, `algo`, `info`, `market`, `control`) as `impl Venue` blocks.
use super::account::Account;
use super::algo::AlgoOrder;
use super::api::{Method, Outbox, Reply, Request, UserFrame};
use super::book::{Book, DepthPublisher};
use super::fasthash::FastMap;
use super::order::{Instrument, Order};
use super::params::VenueError;
use super::rng::SplitMix64;
use super::settings::VenueSettings;
use crate::model::decimal::Decimal;
use std::collections::{BTreeSet, HashMap, VecDeque};

/// User event types with their own monotonic clock (index into
/// [`Account::clocks`]).
#[derive(Debug, Clone, Copy)]
pub enum EventType {
    /// ORDER_TRADE_UPDATE
    OrderTradeUpdate = 0,
    /// TRADE_LITE
    TradeLite = 1,
    /// ACCOUNT_UPDATE
    AccountUpdate = 2,
    /// ALGO_UPDATE
    AlgoUpdate = 3,
    /// ACCOUNT_CONFIG_UPDATE
    AccountConfigUpdate = 4,
}

impl EventType {
    fn name(self) -> &'static str {
        match self {
            EventType::OrderTradeUpdate => "ORDER_TRADE_UPDATE",
            EventType::TradeLite => "TRADE_LITE",
            EventType::AccountUpdate => "ACCOUNT_UPDATE",
            EventType::AlgoUpdate => "ALGO_UPDATE",
            EventType::AccountConfigUpdate => "ACCOUNT_CONFIG_UPDATE",
        }
    }
}

/// One listed symbol: its book, prices and market-data publishers.
#[derive(Debug, Clone)]
pub struct Market {
    /// Filters and precision.
    pub ins: Instrument,
    /// Resting and generated liquidity.
    pub book: Book,
    /// Mid of the generated book (raw, on the tick grid).
    pub mid: i64,
    /// Last trade price (CONTRACT_PRICE triggers).
    pub last: Decimal,
    /// Mark price (MARK_PRICE triggers, PERCENT_PRICE, margin).
    pub mark: Decimal,
    /// Next trade id (`t`).
    pub next_trade_id: i64,
    /// Next aggregate trade id (`a`).
    pub next_agg_id: i64,
    /// depthUpdate publishers (one per cadence).
    pub depth_pubs: Vec<DepthPublisher>,
    /// Best bid/ask last sent on bookTicker.
    pub last_bbo: super::book::Bbo,
    /// Next `@markPrice@1s` frame.
    pub next_mark_1s: i64,
    /// Next `@markPrice` (3 s) frame.
    pub next_mark_3s: i64,
    /// Open algo orders on this symbol (trigger scan list).
    pub open_algos: Vec<i64>,
    /// Rolling statistics since start (`ticker/24hr`).
    pub stats: TradeStats,
}

/// Trade statistics of a symbol since the venue started (the simulator's
/// "24 h" window).
#[derive(Debug, Clone, Copy, Default)]
pub struct TradeStats {
    /// First price.
    pub open: Decimal,
    /// Highest trade.
    pub high: Decimal,
    /// Lowest trade.
    pub low: Decimal,
    /// Σ qty.
    pub volume: Decimal,
    /// Σ price × qty.
    pub quote_volume: Decimal,
    /// Last trade qty.
    pub last_qty: Decimal,
    /// Number of trades.
    pub count: i64,
    /// First trade id.
    pub first_id: i64,
    /// Start time.
    pub open_time: i64,
}

/// The simulated exchange.
#[derive(Debug)]
pub struct Venue {
    pub(crate) cfg: VenueSettings,
    pub(crate) markets: Vec<Market>,
    pub(crate) sym_index: HashMap<String, usize>,
    pub(crate) accounts: Vec<Account>,
    pub(crate) orders: FastMap<i64, Order>,
    pub(crate) algos: FastMap<i64, AlgoOrder>,
    pub(crate) next_order_id: i64,
    pub(crate) next_algo_id: i64,
    pub(crate) rng: SplitMix64,
    pub(crate) paused: bool,
    pub(crate) next_step: i64,
    /// `(closed_at, id, is_algo)` of unfilled closed orders, for retention.
    pub(crate) history: VecDeque<(i64, i64, bool)>,
    /// Orders pruned from queries, kept for the ledger.
    pub(crate) archived: Vec<Order>,
    /// Algo orders pruned from queries, kept for the ledger.
    pub(crate) archived_algos: Vec<AlgoOrder>,
    /// `(goodTillDate, orderId)` of open GTD orders.
    pub(crate) gtd: BTreeSet<(i64, i64)>,
    /// Liquidation/ADL order ids (forceOrders).
    pub(crate) force_orders: Vec<i64>,
    /// Current time of the call being served.
    pub(crate) now: i64,
    /// A trade or price change happened: algo triggers must be re-checked.
    pub(crate) triggers_dirty: bool,
    /// `rateLimits` exchangeInfo advertises: REQUEST_WEIGHT/min, ORDERS/min,
    /// ORDERS/10 s. The transport sets its enforced limits here so clients
    /// that size their own limiter from exchangeInfo agree with it.
    pub(crate) advertised_limits: [u32; 3],
    /// Opt-in fill instants for exact benchmark latency (`None` = off).
    pub(crate) fill_stamps: Option<std::sync::Arc<super::fill_stamps::FillStamps>>,
}

impl Venue {
    /// Sets the `rateLimits` exchangeInfo advertises (the transport's
    /// enforced limits): REQUEST_WEIGHT per minute, ORDERS per minute and
    /// ORDERS per 10 s.
    pub fn advertise_limits(
        &mut self,
        weight_per_minute: u32,
        orders_per_minute: u32,
        orders_per_10s: u32,
    ) {
        self.advertised_limits = [weight_per_minute, orders_per_minute, orders_per_10s];
    }

    /// Installs (or removes) the table the matching engine stamps each
    /// fill's monotonic instant into, so a benchmark can measure
    /// fill-to-strategy exactly instead of from the millisecond `T`.
    pub fn stamp_fills(&mut self, stamps: Option<std::sync::Arc<super::fill_stamps::FillStamps>>) {
        self.fill_stamps = stamps;
    }

    /// A venue with the configured accounts and symbols, at time `now_ms`.
    pub fn new(settings: &VenueSettings, now_ms: i64) -> Self {
        let mut markets = Vec::with_capacity(settings.symbols.len());
        let mut sym_index = HashMap::new();
        for (i, s) in settings.symbols.iter().enumerate() {
            sym_index.insert(s.symbol.clone(), i);
            let ins = Instrument::new(s.clone());
            let mid = s
                .start_price
                .round_to_step(s.tick_size, crate::model::decimal::Rounding::HalfEven)
                .unwrap_or(s.start_price);
            markets.push(Market {
                ins,
                book: Book {
                    update_id: 1_000_000 + (i as i64) * 7,
                    ..Book::default()
                },
                mid: mid.raw(),
                last: mid,
                mark: mid,
                next_trade_id: 1_000_000,
                next_agg_id: 500_000,
                depth_pubs: Vec::new(),
                last_bbo: (None, None),
                next_mark_1s: now_ms + settings.market.mark_price_interval_ms,
                next_mark_3s: now_ms + 3 * settings.market.mark_price_interval_ms,
                open_algos: Vec::new(),
                stats: TradeStats {
                    open: mid,
                    high: mid,
                    low: mid,
                    open_time: now_ms,
                    first_id: 1_000_001,
                    ..TradeStats::default()
                },
            });
        }
        let accounts = settings
            .accounts
            .iter()
            .map(|a| {
                // A funded wallet carries the time it was funded: clients (ccxt)
                // skip assets whose updateTime is 0 as never initialised.
                let mut acc = Account::new(a, markets.len());
                acc.update_time = now_ms;
                acc
            })
            .collect();
        let mut v = Venue {
            cfg: settings.clone(),
            markets,
            sym_index,
            accounts,
            orders: FastMap::default(),
            algos: FastMap::default(),
            next_order_id: 8_389_765_000,
            next_algo_id: 3_000_000_000_000,
            rng: SplitMix64::new(settings.market.seed),
            paused: !settings.market.auto_move,
            next_step: now_ms + settings.market.tick_interval_ms.max(1),
            history: VecDeque::new(),
            archived: Vec::new(),
            archived_algos: Vec::new(),
            gtd: BTreeSet::new(),
            force_orders: Vec::new(),
            now: now_ms,
            triggers_dirty: false,
            advertised_limits: [2400, 1200, 300],
            fill_stamps: None,
        };
        for i in 0..v.markets.len() {
            v.regenerate_book(i);
            let u = v.markets[i].book.update_id;
            v.markets[i].depth_pubs = vec![
                DepthPublisher::new("@depth", 250, now_ms, u),
                DepthPublisher::new("@depth@100ms", 100, now_ms, u),
                DepthPublisher::new("@depth@500ms", 500, now_ms, u),
            ];
            v.markets[i].last_bbo = v.markets[i].book.bbo();
        }
        v
    }

    /// Handles one authenticated request: dispatch on (method, path).
    pub fn handle(&mut self, req: &Request<'_>, now_ms: i64, out: &mut Outbox) -> Reply {
        self.now = now_ms;
        let reply = self.dispatch(req, out);
        self.check_triggers(out);
        self.publish_bbo_changes(out);
        match reply {
            Ok(r) => r,
            Err(e) => e.reply(),
        }
    }

    fn dispatch(&mut self, req: &Request<'_>, out: &mut Outbox) -> Result<Reply, VenueError> {
        use Method::*;
        let p = req.params;
        // Public endpoints first.
        match (req.method, req.path) {
            (Get, "/fapi/v1/exchangeInfo") => return Ok(Reply::ok(self.exchange_info())),
            (Get, "/fapi/v1/depth") => return self.depth(p).map(Reply::ok),
            (Get, "/fapi/v1/ticker/bookTicker") => return self.book_ticker(p).map(Reply::ok),
            (Get, "/fapi/v1/ticker/price" | "/fapi/v2/ticker/price") => {
                return self.ticker_price(p).map(Reply::ok);
            }
            (Get, "/fapi/v1/premiumIndex") => return self.premium_index(p).map(Reply::ok),
            (Get, "/fapi/v1/ticker/24hr") => return self.ticker_24hr(p).map(Reply::ok),
            _ => {}
        }
        let Some(acct) = req.account.filter(|a| *a < self.accounts.len()) else {
            return Err(VenueError {
                status: 401,
                code: -2015,
                msg: "Invalid API-key, IP, or permissions for action.".into(),
            });
        };
        let counted = |mut r: Reply| {
            r.counts_as_order = true;
            r
        };
        let r = match (req.method, req.path) {
            (Post, "/fapi/v1/order") => counted(Reply::ok(self.new_order(acct, p, out, false)?)),
            (Post, "/fapi/v1/order/test") => Reply::ok(self.new_order(acct, p, out, true)?),
            (Put, "/fapi/v1/order") => counted(Reply::ok(self.modify_order(acct, p, out)?)),
            (Delete, "/fapi/v1/order") => Reply::ok(self.cancel_order_req(acct, p, out)?),
            (Get, "/fapi/v1/order") => Reply::ok(self.query_order(acct, p, false)?),
            (Get, "/fapi/v1/openOrder") => Reply::ok(self.query_order(acct, p, true)?),
            (Get, "/fapi/v1/openOrders") => Reply::ok(self.open_orders(acct, p)?),
            (Get, "/fapi/v1/allOrders") => Reply::ok(self.all_orders(acct, p)?),
            (Delete, "/fapi/v1/allOpenOrders") => Reply::ok(self.cancel_all(acct, p, out)?),
            (Post, "/fapi/v1/batchOrders") => counted(Reply::ok(self.batch_new(acct, p, out)?)),
            (Put, "/fapi/v1/batchOrders") => counted(Reply::ok(self.batch_modify(acct, p, out)?)),
            (Delete, "/fapi/v1/batchOrders") => Reply::ok(self.batch_cancel(acct, p, out)?),
            (Get, "/fapi/v1/userTrades") => Reply::ok(self.user_trades(acct, p)?),
            (Post, "/fapi/v1/countdownCancelAll") => Reply::ok(self.countdown(acct, p)?),
            (Post, "/fapi/v1/algoOrder") => counted(Reply::ok(self.new_algo(acct, p, out)?)),
            (Delete, "/fapi/v1/algoOrder") => Reply::ok(self.cancel_algo_req(acct, p, out)?),
            (Get, "/fapi/v1/algoOrder") => Reply::ok(self.query_algo(acct, p)?),
            (Get, "/fapi/v1/openAlgoOrders") => Reply::ok(self.open_algos(acct, p)?),
            (Get, "/fapi/v1/allAlgoOrders") => Reply::ok(self.all_algos(acct, p)?),
            (Delete, "/fapi/v1/algoOpenOrders") => Reply::ok(self.cancel_all_algos(acct, p, out)?),
            (Get, "/fapi/v2/account") => Reply::ok(self.account_json(acct, 2)),
            (Get, "/fapi/v3/account") => Reply::ok(self.account_json(acct, 3)),
            (Get, "/fapi/v2/positionRisk") => Reply::ok(self.position_risk(acct, p, 2)?),
            (Get, "/fapi/v3/positionRisk") => Reply::ok(self.position_risk(acct, p, 3)?),
            (Get, "/fapi/v2/balance" | "/fapi/v3/balance") => Reply::ok(self.balance_json(acct)),
            (Get, "/fapi/v1/accountConfig") => Reply::ok(self.account_config(acct)),
            (Get, "/fapi/v1/symbolConfig") => Reply::ok(self.symbol_config(acct, p)?),
            (Get, "/fapi/v1/positionSide/dual") => Reply::ok(self.dual_get(acct)),
            (Post, "/fapi/v1/positionSide/dual") => Reply::ok(self.dual_set(acct, p)?),
            (Post, "/fapi/v1/leverage") => Reply::ok(self.set_leverage(acct, p, out)?),
            (Post, "/fapi/v1/marginType") => Reply::ok(self.set_margin_type(acct, p)?),
            (Get, "/fapi/v1/forceOrders") => Reply::ok(self.force_orders_json(acct, p)?),
            (Get, "/fapi/v1/leverageBracket") => Reply::ok(self.leverage_bracket(p)?),
            (Get, "/fapi/v1/commissionRate") => Reply::ok(self.commission_rate(acct, p)?),
            (Get, "/fapi/v1/multiAssetsMargin") => Reply::ok(self.multi_assets_margin()),
            _ => {
                return Err(VenueError {
                    status: 404,
                    code: -1000,
                    msg: "Unknown endpoint.".into(),
                });
            }
        };
        Ok(r)
    }

    /// Advances time: market process, triggers, expiries, market frames.
    pub fn tick(&mut self, now_ms: i64, out: &mut Outbox) {
        self.now = now_ms;
        self.run_market(now_ms, out);
        self.expire_gtd(now_ms, out);
        self.fire_countdowns(now_ms, out);
        self.prune_history(now_ms);
        self.publish_bbo_changes(out);
        self.publish_periodic(now_ms, out);
    }

    /// Symbol index of a `symbol` parameter: -1102 when absent, -1121 unknown.
    pub(crate) fn symbol_param(&self, p: &super::api::Params) -> Result<usize, VenueError> {
        let s = super::params::required(p, "symbol")?;
        self.sym_of(s)
    }

    /// The optional `symbol` of the list endpoints (openOrders, positionRisk,
    /// …): `None` means all symbols, an unknown name is still -1121.
    pub(crate) fn optional_symbol_param(
        &self,
        p: &super::api::Params,
    ) -> Result<Option<usize>, VenueError> {
        super::params::optional(p, "symbol")
            .map(|s| self.sym_of(s))
            .transpose()
    }

    /// Symbol index of a name (-1121 when unknown).
    pub(crate) fn sym_of(&self, s: &str) -> Result<usize, VenueError> {
        self.sym_index
            .get(s)
            .copied()
            .ok_or_else(|| VenueError::new(-1121, "Invalid symbol."))
    }

    /// Mark prices of every symbol, in index order (margin computations).
    pub(crate) fn marks(&self) -> Vec<Decimal> {
        self.markets.iter().map(|m| m.mark).collect()
    }

    /// The next `E`/`T` for a user event of `ty` on `account`: the call's time,
    /// clamped so each event type's clock never goes backwards.
    pub(crate) fn stamp(&mut self, account: usize, ty: EventType) -> i64 {
        let now = self.now;
        match self.accounts.get_mut(account) {
            Some(acc) => {
                let slot = &mut acc.clocks[ty as usize];
                let t = now.max(*slot);
                *slot = t;
                t
            }
            None => now,
        }
    }
}

/// Queues a finished user event.
pub(crate) fn push_user(
    out: &mut Outbox,
    account: usize,
    ty: EventType,
    json: String,
    t: i64,
    order_id: i64,
    client_id: &str,
) {
    out.user.push(UserFrame {
        account,
        event_type: ty.name(),
        json,
        event_time: t,
        tx_time: t,
        order_id,
        client_id: client_id.to_string(),
        trade_id: 0,
    });
}
