#!/usr/bin/env bash
# Builds binance-exec in release and runs `binance-exec bench` three times
# against the in-process simulator: a parking run (every engine thread blocks
# when idle), a spin_park run (each thread stays hot for a short window after
# work, then parks) and a yield run (every thread polls and yields the core:
# the most spinning a 2-core machine tolerates; three pure spinners on two
# cores starve each other). WAITS="park spin" overrides the list.
#
#   scripts/bench-latency.sh                 # 10,000 orders per run
#   scripts/bench-latency.sh --orders 2000   # extra args go to both runs
#   scripts/bench-latency.sh --tls --entry rest --rate 500
#
# Each run prints its table and writes .hgrm files, latency.svg and
# report.json under target/bench/<timestamp>-<wait>/.
set -euo pipefail

cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "bench-latency: cargo not found; install a Rust toolchain (1.88 or newer)" >&2
    exit 1
fi

echo "== building release (the first build takes a few minutes on 2 cores)" >&2
cargo build --release --quiet

target_dir="${CARGO_TARGET_DIR:-target}"
bin="$target_dir/release/binance-exec"
stamp="$(date -u +%Y%m%d-%H%M%S)"
out_root="target/bench/$stamp"
status=0

for wait in ${WAITS:-park spin_park yield}; do
    out="$out_root-$wait"
    echo
    echo "== $wait run → $out"
    if ! "$bin" bench --wait "$wait" --out "$out" "$@"; then
        echo "bench-latency: the $wait run did not complete (see above)" >&2
        status=1
    fi
done

echo
echo "files: $out_root-<wait>/ (open latency.svg in a browser)"
exit "$status"
