//! Reconciliation endpoints off-the-shelf clients call at start-up (ccxt's
//! `fetch_positions`, `fetch_trading_fee`, NautilusTrader's account load):
//! `leverageBracket`, `commissionRate` and `multiAssetsMargin`. Without them
//! those clients fail before their first order, although the real venue
//! serves every one of them.
use std::fmt::Write as _;

use super::api::Params;
use super::json::{close, kv_bool, kv_dec, kv_str};
use super::params::{self, VResult};
use super::state::Venue;
use crate::model::decimal::Decimal;

/// The leverage tiers the simulator publishes. Its margin model is one flat
/// maintenance rate with a maximum notional of `250_000_000 / leverage`, so
/// each tier's cap is exactly that figure and `cum` is 0.
const TIERS: [u32; 12] = [125, 100, 75, 50, 25, 20, 10, 5, 4, 3, 2, 1];
/// Notional numerator of the simulator's `max_notional(leverage)`.
const NOTIONAL_NUMERATOR: u64 = 250_000_000;
/// The simulator's flat maintenance margin ratio, as the venue writes it (a number).
const MAINT_RATIO: &str = "0.004";

impl Venue {
    /// `GET /fapi/v1/leverageBracket`: an array of every symbol, or one object
    /// when `symbol` is sent (the venue's two documented shapes).
    pub(crate) fn leverage_bracket(&self, p: &Params) -> VResult<String> {
        if let Some(s) = params::optional(p, "symbol") {
            let sym = self.sym_of(s)?;
            let mut out = String::with_capacity(1024);
            self.write_brackets(&mut out, sym);
            return Ok(out);
        }
        let mut out = String::with_capacity(1024 * self.markets.len());
        out.push('[');
        for sym in 0..self.markets.len() {
            if sym > 0 {
                out.push(',');
            }
            self.write_brackets(&mut out, sym);
        }
        out.push(']');
        Ok(out)
    }

    fn write_brackets(&self, out: &mut String, sym: usize) {
        out.push('{');
        kv_str(out, "symbol", &self.markets[sym].ins.symbol);
        out.push_str("\"brackets\":[");
        let mut floor = 0u64;
        for (i, lev) in TIERS.iter().enumerate() {
            let cap = NOTIONAL_NUMERATOR / u64::from(*lev);
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"bracket\":{},\"initialLeverage\":{lev},\"notionalCap\":{cap},\"notionalFloor\":{floor},\"maintMarginRatio\":{MAINT_RATIO},\"cum\":0.0}}",
                i + 1
            );
            floor = cap;
        }
        out.push_str("]}");
    }

    /// `GET /fapi/v1/commissionRate`: the account's maker/taker fee rates.
    pub(crate) fn commission_rate(&self, acct: usize, p: &Params) -> VResult<String> {
        let sym = self.symbol_param(p)?;
        let a = &self.accounts[acct];
        let mut s = String::with_capacity(128);
        s.push('{');
        kv_str(&mut s, "symbol", &self.markets[sym].ins.symbol);
        kv_dec(
            &mut s,
            "makerCommissionRate",
            a.maker_fee,
            rate_digits(a.maker_fee),
        );
        kv_dec(
            &mut s,
            "takerCommissionRate",
            a.taker_fee,
            rate_digits(a.taker_fee),
        );
        close(&mut s, '}');
        Ok(s)
    }

    /// `GET /fapi/v1/multiAssetsMargin`: the simulator runs single-asset (USDT) margin.
    pub(crate) fn multi_assets_margin(&self) -> String {
        let mut s = String::from("{");
        kv_bool(&mut s, "multiAssetsMargin", false);
        close(&mut s, '}');
        s
    }
}

/// The venue writes fee rates with at least 4 decimals ("0.0002"), more when needed.
fn rate_digits(v: Decimal) -> u32 {
    v.scale().max(4)
}
