#!/usr/bin/env bash
# Pier side by side with the reference registry (Debian's docker-registry, distribution
# 2.8), issue #6. One command, unattended, loopback only, every loop bounded:
#
#   integration-tests/tools/bench.sh            # full run (~15 min on 2 cores)
#   integration-tests/tools/bench.sh --quick    # shorter workloads, smaller seeds (~5 min)
#   integration-tests/tools/bench.sh --smoke    # CI: tiny sizes, one round, debug build;
#                                               # fails on any wrong status or digest
#
# Both registries store on the filesystem (BENCH_DIR, default /var/tmp) with access logs
# off, in two auth modes: anonymous, and bearer tokens from pier-index (distribution's
# `auth.token` verifies them with the index's certificate). Rounds alternate A B A B.
# Then a tmpfs variant of the large pushes, and the listing flatness check on Pier
# (1,000 vs BENCH_FLAT_MAX entries, data on tmpfs so that seeding is quick). Prints the table and writes it, with the raw JSON
# lines, to $BENCH_OUT (default target/bench/<UTC time>/).
#
# Knobs: BENCH_ROUNDS (3) BENCH_SECONDS (1.5 per workload) BENCH_SIZES (bytes, comma list)
#        BENCH_SEED (10000 tags and repositories) BENCH_FLAT_MAX (100000) BENCH_C (8)
#        BENCH_PHASES ("anonymous bearer tmpfs flatness scaleout": which parts to run)
#
# scaleout (issue #12): on PostgreSQL + Garage (S3), started here with tools/postgres.sh
# --durable and tools/garage.sh: Pier with one registry replica, Pier with two behind
# nginx round-robin, and distribution's s3 driver on the same Garage bucket (another
# prefix): push/pull 64 MiB, manifest GET, tags list; anonymous, fresh servers per round;
# two tables, `scaleout-1` and `scaleout-2`, against the same distribution runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode_arg="${1:-}"
rounds="${BENCH_ROUNDS:-3}" secs="${BENCH_SECONDS:-1.5}" conc="${BENCH_C:-8}"
sizes="${BENCH_SIZES:-1024,1048576,67108864,268435456}"
seed="${BENCH_SEED:-10000}" flat_max="${BENCH_FLAT_MAX:-100000}" profile=release smoke=()
phases=" ${BENCH_PHASES:-anonymous bearer tmpfs flatness scaleout} "
want() { [[ "$phases" == *" $1 "* ]]; }
case "$mode_arg" in
"") ;;
--quick) secs="${BENCH_SECONDS:-0.7}" sizes="${BENCH_SIZES:-1024,1048576,67108864}"
    seed="${BENCH_SEED:-2000}" flat_max="${BENCH_FLAT_MAX:-20000}" ;;
--smoke) rounds=1 secs=0.2 sizes=1024,65536 seed=40 flat_max=80 conc=2 profile=debug smoke=(--smoke) ;;
*) echo "usage: $0 [--quick|--smoke]" >&2; exit 2 ;;
esac
for tool in docker-registry curl python3; do
    command -v "$tool" >/dev/null ||
        { echo "bench: $tool is missing (integration-tests/tools/install-clients.sh)" >&2; exit 1; }
done
if [ "$profile" = release ]; then
    cargo build --release --locked --bin pier-index --bin pier-registry --bin pier-bench
else
    cargo build --locked --bin pier-index --bin pier-registry --bin pier-bench
fi
bin="target/$profile"
out="${BENCH_OUT:-target/bench/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
out="$(readlink -f "$out")"
work="$(mktemp -d "${BENCH_DIR:-/var/tmp}/pier-bench.XXXXXX")"
shm="$(mktemp -d /dev/shm/pier-bench.XXXXXX)"
pids=()
stop_all() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
trap 'stop_all; rm -rf "$work" "$shm"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url
    local _
    for _ in $(seq 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" != 000 ] && return 0
        sleep 0.1
    done
    echo "bench: nothing answers at $1" >&2
    exit 1
}
bench() { "$bin/pier-bench" "$@"; }

# --- servers ---------------------------------------------------------------------------
secret=bench-introspection-secret-0123456789
start_index() { # dir → sets index_url, index_pid
    local port
    port="$(free_port)"
    export PIER_INDEX_DATABASE_URL="sqlite://$1/index.db" PIER_INDEX_TOKEN_KEY_DIR="$1/keys" \
        PIER_INDEX_ADMIN_PASSWORD=bench-admin-password PIER_INDEX_LOG=warn \
        PIER_INDEX_REGISTRY_INTROSPECTION_SECRET="$secret" PIER_INDEX_HTTP_LISTEN="127.0.0.1:$port"
    mkdir -p "$1"
    "$bin/pier-index" >"$1/index.log" 2>&1 &
    index_pid=$!
    pids+=("$index_pid")
    index_url="http://127.0.0.1:$port"
    wait_http "$index_url/.well-known/jwks.json"
    echo bench-pw | "$bin/pier-index" user add bench --password-stdin >/dev/null
    curl -fs "$index_url/token/certificate.pem" >"$1/index.pem"
}
start_pier() { # dir auth → sets pier_url, pier_pid
    local port
    port="$(free_port)"
    local env=(PIER_REGISTRY_HTTP_LISTEN="127.0.0.1:$port" PIER_REGISTRY_STORAGE_ROOT="$1/storage"
        PIER_REGISTRY_DATABASE_URL="sqlite://$1/metadata.db" PIER_REGISTRY_LOG=warn
        PIER_REGISTRY_GC_INTERVAL_SECONDS=0)
    if [ "$2" = bearer ]; then
        env+=(PIER_REGISTRY_AUTH_MODE=token PIER_REGISTRY_AUTH_REALM="$index_url/token"
            PIER_REGISTRY_AUTH_JWKS_URL="$index_url/.well-known/jwks.json"
            PIER_REGISTRY_AUTH_INTROSPECTION_URL="$index_url/introspect"
            PIER_REGISTRY_AUTH_INTROSPECTION_SECRET="$secret")
    fi
    mkdir -p "$1"
    env "${env[@]}" "$bin/pier-registry" >"$1/registry.log" 2>&1 &
    pier_pid=$!
    pids+=("$pier_pid")
    pier_url="http://127.0.0.1:$port"
    wait_http "$pier_url/v2/"
}
start_peer() { # dir auth → sets peer_url, peer_pid
    local port auth=""
    port="$(free_port)"
    mkdir -p "$1"
    if [ "$2" = bearer ]; then
        auth="auth: {token: {realm: \"$index_url/token\", service: pier-registry, issuer: pier-index, rootcertbundle: \"$1/../index/index.pem\"}}"
    fi
    # The in-memory blob descriptor cache is distribution's usual production setting.
    cat >"$1/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: "$1/storage"}, cache: {blobdescriptor: inmemory}, redirect: {disable: true}}
http: {addr: "127.0.0.1:$port"}
$auth
YML
    docker-registry serve "$1/config.yml" >"$1/peer.log" 2>&1 &
    peer_pid=$!
    pids+=("$peer_pid")
    peer_url="http://127.0.0.1:$port"
    wait_http "$peer_url/v2/"
}

# --- the run ---------------------------------------------------------------------------
{
    echo "- date: $(date -u +'%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
    echo "- disk under $work: $(df -T "$work" | awk 'NR==2 {print $2" on "$1}')"
    echo "- peer: $(docker-registry --version 2>&1 | head -1)"
    echo "- settings: rounds=$rounds seconds/workload=$secs c=$conc sizes=$sizes seed=$seed flat_max=$flat_max profile=$profile"
    echo "- load before: $(uptime | sed 's/.*load average/load average/')"
} >"$out/machine.md"
cat "$out/machine.md"
echo "== machine limits"
limit_size=$((256 << 20)) && [ "$profile" = debug ] && limit_size=$((16 << 20))
bench limits --dir "$work" --tmpfs "$shm" --size "$limit_size" \
    | tee "$out/limits.jsonl"

start_target() { # target dir auth → sets url, pid
    if [ "$1" = pier ]; then
        start_pier "$2" "$3" && url="$pier_url" pid="$pier_pid"
    else
        start_peer "$2" "$3" && url="$peer_url" pid="$peer_pid"
    fi
}
stop_target() { # pid dir: stop one server and delete its data
    local p keep=()
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]}")
    rm -rf "$2"
}
one_run() { # mode round target url pid extra-args…
    local mode="$1" round="$2" target="$3" url="$4" pid="$5"
    shift 5
    local extra=()
    [ "$target" = pier ] && extra=("${token[@]}")
    echo "== $mode round $round: $target ($(uptime | sed 's/.*load average/load/'))"
    bench run --url "$url" "${creds[@]}" "${extra[@]}" -c "$conc" --run "r$round" \
        --seconds "$secs" --pid "$pid" --tag "target=$target" --tag "mode=$mode" \
        --tag "round=$round" "${smoke[@]}" "$@" | tee -a "$out/$mode.jsonl"
}
run_pair() { # mode auth dir-root sizes listing(yes|no) extra-args…
    local mode="$1" auth="$2" root="$3" sizes="$4" listing="$5" round target url pid
    shift 5
    creds=() token=()
    if [ "$auth" = bearer ]; then
        start_index "$root/index"
        creds=(--creds bench:bench-pw) token=(--token-url "$index_url/token")
    fi
    # Blob and manifest workloads: a fresh server for each target and round, so that the
    # gigabytes of large blobs never pile up, and no run inherits another's data.
    for round in $(seq "$rounds"); do
        for target in pier peer; do
            start_target "$target" "$root/$target-r$round" "$auth"
            one_run "$mode" "$round" "$target" "$url" "$pid" --sizes "$sizes" "$@"
            stop_target "$pid" "$root/$target-r$round"
        done
    done
    # Listing workloads: one server per target, seeded once through the API.
    if [ "$listing" = yes ]; then
        for target in pier peer; do
            start_target "$target" "$root/$target-listing" "$auth"
            echo "== $mode: seeding $target with $seed tags and repositories"
            SECONDS=0
            bench seed --url "$url" "${creds[@]}" -c "$conc" --to "$seed"
            echo "   ${SECONDS}s"
        done
        for round in $(seq "$rounds"); do
            for target in pier peer; do
                url="$pier_url" pid="$pier_pid"
                [ "$target" = peer ] && url="$peer_url" pid="$peer_pid"
                one_run "$mode" "$round" "$target" "$url" "$pid" --seeded "$seed" --only tags,catalog
            done
        done
    fi
    stop_all
    rm -rf "$root"
}

want anonymous && run_pair anonymous anonymous "$work/anonymous" "$sizes" yes
want bearer && run_pair bearer bearer "$work/bearer" "$sizes" yes \
    --only manifest,blob_head,blob_mount,push_mono_1m,pull_1m,push_mono_64k,pull_64k,mixed,token
large="$(tr ',' '\n' <<<"$sizes" | sort -n | tail -2 | paste -sd,)"
want tmpfs && run_pair tmpfs anonymous "$shm/tmpfs" "$large" no --only push_,pull_

want scaleout && . integration-tests/tools/bench-scaleout.sh

want flatness && {
echo "== flatness: Pier listing pages at 1,000 and $flat_max entries"
# On tmpfs: seeding 100,000 entries through the API is bound by SQLite's fsync per commit
# on disk (~500 entries/s here, over 10 minutes); page reads do not depend on it.
start_pier "$shm/flat/pier" anonymous
small=$((flat_max < 1000 ? flat_max / 2 : 1000))
for n in "$small" "$flat_max"; do
    SECONDS=0
    bench seed --url "$pier_url" -c "$conc" --from $((n == small ? 0 : small)) --to "$n"
    echo "   seeded $n in ${SECONDS}s"
    bench run --url "$pier_url" -c "$conc" --run "f$n" --seconds "$secs" --seeded "$n" \
        --only tags_page,catalog_page --pid "$pier_pid" --tag target=pier --tag mode=flatness \
        --tag "seeded=$n" "${smoke[@]}" | tee -a "$out/flatness.jsonl"
done
stop_all
}

echo "- load after: $(uptime | sed 's/.*load average/load average/')" >>"$out/machine.md"
{
    cat "$out/machine.md"
    echo
    bench report "$out"/limits.jsonl "$out"/{anonymous,bearer,tmpfs,flatness,scaleout}.jsonl
} >"$out/table.md"
echo
cat "$out/table.md"
echo
echo "table and raw JSON lines: $out"
if grep -q '"errors":[1-9]' "$out"/*.jsonl; then
    echo "bench: some requests failed (see \"first_error\" in $out/*.jsonl)" >&2
    exit 1
fi
