#!/usr/bin/env bash
# Garage (the S3-compatible object store written in Rust) for the S3 storage tests.
#
#   garage.sh install     build it once into $PIER_TOOLS_CACHE/garage (cargo install, cached)
#   garage.sh start DIR   a single node on free 127.0.0.1 ports, data and config under DIR,
#                         layout assigned, one bucket and one read/write key; prints
#                         `export PIER_TEST_S3_…=…` lines (eval them) and writes DIR/env
#   garage.sh stop DIR    stop that node
#
# Only loopback addresses are bound. Every step fails loudly: a test run that asked for S3
# must never fall back to the filesystem.
set -euo pipefail
PIER_TOOL_NAME=garage
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

GARAGE_ROOT="$PIER_TOOLS_CACHE/garage"
GARAGE="$GARAGE_ROOT/bin/garage"
# A cargo install of the same root already running (another script, a person): wait for
# it instead of starting a second build.
wait_other_install() {
    local i
    for i in $(seq 1 720); do
        pgrep -f "cargo install garage .*--root $GARAGE_ROOT" >/dev/null || return 0
        [ $((i % 12)) = 1 ] && log "another 'cargo install garage' is running; waiting ..."
        sleep 5
    done
    die "'cargo install garage' still running after an hour"
}

install() {
    wait_other_install
    if [ -x "$GARAGE" ]; then
        log "$("$GARAGE" --version 2>/dev/null | head -1) at $GARAGE"
        return 0
    fi
    log "building Garage (cargo install garage --locked; once, cached in $GARAGE_ROOT)"
    mkdir -p "$GARAGE_ROOT"
    cargo install garage --locked --root "$GARAGE_ROOT" >&2 || die "cargo install garage failed"
    [ -x "$GARAGE" ] || die "no garage binary at $GARAGE after cargo install"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
    local dir="${1:?usage: garage.sh start DIR}"
    install
    mkdir -p "$dir/meta" "$dir/data"
    dir="$(cd "$dir" && pwd)"
    local rpc s3 admin
    rpc="$(free_port)"
    s3="$(free_port)"
    admin="$(free_port)"
    cat >"$dir/garage.toml" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(openssl rand -hex 32)"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin"
admin_token = "$(openssl rand -hex 32)"
TOML
    chmod 600 "$dir/garage.toml"
    local g=("$GARAGE" -c "$dir/garage.toml")
    RUST_LOG="${GARAGE_LOG:-warn}" nohup "${g[@]}" server >"$dir/garage.log" 2>&1 &
    echo $! >"$dir/garage.pid"
    local i node=""
    for i in $(seq 1 100); do
        node="$("${g[@]}" node id -q 2>/dev/null | cut -d@ -f1)" && [ -n "$node" ] && break
        kill -0 "$(cat "$dir/garage.pid")" 2>/dev/null || { cat "$dir/garage.log" >&2; die "garage exited"; }
        sleep 0.2
    done
    [ -n "$node" ] || { cat "$dir/garage.log" >&2; die "garage did not answer on 127.0.0.1:$rpc"; }
    # `node id` reads the key file: the RPC listener may not be up yet, so retry.
    for i in $(seq 1 50); do
        "${g[@]}" layout assign -z dc1 -c 1GB "$node" >/dev/null 2>&1 && break
        [ "$i" = 50 ] && { cat "$dir/garage.log" >&2; die "layout assign failed"; }
        sleep 0.2
    done
    "${g[@]}" layout apply --version 1 >/dev/null || die "layout apply failed"
    local key_id secret bucket=pier-test
    key_id="GK$(openssl rand -hex 12)"
    secret="$(openssl rand -hex 32)"
    "${g[@]}" key import --yes -n pier-test "$key_id" "$secret" >/dev/null || die "key import failed"
    "${g[@]}" bucket create "$bucket" >/dev/null || die "bucket create failed"
    "${g[@]}" bucket allow --read --write --owner "$bucket" --key "$key_id" >/dev/null ||
        die "bucket allow failed"
    # The S3 API answers once the layout is live.
    for i in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$s3/" && break
        sleep 0.2
    done
    cat >"$dir/env" <<ENV
export PIER_TEST_S3_ENDPOINT=http://127.0.0.1:$s3
export PIER_TEST_S3_BUCKET=$bucket
export PIER_TEST_S3_REGION=garage
export PIER_TEST_S3_ACCESS_KEY_ID=$key_id
export PIER_TEST_S3_SECRET_ACCESS_KEY=$secret
ENV
    chmod 600 "$dir/env"
    cat "$dir/env"
    log "garage node $node: S3 API on 127.0.0.1:$s3, bucket $bucket (stop: garage.sh stop $dir)"
}

stop() {
    local dir="${1:?usage: garage.sh stop DIR}"
    [ -f "$dir/garage.pid" ] || return 0
    local pid
    pid="$(cat "$dir/garage.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$dir/garage.pid"
}

case "${1:-}" in
install) install ;;
start) start "${2:-}" ;;
stop) stop "${2:-}" ;;
*) die "usage: garage.sh install | start DIR | stop DIR" ;;
esac
