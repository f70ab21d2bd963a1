"""What every peer-client script needs to point a third-party Binance client at `binance-exec sim`.

The simulator's default account uses Binance's public documentation key pair (not a secret). ccxt keeps
its venue addresses in `urls["api"]`; rewriting them is the only way to aim it at a loopback base URL.
"""

DEMO_API_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
DEMO_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"


def aim_ccxt_at_sim(ex, base, websockets=False):
    """Rewrite a ccxt / ccxt.pro binanceusdm instance's endpoints to the simulator at `base`.

    Also turns off the start-up calls the simulator has no reason to serve (all markets, currencies)."""
    api = ex.urls["api"]
    for k, v in list(api.items()):
        if isinstance(v, str) and "fapi.binance.com" in v:
            api[k] = v.replace("https://fapi.binance.com", base)
    if websockets:
        ws_base = base.replace("http://", "ws://")
        for k, v in list(api["ws"].items()):
            if isinstance(v, str):
                api["ws"][k] = v.replace("wss://fstream.binance.com", ws_base)
        api["ws"]["ws-api"]["linear"] = ws_base + "/ws-fapi/v1"
    ex.options["fetchMarkets"] = {"types": ["linear"]}
    ex.options["fetchCurrencies"] = False
    return ex
