#!/usr/bin/env bash
# Soak test: builds the release binary, runs `binance-exec soak` against the
# in-process simulator (faults injected, audited against the simulator's
# ledger), then the same cycle against the Binance USDⓈ-M testnet when
# testnet credentials are in the environment.
#
#   scripts/soak.sh                       # 10 minutes, 20 actions/s, every fault
#   scripts/soak.sh --duration 2m --seed 9
#   SOAK_CRASH_DURATION=5m scripts/soak.sh
#
# Arguments are passed to the simulator run (defaults: --duration 10m
# --rate 20 --faults all). A crash soak follows (the engine SIGKILLed and
# restarted, its journal audited against the ledger; SOAK_CRASH_DURATION,
# default 2m; SOAK_CRASH=0 skips it). Outputs go to
# target/soak/<timestamp>/{sim,crash,testnet}.
# Exit status: non-zero when any run lost, duplicated or mismatched
# anything, filled under 99.9 % of its fillable orders, or leaked the secret.
set -euo pipefail

cd "$(dirname "$0")/.."
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="target/soak/$stamp"
mkdir -p "$out"

echo "== building release binary"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/binance-exec"

args=("$@")
has() { local k=$1; for a in "${args[@]+"${args[@]}"}"; do [[ $a == "$k" || $a == "$k="* ]] && return 0; done; return 1; }
has --duration || args+=(--duration 10m)
has --rate || args+=(--rate 20)
has --faults || args+=(--faults all)

status=0
echo "== simulator soak: ${args[*]}"
"$bin" soak "${args[@]}" --out "$out/sim" || status=1

if [[ "${SOAK_CRASH:-1}" != 0 ]] && ! has --crash; then
    crash_args=(--crash --duration "${SOAK_CRASH_DURATION:-2m}")
    for ((i = 0; i < ${#args[@]}; i++)); do
        case ${args[i]} in
            --seed|--faults|--fault-every) crash_args+=("${args[i]}" "${args[i+1]:-}") ;;
            --seed=*|--faults=*|--fault-every=*|--json) crash_args+=("${args[i]}") ;;
        esac
    done
    echo "== crash soak (SIGKILL/restart, journal audited against the ledger): ${crash_args[*]}"
    "$bin" soak "${crash_args[@]}" --out "$out/crash" || status=1
fi

# config/testnet.toml reads its credentials from these variables.
if [[ -n "${BINANCE_TESTNET_API_KEY:-}" && -n "${BINANCE_TESTNET_API_SECRET:-}" ]]; then
    # Same duration and seed; a gentler rate (testnet limits are shared);
    # no faults (nobody injects them into the testnet).
    tn_args=(--rate 5)
    for ((i = 0; i < ${#args[@]}; i++)); do
        case ${args[i]} in
            --duration|--seed) tn_args+=("${args[i]}" "${args[i+1]:-}") ;;
            --duration=*|--seed=*|--json) tn_args+=("${args[i]}") ;;
        esac
    done
    echo "== testnet soak (no fault injection; audited against allOrders/userTrades/positionRisk): ${tn_args[*]}"
    "$bin" soak --venue testnet --config config/testnet.toml "${tn_args[@]}" \
        --out "$out/testnet" || status=1
else
    echo "== testnet soak SKIPPED: set BINANCE_TESTNET_API_KEY and BINANCE_TESTNET_API_SECRET" \
         "(testnet.binancefuture.com keys) to run the same cycle against the testnet"
fi

echo "== outputs in $out"
exit $status
