//! Venue payloads for the proto_in tests and benches, written for this project
//! from the protocol reference (values illustrative, shapes as documented).
#![allow(dead_code)]

/// Partial fill of our LIMIT buy.
pub const OTU_FILL: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1760000200012,"T":1760000200009,"o":{"s":"ETHUSDT","c":"e1-000043","S":"BUY","o":"LIMIT","f":"GTC","q":"0.050","p":"2401.00","ap":"2400.95","sp":"0","x":"TRADE","X":"PARTIALLY_FILLED","i":8389765550,"l":"0.020","z":"0.020","L":"2400.95","N":"USDT","n":"0.01920760","T":1760000200009,"t":1974335521,"b":"72.03000","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0","pP":false,"si":0,"ss":0,"V":"EXPIRE_MAKER","pm":"NONE","gtd":0,"er":"0"}}"#;

/// Liquidation fill: `x=CALCULATED`, `autoclose-` id, no N/n, o=LIQUIDATION, AMENDMENT-era M present.
pub const OTU_LIQ: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1760000300020,"T":1760000300017,"o":{"s":"BTCUSDT","c":"autoclose-1760000300011","S":"SELL","o":"LIQUIDATION","f":"IOC","q":"0.100","p":"58000.10","ap":"58010.00","sp":"0","x":"CALCULATED","X":"FILLED","i":4100000001,"l":"0.100","z":"0.100","L":"58010.00","T":1760000300017,"t":880001,"b":"0","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIQUIDATION","ps":"BOTH","cp":false,"rp":"-120.50000000","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0,"er":"5"}}"#;

/// ADL fill delivered as x=TRADE with the adl_autoclose id.
pub const OTU_ADL: &str = r#"{"e":"ORDER_TRADE_UPDATE","E":1760000400020,"T":1760000400019,"o":{"s":"BTCUSDT","c":"adl_autoclose","S":"BUY","o":"LIMIT","f":"GTC","q":"0.010","p":"61000","ap":"61000","sp":"0","x":"TRADE","X":"FILLED","i":4100000099,"l":"0.010","z":"0.010","L":"61000","N":"USDT","n":"0","T":1760000400019,"t":880099,"b":"0","a":"0","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"SHORT","cp":false,"rp":"3.1","pP":false,"si":0,"ss":0,"V":"NONE","pm":"NONE","gtd":0,"er":"0"}}"#;

/// AMENDMENT with modifyId, trailing fields and an unseen TIF and extra key.
pub const OTU_AMEND: &str = r#"{"e":"ORDER_TRADE_UPDATE","T":1760000500001,"E":1760000500003,"o":{"s":"币安人生USDT","c":"e1-000050","S":"SELL","o":"LIMIT","f":"BRAND_NEW_TIF","q":"100","p":"0.4321","ap":"0","sp":"0","x":"AMENDMENT","X":"NEW","i":77,"M":12,"l":"0","z":"0","L":"0","T":1760000500001,"t":0,"b":"0","a":"43.21","m":false,"R":true,"wt":"MARK_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"AP":"0.5","cr":"1.5","rp":"0","pP":true,"si":0,"ss":0,"V":"EXPIRE_BOTH","pm":"QUEUE","gtd":1760099999000,"er":"0","zz":{"new":[1,2]}}}"#;

pub const ALGO_UPDATE: &str = r#"{"e":"ALGO_UPDATE","T":1760000100000,"E":1760000100004,"o":{"caid":"sl-ETH-0007","aid":3000000123456,"at":"CONDITIONAL","o":"STOP_MARKET","s":"ETHUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.050","X":"TRIGGERED","ai":"8389799001","ap":"0.00","aq":"0.000","act":"MARKET","tp":"2300.00","p":"0.00","V":"EXPIRE_MAKER","wt":"MARK_PRICE","pm":"NONE","cp":false,"pP":true,"R":true,"tt":1760000099998,"gtd":0,"rm":""}}"#;

pub const ALGO_UPDATE_NEW: &str = r#"{"e":"ALGO_UPDATE","T":1760000090000,"E":1760000090002,"o":{"caid":"tp-ETH-0008","aid":3000000123457,"at":"CONDITIONAL","o":"TAKE_PROFIT","s":"ETHUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.050","X":"NEW","ai":"","ap":"0","aq":"0","act":"","tp":"2600.00","p":"2599.00","V":"EXPIRE_MAKER","wt":"CONTRACT_PRICE","pm":"NONE","cp":false,"pP":false,"R":false,"tt":0,"gtd":0,"rm":""}}"#;

pub const TRADE_LITE: &str = r#"{"e":"TRADE_LITE","E":1760000200010,"T":1760000200009,"s":"ETHUSDT","q":"0.050","p":"2401.00","m":false,"c":"e1-000043","S":"BUY","L":"2400.95","l":"0.020","t":1974335521,"i":8389765550}"#;

pub const ACCOUNT_UPDATE: &str = r#"{"e":"ACCOUNT_UPDATE","E":1760000200015,"T":1760000200009,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"1000.12345678","cw":"990.5","bc":"0"},{"a":"BNB","wb":"1.2","cw":"1.2","bc":"-0.001"}],"P":[{"s":"ETHUSDT","pa":"0.020","ep":"2400.95","bep":"2401.91","cr":"-3.5","up":"0.01","mt":"cross","iw":"0","ps":"BOTH"},{"s":"BTCUSDT","pa":"-0.5","ep":"60000","bep":"60010","cr":"0","up":"-2","mt":"isolated","iw":"150.25","ps":"SHORT"}]}}"#;

pub const ACCOUNT_UPDATE_FUNDING: &str = r#"{"e":"ACCOUNT_UPDATE","E":1760003200000,"T":1760003200000,"a":{"m":"FUNDING_FEE","B":[{"a":"USDT","wb":"999.9","cw":"999.9","bc":"0"}],"P":[]}}"#;

pub const CONFIG_LEVERAGE: &str = r#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1760000600000,"T":1760000599998,"ac":{"s":"BTCUSDT","l":25}}"#;
pub const CONFIG_MULTI: &str =
    r#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1760000600100,"T":1760000600099,"ai":{"j":true}}"#;

pub const MARGIN_CALL: &str = r#"{"e":"MARGIN_CALL","E":1760000700000,"cw":"3.16812045","p":[{"s":"ETHUSDT","ps":"LONG","pa":"1.327","mt":"cross","iw":"0","mp":"187.17127","up":"-1.166074","mm":"1.614445"}]}"#;

pub const LISTEN_KEY_EXPIRED: &str = r#"{"e":"listenKeyExpired","E":1760000800000,"listenKey":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"}"#;

pub const TRIGGER_REJECT: &str = r#"{"e":"CONDITIONAL_ORDER_TRIGGER_REJECT","E":1760000900000,"T":1760000899999,"or":{"s":"ETHUSDT","i":8389765999,"r":"Due to the order could not be filled immediately, the FOK order has been rejected."}}"#;

pub const STRATEGY_UPDATE: &str = r#"{"e":"STRATEGY_UPDATE","T":1760001000000,"E":1760001000001,"su":{"si":8077,"st":"GRID","ss":"NEW","s":"BTCUSDT","ut":1760001000000,"c":8001}}"#;

/// Combined-stream wrapper on /private/stream.
pub fn wrapped(stream: &str, data: &str) -> String {
    format!(r#"{{"stream":"{stream}","data":{data}}}"#)
}

pub const BOOK_TICKER: &str = r#"{"e":"bookTicker","u":8822345501,"E":1760000400005,"T":1760000400003,"s":"ETHUSDT","b":"2400.90","B":"12.341","a":"2400.91","A":"3.020"}"#;

pub const AGG_TRADE: &str = r#"{"e":"aggTrade","E":1760000400050,"s":"BTCUSDT","a":5933014,"p":"60000.10","q":"0.250","nq":"0.200","f":100,"l":105,"T":1760000400049,"m":true}"#;

pub const MARK_PRICE: &str = r#"{"e":"markPriceUpdate","E":1760000401000,"s":"BTCUSDT","p":"60001.23000000","ap":"60000.50000000","i":"59998.70000000","P":"60005.00000000","r":"0.00010000","T":1760025600000}"#;

pub const DEPTH_UPDATE: &str = r#"{"e":"depthUpdate","E":1760000400105,"T":1760000400101,"s":"ETHUSDT","U":8822345490,"u":8822345560,"pu":8822345480,"b":[["2400.90","12.341"],["2400.50","0"]],"a":[["2400.91","3.020"]]}"#;

pub const DEPTH5: &str = r#"{"e":"depthUpdate","E":1760000400205,"T":1760000400201,"s":"BTCUSDT","U":1,"u":9,"pu":0,"b":[["60000.0","1.5"],["59999.9","0.1"],["59999.8","0.2"],["59999.7","0.3"],["59999.6","0.4"]],"a":[["60000.1","2"],["60000.2","0.01"],["60000.3","0.02"],["60000.4","0.03"],["60000.5","0.04"]]}"#;

pub const SUB_OK: &str = r#"{"result":null,"id":1}"#;
pub const SUB_LIST: &str = r#"{"result":["btcusdt@aggTrade","btcusdt@depth"],"id":3}"#;
pub const SUB_ERR: &str = r#"{"code":2,"msg":"Invalid request: unknown variant","id":7}"#;
pub const SUB_ERR_NESTED: &str = r#"{"error":{"code":0,"msg":"Unknown property"},"id":8}"#;
pub const KLINE: &str = r#"{"e":"kline","E":1760000400000,"s":"BTCUSDT","k":{"t":1,"T":2,"s":"BTCUSDT","i":"1m","o":"1","c":"2","h":"3","l":"0.5","v":"10","x":false}}"#;

pub const ORDER_RESULT: &str = r#"{"orderId":8389765549,"symbol":"ETHUSDT","status":"NEW","clientOrderId":"e1-000042","price":"2400.10","avgPrice":"0.00","origQty":"0.050","executedQty":"0.000","cumQty":"0.000","cumQuote":"0.00000","timeInForce":"GTX","type":"LIMIT","reduceOnly":false,"closePosition":false,"side":"BUY","positionSide":"BOTH","stopPrice":"0.00","workingType":"CONTRACT_PRICE","priceProtect":false,"origType":"LIMIT","priceMatch":"NONE","selfTradePreventionMode":"EXPIRE_MAKER","goodTillDate":0,"updateTime":1760000000031}"#;

/// 2026-07 write reply without avgPrice/cumQuote.
pub const ORDER_2026: &str = r#"{"orderId":8389765551,"symbol":"ETHUSDT","status":"CANCELED","clientOrderId":"e1-000044","price":"2450.00","origQty":"0.050","executedQty":"0.010","cumQty":"0.010","timeInForce":"GTC","type":"LIMIT","reduceOnly":false,"closePosition":false,"side":"SELL","positionSide":"BOTH","stopPrice":"0","workingType":"CONTRACT_PRICE","priceProtect":false,"origType":"LIMIT","priceMatch":"NONE","selfTradePreventionMode":"EXPIRE_MAKER","goodTillDate":0,"updateTime":1760000300100}"#;

/// Query reply with time and legacy trailing fields.
pub const ORDER_QUERY: &str = r#"{"avgPrice":"60010.5","clientOrderId":"trail-1","cumQuote":"600.105","executedQty":"0.010","orderId":4100000002,"origQty":"0.010","origType":"TRAILING_STOP_MARKET","price":"0","reduceOnly":true,"side":"SELL","positionSide":"BOTH","status":"FILLED","stopPrice":"60100","closePosition":false,"symbol":"BTCUSDT","time":1760000000000,"timeInForce":"GTC","type":"MARKET","activatePrice":"60500","priceRate":"0.3","updateTime":1760000100000,"workingType":"CONTRACT_PRICE","priceProtect":false,"priceMatch":"NONE","selfTradePreventionMode":"NONE","goodTillDate":0}"#;

pub const ALGO_REPLY: &str = r#"{"algoId":3000000123456,"clientAlgoId":"sl-ETH-0007","algoType":"CONDITIONAL","orderType":"STOP_MARKET","symbol":"ETHUSDT","side":"SELL","positionSide":"BOTH","timeInForce":"GTC","quantity":"0.050","algoStatus":"NEW","triggerPrice":"2300.00","price":"0.00","icebergQuantity":null,"selfTradePreventionMode":"EXPIRE_MAKER","workingType":"MARK_PRICE","priceMatch":"NONE","closePosition":false,"priceProtect":true,"reduceOnly":true,"activatePrice":"","callbackRate":"","createTime":1760000000100,"updateTime":1760000000100,"triggerTime":0,"goodTillDate":0}"#;

pub const ALGO_QUERY: &str = r#"{"algoId":3000000123456,"clientAlgoId":"sl-ETH-0007","algoType":"CONDITIONAL","orderType":"STOP_MARKET","symbol":"ETHUSDT","side":"SELL","positionSide":"BOTH","timeInForce":"GTC","quantity":"0.050","algoStatus":"TRIGGERED","triggerPrice":"2300.00","price":"0.00","icebergQuantity":null,"selfTradePreventionMode":"EXPIRE_MAKER","workingType":"MARK_PRICE","priceMatch":"NONE","closePosition":false,"priceProtect":true,"reduceOnly":true,"activatePrice":"","callbackRate":"","createTime":1760000000100,"updateTime":1760000099999,"triggerTime":1760000099998,"goodTillDate":0,"actualOrderId":"8389799001","actualPrice":"2299.50","actualQty":"0.050","actualType":"MARKET","tpTriggerPrice":"0","tpPrice":"0","slTriggerPrice":"0","slPrice":"0","tpOrderType":""}"#;

pub const CANCEL_ALGO: &str =
    r#"{"algoId":3000000123456,"clientAlgoId":"sl-ETH-0007","code":"200","msg":"success"}"#;
pub const CODE_MSG: &str = r#"{"code":200,"msg":"success"}"#;
pub const CODE_MSG_STR: &str =
    r#"{"code":"200","msg":"The operation of cancel all open order is done."}"#;
pub const API_ERROR: &str = r#"{"code":-2019,"msg":"Margin is insufficient."}"#;
pub const SERVER_TIME: &str = r#"{"serverTime":1760000000123}"#;
pub const LISTEN_KEY: &str =
    r#"{"listenKey":"pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"}"#;

pub const ACCOUNT_V3: &str = r#"{"totalInitialMargin":"0.00000000","totalMaintMargin":"0.00000000","totalWalletBalance":"103.12345678","totalUnrealizedProfit":"0.00000000","totalMarginBalance":"103.12345678","totalPositionInitialMargin":"0.00000000","totalOpenOrderInitialMargin":"0.00000000","totalCrossWalletBalance":"103.12345678","totalCrossUnPnl":"0.00000000","availableBalance":"103.12345678","maxWithdrawAmount":"103.12345678","assets":[{"asset":"USDT","walletBalance":"103.12345678","unrealizedProfit":"0.00000000","marginBalance":"103.12345678","maintMargin":"0.00000000","initialMargin":"0.00000000","positionInitialMargin":"0.00000000","openOrderInitialMargin":"0.00000000","crossWalletBalance":"103.12345678","crossUnPnl":"0.00000000","availableBalance":"103.12345678","maxWithdrawAmount":"103.12345678","updateTime":1760000000000}],"positions":[{"symbol":"ETHUSDT","positionSide":"BOTH","positionAmt":"1.000","unrealizedProfit":"0.00246115","isolatedMargin":"0","notional":"1.23","isolatedWallet":"0","initialMargin":"0.62","maintMargin":"0.0123","updateTime":1760000000001}]}"#;

pub const ACCOUNT_V2: &str = r#"{"feeTier":0,"canTrade":true,"canDeposit":true,"canWithdraw":true,"multiAssetsMargin":false,"tradeGroupId":-1,"updateTime":0,"totalInitialMargin":"0","totalMaintMargin":"0","totalWalletBalance":"23.72469206","totalUnrealizedProfit":"0","totalMarginBalance":"23.72469206","totalPositionInitialMargin":"0","totalOpenOrderInitialMargin":"0","totalCrossWalletBalance":"23.72469206","totalCrossUnPnl":"0","availableBalance":"23.72469206","maxWithdrawAmount":"23.72469206","assets":[{"asset":"USDT","walletBalance":"23.72469206","unrealizedProfit":"0","marginBalance":"23.72469206","maintMargin":"0","initialMargin":"0","positionInitialMargin":"0","openOrderInitialMargin":"0","crossWalletBalance":"23.72469206","crossUnPnl":"0","availableBalance":"23.72469206","maxWithdrawAmount":"23.72469206","marginAvailable":true,"updateTime":1760000000000}],"positions":[{"symbol":"BTCUSDT","initialMargin":"0","maintMargin":"0","unrealizedProfit":"0","positionInitialMargin":"0","openOrderInitialMargin":"0","leverage":"100","isolated":true,"entryPrice":"0.00000","maxNotional":"250000","bidNotional":"0","askNotional":"0","positionSide":"BOTH","positionAmt":"0","updateTime":0}]}"#;

pub const POSITION_RISK_V3: &str = r#"[{"symbol":"ADAUSDT","positionSide":"BOTH","positionAmt":"30","entryPrice":"0.385","breakEvenPrice":"0.385077","markPrice":"0.41047590","unRealizedProfit":"0.76427700","liquidationPrice":"0","isolatedMargin":"0","notional":"12.31427700","marginAsset":"USDT","isolatedWallet":"0","initialMargin":"0.61571385","maintMargin":"0.08004280","positionInitialMargin":"0.61571385","openOrderInitialMargin":"0","adl":2,"bidNotional":"0","askNotional":"0","updateTime":1760000000000}]"#;

pub const POSITION_RISK_V2: &str = r#"[{"entryPrice":"0.00000","breakEvenPrice":"0.0","marginType":"isolated","isAutoAddMargin":"false","isolatedMargin":"0.00000000","leverage":"10","liquidationPrice":"0","markPrice":"6679.50671178","maxNotionalValue":"20000000","positionAmt":"-0.010","notional":"0","isolatedWallet":"0","symbol":"BTCUSDT","unRealizedProfit":"0.00000000","positionSide":"SHORT","updateTime":0}]"#;

pub const BALANCE: &str = r#"[{"accountAlias":"SgsR","asset":"USDT","balance":"122607.35137903","crossWalletBalance":"23.72469206","crossUnPnl":"0.00000000","availableBalance":"23.72469206","maxWithdrawAmount":"23.72469206","marginAvailable":true,"updateTime":1760000000000}]"#;

pub const DUAL: &str = r#"{"dualSidePosition":true}"#;
pub const LEVERAGE: &str = r#"{"leverage":21,"maxNotionalValue":"1000000","symbol":"BTCUSDT"}"#;
pub const USER_TRADES: &str = r#"[{"buyer":false,"commission":"-0.07819010","commissionAsset":"USDT","id":698759,"maker":false,"orderId":25851813,"price":"7819.01","qty":"0.002","quoteQty":"15.63802","realizedPnl":"-0.91539999","side":"SELL","positionSide":"SHORT","symbol":"BTCUSDT","time":1569514978020}]"#;
pub const COUNTDOWN: &str = r#"{"symbol":"BTCUSDT","countdownTime":"100000"}"#;
pub const BATCH: &str = r#"[{"orderId":1,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"b1"},{"code":-2022,"msg":"ReduceOnly Order is rejected."}]"#;
pub const DEPTH_SNAPSHOT: &str = r#"{"lastUpdateId":1027024,"E":1589436922972,"T":1589436922959,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}"#;

/// All user-stream samples.
pub const USER_SAMPLES: &[&str] = &[
    OTU_FILL,
    OTU_LIQ,
    OTU_ADL,
    OTU_AMEND,
    ALGO_UPDATE,
    ALGO_UPDATE_NEW,
    TRADE_LITE,
    ACCOUNT_UPDATE,
    ACCOUNT_UPDATE_FUNDING,
    CONFIG_LEVERAGE,
    CONFIG_MULTI,
    MARGIN_CALL,
    LISTEN_KEY_EXPIRED,
    TRIGGER_REJECT,
    STRATEGY_UPDATE,
];
/// All market-stream samples.
pub const MARKET_SAMPLES: &[&str] = &[
    BOOK_TICKER,
    AGG_TRADE,
    MARK_PRICE,
    DEPTH_UPDATE,
    DEPTH5,
    SUB_OK,
    SUB_LIST,
    SUB_ERR,
    SUB_ERR_NESTED,
    KLINE,
];

/// Feeds `per_variant` seeded single-byte mutations (replace, delete, insert
/// a JSON-significant or invalid byte) of each variant to `agree`, and
/// returns how many it counted. Seeded splitmix64, so a failure reproduces.
pub fn mutations(
    variants: &[String],
    per_variant: usize,
    seed: u64,
    mut agree: impl FnMut(&[u8]) -> bool,
) -> usize {
    let mut st = seed;
    let mut rnd = || {
        st = st.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = st;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    const NASTY: &[u8] = b"\"\\{}[]:,0-.eE+ntf 9\x01\xff\xc3";
    let mut counted = 0;
    for v in variants {
        for _ in 0..per_variant {
            let mut m = v.clone().into_bytes();
            if m.is_empty() {
                break;
            }
            let pos = (rnd() % m.len() as u64) as usize;
            match rnd() % 3 {
                0 => m[pos] = NASTY[(rnd() % NASTY.len() as u64) as usize],
                1 => {
                    m.remove(pos);
                }
                _ => m.insert(pos, NASTY[(rnd() % NASTY.len() as u64) as usize]),
            }
            if agree(&m) {
                counted += 1;
            }
        }
    }
    counted
}
