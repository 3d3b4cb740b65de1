#!/usr/bin/env bash
# Measure Pier scaled out: two pier-index and two pier-registry processes (release build) on
# one PostgreSQL and one shared directory, behind nginx, as docs/operations.md describes;
# pier-bench runs the same workloads against nginx and against one registry replica
# directly, and prints the table (docs/operations.md, "Capacity sketch").
#
#   integration-tests/tools/replicas-bench.sh [--seconds S] [--only a,b,…] [--debug]
#                                             [--nginx-buffer SIZE]
#
# --nginx-buffer SIZE sets nginx's proxy_buffer_size, proxy_buffers, proxy_busy_buffers_size
# and client_body_buffer_size (bodies are copied through them when buffering is off;
# default here 256k as in docs/operations.md; nginx's own defaults are 4k/8k and 16k).
#
# --debug uses the debug binaries already built (cargo build --workspace --bins): figures
# then compare nginx with a direct replica, not Pier with anything else.
#
# Uses PIER_TEST_POSTGRES_URL if set (else starts a throwaway server with postgres.sh,
# durable). Everything listens on 127.0.0.1; everything it starts is stopped at exit.
# Output: target/bench/replicas-<UTC time>/{table.md,*.jsonl,nginx.conf}.
set -euo pipefail
PIER_TOOL_NAME=replicas-bench
here="$(dirname "$(readlink -f "$0")")"
# shellcheck source=common.sh
. "$here/common.sh"
cd "$here/../.."

seconds=2
profile=release
nginx_buffer="proxy_buffer_size 256k; proxy_buffers 4 256k; proxy_busy_buffers_size 256k; client_body_buffer_size 256k;"
only="manifest_get_tag,manifest_put,blob_head,push_mono_1k,push_mono_1m,pull_1m,push_mono_64m,pull_64m,mixed,token"
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --debug) profile=debug; shift ;;
    --nginx-buffer) nginx_buffer="proxy_buffer_size $2; proxy_buffers 4 $2; proxy_busy_buffers_size $2; client_body_buffer_size $2;"; shift 2 ;;
    *) die "unknown option $1" ;;
    esac
done

command -v nginx >/dev/null || die "nginx is not installed (install-clients.sh installs it)"
if [ "$profile" = release ]; then
    cargo build --release --locked --bin pier-index --bin pier-registry --bin pier-bench
fi
bin="$PWD/target/$profile"
out="$PWD/target/bench/replicas-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
work="$(mktemp -d "${BENCH_DIR:-/var/tmp}/pier-replicas.XXXXXX")"
pids=()
pg_started=""
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "$pg_started" ] && bash "$here/postgres.sh" stop "$pg_started"
    cp "$work"/*.log "$out"/ 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${PIER_TEST_POSTGRES_URL:-}" ]; then
    pg_started="$work/pg"
    eval "export $(bash "$here/postgres.sh" start "$pg_started" --durable)"
fi
admin_url="$PIER_TEST_POSTGRES_URL"
base_url="${admin_url%/*}"
suffix="$$_$(date +%s)"
for db in registry index; do
    psql -q "$admin_url" -c "CREATE DATABASE pier_bench_${db}_$suffix" >/dev/null ||
        die "cannot create a database on $admin_url"
done
registry_db="$base_url/pier_bench_registry_$suffix"
index_db="$base_url/pier_bench_index_$suffix"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port
    local i
    for i in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    die "nothing listens on 127.0.0.1:$1"
}

lb_index="$(free_port)" lb_registry="$(free_port)"
ix=("$(free_port)" "$(free_port)") rg=("$(free_port)" "$(free_port)")
secret="replicas-bench-introspection-secret"
kek="$(head -c 32 /dev/urandom | base64)"
public="http://127.0.0.1:$lb_index"

mkdir -p "$work/nginx/temp"
user=""
[ "$(id -u)" = 0 ] && user="user root;"
cat >"$out/nginx.conf" <<EOF
daemon off;
$user
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/temp;
    proxy_temp_path $work/nginx/temp;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    $nginx_buffer
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    upstream pier_index { server 127.0.0.1:${ix[0]}; server 127.0.0.1:${ix[1]}; keepalive 32; }
    upstream pier_registry { server 127.0.0.1:${rg[0]}; server 127.0.0.1:${rg[1]}; keepalive 32; }
    server { listen 127.0.0.1:$lb_index; location / { proxy_pass http://pier_index; } }
    server { listen 127.0.0.1:$lb_registry; location / { proxy_pass http://pier_registry; } }
}
EOF
nginx -p "$work/nginx" -c "$out/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)

for i in 0 1; do
    PIER_INDEX_HTTP_LISTEN="127.0.0.1:${ix[$i]}" PIER_INDEX_DATABASE_URL="$index_db" \
        PIER_INDEX_HTTP_PUBLIC_URL="$public" PIER_INDEX_KEYS_ENCRYPTION_KEY="$kek" \
        PIER_INDEX_TOKEN_KEY_DIR="$work/index-$i/keys" PIER_INDEX_LOG=warn \
        PIER_INDEX_REGISTRY_INTROSPECTION_SECRET="$secret" \
        PIER_INDEX_REGISTRY_URL="http://127.0.0.1:$lb_registry" \
        PIER_INDEX_ADMIN_PASSWORD=bench-admin-password \
        "$bin/pier-index" >"$work/index-$i.out" 2>"$work/index-$i.log" &
    pids+=($!)
    wait_port "${ix[$i]}"
done
echo bench-pw | PIER_INDEX_DATABASE_URL="$index_db" PIER_INDEX_KEYS_ENCRYPTION_KEY="$kek" \
    PIER_INDEX_TOKEN_KEY_DIR="$work/index-0/keys" "$bin/pier-index" user add bench --password-stdin >/dev/null
registry_pids=()
for i in 0 1; do
    PIER_REGISTRY_HTTP_LISTEN="127.0.0.1:${rg[$i]}" PIER_REGISTRY_DATABASE_URL="$registry_db" \
        PIER_REGISTRY_STORAGE_ROOT="$work/storage" PIER_REGISTRY_LOG=warn \
        PIER_REGISTRY_GC_INTERVAL_SECONDS=0 PIER_REGISTRY_AUTH_MODE=token \
        PIER_REGISTRY_AUTH_REALM="$public/token" \
        PIER_REGISTRY_AUTH_JWKS_URL="$public/.well-known/jwks.json" \
        PIER_REGISTRY_AUTH_INTROSPECTION_URL="$public/introspect" \
        PIER_REGISTRY_AUTH_INTROSPECTION_SECRET="$secret" \
        "$bin/pier-registry" 2>"$work/registry-$i.log" &
    pids+=($!)
    registry_pids+=($!)
    wait_port "${rg[$i]}"
done
wait_port "$lb_registry"

run() { # target url
    "$bin/pier-bench" run --url "$2" --creds bench:bench-pw --namespace bench --run "$1" \
        --seconds "$seconds" --only "$only" --token-url "$public/token" \
        --pid "$(IFS=,; echo "${registry_pids[*]}")" --tag target="$1" --tag mode=bearer --tag profile="$profile" \
        >"$out/$1.jsonl"
}
uptime >"$out/load.txt"
run direct-replica "http://127.0.0.1:${rg[0]}"
run nginx-2-replicas "http://127.0.0.1:$lb_registry"
uptime >>"$out/load.txt"
python3 - "$out" >"$out/table.md" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
rows = {}
for target in ("direct-replica", "nginx-2-replicas"):
    for line in (out / f"{target}.jsonl").read_text().splitlines():
        if line.startswith("{"):
            v = json.loads(line)
            rows.setdefault(v["name"], {})[target] = v
print("| workload | unit | one replica, direct | nginx → 2 replicas | ratio | p99 ms direct | p99 ms nginx | errors |")
print("|---|---|---|---|---|---|---|---|")
for name, r in rows.items():
    d, n = r.get("direct-replica", {}), r.get("nginx-2-replicas", {})
    dv, nv = d.get("value"), n.get("value")
    ratio = f"{nv / dv:.2f}" if dv and nv else "—"
    fmt = lambda x: "—" if x is None else f"{x:.1f}"
    errs = (d.get("errors") or 0) + (n.get("errors") or 0)
    print(f"| {name} | {d.get('unit', n.get('unit', ''))} | {fmt(dv)} | {fmt(nv)} | {ratio} | {fmt(d.get('p99'))} | {fmt(n.get('p99'))} | {errs} |")
PY
cat "$out/table.md" "$out/load.txt"
echo "written to $out" >&2
