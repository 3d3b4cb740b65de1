#!/usr/bin/env bash
# Run the OCI distribution-spec conformance runner (oci-conformance, see
# build-conformance.sh) against a fresh pier-registry on a free 127.0.0.1 port.
# Usage: integration-tests/tools/run-conformance.sh [results-dir]
# Needs the runner installed; fails loudly if it is not. Extra OCI_* variables pass through.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v oci-conformance >/dev/null || {
    echo "run-conformance: oci-conformance is not installed (see docs/conformance.md)" >&2
    exit 1
}
results="${1:-$(mktemp -d)}"
work="$(mktemp -d)"
cargo build --bin pier-registry --release --locked
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
PIER_REGISTRY_HTTP_LISTEN="127.0.0.1:$port" \
PIER_REGISTRY_STORAGE_ROOT="$work/storage" \
PIER_REGISTRY_DATABASE_URL="sqlite://$work/metadata.db" \
PIER_REGISTRY_LOG=warn \
    target/release/pier-registry >"$work/registry.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
OCI_REGISTRY="127.0.0.1:$port" OCI_TLS=disabled OCI_RESULTS_DIR="$results" \
OCI_REPO1="${OCI_REPO1:-conformance/one}" OCI_REPO2="${OCI_REPO2:-conformance/two}" \
    oci-conformance
echo "run-conformance: results in $results"
