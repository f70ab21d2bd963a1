//! Read-mostly endpoints: exchangeInfo, depth, tickers, premiumIndex and the
//! account/position/configuration endpoints clients reconcile from.
use super::account::{AccountSymbol, ps_index, ps_of};
use super::api::{Outbox, Params};
use super::json::{self, close, kv_bool, kv_dec, kv_int, kv_str};
use super::market::{next_funding, write_levels};
use super::order::{digits, write_order};
use super::params::{self, VResult, VenueError};
use super::state::{EventType, Venue, push_user};
use crate::model::decimal::{Decimal, Rounding};

const OK_SUCCESS: &str = "{\"code\":200,\"msg\":\"success\"}";

fn maint_rate() -> Decimal {
    Decimal::from_raw(400_000) // 0.004
}

/// Maximum notional at a leverage (a single simplified bracket).
fn max_notional(lev: u32) -> Decimal {
    Decimal::from_int(250_000_000 / i64::from(lev.max(1))).unwrap_or(Decimal::ZERO)
}

/// `[notional, initial margin, maint margin]` of one position leg at `mark`:
/// the account and positionRisk endpoints must report the same figures.
fn leg_margins(st: &AccountSymbol, leg: usize, mark: Decimal) -> [Decimal; 3] {
    let notional = st.pos[leg]
        .amt
        .checked_mul(mark, Rounding::HalfEven)
        .unwrap_or(Decimal::ZERO);
    let lev = Decimal::from_int(i64::from(st.leverage)).unwrap_or(Decimal::ONE);
    let im = notional
        .abs()
        .checked_div(lev, Rounding::Ceil)
        .unwrap_or(Decimal::ZERO);
    let mm = notional
        .abs()
        .checked_mul(maint_rate(), Rounding::HalfEven)
        .unwrap_or(Decimal::ZERO);
    [notional, im, mm]
}

/// `bidNotional` / `askNotional` of a symbol's open orders, written alike by
/// account v2 and positionRisk v3.
fn kv_order_notionals(s: &mut String, st: &AccountSymbol) {
    kv_dec(
        s,
        "bidNotional",
        st.bid_notional,
        digits(st.bid_notional, 1),
    );
    kv_dec(
        s,
        "askNotional",
        st.ask_notional,
        digits(st.ask_notional, 1),
    );
}

impl Venue {
    /// `GET /fapi/v1/exchangeInfo` (§3 shape).
    pub(crate) fn exchange_info(&self) -> String {
        let mut s = String::with_capacity(4096);
        s.push('{');
        kv_str(&mut s, "timezone", "UTC");
        kv_int(&mut s, "serverTime", self.now);
        kv_str(&mut s, "futuresType", "U_MARGINED");
        let [weight, orders_1m, orders_10s] = self.advertised_limits;
        s.push_str(&format!("\"rateLimits\":[{{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":{weight}}},{{\"rateLimitType\":\"ORDERS\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":{orders_1m}}},{{\"rateLimitType\":\"ORDERS\",\"interval\":\"SECOND\",\"intervalNum\":10,\"limit\":{orders_10s}}}],"));
        s.push_str("\"exchangeFilters\":[],\"assets\":[{\"asset\":\"USDT\",\"marginAvailable\":true,\"autoAssetExchange\":\"-10000\"}],\"symbols\":[");
        for (i, m) in self.markets.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let c = &m.ins.cfg;
            let (pd, qd) = (m.ins.price_dp, m.ins.qty_dp);
            s.push('{');
            kv_str(&mut s, "symbol", &m.ins.symbol);
            kv_str(&mut s, "pair", &m.ins.symbol);
            kv_str(&mut s, "contractType", "PERPETUAL");
            kv_int(&mut s, "deliveryDate", 4_133_404_800_000);
            kv_int(&mut s, "onboardDate", 1_569_398_400_000);
            kv_str(&mut s, "status", "TRADING");
            kv_str(&mut s, "maintMarginPercent", "2.5000");
            kv_str(&mut s, "requiredMarginPercent", "5.0000");
            kv_str(&mut s, "baseAsset", &c.base_asset);
            kv_str(&mut s, "quoteAsset", "USDT");
            kv_str(&mut s, "marginAsset", "USDT");
            kv_int(&mut s, "pricePrecision", i64::from(c.price_precision));
            kv_int(&mut s, "quantityPrecision", i64::from(c.quantity_precision));
            kv_int(&mut s, "baseAssetPrecision", 8);
            kv_int(&mut s, "quotePrecision", 8);
            kv_str(&mut s, "underlyingType", "COIN");
            s.push_str("\"underlyingSubType\":[],");
            kv_int(&mut s, "settlePlan", 0);
            kv_dec(&mut s, "triggerProtect", c.trigger_protect, 4);
            kv_str(&mut s, "liquidationFee", "0.012500");
            kv_str(&mut s, "marketTakeBound", "0.05");
            kv_int(&mut s, "maxMoveOrderLimit", 10000);
            s.push_str("\"filters\":[{\"filterType\":\"PRICE_FILTER\",");
            kv_dec(&mut s, "minPrice", c.min_price, pd);
            kv_dec(&mut s, "maxPrice", c.max_price, pd);
            kv_dec(&mut s, "tickSize", c.tick_size, pd);
            close(&mut s, '}');
            s.push_str(",{\"filterType\":\"LOT_SIZE\",");
            kv_dec(&mut s, "stepSize", c.step_size, qd);
            kv_dec(&mut s, "maxQty", c.max_qty, qd);
            kv_dec(&mut s, "minQty", c.min_qty, qd);
            close(&mut s, '}');
            s.push_str(",{\"filterType\":\"MARKET_LOT_SIZE\",");
            kv_dec(&mut s, "stepSize", c.step_size, qd);
            kv_dec(&mut s, "maxQty", c.market_max_qty, qd);
            kv_dec(&mut s, "minQty", c.min_qty, qd);
            close(&mut s, '}');
            s.push_str(",{\"filterType\":\"MAX_NUM_ORDERS\",");
            kv_int(&mut s, "limit", c.max_num_orders as i64);
            close(&mut s, '}');
            s.push_str(",{\"filterType\":\"MIN_NOTIONAL\",");
            kv_dec(
                &mut s,
                "notional",
                c.min_notional,
                digits(c.min_notional, 0),
            );
            close(&mut s, '}');
            s.push_str(",{\"filterType\":\"PERCENT_PRICE\",");
            kv_dec(&mut s, "multiplierUp", c.multiplier_up, 4);
            kv_dec(&mut s, "multiplierDown", c.multiplier_down, 4);
            kv_str(&mut s, "multiplierDecimal", "4");
            close(&mut s, '}');
            s.push_str("],\"orderTypes\":[\"LIMIT\",\"MARKET\",\"STOP\",\"STOP_MARKET\",\"TAKE_PROFIT\",\"TAKE_PROFIT_MARKET\",\"TRAILING_STOP_MARKET\"],");
            s.push_str("\"timeInForce\":[\"GTC\",\"IOC\",\"FOK\",\"GTX\",\"GTD\"]}");
        }
        s.push_str("]}");
        s
    }

    /// `GET /fapi/v1/depth`: snapshot whose `lastUpdateId` chains with the
    /// depthUpdate streams.
    pub(crate) fn depth(&self, p: &Params) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let limit = params::integer(p, "limit")?.unwrap_or(500);
        if ![5, 10, 20, 50, 100, 500, 1000].contains(&limit) {
            return Err(VenueError::owned(
                -4021,
                format!("'{limit}' is not valid depth limit."),
            ));
        }
        let m = &self.markets[sym];
        let (b, a) = m.book.top(limit as usize);
        let mut s = String::with_capacity(128 + 40 * (b.len() + a.len()));
        s.push('{');
        kv_int(&mut s, "lastUpdateId", m.book.update_id);
        kv_int(&mut s, "E", self.now);
        kv_int(&mut s, "T", self.now);
        write_levels(&mut s, "bids", &b, m.ins.price_dp, m.ins.qty_dp);
        s.push(',');
        write_levels(&mut s, "asks", &a, m.ins.price_dp, m.ins.qty_dp);
        s.push('}');
        Ok(s)
    }

    fn symbols_or_all(&self, p: &Params) -> VResult<(Vec<usize>, bool)> {
        match params::optional(p, "symbol") {
            Some(s) => Ok((vec![self.sym_of(s)?], true)),
            None => Ok(((0..self.markets.len()).collect(), false)),
        }
    }

    fn wrap(list: Vec<String>, single: bool) -> String {
        if single {
            list.into_iter().next().unwrap_or_default()
        } else {
            let mut s = String::from("[");
            s.push_str(&list.join(","));
            s.push(']');
            s
        }
    }

    /// `GET /fapi/v1/ticker/bookTicker`.
    pub(crate) fn book_ticker(&self, p: &Params) -> VResult<String> {
        let (syms, single) = self.symbols_or_all(p)?;
        let list = syms
            .into_iter()
            .map(|i| {
                let m = &self.markets[i];
                let (b, a) = m.book.bbo();
                let (bp, bq) = b.unwrap_or((0, 0));
                let (ap, aq) = a.unwrap_or((0, 0));
                let mut s = String::from("{");
                kv_str(&mut s, "symbol", &m.ins.symbol);
                kv_dec(&mut s, "bidPrice", Decimal::from_raw(bp), m.ins.price_dp);
                kv_dec(&mut s, "bidQty", Decimal::from_raw(bq), m.ins.qty_dp);
                kv_dec(&mut s, "askPrice", Decimal::from_raw(ap), m.ins.price_dp);
                kv_dec(&mut s, "askQty", Decimal::from_raw(aq), m.ins.qty_dp);
                kv_int(&mut s, "time", self.now);
                kv_int(&mut s, "lastUpdateId", m.book.update_id);
                close(&mut s, '}');
                s
            })
            .collect();
        Ok(Self::wrap(list, single))
    }

    /// `GET /fapi/v1/ticker/price` (and v2).
    pub(crate) fn ticker_price(&self, p: &Params) -> VResult<String> {
        let (syms, single) = self.symbols_or_all(p)?;
        let list = syms
            .into_iter()
            .map(|i| {
                let m = &self.markets[i];
                let mut s = String::from("{");
                kv_str(&mut s, "symbol", &m.ins.symbol);
                kv_dec(&mut s, "price", m.last, m.ins.price_dp);
                kv_int(&mut s, "time", self.now);
                close(&mut s, '}');
                s
            })
            .collect();
        Ok(Self::wrap(list, single))
    }

    /// `GET /fapi/v1/ticker/24hr` (statistics since the venue started).
    pub(crate) fn ticker_24hr(&self, p: &Params) -> VResult<String> {
        let (syms, single) = self.symbols_or_all(p)?;
        let list = syms
            .into_iter()
            .map(|i| {
                let m = &self.markets[i];
                let st = &m.stats;
                let pd = m.ins.price_dp;
                let change = m.last.checked_sub(st.open).unwrap_or(Decimal::ZERO);
                let pct = change
                    .checked_mul(
                        Decimal::from_int(100).unwrap_or(Decimal::ONE),
                        Rounding::HalfEven,
                    )
                    .and_then(|c| c.checked_div(st.open, Rounding::HalfEven))
                    .and_then(|c| {
                        c.round_to_step(Decimal::from_raw(100_000), Rounding::HalfEven)
                            .ok()
                    })
                    .unwrap_or(Decimal::ZERO);
                let vwap = st
                    .quote_volume
                    .checked_div(st.volume, Rounding::HalfEven)
                    .unwrap_or(m.last);
                let mut s = String::from("{");
                kv_str(&mut s, "symbol", &m.ins.symbol);
                kv_dec(&mut s, "priceChange", change, pd);
                kv_dec(&mut s, "priceChangePercent", pct, 3);
                kv_dec(&mut s, "weightedAvgPrice", vwap, digits(vwap, pd).min(8));
                kv_dec(&mut s, "lastPrice", m.last, pd);
                kv_dec(&mut s, "lastQty", st.last_qty, m.ins.qty_dp);
                kv_dec(&mut s, "openPrice", st.open, pd);
                kv_dec(&mut s, "highPrice", st.high, pd);
                kv_dec(&mut s, "lowPrice", st.low, pd);
                kv_dec(&mut s, "volume", st.volume, m.ins.qty_dp);
                kv_dec(
                    &mut s,
                    "quoteVolume",
                    st.quote_volume,
                    digits(st.quote_volume, 2),
                );
                kv_int(&mut s, "openTime", st.open_time);
                kv_int(&mut s, "closeTime", self.now);
                kv_int(&mut s, "firstId", st.first_id);
                kv_int(&mut s, "lastId", m.next_trade_id);
                kv_int(&mut s, "count", st.count);
                close(&mut s, '}');
                s
            })
            .collect();
        Ok(Self::wrap(list, single))
    }

    /// `GET /fapi/v1/premiumIndex` (mark price).
    pub(crate) fn premium_index(&self, p: &Params) -> VResult<String> {
        let (syms, single) = self.symbols_or_all(p)?;
        let list = syms
            .into_iter()
            .map(|i| {
                let m = &self.markets[i];
                let d = m.ins.price_dp + 1;
                let mut s = String::from("{");
                kv_str(&mut s, "symbol", &m.ins.symbol);
                kv_dec(&mut s, "markPrice", m.mark, d);
                kv_dec(&mut s, "indexPrice", m.mark, d);
                kv_dec(&mut s, "estimatedSettlePrice", m.mark, d);
                kv_str(&mut s, "lastFundingRate", "0.00010000");
                kv_str(&mut s, "interestRate", "0.00010000");
                kv_int(&mut s, "nextFundingTime", next_funding(self.now));
                kv_int(&mut s, "time", self.now);
                close(&mut s, '}');
                s
            })
            .collect();
        Ok(Self::wrap(list, single))
    }

    /// Totals of an account: (wallet, unrealized, position IM, open order IM,
    /// maint margin, available).
    fn totals(&self, acct: usize) -> [Decimal; 6] {
        let a = &self.accounts[acct];
        let marks = self.marks();
        let (up, im) = a.unrealized_and_margin(marks.iter().copied());
        let mut mm = Decimal::ZERO;
        for (s, mark) in a.syms.iter().zip(&marks) {
            for p in &s.pos {
                let n = p
                    .amt
                    .abs()
                    .checked_mul(*mark, Rounding::HalfEven)
                    .unwrap_or(Decimal::ZERO);
                mm = mm
                    .checked_add(
                        n.checked_mul(maint_rate(), Rounding::HalfEven)
                            .unwrap_or(Decimal::ZERO),
                    )
                    .unwrap_or(mm);
            }
        }
        let avail = a.available(marks.iter().copied());
        [a.wallet, up, im, a.open_order_im, mm, avail]
    }

    fn position_common(&self, s: &mut String, acct: usize, sym: usize, leg: usize) {
        let a = &self.accounts[acct];
        let st = &a.syms[sym];
        let p = &st.pos[leg];
        let m = &self.markets[sym];
        let [notional, im, mm] = leg_margins(st, leg, m.mark);
        kv_str(s, "symbol", &m.ins.symbol);
        kv_str(s, "positionSide", ps_of(leg).as_str());
        kv_dec(s, "positionAmt", p.amt, m.ins.qty_dp);
        let up = p.unrealized(m.mark);
        kv_dec(s, "unrealizedProfit", up, digits(up, 8));
        kv_str(s, "isolatedMargin", "0");
        kv_dec(s, "notional", notional, digits(notional, 8));
        kv_str(s, "isolatedWallet", "0");
        kv_dec(s, "initialMargin", im, digits(im, 8));
        kv_dec(s, "maintMargin", mm, digits(mm, 8));
        kv_int(s, "updateTime", p.update_time);
    }

    fn legs(&self, acct: usize) -> &'static [usize] {
        if self.accounts[acct].hedge {
            &[1, 2]
        } else {
            &[0]
        }
    }

    /// `GET /fapi/v2/account` and `/fapi/v3/account`.
    pub(crate) fn account_json(&self, acct: usize, version: u8) -> String {
        let [wallet, up, im, oim, mm, avail] = self.totals(acct);
        let total_im = im.checked_add(oim).unwrap_or(im);
        let margin_balance = wallet.checked_add(up).unwrap_or(wallet);
        let a = &self.accounts[acct];
        let mut s = String::with_capacity(2048);
        s.push('{');
        if version == 2 {
            kv_int(&mut s, "feeTier", 0);
            kv_bool(&mut s, "canTrade", true);
            kv_bool(&mut s, "canDeposit", true);
            kv_bool(&mut s, "canWithdraw", true);
            kv_bool(&mut s, "multiAssetsMargin", false);
            kv_int(&mut s, "tradeGroupId", -1);
            kv_int(&mut s, "updateTime", 0);
        }
        let d8 = |v: Decimal| digits(v, 8);
        kv_dec(&mut s, "totalInitialMargin", total_im, d8(total_im));
        kv_dec(&mut s, "totalMaintMargin", mm, d8(mm));
        kv_dec(&mut s, "totalWalletBalance", wallet, d8(wallet));
        kv_dec(&mut s, "totalUnrealizedProfit", up, d8(up));
        kv_dec(
            &mut s,
            "totalMarginBalance",
            margin_balance,
            d8(margin_balance),
        );
        kv_dec(&mut s, "totalPositionInitialMargin", im, d8(im));
        kv_dec(&mut s, "totalOpenOrderInitialMargin", oim, d8(oim));
        kv_dec(&mut s, "totalCrossWalletBalance", wallet, d8(wallet));
        kv_dec(&mut s, "totalCrossUnPnl", up, d8(up));
        kv_dec(&mut s, "availableBalance", avail, d8(avail));
        kv_dec(&mut s, "maxWithdrawAmount", avail, d8(avail));
        s.push_str("\"assets\":[{");
        kv_str(&mut s, "asset", "USDT");
        kv_dec(&mut s, "walletBalance", wallet, d8(wallet));
        kv_dec(&mut s, "unrealizedProfit", up, d8(up));
        kv_dec(&mut s, "marginBalance", margin_balance, d8(margin_balance));
        kv_dec(&mut s, "maintMargin", mm, d8(mm));
        kv_dec(&mut s, "initialMargin", total_im, d8(total_im));
        kv_dec(&mut s, "positionInitialMargin", im, d8(im));
        kv_dec(&mut s, "openOrderInitialMargin", oim, d8(oim));
        kv_dec(&mut s, "crossWalletBalance", wallet, d8(wallet));
        kv_dec(&mut s, "crossUnPnl", up, d8(up));
        kv_dec(&mut s, "availableBalance", avail, d8(avail));
        kv_dec(&mut s, "maxWithdrawAmount", avail, d8(avail));
        kv_bool(&mut s, "marginAvailable", true);
        kv_int(&mut s, "updateTime", a.update_time);
        close(&mut s, '}');
        s.push_str("],\"positions\":[");
        let mut first = true;
        for sym in 0..self.markets.len() {
            let st = &a.syms[sym];
            for &leg in self.legs(acct) {
                let active = !st.pos[leg].amt.is_zero() || !st.open_ids.is_empty();
                if version == 3 && !active {
                    continue;
                }
                if !first {
                    s.push(',');
                }
                first = false;
                s.push('{');
                self.position_common(&mut s, acct, sym, leg);
                if version == 2 {
                    kv_str(&mut s, "leverage", &st.leverage.to_string());
                    kv_bool(&mut s, "isolated", st.isolated);
                    let m = &self.markets[sym];
                    kv_dec(
                        &mut s,
                        "entryPrice",
                        st.pos[leg].entry,
                        digits(st.pos[leg].entry, m.ins.price_dp),
                    );
                    kv_dec(&mut s, "maxNotional", max_notional(st.leverage), 0);
                    kv_order_notionals(&mut s, st);
                }
                close(&mut s, '}');
            }
        }
        s.push_str("]}");
        s
    }

    /// `GET /fapi/v2/positionRisk` (all symbols) and v3 (active only).
    pub(crate) fn position_risk(&self, acct: usize, p: &Params, version: u8) -> VResult<String> {
        let only = self.optional_symbol_param(p)?;
        let a = &self.accounts[acct];
        let mut s = String::from("[");
        for sym in 0..self.markets.len() {
            if only.is_some_and(|o| o != sym) {
                continue;
            }
            let st = &a.syms[sym];
            let m = &self.markets[sym];
            for &leg in self.legs(acct) {
                let pos = &st.pos[leg];
                if version == 3 && pos.amt.is_zero() && st.open_ids.is_empty() {
                    continue;
                }
                let [notional, im, mm] = leg_margins(st, leg, m.mark);
                let up = pos.unrealized(m.mark);
                let bep = pos.break_even();
                s.push('{');
                kv_str(&mut s, "symbol", &m.ins.symbol);
                kv_str(&mut s, "positionSide", ps_of(leg).as_str());
                kv_dec(&mut s, "positionAmt", pos.amt, m.ins.qty_dp);
                kv_dec(
                    &mut s,
                    "entryPrice",
                    pos.entry,
                    digits(pos.entry, m.ins.price_dp),
                );
                kv_dec(&mut s, "breakEvenPrice", bep, digits(bep, m.ins.price_dp));
                kv_dec(&mut s, "markPrice", m.mark, m.ins.price_dp + 1);
                kv_dec(&mut s, "unRealizedProfit", up, digits(up, 8));
                kv_str(&mut s, "liquidationPrice", "0");
                kv_str(&mut s, "isolatedMargin", "0");
                kv_dec(&mut s, "notional", notional, digits(notional, 8));
                kv_str(&mut s, "isolatedWallet", "0");
                kv_int(&mut s, "updateTime", pos.update_time);
                if version == 2 {
                    kv_str(&mut s, "leverage", &st.leverage.to_string());
                    kv_dec(&mut s, "maxNotionalValue", max_notional(st.leverage), 0);
                    kv_str(
                        &mut s,
                        "marginType",
                        if st.isolated { "isolated" } else { "cross" },
                    );
                    kv_str(&mut s, "isAutoAddMargin", "false");
                } else {
                    kv_str(&mut s, "marginAsset", "USDT");
                    kv_dec(&mut s, "initialMargin", im, digits(im, 8));
                    kv_dec(&mut s, "maintMargin", mm, digits(mm, 8));
                    kv_dec(&mut s, "positionInitialMargin", im, digits(im, 8));
                    kv_str(&mut s, "openOrderInitialMargin", "0");
                    kv_int(&mut s, "adl", 0);
                    kv_order_notionals(&mut s, st);
                }
                close(&mut s, '}');
                s.push(',');
            }
        }
        json::close(&mut s, ']');
        Ok(s)
    }

    /// `GET /fapi/v2/balance`, `/fapi/v3/balance`.
    pub(crate) fn balance_json(&self, acct: usize) -> String {
        let [wallet, up, _, _, _, avail] = self.totals(acct);
        let mut s = String::from("[{");
        kv_str(&mut s, "accountAlias", "SimAcct");
        kv_str(&mut s, "asset", "USDT");
        kv_dec(&mut s, "balance", wallet, digits(wallet, 8));
        kv_dec(&mut s, "crossWalletBalance", wallet, digits(wallet, 8));
        kv_dec(&mut s, "crossUnPnl", up, digits(up, 8));
        kv_dec(&mut s, "availableBalance", avail, digits(avail, 8));
        kv_dec(&mut s, "maxWithdrawAmount", avail, digits(avail, 8));
        kv_bool(&mut s, "marginAvailable", true);
        kv_int(&mut s, "updateTime", self.accounts[acct].update_time);
        close(&mut s, '}');
        s.push(']');
        s
    }

    /// `GET /fapi/v1/accountConfig`.
    pub(crate) fn account_config(&self, acct: usize) -> String {
        let mut s = String::from("{");
        kv_int(&mut s, "feeTier", 0);
        kv_bool(&mut s, "canTrade", true);
        kv_bool(&mut s, "canDeposit", true);
        kv_bool(&mut s, "canWithdraw", true);
        kv_bool(&mut s, "dualSidePosition", self.accounts[acct].hedge);
        kv_int(&mut s, "updateTime", 0);
        kv_bool(&mut s, "multiAssetsMargin", false);
        kv_int(&mut s, "tradeGroupId", -1);
        close(&mut s, '}');
        s
    }

    /// `GET /fapi/v1/symbolConfig`.
    pub(crate) fn symbol_config(&self, acct: usize, p: &Params) -> VResult<String> {
        let (syms, _) = self.symbols_or_all(p)?;
        let mut s = String::from("[");
        for sym in syms {
            let st = &self.accounts[acct].syms[sym];
            s.push('{');
            kv_str(&mut s, "symbol", &self.markets[sym].ins.symbol);
            kv_str(
                &mut s,
                "marginType",
                if st.isolated { "ISOLATED" } else { "CROSSED" },
            );
            kv_bool(&mut s, "isAutoAddMargin", false);
            kv_int(&mut s, "leverage", i64::from(st.leverage));
            kv_dec(&mut s, "maxNotionalValue", max_notional(st.leverage), 0);
            close(&mut s, '}');
            s.push(',');
        }
        json::close(&mut s, ']');
        Ok(s)
    }

    /// `GET /fapi/v1/positionSide/dual`.
    pub(crate) fn dual_get(&self, acct: usize) -> String {
        format!("{{\"dualSidePosition\":{}}}", self.accounts[acct].hedge)
    }

    /// `POST /fapi/v1/positionSide/dual`: -4059 unchanged, -4067 open
    /// orders, -4068 positions.
    pub(crate) fn dual_set(&mut self, acct: usize, p: &Params) -> VResult<String> {
        let want = params::boolean(p, "dualSidePosition")?
            .ok_or_else(|| VenueError::mandatory("dualSidePosition"))?;
        let a = &self.accounts[acct];
        if a.hedge == want {
            return Err(VenueError::new(-4059, "No need to change position side."));
        }
        if a.has_open_orders() {
            return Err(VenueError::new(
                -4067,
                "Position side cannot be changed if there exists open orders.",
            ));
        }
        if a.has_position() {
            return Err(VenueError::new(
                -4068,
                "Position side cannot be changed if there exists position.",
            ));
        }
        self.accounts[acct].hedge = want;
        Ok(OK_SUCCESS.into())
    }

    /// `POST /fapi/v1/leverage` (+ ACCOUNT_CONFIG_UPDATE).
    pub(crate) fn set_leverage(
        &mut self,
        acct: usize,
        p: &Params,
        out: &mut Outbox,
    ) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let lev =
            params::integer(p, "leverage")?.ok_or_else(|| VenueError::mandatory("leverage"))?;
        if !(1..=125).contains(&lev) {
            return Err(VenueError::owned(
                -4028,
                format!("Leverage {lev} is not valid"),
            ));
        }
        let lev = lev as u32;
        self.accounts[acct].syms[sym].leverage = lev;
        let t = self.stamp(acct, EventType::AccountConfigUpdate);
        let m = &self.markets[sym];
        let mut e = String::from("{\"e\":\"ACCOUNT_CONFIG_UPDATE\",");
        kv_int(&mut e, "E", t);
        kv_int(&mut e, "T", t);
        e.push_str("\"ac\":{");
        kv_str(&mut e, "s", &m.ins.symbol);
        kv_int(&mut e, "l", i64::from(lev));
        close(&mut e, '}');
        e.push('}');
        push_user(out, acct, EventType::AccountConfigUpdate, e, t, 0, "");
        let mut s = String::from("{");
        kv_int(&mut s, "leverage", i64::from(lev));
        kv_dec(&mut s, "maxNotionalValue", max_notional(lev), 0);
        kv_str(&mut s, "symbol", &m.ins.symbol);
        close(&mut s, '}');
        Ok(s)
    }

    /// `POST /fapi/v1/marginType`: -4046 unchanged, -4047/-4048 blocked.
    pub(crate) fn set_margin_type(&mut self, acct: usize, p: &Params) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let want = match params::required(p, "marginType")? {
            v if v.eq_ignore_ascii_case("ISOLATED") => true,
            v if v.eq_ignore_ascii_case("CROSSED") => false,
            _ => return Err(VenueError::illegal("marginType")),
        };
        let st = &self.accounts[acct].syms[sym];
        if st.isolated == want {
            return Err(VenueError::new(-4046, "No need to change margin type."));
        }
        if !st.open_ids.is_empty() {
            return Err(VenueError::new(
                -4047,
                "Margin type cannot be changed if there exists open orders.",
            ));
        }
        if st.pos.iter().any(|p| !p.amt.is_zero()) {
            return Err(VenueError::new(
                -4048,
                "Margin type cannot be changed if there exists position.",
            ));
        }
        self.accounts[acct].syms[sym].isolated = want;
        Ok(OK_SUCCESS.into())
    }

    /// `GET /fapi/v1/forceOrders`: the account's liquidation and ADL orders.
    pub(crate) fn force_orders_json(&self, acct: usize, p: &Params) -> VResult<String> {
        let only = self.optional_symbol_param(p)?;
        let kind = params::optional(p, "autoCloseType");
        let limit = params::integer(p, "limit")?.unwrap_or(50).clamp(1, 100) as usize;
        let mut s = String::from("[");
        let mut n = 0;
        for id in self.force_orders.iter().rev() {
            let Some(o) = self
                .orders
                .get(id)
                .or_else(|| self.archived.iter().find(|o| o.id == *id))
            else {
                continue;
            };
            if o.account != acct || only.is_some_and(|x| x != o.sym) {
                continue;
            }
            let is_adl = o.client_id.starts_with("adl_autoclose");
            match kind {
                Some("ADL") if !is_adl => continue,
                Some("LIQUIDATION") if is_adl => continue,
                _ => {}
            }
            write_order(&mut s, o, &self.markets[o.sym].ins, true);
            s.push(',');
            n += 1;
            if n >= limit {
                break;
            }
        }
        json::close(&mut s, ']');
        let _ = ps_index;
        Ok(s)
    }
}
