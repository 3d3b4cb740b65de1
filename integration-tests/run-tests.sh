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

# The replica tests (tests/replicas) need PostgreSQL whatever the suite's backend: start a
# throwaway server unless one is given, and stop it when the script ends.
if [ -z "${PIER_TEST_POSTGRES_URL:-}" ]; then
    echo "== starting a throwaway PostgreSQL (tests/replicas needs one)"
    pg_dir="$PWD/target/pier-test-postgres"
    pg_env="$(bash integration-tests/tools/postgres.sh start "$pg_dir")"
    export "${pg_env?}"
    trap 'bash integration-tests/tools/postgres.sh stop "$pg_dir"' EXIT
fi

echo "== testing"
cargo test --workspace --locked --no-fail-fast -- --test-threads="${PIER_TEST_THREADS:-2}"

echo "== benchmark smoke (tiny sizes, one round: every status and digest checked, no speed asserted)"
bash integration-tests/tools/bench.sh --smoke
