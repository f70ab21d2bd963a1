#!/usr/bin/env bash
# The engine's own cost in CPU instructions per order cycle, per engine
# thread (network / execution / strategy), counted by valgrind's callgrind.
#
# Why instructions: wall-clock latency on a shared VM moves by ±30 % from run
# to run; the instruction count of the same work moves by well under 1 %, so
# a change to signing, query building, decoding or copies shows up here even
# when the latency bench cannot see it.
#
# How: the engine_roundtrip bench (release build, debug symbols) runs twice
# under callgrind with every thread in `park` mode (idle threads sleep, so
# idle polling does not inflate the count), once with R1 and once with R2
# rounds. Each round is one order cycle: LIMIT → ack → cancel → canceled →
# MARKET → fill. Start-up, warm-up and the floor client cost the same in both
# runs, so (count(R2) − count(R1)) / (R2 − R1) is the cost of one cycle.
# Parked threads still wake on their bounded timeouts; that residue is a few
# hundred instructions per cycle at most.
#
#   scripts/instructions.sh              # R1=50 R2=250
#   R1=100 R2=500 scripts/instructions.sh
#   TOP=15 scripts/instructions.sh       # also print each thread's top functions
#   BIN=path/to/engine_roundtrip-… scripts/instructions.sh   # skip the build
#
# Output: one line per engine thread, instructions per order cycle, and the
# callgrind files under target/instructions/<timestamp>/ for
# callgrind_annotate / kcachegrind.
set -euo pipefail

cd "$(dirname "$0")/.."

for tool in cargo valgrind callgrind_annotate; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "instructions: $tool not found (apt-get install valgrind; a Rust toolchain)" >&2
        exit 1
    fi
done

r1="${R1:-50}"
r2="${R2:-250}"
if ! [[ "$r1" =~ ^[0-9]+$ && "$r2" =~ ^[0-9]+$ ]] || ((r2 <= r1)); then
    echo "instructions: R1 and R2 must be whole numbers with R2 > R1 (got $r1, $r2)" >&2
    exit 1
fi

if [[ -n "${BIN:-}" ]]; then
    bin="$BIN" # an already built engine_roundtrip bench binary
else
    echo "== building the engine_roundtrip bench (release; a few minutes on 2 cores)" >&2
    bin="$(cargo bench --bench engine_roundtrip --no-run --message-format=json 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*engine_roundtrip[^"]*\)".*/\1/p' | tail -1)"
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
    echo "instructions: could not build or find the engine_roundtrip bench binary" >&2
    exit 1
fi

out="target/instructions/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"

# What is counted, as the inclusive cost of a function (callgrind pattern).
# Thread totals hold everything the thread ran, including idle wake-ups and
# market data, which grow with wall time (valgrind is slow, and slower on a
# loaded box), so they move by a few % between runs. The per-path rows are
# exact: they run once per request, reply or frame.
names=(network execution strategy exec:commands exec:rest-replies exec:user-stream net:request-write)
declare -A root=(
    [network]='net_thread::spawn::\{\{closure\}\}|NetThread::run \['
    [execution]='engine/exec/thread.rs:std::sys::backtrace::__rust_begin_short_backtrace'
    [strategy]='engine/strategy_thread.rs:std::sys::backtrace::__rust_begin_short_backtrace'
    [exec:commands]='engine::exec::thread::Exec::on_command \['
    [exec:rest-replies]='engine::exec::thread::Exec::on_reply \['
    [exec:user-stream]='engine::exec::thread::Exec::on_user_bytes \['
    [net:request-write]='engine::net_thread::run::NetThread::try_submit \['
)

# Inclusive instructions of a thread's loop function, summed over the
# per-thread files of one run.
cost_of() {
    local dir="$1" pattern="$2" total=0 f n
    for f in "$dir"/callgrind.out.*-*; do
        n="$(callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null |
            grep -E "$pattern" | sed -n 's/^ *\([0-9,]*\) .*/\1/p' | tr -d , | sort -n | tail -1)"
        total=$((total + ${n:-0}))
    done
    echo "$total"
}

declare -A count
for rounds in "$r1" "$r2"; do
    dir="$out/rounds-$rounds"
    mkdir -p "$dir"
    echo "== callgrind, $rounds rounds (valgrind runs the threads one at a time: slow)" >&2
    ROUNDS="$rounds" WAIT=park valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$dir/callgrind.out.%p" "$bin" >"$dir/bench.log" 2>"$dir/valgrind.log" || {
        echo "instructions: the run with $rounds rounds failed (see $dir/valgrind.log)" >&2
        exit 1
    }
    for t in "${names[@]}"; do
        count["$rounds:$t"]="$(cost_of "$dir" "${root[$t]}")"
    done
    if [[ -n "${TOP:-}" && "$rounds" == "$r2" ]]; then
        for f in "$dir"/callgrind.out.*-*; do
            for t in network execution strategy; do
                if callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null | grep -E "${root[$t]}" >/dev/null; then
                    echo "--- $t thread ($(basename "$f")): top $TOP functions by own cost, $rounds rounds"
                    callgrind_annotate --threshold=99 "$f" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n "3,$((TOP + 2))p" | cut -c1-200
                fi
            done
        done
    fi
done

printf '\n%-18s %14s %14s %16s\n' "thread / path" "Ir ($r1 rounds)" "Ir ($r2 rounds)" "Ir / order cycle"
for t in "${names[@]}"; do
    a="${count[$r1:$t]:-}"
    b="${count[$r2:$t]:-}"
    if [[ -z "$a" || -z "$b" || "$b" == 0 ]]; then
        printf '%-18s %14s %14s %16s\n' "$t" "${a:--}" "${b:--}" "not found"
        continue
    fi
    printf '%-18s %14d %14d %16d\n' "$t" "$a" "$b" $(((b - a) / (r2 - r1)))
done
echo "callgrind files: $out"
