//! Endpoint security types and weights, API keys, signatures and the
//! timestamp window — checked exactly as Binance does, in Binance's order, so a
//! client's auth bugs (-1021, -1022, -2014, -2015, -1102) show up here first.
use crate::binance::sign::Signer;
use crate::sim::venue::{AccountId, Method, Params, Reply, VenueSettings};

/// Binance's endpoint security types (§2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Public market data.
    None,
    /// API key header only (market data that is key-gated).
    MarketData,
    /// API key header only (listenKey management).
    UserStream,
    /// Signed: key + timestamp + signature.
    Trade,
    /// Signed: key + timestamp + signature.
    UserData,
}

impl Security {
    /// Whether the request must carry `timestamp` and `signature`.
    pub fn signed(self) -> bool {
        matches!(self, Security::Trade | Security::UserData)
    }
    /// Whether the request must carry an API key.
    pub fn needs_key(self) -> bool {
        self != Security::None
    }
}

/// What the transport must know about one endpoint before calling the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Auth requirement.
    pub security: Security,
    /// REQUEST_WEIGHT cost (per IP).
    pub weight: u32,
    /// ORDERS cost on the 10 s window (per account).
    pub orders_10s: u32,
    /// ORDERS cost on the 1 min window (per account).
    pub orders_1m: u32,
    /// Writes order state: target of the "unknown outcome" faults.
    pub order_write: bool,
    /// Served by the transport itself (ping/time/listenKey).
    pub local: bool,
    /// Present in the table; unknown paths still go to the venue (404).
    pub known: bool,
}

const fn ep(security: Security, weight: u32) -> Endpoint {
    Endpoint {
        security,
        weight,
        orders_10s: 0,
        orders_1m: 0,
        order_write: false,
        local: false,
        known: true,
    }
}

/// The endpoint table (§4–§6, §10). Weights that depend on parameters
/// (`symbol` present, `limit`) are resolved from `params`.
pub fn endpoint(method: Method, path: &str, params: &Params) -> Endpoint {
    use Method::*;
    use Security::*;
    let has_symbol = params.get("symbol").is_some();
    let mut e = match (method, path) {
        (Get, "/fapi/v1/ping") | (Get, "/fapi/v1/time") => Endpoint {
            local: true,
            ..ep(None, 1)
        },
        (_, "/fapi/v1/listenKey") => Endpoint {
            local: true,
            ..ep(UserStream, 1)
        },
        (Get, "/fapi/v1/exchangeInfo") => ep(None, 1),
        (Get, "/fapi/v1/depth") => ep(None, depth_weight(params.get("limit"))),
        (Get, "/fapi/v1/trades") | (Get, "/fapi/v1/aggTrades") => ep(None, 20),
        (Get, "/fapi/v1/historicalTrades") => ep(MarketData, 20),
        (Get, "/fapi/v1/klines")
        | (Get, "/fapi/v1/markPriceKlines")
        | (Get, "/fapi/v1/indexPriceKlines")
        | (Get, "/fapi/v1/continuousKlines") => ep(None, 5),
        (Get, "/fapi/v1/premiumIndex") | (Get, "/fapi/v1/fundingRate") => ep(None, 1),
        (Get, "/fapi/v1/openInterest") => ep(None, 1),
        (Get, "/fapi/v1/ticker/24hr") => ep(None, if has_symbol { 1 } else { 40 }),
        (Get, "/fapi/v1/ticker/price") | (Get, "/fapi/v2/ticker/price") => {
            ep(None, if has_symbol { 1 } else { 2 })
        }
        (Get, "/fapi/v1/ticker/bookTicker") => ep(None, if has_symbol { 2 } else { 5 }),
        (Post, "/fapi/v1/order") | (Put, "/fapi/v1/order") | (Post, "/fapi/v1/algoOrder") => {
            Endpoint {
                orders_10s: 1,
                orders_1m: 1,
                order_write: true,
                ..ep(Trade, 0)
            }
        }
        (Post, "/fapi/v1/batchOrders") | (Put, "/fapi/v1/batchOrders") => Endpoint {
            orders_10s: 5,
            orders_1m: 1,
            order_write: true,
            ..ep(Trade, 5)
        },
        (Delete, "/fapi/v1/order")
        | (Delete, "/fapi/v1/batchOrders")
        | (Delete, "/fapi/v1/allOpenOrders")
        | (Delete, "/fapi/v1/algoOrder")
        | (Delete, "/fapi/v1/algoOpenOrders") => Endpoint {
            order_write: true,
            ..ep(Trade, 1)
        },
        (Post, "/fapi/v1/order/test") => ep(Trade, 1),
        (Post, "/fapi/v1/countdownCancelAll") => ep(Trade, 10),
        (Post, "/fapi/v1/leverage")
        | (Post, "/fapi/v1/marginType")
        | (Post, "/fapi/v1/positionSide/dual")
        | (Post, "/fapi/v1/positionMargin")
        | (Post, "/fapi/v1/multiAssetsMargin") => ep(Trade, 1),
        (Get, "/fapi/v1/order")
        | (Get, "/fapi/v1/openOrder")
        | (Get, "/fapi/v1/algoOrder")
        | (Get, "/fapi/v1/orderAmendment")
        | (Get, "/fapi/v1/rateLimit/order")
        | (Get, "/fapi/v1/commissionRate") => ep(UserData, 1),
        (Get, "/fapi/v1/openOrders") | (Get, "/fapi/v1/openAlgoOrders") => {
            ep(UserData, if has_symbol { 1 } else { 40 })
        }
        (Get, "/fapi/v1/allOrders")
        | (Get, "/fapi/v1/userTrades")
        | (Get, "/fapi/v1/allAlgoOrders")
        | (Get, "/fapi/v2/account")
        | (Get, "/fapi/v3/account")
        | (Get, "/fapi/v2/balance")
        | (Get, "/fapi/v3/balance")
        | (Get, "/fapi/v2/positionRisk")
        | (Get, "/fapi/v3/positionRisk")
        | (Get, "/fapi/v1/accountConfig")
        | (Get, "/fapi/v1/symbolConfig")
        | (Get, "/fapi/v1/multiAssetsMargin") => ep(UserData, 5),
        (Get, "/fapi/v1/positionSide/dual") => ep(UserData, 30),
        (Get, "/fapi/v1/forceOrders") => ep(UserData, if has_symbol { 20 } else { 50 }),
        (Get, "/fapi/v1/income") => ep(UserData, 30),
        (Get, "/fapi/v1/leverageBracket") => ep(UserData, 1),
        _ => Endpoint {
            known: false,
            ..ep(None, 1)
        },
    };
    if !e.known && path.starts_with("/fapi/") {
        e.weight = 1;
    }
    e
}

fn depth_weight(limit: Option<&str>) -> u32 {
    match limit.and_then(|l| l.parse::<u32>().ok()).unwrap_or(500) {
        0..=50 => 2,
        51..=100 => 5,
        101..=500 => 10,
        _ => 20,
    }
}

/// One simulated account's credentials.
#[derive(Clone)]
struct KeyEntry {
    api_key: String,
    account: AccountId,
    signer: Signer,
}

/// API key → account and secret. Debug never shows secrets.
#[derive(Clone, Default)]
pub struct KeyBook {
    keys: Vec<KeyEntry>,
}

impl std::fmt::Debug for KeyBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyBook({} keys, secrets redacted)", self.keys.len())
    }
}

/// API key of the built-in demo account used when `[sim.venue]` configures
/// none: Binance's published documentation key, so the docs' signature
/// vectors work against the simulator verbatim. Not a real credential.
pub const DEMO_API_KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
/// Secret paired with [`DEMO_API_KEY`] (Binance's documentation secret).
pub const DEMO_SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

impl KeyBook {
    /// Keys of every configured account (`[[sim.venue.accounts]]`), or the
    /// documentation demo key for account 0 when none is configured.
    pub fn from_venue(settings: &VenueSettings) -> Self {
        let mut book = KeyBook::default();
        for (account, key, secret) in settings.account_credentials() {
            book.add(account, &key, &secret);
        }
        if book.keys.is_empty() {
            book.add(0, DEMO_API_KEY, DEMO_SECRET);
        }
        book
    }
    /// Registers a key for an account.
    pub fn add(&mut self, account: AccountId, api_key: &str, secret: &str) {
        self.keys.push(KeyEntry {
            api_key: api_key.to_string(),
            account,
            signer: Signer::new(secret.as_bytes()),
        });
    }
    fn find(&self, api_key: &str) -> Option<&KeyEntry> {
        self.keys.iter().find(|k| k.api_key == api_key)
    }
    /// The account of a key and whether it is known (no secret check).
    pub fn account_of(&self, api_key: &str) -> Option<AccountId> {
        self.find(api_key).map(|k| k.account)
    }
}

/// The signed bytes of a request, as the client produced them.
#[derive(Debug, Clone, Copy)]
pub enum SignedPayload<'a> {
    /// REST: raw query and raw body (signature removed by [`strip_signature`]).
    Rest {
        /// Raw query without the `signature` pair.
        query: &'a [u8],
        /// Raw body without the `signature` pair.
        body: &'a [u8],
    },
    /// WS API: the sorted `k=v&...` text without `signature`.
    WsApi(&'a [u8]),
    /// WS API after `session.logon`: the session already proved the key;
    /// only the timestamp rule applies.
    Session,
}

/// Removes the `signature=...` pair from a raw `a=1&b=2` string, returning the
/// remaining bytes (what the client signed) and the signature text if any.
pub fn strip_signature(raw: &str) -> (String, Option<String>) {
    let mut kept = String::with_capacity(raw.len());
    let mut sig = None;
    for part in raw.split('&') {
        if let Some(v) = part.strip_prefix("signature=") {
            sig = Some(v.to_string());
            continue;
        }
        if !kept.is_empty() {
            kept.push('&');
        }
        kept.push_str(part);
    }
    (kept, sig)
}

/// Checks key, signature and timestamp for an endpoint; `Ok(account)` (None
/// for public endpoints), or the exact venue error.
pub fn authenticate(
    book: &KeyBook,
    security: Security,
    api_key: Option<&str>,
    params: &Params,
    payload: SignedPayload<'_>,
    signature: Option<&str>,
    server_time_ms: i64,
) -> Result<Option<AccountId>, Reply> {
    if !security.needs_key() {
        return Ok(None);
    }
    let key = match api_key {
        Some(k)
            if !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            k
        }
        _ => return Err(Reply::error(401, -2014, "API-key format invalid.")),
    };
    let Some(entry) = book.find(key) else {
        return Err(Reply::error(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        ));
    };
    if !security.signed() {
        return Ok(Some(entry.account));
    }
    let Some(ts_text) = params.get("timestamp").filter(|t| !t.is_empty()) else {
        return Err(Reply::error(
            400,
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        ));
    };
    let session = matches!(payload, SignedPayload::Session);
    let sig = signature.filter(|s| !s.is_empty());
    if sig.is_none() && !session {
        return Err(Reply::error(
            400,
            -1102,
            "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
        ));
    }
    let sig = sig.unwrap_or("");
    let Ok(timestamp) = ts_text.parse::<i64>() else {
        return Err(Reply::error(
            400,
            -1100,
            "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.",
        ));
    };
    let recv_window = match params.get("recvWindow") {
        None => 5000,
        Some(v) => match v.parse::<i64>() {
            Ok(w) if w > 0 => w,
            _ => {
                return Err(Reply::error(
                    400,
                    -1100,
                    "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'.",
                ));
            }
        },
    };
    if !(timestamp < server_time_ms + 1000 && server_time_ms - timestamp <= recv_window) {
        return Err(Reply::error(
            400,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    let ok = match payload {
        SignedPayload::Rest { query, body } => entry.signer.verify(query, body, sig.as_bytes()),
        SignedPayload::WsApi(p) => entry.signer.verify(p, b"", sig.as_bytes()),
        SignedPayload::Session => true,
    };
    if !ok {
        return Err(Reply::error(
            400,
            -1022,
            "Signature for this request is not valid.",
        ));
    }
    Ok(Some(entry.account))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> Params {
        let mut p = Params::default();
        crate::sim::transport::http::parse_form(s, &mut p).unwrap();
        p
    }

    #[test]
    fn docs_vector_passes_and_rules_fire() {
        let book = KeyBook::from_venue(&VenueSettings::default());
        let q = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";
        let (signed, sig) = strip_signature(q);
        let p = params(q);
        let pay = SignedPayload::Rest {
            query: signed.as_bytes(),
            body: b"",
        };
        let now = 1591702613943 + 100;
        let auth = |key: Option<&str>, sig: Option<&str>, at: i64| {
            authenticate(&book, Security::Trade, key, &p, pay, sig, at)
        };
        let good = sig.as_deref();
        assert_eq!(auth(Some(DEMO_API_KEY), good, now).ok(), Some(Some(0)));
        let late = auth(Some(DEMO_API_KEY), good, now + 5000);
        assert_eq!(late.err().and_then(|r| r.code), Some(-1021));
        let early = auth(Some(DEMO_API_KEY), good, 1591702613943 - 1000);
        assert_eq!(early.err().and_then(|r| r.code), Some(-1021));
        let nosig = auth(Some(DEMO_API_KEY), None, now);
        assert_eq!(nosig.err().and_then(|r| r.code), Some(-1102));
        let bad = auth(Some(DEMO_API_KEY), Some(&"0".repeat(64)), now);
        assert_eq!(bad.err().and_then(|r| r.code), Some(-1022));
        let unknown = auth(Some("abc"), good, now);
        assert_eq!(
            unknown.err().map(|r| (r.status, r.code)),
            Some((401, Some(-2015)))
        );
        let malformed = auth(Some("a-b"), good, now);
        assert_eq!(malformed.err().and_then(|r| r.code), Some(-2014));
    }

    #[test]
    fn weights_depend_on_params() {
        assert_eq!(
            endpoint(Method::Get, "/fapi/v1/openOrders", &params("")).weight,
            40
        );
        assert_eq!(
            endpoint(Method::Get, "/fapi/v1/openOrders", &params("symbol=X")).weight,
            1
        );
        assert_eq!(
            endpoint(Method::Get, "/fapi/v1/depth", &params("limit=1000")).weight,
            20
        );
        let o = endpoint(Method::Post, "/fapi/v1/batchOrders", &params(""));
        assert_eq!((o.weight, o.orders_10s, o.orders_1m), (5, 5, 1));
    }
}
