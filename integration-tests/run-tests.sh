#!/usr/bin/env bash
# Pier's full test suite: installs the third-party clients and engines the tests drive,
# builds, then runs every test (unit, in-process API, integration with real clients) twice:
#
#   pass 1  SQLite + filesystem storage   the single-machine default (`pier up`)
#   pass 2  PostgreSQL + S3 (Garage)      the scale-out backends: the same suites again
#
# The multi-replica test (tests/replicas: two indexes, two registries, nginx) runs on
# PostgreSQL in both passes, over a shared directory in pass 1 and the S3 bucket in pass 2.
# A missing engine or client is a failure, never a skip. README's test command and .ci/run both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${PIER_TEST_THREADS:-2}"
# A fresh clone (CI) gains nothing from incremental compilation but its disk use.
[ -n "${CI:-}" ] && export CARGO_INCREMENTAL=0

echo "== installing test clients (skopeo, docker-registry, crane, postgresql, nginx, conformance …)"
bash integration-tests/tools/install-clients.sh

echo "== test engines: PostgreSQL (a throwaway cluster) and Garage (S3; built once into \$PIER_TOOLS_CACHE)"
ENGINES="$(mktemp -d)"
stop_engines() {
    bash integration-tests/tools/garage.sh stop "$ENGINES/garage" || true
    bash integration-tests/tools/postgres.sh stop "$ENGINES/postgres" || true
    rm -rf "$ENGINES"
}
trap stop_engines EXIT
pg_env="$(bash integration-tests/tools/postgres.sh start "$ENGINES/postgres")"
export "${pg_env?}"
mkdir -p "$ENGINES/garage"
bash integration-tests/tools/garage.sh start "$ENGINES/garage" >/dev/null
# shellcheck disable=SC1091
. "$ENGINES/garage/env"

echo "== building"
cargo build --workspace --bins --tests --locked

status=0
echo "== pass 1: SQLite + filesystem"
PIER_TEST_DATABASE=sqlite PIER_TEST_STORAGE=filesystem \
    cargo test --workspace --locked --no-fail-fast -- --test-threads="$threads" ||
    status=1

echo "== pass 2: PostgreSQL + S3 (Garage)"
PIER_TEST_DATABASE=postgres PIER_TEST_STORAGE=s3 \
    cargo test --workspace --locked --no-fail-fast -- --test-threads="$threads" ||
    status=1

echo "== benchmark smoke (tiny sizes, one round: every status and digest checked, no speed asserted)"
bash integration-tests/tools/bench.sh --smoke || status=1

exit "$status"
