#!/usr/bin/env python3
"""Measure a peer client (ccxt, async `ccxt.pro`) against `binance-exec sim` with a fixed order flow.

Normally run by scripts/compare-peers.sh, which builds and starts the simulator. Two modes:

  flow:   compare-peers.py --base http://127.0.0.1:PORT --limits N --markets M --samples out.json
          N LIMIT orders that rest, each then cancelled, and M MARKET orders that fill, one at a time.
          Records, per order, submit-to-ack (client call -> REST reply parsed, monotonic clock) and, for
          fills, the wall-clock time the client's watch_orders() delivered the FILLED update.
  report: compare-peers.py --report out.json [--event-log ev.jsonl]
          Prints p50/p90/p99/max tables. Fill-to-strategy is the callback time minus the fill's `T`
          (same machine clock; T has 1 ms resolution) and, with the simulator's --event-log, minus the
          ns time the simulator wrote that frame to the socket.

Needs: python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install ccxt
Nothing is installed by this script. Only loopback base URLs are accepted.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from decimal import Decimal
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sim_peer import DEMO_API_KEY, DEMO_SECRET, aim_ccxt_at_sim  # noqa: E402
FILL_WAIT_S = 5.0


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    i = min(len(s) - 1, max(0, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[i]


def make_exchange(base):
    import ccxt.pro as ccxtpro

    ex = ccxtpro.binanceusdm({"apiKey": DEMO_API_KEY, "secret": DEMO_SECRET, "enableRateLimit": False})
    return aim_ccxt_at_sim(ex, base, websockets=True)


async def flow(a):
    ex = make_exchange(a.base)
    samples = {"client": "ccxt " + __import__("ccxt").__version__, "limit_ack_us": [], "cancel_ack_us": [],
               "market_ack_us": [], "fills": []}
    filled = {}  # clientOrderId -> callback wall ns
    waiting = {}  # clientOrderId -> asyncio.Event
    try:
        await ex.load_markets()
        uni = next(s for s, m in ex.markets.items() if m["id"] == a.symbol and m.get("linear"))
        book = await ex.fetch_order_book(uni, 5)
        rest_px = float((Decimal(str(book["bids"][0][0])) * Decimal("0.98")).quantize(Decimal("0.1")))

        async def watcher():
            while True:
                orders = await ex.watch_orders(uni)
                now = time.time_ns()
                for o in orders:
                    cid = o.get("clientOrderId")
                    if o.get("status") == "closed" and cid in waiting and cid not in filled:
                        # `T` of the ORDER_TRADE_UPDATE that reported the fill (venue ms).
                        filled[cid] = (now, str(o["id"]), (o.get("info") or {}).get("T"))
                        waiting[cid].set()

        task = asyncio.create_task(watcher())
        await asyncio.sleep(0.5)  # user stream subscribed before the first order
        run = int(time.time()) % 100000
        for i in range(a.limits):
            cid = f"cmpL{run}x{i}"
            t0 = time.perf_counter_ns()
            o = await ex.create_order(uni, "limit", "buy", a.qty, rest_px, {"clientOrderId": cid})
            samples["limit_ack_us"].append((time.perf_counter_ns() - t0) / 1e3)
            t0 = time.perf_counter_ns()
            await ex.cancel_order(o["id"], uni)
            samples["cancel_ack_us"].append((time.perf_counter_ns() - t0) / 1e3)
        for i in range(a.markets):
            side = "buy" if i % 2 == 0 else "sell"  # alternate so the position stays flat
            cid = f"cmpM{run}x{i}"
            waiting[cid] = asyncio.Event()
            t0 = time.perf_counter_ns()
            await ex.create_order(uni, "market", side, a.qty, None, {"clientOrderId": cid})
            samples["market_ack_us"].append((time.perf_counter_ns() - t0) / 1e3)
            try:
                await asyncio.wait_for(waiting[cid].wait(), FILL_WAIT_S)
            except asyncio.TimeoutError:
                print(f"no FILLED update for {cid} within {FILL_WAIT_S}s", file=sys.stderr)
                continue
            now, order_id, t_ms = filled[cid]
            samples["fills"].append({"clientOrderId": cid, "orderId": order_id, "callback_ns": now, "T_ms": t_ms})
        task.cancel()
    finally:
        await ex.close()
    with open(a.samples, "w") as fh:
        json.dump(samples, fh)
    return 0


def table(rows):
    head = ("measure", "n", "p50", "p90", "p99", "max")
    print("  ".join(f"{h:>10}" if i else f"{h:<44}" for i, h in enumerate(head)))
    for name, v in rows:
        cells = [f"{len(v):>10}"] + [f"{x:>10.1f}" for x in (pct(v, 50), pct(v, 90), pct(v, 99), max(v or [0]))]
        print(f"{name:<44}  " + "  ".join(cells))


def report(a):
    with open(a.report) as fh:
        s = json.load(fh)
    fill_t = [(f["callback_ns"] - f["T_ms"] * 1_000_000) / 1e3 for f in s["fills"] if f.get("T_ms")]
    rows = [
        ("submit-to-ack LIMIT (us)", s["limit_ack_us"]),
        ("cancel-to-ack (us)", s["cancel_ack_us"]),
        ("submit-to-ack MARKET (us)", s["market_ack_us"]),
        ("fill T -> callback, same clock, T in ms (us)", fill_t),
    ]
    if a.event_log:
        sent = {}
        with open(a.event_log) as fh:
            for line in fh:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if e.get("e") == "ORDER_TRADE_UPDATE" and e.get("clientOrderId"):
                    sent[e["clientOrderId"]] = e["send_ns"]  # last frame of the order = its FILLED update
        wire = [(f["callback_ns"] - sent[f["clientOrderId"]]) / 1e3 for f in s["fills"] if f["clientOrderId"] in sent]
        rows.append(("fill frame sent -> callback, event log (us)", wire))
    print(f"peer: {s['client']} (ccxt.pro, REST orders + watch_orders user stream), loopback")
    table(rows)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:18080")
    ap.add_argument("--symbol", default="BTCUSDT")
    ap.add_argument("--qty", type=float, default=0.002)
    ap.add_argument("--limits", type=int, default=50, help="LIMIT orders that rest then cancel (max 500)")
    ap.add_argument("--markets", type=int, default=50, help="MARKET orders (max 500)")
    ap.add_argument("--samples", default="/tmp/compare-peers.json")
    ap.add_argument("--report", help="print the tables from a samples file")
    ap.add_argument("--event-log", help="the simulator's --event-log file, for frame-send timing")
    ap.add_argument("--timeout", type=float, default=180.0, help="hard limit for the flow, seconds")
    a = ap.parse_args()
    if a.report:
        return report(a)
    if urlparse(a.base).hostname not in ("127.0.0.1", "localhost", "::1"):
        print(f"refusing non-loopback base URL {a.base}", file=sys.stderr)
        return 2
    if not (0 <= a.limits <= 500 and 0 <= a.markets <= 500):
        print("--limits and --markets are bounded to 0..500", file=sys.stderr)
        return 2
    try:
        import ccxt.pro  # noqa: F401
    except ImportError:
        print("ccxt is not installed. Install it in a venv outside the repo:\n"
              "  python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install ccxt\n"
              "then run with PYTHON=/tmp/peers-venv/bin/python", file=sys.stderr)
        return 2

    async def bounded():
        return await asyncio.wait_for(flow(a), a.timeout)

    return asyncio.run(bounded())


if __name__ == "__main__":
    sys.exit(main())
