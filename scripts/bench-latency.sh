#!/usr/bin/env bash
# Builds binance-exec in release and runs `binance-exec bench` three times
# against the in-process simulator: a parking run (every engine thread blocks
# when idle), a spin_park run (each thread stays hot for a short window after
# work, then parks) and a yield run (every thread polls and yields the core:
# the most spinning a 2-core machine tolerates; three pure spinners on two
# cores starve each other). WAITS="park spin" overrides the list.
#
# Each run alternates floor blocks and engine blocks (F0 E0 F1 … E9 F10 by
# default, --blocks N), measures a bare floor (request/response only) and a
# loaded floor (the same client also holding and reading a user-data stream
# and the engine's market streams), and reports submit→ack divided by the
# floors measured right before and after each engine block — the median of
# those per-block ratios and its spread — plus the exact fill→strategy
# latency from the simulator's matching instant, split hop by hop (the
# simulator's publish and write, the engine's read, the execution thread,
# the hand-off to the strategy).
#
#   scripts/bench-latency.sh                 # 10,000 orders per run
#   scripts/bench-latency.sh --orders 2000   # extra args go to every run
#   scripts/bench-latency.sh --tls --entry rest --rate 500
#   ALLOC_TRACE=20 scripts/bench-latency.sh  # plus a park run that prints
#                                            # where engine threads allocate
#
# Each run prints its table and writes .hgrm files, latency.svg and
# report.json under target/bench/<timestamp>-<wait>/; a summary of all runs
# follows (needs python3; skipped without it).
set -euo pipefail

cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "bench-latency: cargo not found; install a Rust toolchain (1.88 or newer)" >&2
    exit 1
fi

echo "== building release (the first build takes a few minutes on 2 cores)" >&2
cargo build --release --quiet --bin binance-exec

target_dir="${CARGO_TARGET_DIR:-target}"
bin="$target_dir/release/binance-exec"
stamp="$(date -u +%Y%m%d-%H%M%S)"
out_root="target/bench/$stamp"
status=0
dirs=()

for wait in ${WAITS:-park spin_park yield}; do
    out="$out_root-$wait"
    echo
    echo "== $wait run → $out"
    if ! "$bin" bench --wait "$wait" --out "$out" "$@"; then
        echo "bench-latency: the $wait run did not complete (see above)" >&2
        status=1
    fi
    dirs+=("$out")
done

if [[ -n "${ALLOC_TRACE:-}" ]]; then
    out="$out_root-alloc-trace"
    echo
    echo "== park run with --alloc-trace $ALLOC_TRACE → $out (its latencies include backtrace captures)"
    if ! "$bin" bench --wait park --alloc-trace "$ALLOC_TRACE" --out "$out" "$@"; then
        status=1
    fi
fi

if command -v python3 >/dev/null 2>&1 && ((${#dirs[@]} > 0)); then
    echo
    echo "== summary (µs; ratios are medians of per-block ratios [min–max])"
    python3 - "${dirs[@]}" <<'PY'
import json, os, sys

def us(ns):
    return f"{ns / 1000:.1f}"

def spread(r):
    if not r:
        return "-"
    return f"{r['median']:.2f} [{r['min']:.2f}–{r['max']:.2f}]"

print(f"{'wait':<10} {'submit→ack p50/p99':>19} {'fill exact p50/p99':>19} "
      f"{'bare floor p50/p99':>19} {'loaded p50/p99':>16} {'÷bare p50':>18} {'÷loaded p50':>18}")
for d in sys.argv[1:]:
    path = os.path.join(d, "report.json")
    try:
        with open(path) as f:
            r = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{os.path.basename(d):<10} no report ({e})")
        continue
    il = r.get("interleaved") or {}
    fe = (r.get("fill_exact") or {}).get("series") or {}
    e = il.get("engine_submit_to_ack") or {}
    b = il.get("floor_bare") or {}
    l = il.get("floor_loaded") or {}
    pair = lambda s: f"{us(s.get('p50_ns', 0))}/{us(s.get('p99_ns', 0))}" if s else "-"
    wait = r["setup"]["wait"][1]
    print(f"{wait:<10} {pair(e):>19} {pair(fe):>19} {pair(b):>19} {pair(l):>16} "
          f"{spread(il.get('ratio_bare_p50')):>18} {spread(il.get('ratio_loaded_p50')):>18}")
print("targets: submit→ack p50 ≤ 3× floor; fill→strategy p99 < 100 µs")
print()
print("exact fill, hop by hop (µs p50/p99): sim match → frame queued → on the socket → "
      "engine read → execution thread → handed to the strategy channel → strategy → callback")
for d in sys.argv[1:]:
    try:
        with open(os.path.join(d, "report.json")) as f:
            r = json.load(f)
    except (OSError, ValueError):
        continue
    stages = (r.get("fill_exact") or {}).get("stages") or []
    if stages:
        wait = r["setup"]["wait"][1]
        print(f"{wait:<10} " + ", ".join(
            f"{s['name']} {us(s['p50_ns'])}/{us(s['p99_ns'])}" for s in stages))
PY
fi

echo
echo "files: $out_root-<wait>/ (open latency.svg in a browser)"
exit "$status"
