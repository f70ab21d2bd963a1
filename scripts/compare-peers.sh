#!/usr/bin/env bash
# Compare a peer client (ccxt) with this engine on the same order flow against `binance-exec sim`.
#
#   scripts/compare-peers.sh [LIMITS] [MARKETS]        (defaults 50 50, each bounded to 500)
#
# Builds the release binary, starts the simulator on a loopback port with an event log, runs
# scripts/compare-peers.py (ccxt.pro: REST orders + watch_orders) with N LIMIT orders that rest and
# are cancelled, then M MARKET orders, and prints submit-to-ack and fill-to-strategy percentiles.
#
# Needs a Python with ccxt. Nothing is installed for you:
#   python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install ccxt
#   PYTHON=/tmp/peers-venv/bin/python scripts/compare-peers.sh
# Environment: PYTHON (default /tmp/peers-venv/bin/python if present, else python3), PORT (18181),
# CARGO_TARGET_DIR (cargo's default otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

LIMITS=${1:-50}
MARKETS=${2:-50}
PORT=${PORT:-18181}
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /tmp/peers-venv/bin/python ]]; then PYTHON=/tmp/peers-venv/bin/python; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c 'import ccxt.pro' 2>/dev/null; then
  cat >&2 <<EOF
compare-peers: $PYTHON has no ccxt. Install it in a venv outside the repo:
  python3 -m venv /tmp/peers-venv && /tmp/peers-venv/bin/pip install ccxt
  PYTHON=/tmp/peers-venv/bin/python $0
EOF
  exit 2
fi

echo "== building release binary"
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/binance-exec"

WORK=$(mktemp -d /tmp/compare-peers.XXXXXX)
EVLOG="$WORK/events.jsonl"
SAMPLES="$WORK/samples.json"
BASE="http://127.0.0.1:$PORT"

echo "== starting binance-exec sim on 127.0.0.1:$PORT (event log $EVLOG)"
"$BIN" sim --listen "127.0.0.1:$PORT" --event-log "$EVLOG" >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
stop_sim() {
  if kill -0 "$SIM_PID" 2>/dev/null; then
    kill -INT "$SIM_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SIM_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SIM_PID" 2>/dev/null || true
  fi
}
trap stop_sim EXIT
up=0
for _ in $(seq 1 100); do
  if "$PYTHON" -c "import urllib.request,sys; urllib.request.urlopen('$BASE/fapi/v1/ping', timeout=1)" 2>/dev/null; then
    up=1; break
  fi
  kill -0 "$SIM_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ $up -ne 1 ]]; then
  echo "compare-peers: the simulator did not come up; its log:" >&2
  cat "$WORK/sim.log" >&2
  exit 1
fi

echo "== peer flow: $LIMITS LIMIT (rest + cancel), $MARKETS MARKET"
timeout 300 "$PYTHON" scripts/compare-peers.py --base "$BASE" --limits "$LIMITS" --markets "$MARKETS" \
  --samples "$SAMPLES"
stop_sim   # flushes the event log
trap - EXIT

echo
echo "== peer (ccxt) — microseconds"
"$PYTHON" scripts/compare-peers.py --report "$SAMPLES" --event-log "$EVLOG"

echo
echo "== engine (binance-exec) — same flow, microseconds"
# The same mix (resting LIMIT + cancel, MARKET that fills), the same count, default `park` waits
# (ccxt's threads also sleep), in-process simulator. Compare the peer's submit-to-ack with the
# engine's submit_to_ack, and the peer's fill-to-strategy (simulator send → callback, ns event log)
# with the engine's wire_to_strategy (bytes read → callback; the engine's fill_to_strategy uses the
# venue's millisecond T and carries ~0.5 ms of rounding).
"$BIN" bench --orders "$((LIMITS + MARKETS))" --warmup 50
echo
echo "(work files in $WORK)"
