#!/usr/bin/env bash
# Pier's full test suite: installs the third-party clients the tests drive, builds the
# binaries, then runs every test (unit, in-process API, integration with real clients).
# README's test command and .ci/run both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== installing test clients (skopeo, docker-registry, crane, conformance …)"
bash integration-tests/tools/install-clients.sh

echo "== S3 test engine: Garage (built once into \$PIER_TOOLS_CACHE, single node on 127.0.0.1)"
GARAGE_DIR="$(mktemp -d)"
trap 'bash integration-tests/tools/garage.sh stop "$GARAGE_DIR"; rm -rf "$GARAGE_DIR"' EXIT
bash integration-tests/tools/garage.sh start "$GARAGE_DIR" >/dev/null
# shellcheck disable=SC1091
. "$GARAGE_DIR/env"

echo "== building"
cargo build --workspace --bins --locked

echo "== testing (filesystem storage; the S3 driver's own tests run against Garage)"
cargo test --workspace --locked --no-fail-fast -- --test-threads="${PIER_TEST_THREADS:-2}"

echo "== testing the registry over S3 (the storage suite and the in-process API suite)"
PIER_TEST_STORAGE=s3 cargo test -p pier-registry --locked --no-fail-fast --lib --test api \
    -- --test-threads="${PIER_TEST_THREADS:-2}"

echo "== benchmark smoke (tiny sizes, one round: every status and digest checked, no speed asserted)"
bash integration-tests/tools/bench.sh --smoke
