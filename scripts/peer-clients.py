#!/usr/bin/env python3
"""Drive off-the-shelf Binance USD-M clients against a simulator and print a PASS/FAIL table.

Usage:
    python3 scripts/peer-clients.py [--base http://127.0.0.1:18080] [--symbol BTCUSDT]

Needs (in a venv outside the repo; nothing is installed by this script):
    python3 -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install ccxt python-binance binance-futures-connector
    /tmp/peers-venv/bin/python scripts/peer-clients.py

Each installed client runs the same walk: load markets / exchangeInfo, balance, positions, LIMIT order
(create, query, cancel), MARKET order (fill), STOP_MARKET conditional, and one ORDER_TRADE_UPDATE on the
user-data stream. Clients that are not installed are reported as SKIP. Only loopback base URLs are accepted.
The default credentials are the simulator's default account (Binance's documentation key pair).
"""

import argparse
import importlib.util
import json
import os
import queue
import sys
import threading
import time
import traceback
from decimal import Decimal
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sim_peer import DEMO_API_KEY, DEMO_SECRET, aim_ccxt_at_sim  # noqa: E402

CLIENTS = {
    "ccxt": "ccxt",
    "python-binance": "binance.client",
    "binance-futures-connector": "binance.um_futures",
}
STREAM_WAIT_S = 5.0


def installed(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class Walk:
    """Records one client's steps; a step that raises is FAIL with the error, never aborts the walk."""

    def __init__(self, name):
        self.name = name
        self.rows = []

    def step(self, label, fn):
        t0 = time.perf_counter()
        try:
            detail = fn()
            ok = True
        except Exception as e:  # any client error is a FAIL row, not a crash
            detail = f"{type(e).__name__}: {str(e)[:160]}"
            ok = False
            if VERBOSE:
                traceback.print_exc()
        ms = (time.perf_counter() - t0) * 1e3
        self.rows.append((self.name, label, "PASS" if ok else "FAIL", f"{ms:.1f}", str(detail or "")[:110]))
        return ok


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def mid_price(base, symbol):
    import urllib.request

    with urllib.request.urlopen(f"{base}/fapi/v1/ticker/bookTicker?symbol={symbol}", timeout=5) as r:
        t = json.loads(r.read())
    return Decimal(t["bidPrice"]), Decimal(t["askPrice"])


def resting_price(base, symbol):
    """A price well below the bid (rests) but inside PERCENT_PRICE (accepted): 2% under the bid, tick 0.1."""
    bid, _ = mid_price(base, symbol)
    return (bid * Decimal("0.98")).quantize(Decimal("0.1"))


def stop_price(base, symbol):
    _, ask = mid_price(base, symbol)
    return (ask * Decimal("1.05")).quantize(Decimal("0.1"))


# ---------------------------------------------------------------- user-data stream (shared helper)


def stream_listener(ws_base, listen_key, events):
    """Listen on /ws/<listenKey> with the connector's websocket client if installed, else websocket-client."""
    from binance.websocket.um_futures.websocket_client import UMFuturesWebsocketClient

    def on_message(_, msg):
        try:
            d = json.loads(msg)
        except (TypeError, ValueError):
            return
        if isinstance(d, dict) and d.get("e"):
            events.put(d)

    client = UMFuturesWebsocketClient(stream_url=ws_base, on_message=on_message, is_combined=False)
    client.user_data(listen_key=listen_key)
    return client


def wait_event(events, pred, timeout=STREAM_WAIT_S):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            e = events.get(timeout=max(0.01, end - time.monotonic()))
        except queue.Empty:
            break
        if pred(e):
            return e
    raise TimeoutError("no matching stream event")


# ---------------------------------------------------------------- ccxt


def make_ccxt(base):
    import ccxt

    ex = aim_ccxt_at_sim(ccxt.binanceusdm({"apiKey": DEMO_API_KEY, "secret": DEMO_SECRET, "enableRateLimit": False}), base)
    ex.options["adjustForTimeDifference"] = False
    ex.options["warnOnFetchOpenOrdersWithoutSymbol"] = False
    return ex


def walk_ccxt(base, symbol, w):
    ex = make_ccxt(base)
    uni = None
    st = {}

    def markets():
        nonlocal uni
        m = ex.load_markets()
        uni = next(s for s, v in m.items() if v["id"] == symbol and v.get("linear"))
        return f"{len(m)} markets, {uni}"

    if not w.step("load markets", markets):
        return

    def balance():
        b = ex.fetch_balance()
        return f"USDT free={b['USDT']['free']}"

    w.step("fetch balance", balance)
    w.step("fetch positions", lambda: f"{len(ex.fetch_positions([uni]))} positions")

    def limit():
        o = ex.create_order(uni, "limit", "buy", 0.002, float(resting_price(base, symbol)))
        st["limit"] = o["id"]
        expect(o["status"] == "open", o["status"])
        return f"id={o['id']} status={o['status']}"

    if w.step("create LIMIT", limit):
        w.step("query order", lambda: ex.fetch_order(st["limit"], uni)["status"])
        w.step("open orders", lambda: f"{len(ex.fetch_open_orders(uni))} open")
        w.step("cancel order", lambda: ex.cancel_order(st["limit"], uni)["status"])

    def market():
        o = ex.create_order(uni, "market", "buy", 0.002)
        if o.get("status") != "closed":
            o = ex.fetch_order(o["id"], uni)
        expect(o["status"] == "closed" and float(o["filled"]) == 0.002, f"{o['status']} {o['filled']}")
        return f"filled {o['filled']} avg={o['average']}"

    w.step("MARKET fill", market)
    w.step("my trades", lambda: f"{len(ex.fetch_my_trades(uni, limit=5))} trades")

    def stop():
        o = ex.create_order(uni, "STOP_MARKET", "buy", 0.002, None, {"stopPrice": float(stop_price(base, symbol))})
        st["stop"] = o["id"]
        return f"id={o['id']} status={o['status']} (via {'algo' if o['info'].get('algoId') else 'order'})"

    if w.step("STOP_MARKET", stop):
        w.step("cancel STOP", lambda: ex.cancel_order(st["stop"], uni, {"trigger": True}).get("status"))

    def close():
        o = ex.create_order(uni, "market", "sell", 0.002, None, {"reduceOnly": True})
        return o["status"]

    w.step("close position", close)
    w.step("ccxt.pro watch_orders (user stream)", lambda: ccxt_pro_walk(base, symbol))


def ccxt_pro_walk(base, symbol):
    import asyncio
    import ccxt.pro as ccxtpro

    async def run():
        ex = aim_ccxt_at_sim(ccxtpro.binanceusdm({"apiKey": DEMO_API_KEY, "secret": DEMO_SECRET}), base, websockets=True)
        try:
            await ex.load_markets()
            uni = next(s for s, m in ex.markets.items() if m["id"] == symbol and m.get("linear"))
            watch = asyncio.create_task(ex.watch_orders(uni))
            await asyncio.sleep(0.3)
            await ex.create_order(uni, "market", "buy", 0.002)
            orders = await asyncio.wait_for(watch, STREAM_WAIT_S)
            await ex.create_order(uni, "market", "sell", 0.002, None, {"reduceOnly": True})
            expect(any(o["status"] == "closed" for o in orders), [o["status"] for o in orders])
            return f"{len(orders)} update(s), status={orders[-1]['status']}"
        finally:
            await ex.close()

    return asyncio.run(run())


def stream_walk(base, make_key, trade, undo):
    events = queue.Queue()
    ws_base = base.replace("http://", "ws://").replace("https://", "wss://")
    client = stream_listener(ws_base, make_key(), events)
    try:
        time.sleep(0.3)  # let the subscription land before trading
        trade()
        e = wait_event(events, lambda d: d.get("e") == "ORDER_TRADE_UPDATE" and d["o"].get("X") == "FILLED")
        undo()
        return f"X={e['o']['X']} T={e['T']}"
    finally:
        client.stop()


# ---------------------------------------------------------------- python-binance


def walk_python_binance(base, symbol, w):
    from binance.client import Client

    c = Client(DEMO_API_KEY, DEMO_SECRET, ping=False)
    c.FUTURES_URL = base + "/fapi"
    st = {}
    w.step("exchangeInfo", lambda: f"{len(c.futures_exchange_info()['symbols'])} symbols")
    w.step("balance", lambda: next(b["balance"] for b in c.futures_account_balance() if b["asset"] == "USDT"))
    w.step("positions", lambda: f"{len(c.futures_position_information(symbol=symbol))} rows")

    def limit():
        o = c.futures_create_order(symbol=symbol, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.002",
                                   price=str(resting_price(base, symbol)))
        st["limit"] = o["orderId"]
        expect(o["status"] == "NEW", o["status"])
        return f"orderId={o['orderId']}"

    if w.step("create LIMIT", limit):
        w.step("query order", lambda: c.futures_get_order(symbol=symbol, orderId=st["limit"])["status"])
        w.step("cancel order", lambda: c.futures_cancel_order(symbol=symbol, orderId=st["limit"])["status"])

    def market():
        o = c.futures_create_order(symbol=symbol, side="BUY", type="MARKET", quantity="0.002", newOrderRespType="RESULT")
        expect(o["status"] == "FILLED", o["status"])
        return f"avgPrice={o['avgPrice']}"

    w.step("MARKET fill", market)
    def routed_stop():
        # python-binance >= 1.0.3x routes conditional types to POST /fapi/v1/algoOrder itself.
        o = c.futures_create_order(symbol=symbol, side="BUY", type="STOP_MARKET", quantity="0.002",
                                   stopPrice=str(stop_price(base, symbol)))
        expect("algoId" in o, f"not routed to the Algo Service: {o}")
        c._request_futures_api("delete", "algoOrder", True, data={"symbol": symbol, "algoId": o["algoId"]})
        return f"routed to algoOrder, algoId={o['algoId']}"

    w.step("STOP_MARKET (client routes to algo)", routed_stop)
    w.step("close position", lambda: c.futures_create_order(symbol=symbol, side="SELL", type="MARKET", quantity="0.002",
                                                            reduceOnly="true")["status"])

    def user_socket():
        # ThreadedWebsocketManager builds its AsyncClient with AsyncClient.create(), which pings the spot host
        # api.binance.com before any stream opens (a client hard-coding; it never reaches our base URL). The
        # same socket code is driven here through BinanceSocketManager on an AsyncClient built directly.
        import asyncio
        from binance.async_client import AsyncClient
        from binance.ws.streams import BinanceSocketManager

        async def run():
            ac = AsyncClient(DEMO_API_KEY, DEMO_SECRET)
            ac.FUTURES_URL = base + "/fapi"
            try:
                bsm = BinanceSocketManager(ac)
                bsm.FSTREAM_URL = base.replace("http://", "ws://") + "/"
                async with bsm.futures_user_socket() as sock:
                    await asyncio.sleep(0.3)
                    await ac.futures_create_order(symbol=symbol, side="BUY", type="MARKET", quantity="0.002")
                    end = time.monotonic() + STREAM_WAIT_S
                    while time.monotonic() < end:
                        d = await asyncio.wait_for(sock.recv(), timeout=max(0.01, end - time.monotonic()))
                        if isinstance(d, dict) and d.get("e") == "ORDER_TRADE_UPDATE" and d["o"].get("X") == "FILLED":
                            await ac.futures_create_order(symbol=symbol, side="SELL", type="MARKET",
                                                          quantity="0.002", reduceOnly="true")
                            return f"X={d['o']['X']} (BinanceSocketManager, /private/ws route)"
                    raise TimeoutError("no ORDER_TRADE_UPDATE")
            finally:
                await ac.close_connection()

        return asyncio.run(run())

    w.step("user socket ORDER_TRADE_UPDATE", user_socket)


def expect_4120(call):
    try:
        call()
    except Exception as e:
        code = getattr(e, "code", None) or getattr(e, "error_code", None)
        expect(str(code) == "-4120", f"expected -4120, got {code}: {e}")
        return "-4120 as on the venue"
    raise AssertionError("conditional order accepted on /fapi/v1/order")


# ---------------------------------------------------------------- binance-futures-connector


def walk_connector(base, symbol, w):
    from binance.um_futures import UMFutures

    c = UMFutures(key=DEMO_API_KEY, secret=DEMO_SECRET, base_url=base)
    st = {}
    w.step("exchangeInfo", lambda: f"{len(c.exchange_info()['symbols'])} symbols")
    w.step("balance", lambda: next(b["balance"] for b in c.balance() if b["asset"] == "USDT"))
    w.step("account", lambda: f"{len(c.account()['positions'])} positions")
    w.step("positions", lambda: f"{len(c.get_position_risk(symbol=symbol))} rows")

    def limit():
        o = c.new_order(symbol=symbol, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.002",
                        price=str(resting_price(base, symbol)))
        st["limit"] = o["orderId"]
        return f"orderId={o['orderId']} {o['status']}"

    if w.step("create LIMIT", limit):
        w.step("query order", lambda: c.query_order(symbol=symbol, orderId=st["limit"])["status"])
        w.step("cancel order", lambda: c.cancel_order(symbol=symbol, orderId=st["limit"])["status"])

    def market():
        o = c.new_order(symbol=symbol, side="BUY", type="MARKET", quantity="0.002", newOrderRespType="RESULT")
        expect(o["status"] == "FILLED", o["status"])
        return f"avgPrice={o['avgPrice']}"

    w.step("MARKET fill", market)
    w.step("STOP_MARKET on /fapi/v1/order", lambda: expect_4120(lambda: c.new_order(
        symbol=symbol, side="BUY", type="STOP_MARKET", quantity="0.002", stopPrice=str(stop_price(base, symbol)))))
    w.step("close position", lambda: c.new_order(symbol=symbol, side="SELL", type="MARKET", quantity="0.002",
                                                 reduceOnly="true")["status"])
    w.step("stream ORDER_TRADE_UPDATE", lambda: stream_walk(
        base, lambda: c.new_listen_key()["listenKey"],
        lambda: c.new_order(symbol=symbol, side="BUY", type="MARKET", quantity="0.002"),
        lambda: c.new_order(symbol=symbol, side="SELL", type="MARKET", quantity="0.002", reduceOnly="true")))


WALKS = {"ccxt": walk_ccxt, "python-binance": walk_python_binance, "binance-futures-connector": walk_connector}
VERBOSE = False


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:18080", help="simulator base URL (loopback only)")
    ap.add_argument("--symbol", default="BTCUSDT")
    ap.add_argument("--only", choices=sorted(WALKS), action="append", help="run only these clients")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    VERBOSE = a.verbose
    host = urlparse(a.base).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"refusing non-loopback base URL {a.base}", file=sys.stderr)
        return 2
    present = {n: installed(m) for n, m in CLIENTS.items()}
    if not any(present.values()):
        print("No peer client installed. Install them in a venv outside the repo:\n"
              "  python3 -m venv /tmp/peers-venv\n"
              "  /tmp/peers-venv/bin/pip install ccxt python-binance binance-futures-connector\n"
              "then run this script with /tmp/peers-venv/bin/python", file=sys.stderr)
        return 2
    if present["binance-futures-connector"] is False or not installed("websocket"):
        print("note: the stream steps use binance-futures-connector's websocket client", file=sys.stderr)
    rows = []
    for name in a.only or list(WALKS):
        if not present[name]:
            rows.append((name, "(not installed)", "SKIP", "", f"pip install {name}"))
            continue
        w = Walk(name)
        WALKS[name](a.base.rstrip("/"), a.symbol, w)
        rows.extend(w.rows)
    widths = [max(len(str(r[i])) for r in rows + [("client", "step", "result", "ms", "detail")]) for i in range(5)]
    fmt = "  ".join(f"{{:{'<' if i != 3 else '>'}{w}}}" for i, w in enumerate(widths))
    print(fmt.format("client", "step", "result", "ms", "detail"))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(fmt.format(*r))
    fails = sum(1 for r in rows if r[2] == "FAIL")
    print(f"\n{len(rows)} steps, {fails} FAIL")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
