//! `[sim.venue]`: what the simulated exchange lists and who trades on it.
//!
//! Every field has a default so an empty `[sim.venue]` table (or none at all)
//! gives a usable venue: two accounts, BTCUSDT/ETHUSDT/`币安人生USDT` with
//! realistic filters and a moving market. Unknown keys are refused so a typo
//! in a test config fails loudly instead of silently using a default.
use crate::model::decimal::Decimal;
use crate::model::enums::StpMode;

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap_or(Decimal::ZERO)
}

/// Accounts, symbols and venue behaviour of the simulator.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VenueSettings {
    /// `[[sim.venue.accounts]]`: account `i` is `AccountId` `i`.
    pub accounts: Vec<AccountSettings>,
    /// `[[sim.venue.symbols]]`: the listed perpetuals.
    pub symbols: Vec<SymbolSettings>,
    /// `[sim.venue.market]`: the synthetic market process.
    pub market: MarketSettings,
    /// Default self-trade prevention mode of new orders (the current docs say
    /// EXPIRE_MAKER; a config can restore the old NONE default).
    pub default_stp: StpMode,
    /// How long unfilled CANCELED/EXPIRED orders stay queryable (venue: 3 days).
    /// Tests compress it to exercise the "order vanished" path.
    pub history_retention_ms: i64,
    /// Maximum open conditional orders per account across all symbols.
    pub max_algo_orders: usize,
    /// Send a fill's ACCOUNT_UPDATE before its TRADE_LITE and
    /// ORDER_TRADE_UPDATE instead of after them. The docs do not fix the
    /// order of different event types; client logs from the live venue show
    /// the account update before the order update. A client must keep its
    /// positions right either way, so the soak runs both.
    pub account_update_first: bool,
}

impl Default for VenueSettings {
    fn default() -> Self {
        VenueSettings {
            accounts: vec![
                AccountSettings::default(),
                AccountSettings {
                    api_key: "simAccount1ApiKey0000000000000000000000000000000000000000000001"
                        .into(),
                    api_secret: "simAccount1Secret000000000000000000000000000000000000000000001"
                        .into(),
                    ..AccountSettings::default()
                },
            ],
            symbols: SymbolSettings::default_set(),
            market: MarketSettings::default(),
            default_stp: StpMode::ExpireMaker,
            history_retention_ms: 3 * 24 * 3600 * 1000,
            max_algo_orders: 200,
            account_update_first: false,
        }
    }
}

impl VenueSettings {
    /// API key and secret of the first simulated account, so a client config
    /// that targets the built-in simulator works without environment
    /// variables (the simulator's keys are not real secrets).
    pub fn first_account_credentials(&self) -> Option<(String, String)> {
        self.accounts
            .first()
            .map(|a| (a.api_key.clone(), a.api_secret.clone()))
    }
    /// `(account, api_key, api_secret)` of every account, for the transport's
    /// key book (more than one account lets tests trade against each other).
    pub fn account_credentials(&self) -> Vec<(usize, String, String)> {
        self.accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (i, a.api_key.clone(), a.api_secret.clone()))
            .collect()
    }
}

/// A `[sim.venue]` value the venue cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A symbol's grid, limits or start price is not positive/consistent.
    #[error("[[sim.venue.symbols]] {symbol}: {why}")]
    Symbol {
        /// The symbol.
        symbol: String,
        /// What is wrong.
        why: &'static str,
    },
    /// Two symbols share a name.
    #[error("[[sim.venue.symbols]] {0} is listed twice")]
    DuplicateSymbol(String),
    /// An account's key is empty or shared, or its leverage is out of 1..=125.
    #[error("[[sim.venue.accounts]] #{index}: {why}")]
    Account {
        /// Position in the list.
        index: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// A market-process value is out of range.
    #[error("[sim.venue.market]: {0}")]
    Market(&'static str),
}

impl VenueSettings {
    /// Checks the configuration so a bad file fails with a clear message at
    /// start instead of producing a venue that misbehaves later.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let mut names = std::collections::HashSet::new();
        for s in &self.symbols {
            let bad = |why| SettingsError::Symbol {
                symbol: s.symbol.clone(),
                why,
            };
            if s.symbol.is_empty() || s.symbol.len() > 40 {
                return Err(bad("symbol must be 1-40 bytes"));
            }
            if !names.insert(s.symbol.as_str()) {
                return Err(SettingsError::DuplicateSymbol(s.symbol.clone()));
            }
            if !s.tick_size.is_positive() || !s.step_size.is_positive() {
                return Err(bad("tick_size and step_size must be positive"));
            }
            if !s.start_price.is_positive() || !s.min_qty.is_positive() {
                return Err(bad("start_price and min_qty must be positive"));
            }
            if !s.max_price.is_zero() && s.max_price < s.min_price {
                return Err(bad("max_price below min_price"));
            }
            if s.max_qty < s.min_qty || s.market_max_qty < s.min_qty {
                return Err(bad("max_qty below min_qty"));
            }
            if s.max_num_orders == 0 {
                return Err(bad("max_num_orders must be at least 1"));
            }
        }
        let mut keys = std::collections::HashSet::new();
        for (index, a) in self.accounts.iter().enumerate() {
            let bad = |why| SettingsError::Account { index, why };
            if a.api_key.is_empty() || a.api_secret.is_empty() {
                return Err(bad("api_key and api_secret must be set"));
            }
            if !keys.insert(a.api_key.as_str()) {
                return Err(bad("api_key used by another account"));
            }
            if !(1..=125).contains(&a.leverage) {
                return Err(bad("leverage must be 1..=125"));
            }
        }
        let m = &self.market;
        if m.tick_interval_ms <= 0 || m.mark_price_interval_ms <= 0 {
            return Err(SettingsError::Market("intervals must be positive"));
        }
        if !(0.0..0.1).contains(&m.volatility) || !(0.0..=1.0).contains(&m.trade_probability) {
            return Err(SettingsError::Market(
                "volatility must be in [0, 0.1) and trade_probability in [0, 1]",
            ));
        }
        if m.book_levels == 0 || m.book_levels > 1000 || m.level_spacing_ticks <= 0 {
            return Err(SettingsError::Market(
                "book_levels must be 1..=1000 and level_spacing_ticks positive",
            ));
        }
        if self.history_retention_ms < 0 {
            return Err(SettingsError::Market(
                "history_retention_ms must not be negative",
            ));
        }
        Ok(())
    }
}

/// Position mode of an account at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionMode {
    /// One signed `BOTH` position per symbol.
    #[default]
    OneWay,
    /// Separate LONG and SHORT positions.
    Hedge,
}

/// One simulated trading account.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountSettings {
    /// API key (fake; the simulator's keys guard nothing real).
    pub api_key: String,
    /// HMAC secret (redacted in `Debug`).
    pub api_secret: String,
    /// Starting USDT wallet balance.
    pub balance: Decimal,
    /// Starting position mode.
    pub position_mode: PositionMode,
    /// Leverage of every symbol at start.
    pub leverage: u32,
    /// Maker fee rate (0.0002 = 2 bp).
    pub maker_fee: Decimal,
    /// Taker fee rate.
    pub taker_fee: Decimal,
}

impl std::fmt::Debug for AccountSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountSettings")
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .field("balance", &self.balance)
            .field("position_mode", &self.position_mode)
            .field("leverage", &self.leverage)
            .field("maker_fee", &self.maker_fee)
            .field("taker_fee", &self.taker_fee)
            .finish()
    }
}

impl Default for AccountSettings {
    fn default() -> Self {
        // Binance's published documentation key pair: the docs' signature
        // vectors then work against the simulator verbatim. Not a real key.
        AccountSettings {
            api_key: "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83".into(),
            api_secret: "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9".into(),
            balance: d("100000"),
            position_mode: PositionMode::OneWay,
            leverage: 20,
            maker_fee: d("0.0002"),
            taker_fee: d("0.0005"),
        }
    }
}

/// One listed perpetual and its filters.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SymbolSettings {
    /// Symbol as spelled in REST (opaque UTF-8).
    pub symbol: String,
    /// Base asset (e.g. BTC).
    pub base_asset: String,
    /// `pricePrecision`: more decimals than this ⇒ -1111 (display digits).
    pub price_precision: u32,
    /// `quantityPrecision`: more decimals than this ⇒ -1111.
    pub quantity_precision: u32,
    /// PRICE_FILTER tickSize.
    pub tick_size: Decimal,
    /// PRICE_FILTER minPrice.
    pub min_price: Decimal,
    /// PRICE_FILTER maxPrice.
    pub max_price: Decimal,
    /// LOT_SIZE stepSize (MARKET_LOT_SIZE shares it).
    pub step_size: Decimal,
    /// LOT_SIZE minQty.
    pub min_qty: Decimal,
    /// LOT_SIZE maxQty.
    pub max_qty: Decimal,
    /// MARKET_LOT_SIZE maxQty (lower than LOT_SIZE's).
    pub market_max_qty: Decimal,
    /// MIN_NOTIONAL notional (100 on BTCUSDT, 5 elsewhere).
    pub min_notional: Decimal,
    /// PERCENT_PRICE multiplierUp.
    pub multiplier_up: Decimal,
    /// PERCENT_PRICE multiplierDown.
    pub multiplier_down: Decimal,
    /// MAX_NUM_ORDERS limit (open orders per symbol and account).
    pub max_num_orders: usize,
    /// `triggerProtect`: allowed mark-vs-last divergence for priceProtect.
    pub trigger_protect: Decimal,
    /// Price the market process starts from.
    pub start_price: Decimal,
}

impl Default for SymbolSettings {
    fn default() -> Self {
        SymbolSettings {
            symbol: "BTCUSDT".into(),
            base_asset: "BTC".into(),
            price_precision: 2,
            quantity_precision: 3,
            tick_size: d("0.1"),
            min_price: d("556.8"),
            max_price: d("4529764"),
            step_size: d("0.001"),
            min_qty: d("0.001"),
            max_qty: d("1000"),
            market_max_qty: d("120"),
            min_notional: d("100"),
            multiplier_up: d("1.05"),
            multiplier_down: d("0.95"),
            max_num_orders: 200,
            trigger_protect: d("0.05"),
            start_price: d("60000"),
        }
    }
}

impl SymbolSettings {
    /// BTCUSDT, ETHUSDT and `币安人生USDT` (a non-ASCII symbol, so clients are
    /// exercised end to end on opaque UTF-8 symbols).
    pub fn default_set() -> Vec<SymbolSettings> {
        vec![
            SymbolSettings::default(),
            SymbolSettings {
                symbol: "ETHUSDT".into(),
                base_asset: "ETH".into(),
                tick_size: d("0.01"),
                min_price: d("39.86"),
                max_price: d("306177"),
                step_size: d("0.001"),
                min_qty: d("0.001"),
                max_qty: d("10000"),
                market_max_qty: d("2000"),
                min_notional: d("5"),
                start_price: d("2400"),
                ..SymbolSettings::default()
            },
            SymbolSettings {
                symbol: "币安人生USDT".into(),
                base_asset: "币安人生".into(),
                price_precision: 4,
                quantity_precision: 0,
                tick_size: d("0.0001"),
                min_price: d("0.0001"),
                max_price: d("200"),
                step_size: d("1"),
                min_qty: d("1"),
                max_qty: d("50000000"),
                market_max_qty: d("5000000"),
                min_notional: d("5"),
                multiplier_up: d("1.15"),
                multiplier_down: d("0.85"),
                trigger_protect: d("0.15"),
                start_price: d("0.15"),
                ..SymbolSettings::default()
            },
        ]
    }
}

/// The synthetic market: a seeded random walk with a generated book.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketSettings {
    /// PRNG seed: the same seed gives the same price path.
    pub seed: u64,
    /// Market process step (ms).
    pub tick_interval_ms: i64,
    /// Standard deviation of one step's relative move (0.0002 = 2 bp).
    pub volatility: f64,
    /// Whether prices move by themselves (false: only control hooks move them).
    pub auto_move: bool,
    /// Synthetic levels per side.
    pub book_levels: usize,
    /// Ticks between synthetic levels.
    pub level_spacing_ticks: i64,
    /// Synthetic quantity per level, in multiples of minQty... expressed as
    /// notional in USDT so one setting fits every symbol.
    pub level_notional: Decimal,
    /// Cadence of `<s>@markPrice@1s` (the 3 s stream is three times slower).
    pub mark_price_interval_ms: i64,
    /// Probability per step of a synthetic trade when the price did not move.
    pub trade_probability: f64,
}

impl Default for MarketSettings {
    fn default() -> Self {
        MarketSettings {
            seed: 42,
            tick_interval_ms: 100,
            volatility: 0.0002,
            auto_move: true,
            book_levels: 20,
            level_spacing_ticks: 1,
            level_notional: d("50000"),
            mark_price_interval_ms: 1000,
            trade_probability: 0.3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_table_gives_defaults() {
        let s: Option<VenueSettings> = toml::from_str("").ok();
        assert!(s.is_some());
        let s = s.unwrap_or_default();
        assert_eq!(s.symbols.len(), 3);
        assert_eq!(s.accounts.len(), 2);
        assert_eq!(s.default_stp, StpMode::ExpireMaker);
        assert!(s.first_account_credentials().is_some());
    }

    #[test]
    fn validation_catches_bad_values() {
        assert_eq!(VenueSettings::default().validate(), Ok(()));
        let mut s = VenueSettings::default();
        s.symbols[1].symbol = "BTCUSDT".into();
        assert_eq!(
            s.validate(),
            Err(SettingsError::DuplicateSymbol("BTCUSDT".into()))
        );
        let mut s = VenueSettings::default();
        s.symbols[0].tick_size = Decimal::ZERO;
        assert!(s.validate().is_err());
        let mut s = VenueSettings::default();
        s.accounts[1].api_key = s.accounts[0].api_key.clone();
        assert!(s.validate().is_err());
        let mut s = VenueSettings::default();
        s.market.tick_interval_ms = 0;
        assert!(s.validate().is_err());
    }

    /// The snippet documented for `config/sim.toml` (keys under `[sim.venue]`).
    const DOC_SNIPPET: &str = r#"
default_stp = "EXPIRE_MAKER"
history_retention_ms = 259200000
max_algo_orders = 200

[market]
seed = 42
tick_interval_ms = 100
volatility = 0.0002
auto_move = true
book_levels = 20
level_spacing_ticks = 1
level_notional = "50000"
mark_price_interval_ms = 1000
trade_probability = 0.3

[[accounts]]
api_key = "sim-key-account-0"
api_secret = "sim-secret-account-0"      # a simulator secret, not a real one
balance = "100000"
position_mode = "one_way"
leverage = 20
maker_fee = "0.0002"
taker_fee = "0.0005"

[[symbols]]
symbol = "BTCUSDT"
base_asset = "BTC"
price_precision = 2
quantity_precision = 3
tick_size = "0.1"
min_price = "556.8"
max_price = "4529764"
step_size = "0.001"
min_qty = "0.001"
max_qty = "1000"
market_max_qty = "120"
min_notional = "100"
multiplier_up = "1.05"
multiplier_down = "0.95"
max_num_orders = 200
trigger_protect = "0.05"
start_price = "60000"
"#;

    #[test]
    fn documented_snippet_parses_and_validates() {
        let s: Result<VenueSettings, _> = toml::from_str(DOC_SNIPPET);
        assert!(s.is_ok(), "{:?}", s.err());
        let s = s.unwrap_or_default();
        assert_eq!(s.accounts.len(), 1);
        assert_eq!(s.symbols.len(), 1);
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<VenueSettings>("bogus = 1").is_err());
        let s: VenueSettings = toml::from_str(
            "history_retention_ms = 1000\n[[accounts]]\napi_key = \"k\"\napi_secret = \"s\"\nposition_mode = \"hedge\"\n",
        )
        .map_err(|e| e.to_string())
        .unwrap_or_default();
        assert_eq!(s.history_retention_ms, 1000);
        assert_eq!(s.accounts.len(), 1);
        assert_eq!(s.accounts[0].position_mode, PositionMode::Hedge);
        assert!(!format!("{:?}", s.accounts[0]).contains("\"s\""));
    }
}
