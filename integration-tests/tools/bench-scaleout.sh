# shellcheck shell=bash
# bench.sh's scale-out phase (sourced by bench.sh, which defines bench, free_port,
# wait_http, pids, work, rounds, secs, conc, smoke, out, bin): Pier on PostgreSQL + Garage
# with one registry replica and with two behind nginx, against distribution's s3 driver on
# the same Garage. Anonymous; a fresh database prefix and bucket prefix per server.
so_dir="$work/scaleout"
mkdir -p "$so_dir"
so_sizes="67108864" so_seed=1000
[ "${#smoke[@]}" -gt 0 ] && so_sizes="65536" so_seed=40
command -v nginx >/dev/null || { echo "bench: nginx is missing (install-clients.sh)" >&2; exit 1; }
pg_env="$(bash integration-tests/tools/postgres.sh start "$so_dir/postgres" --durable)"
so_pg="${pg_env#PIER_TEST_POSTGRES_URL=}"
bash integration-tests/tools/garage.sh start "$so_dir/garage" >/dev/null
# shellcheck disable=SC1091
. "$so_dir/garage/env"
so_stop_engines() {
    bash integration-tests/tools/garage.sh stop "$so_dir/garage" || true
    bash integration-tests/tools/postgres.sh stop "$so_dir/postgres" || true
}
so_n=0
so_database() { # → a new database URL on the bench cluster
    so_n=$((so_n + 1))
    psql -q "$so_pg" -c "CREATE DATABASE bench_$so_n" >/dev/null
    echo "${so_pg%/*}/bench_$so_n"
}
so_registry() { # db-url prefix → sets so_url (one pier-registry on PostgreSQL + S3)
    local port
    port="$(free_port)"
    env PIER_REGISTRY_HTTP_LISTEN="127.0.0.1:$port" PIER_REGISTRY_DATABASE_URL="$1" \
        PIER_REGISTRY_LOG=warn PIER_REGISTRY_GC_INTERVAL_SECONDS=0 \
        PIER_REGISTRY_STORAGE_DRIVER=s3 PIER_REGISTRY_STORAGE_S3_ENDPOINT="$PIER_TEST_S3_ENDPOINT" \
        PIER_REGISTRY_STORAGE_S3_BUCKET="$PIER_TEST_S3_BUCKET" \
        PIER_REGISTRY_STORAGE_S3_REGION="$PIER_TEST_S3_REGION" \
        PIER_REGISTRY_STORAGE_S3_ACCESS_KEY_ID="$PIER_TEST_S3_ACCESS_KEY_ID" \
        PIER_REGISTRY_STORAGE_S3_SECRET_ACCESS_KEY="$PIER_TEST_S3_SECRET_ACCESS_KEY" \
        PIER_REGISTRY_STORAGE_S3_PREFIX="$2" PIER_REGISTRY_STORAGE_S3_FORCE_PATH_STYLE=true \
        "$bin/pier-registry" >>"$so_dir/registry.log" 2>&1 &
    pids+=($!)
    so_pid=$!
    so_url="http://127.0.0.1:$port"
    wait_http "$so_url/v2/"
}
so_nginx() { # upstream-url… → sets so_url (nginx round-robin over them)
    local port dir="$so_dir/nginx-$so_n" servers="" u
    port="$(free_port)"
    mkdir -p "$dir"
    for u in "$@"; do servers="$servers server ${u#http://};"; done
    cat >"$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body; proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fcgi; uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
    upstream registry { $servers keepalive 32; }
    server {
        listen 127.0.0.1:$port;
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        location / {
            proxy_pass http://registry;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-Proto \$scheme;
        }
    }
}
NGINX
    nginx -c "$dir/nginx.conf" -p "$dir" >"$dir/stdout.log" 2>&1 &
    pids+=($!)
    so_url="http://127.0.0.1:$port"
    wait_http "$so_url/v2/"
}
so_peer() { # prefix → sets so_url (distribution with its s3 driver on the same Garage)
    local port dir="$so_dir/peer-$so_n"
    port="$(free_port)"
    mkdir -p "$dir"
    cat >"$dir/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  s3: {region: "$PIER_TEST_S3_REGION", bucket: "$PIER_TEST_S3_BUCKET", regionendpoint: "$PIER_TEST_S3_ENDPOINT", accesskey: "$PIER_TEST_S3_ACCESS_KEY_ID", secretkey: "$PIER_TEST_S3_SECRET_ACCESS_KEY", secure: false, v4auth: true, rootdirectory: "/$1"}
  cache: {blobdescriptor: inmemory}
  redirect: {disable: true}
http: {addr: "127.0.0.1:$port"}
YML
    # distribution's AWS SDK reads the ambient AWS_* variables; the bench gives it none.
    env -u AWS_CA_BUNDLE -u AWS_PROFILE -u AWS_REGION docker-registry serve "$dir/config.yml" \
        >"$dir/peer.log" 2>&1 &
    pids+=($!)
    so_pid=$!
    so_url="http://127.0.0.1:$port"
    wait_http "$so_url/v2/"
}
so_run() { # round mode target url pid: one target's JSON lines on stdout
    local round="$1" mode="$2"
    shift 2
    echo "== $mode round $round: $1 ($(uptime | sed 's/.*load average/load/'))" >&2
    bench seed --url "$2" -c "$conc" --to "$so_seed" >/dev/null
    bench run --url "$2" -c "$conc" --run "r$round" --seconds "$secs" --pid "$3" \
        --sizes "$so_sizes" --seeded "$so_seed" --tag "target=$1" --tag "mode=$mode" \
        --tag "round=$round" "${smoke[@]}" --only push_,pull_,manifest,tags
}
# Two tables, each Pier against the same distribution runs: "scaleout-1" (one registry
# replica) and "scaleout-2" (two behind nginx).
for round in $(seq "$rounds"); do
    so_registry "$(so_database)" "pier1-r$round"
    so_run "$round" scaleout-1 pier "$so_url" "$so_pid" | tee -a "$out/scaleout.jsonl"
    stop_all
    db="$(so_database)"
    so_registry "$db" "pier2-r$round" && a="$so_url" && pid_a="$so_pid"
    so_registry "$db" "pier2-r$round" && b="$so_url"
    so_nginx "$a" "$b"
    # (server CPU and RSS are those of replica A only)
    so_run "$round" scaleout-2 pier "$so_url" "$pid_a" | tee -a "$out/scaleout.jsonl"
    stop_all
    so_peer "peer-r$round"
    so_run "$round" scaleout-1 peer "$so_url" "$so_pid" | tee "$so_dir/peer.jsonl"
    cat "$so_dir/peer.jsonl" >>"$out/scaleout.jsonl"
    sed 's/"mode":"scaleout-1"/"mode":"scaleout-2"/' "$so_dir/peer.jsonl" >>"$out/scaleout.jsonl"
    stop_all
done
so_stop_engines
