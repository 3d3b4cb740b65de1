#!/usr/bin/env bash
# The figures of docs/reliability.md, section "Abuse limits": runs the abuse integration
# tests (real binaries on 127.0.0.1, raw TCP) one at a time and prints their FIGURE lines.
# PIER_TEST_DATABASE=postgres PIER_TEST_POSTGRES_URL=… runs them on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet --workspace --bins
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! cargo test --quiet -p pier-integration-tests --test abuse -- --nocapture --test-threads=1 >"$out" 2>&1; then
    cat "$out"
    exit 1
fi
grep -o 'FIGURE .*' "$out" | sed 's/^FIGURE //'
