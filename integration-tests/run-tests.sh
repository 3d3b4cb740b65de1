#!/usr/bin/env bash
# Pier's full test suite: installs the third-party clients the tests drive, builds the
# binaries, then runs every test (unit, in-process API, integration with real clients).
# README's test command and .ci/run both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== installing test clients (skopeo, docker-registry, crane, conformance …)"
bash integration-tests/tools/install-clients.sh

echo "== building"
cargo build --workspace --bins --locked

echo "== testing"
cargo test --workspace --locked --no-fail-fast -- --test-threads="${PIER_TEST_THREADS:-2}"

echo "== benchmark smoke (tiny sizes, one round: every status and digest checked, no speed asserted)"
bash integration-tests/tools/bench.sh --smoke
