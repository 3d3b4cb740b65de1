#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for RUNS executions each, one after the other,
# one libFuzzer process at a time, and print a table: executions, exec/s, wall time,
# crashes, corpus size. Exit 1 if any target crashed (or timed out, or ran out of memory).
#
#   fuzz/run.sh                      # all targets, 10,000,000 executions each
#   RUNS=100000 fuzz/run.sh range    # a quick look at one target
#   SANITIZER=none fuzz/run.sh       # without AddressSanitizer
#   MAX_TIME=90 fuzz/run.sh          # also stop each target after 90 s (fewer than RUNS)
#
# Not part of CI: it takes tens of minutes. Builds with the stable toolchain; cargo-fuzz
# passes nightly-only sanitizer flags (-Zsanitizer=address), which RUSTC_BOOTSTRAP=1 allows.
# Seeds are read from corpus/<target>/ (committed); what libFuzzer finds is written to
# corpus-grown/<target>/ and crashing inputs to artifacts/<target>/ (both ignored by git:
# copy a crashing input into corpus/<target>/ once it is fixed). Logs go to logs/<target>.log.
set -euo pipefail

cd "$(dirname "$0")"
RUNS="${RUNS:-10000000}"
SANITIZER="${SANITIZER:-address}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz missing: installing it" >&2
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

# -a: debug assertions and overflow checks on, so an arithmetic overflow is a crash.
build_flags=(-a --sanitizer "$SANITIZER")
# One build of every target first, so the wall time below is fuzzing only.
cargo fuzz build "${build_flags[@]}"

mkdir -p logs
failed=0
rows=()
for t in "${targets[@]}"; do
    mkdir -p "corpus-grown/$t" "artifacts/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    args=(-runs="$RUNS" -timeout=10 -print_final_stats=1)
    [ -f "dict/$t.dict" ] && args+=(-dict="dict/$t.dict")
    [ -n "${MAX_TIME:-}" ] && args+=(-max_total_time="$MAX_TIME")
    start=$(date +%s.%N)
    set +e
    cargo fuzz run "${build_flags[@]}" "$t" "corpus-grown/$t" "corpus/$t" -- "${args[@]}" \
        >"logs/$t.log" 2>&1
    rc=$?
    set -e
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "logs/$t.log" | tail -n 1)
    corp=$( (grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "logs/$t.log" || true) | tail -n 1 \
        | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
    crashes=$(( $(find "artifacts/$t" -type f | wc -l) - before ))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes=1 # libFuzzer failed without writing an artifact (e.g. a build error)
    fi
    [ "$crashes" -gt 0 ] && failed=1
    rows+=("$(printf '%-14s %12s %9s %9.0f %8s %7s' "$t" "${execs:-?}" "${rate:-?}" "$wall" \
        "$crashes" "${corp:-?}")")
    echo "${rows[-1]}" >&2
done

printf '\n%-14s %12s %9s %9s %8s %7s\n' target executions exec/s "time(s)" crashes corpus
printf '%s\n' "${rows[@]}"
echo "sanitizer: $SANITIZER; runs per target: $RUNS; logs in fuzz/logs/, crashes in fuzz/artifacts/"
exit "$failed"
