#!/usr/bin/env bash
# Token issuance benchmark (issue #3's cost target): starts a release pier-index on a free
# 127.0.0.1 port with a fresh database, creates a user, and measures with token-bench:
#   1. GET /token with Basic credentials (bcrypt once, then the credential cache)
#   2. POST /token grant_type=refresh_token (no bcrypt)
# and, for comparison in the same run, the reference registry (Debian's docker-registry)
# with htpasswd auth, where every request pays bcrypt (GET /v2/ with Basic credentials).
# Loopback only; every run is bounded (SECONDS_PER_RUN, default 5). Prints JSON lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${SECONDS_PER_RUN:-5}"
conc="${CONCURRENCY:-8}"
cargo build --release --locked --bin pier-index --bin token-bench
work="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export PIER_INDEX_DATABASE_URL="sqlite://$work/index.db" PIER_INDEX_TOKEN_KEY_DIR="$work/keys" \
       PIER_INDEX_ADMIN_PASSWORD=bench-admin PIER_INDEX_LOG=warn
port="$(free_port)"
PIER_INDEX_HTTP_LISTEN="127.0.0.1:$port" target/release/pier-index >"$work/index.out" 2>&1 &
pids=($!)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null && break; sleep 0.1; done
echo bench-pw | target/release/pier-index user add bench --password-stdin >/dev/null
url="http://127.0.0.1:$port/token"
scope="repository:bench/app:pull,push"
echo "# pier-index token issuance, c=$conc, ${secs}s each"
target/release/token-bench --url "$url" --user bench --password bench-pw --scope "$scope" -c "$conc" --seconds "$secs"
refresh="$(curl -fs -u bench:bench-pw "$url?service=pier-registry&offline_token=true&client_id=bench" | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])')"
target/release/token-bench --url "$url" --refresh-token "$refresh" --scope "$scope" -c "$conc" --seconds "$secs"

if command -v docker-registry >/dev/null && command -v htpasswd >/dev/null; then
    # Same bcrypt cost as pier-index (passwords.bcrypt_cost = 12), for a like-for-like peer.
    htpasswd -Bbn -C 12 bench bench-pw >"$work/htpasswd"
    peer="$(free_port)"
    cat >"$work/peer.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/peer}}
http: {addr: 127.0.0.1:$peer}
auth: {htpasswd: {realm: bench, path: $work/htpasswd}}
YML
    docker-registry serve "$work/peer.yml" >"$work/peer.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do curl -s "http://127.0.0.1:$peer/v2/" >/dev/null && break; sleep 0.1; done
    echo "# peer: docker-registry (distribution) with htpasswd, GET /v2/ with Basic credentials"
    target/release/token-bench --url "http://127.0.0.1:$peer/v2/" --user bench --password bench-pw -c "$conc" --seconds "$secs" \
        | sed 's/"token_basic"/"peer_htpasswd_basic"/'
else
    echo "# peer skipped: docker-registry or htpasswd not installed (integration-tests/tools/install-clients.sh)" >&2
fi
