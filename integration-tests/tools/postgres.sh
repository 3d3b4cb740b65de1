#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for Pier's tests, on a free loopback port, run as the
# unprivileged `postgres` user (the server refuses to run as root).
#
#   postgres.sh start DIR   initdb DIR/pgdata (once), start it, print the variables:
#                             PIER_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   postgres.sh stop DIR    stop it (the data stays until DIR is removed)
#   postgres.sh env DIR     print the variables of a running cluster again
#
# Installs Debian's postgresql (server binaries) if missing.  The default collation is ICU
# English (as on most production servers), not byte order.  Settings are for tests:
# fsync off (a crash of the test machine loses nothing anyone needs), trust auth on
# 127.0.0.1 only, no TCP listener elsewhere.  `--durable` keeps fsync on (benchmarks).
set -euo pipefail
PIER_TOOL_NAME=postgres
here="$(dirname "$(readlink -f "$0")")"
# shellcheck source=common.sh
. "$here/common.sh"

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: postgres.sh start|stop|env DIR [--durable]"
durable=0
[ "${3:-}" = "--durable" ] && durable=1

pg_bin() {
    local b
    for b in /usr/lib/postgresql/*/bin; do
        [ -x "$b/pg_ctl" ] && { echo "$b"; return 0; }
    done
    return 1
}

run_as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        "$@"
    elif [ "$(id -u)" -eq 0 ]; then
        # runuser keeps no root privileges; -m would keep $HOME, which postgres may not read
        runuser -u postgres -- "$@"
    else
        "$@" # an ordinary user runs its own cluster
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

print_env() {
    local port
    port="$(cat "$dir/port")"
    echo "PIER_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
}

case "$cmd" in
start)
    bin="$(pg_bin)" || { apt_install -- postgresql; bin="$(pg_bin)"; } ||
        die "PostgreSQL server binaries not found after installing postgresql"
    mkdir -p "$dir"
    dir="$(readlink -f "$dir")"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "no postgres user (the postgresql package creates it)"
        chown postgres "$dir"
        # the server must be able to reach DIR: every parent needs o+x
        p="$dir"
        while [ "$p" != / ]; do p="$(dirname "$p")"; chmod o+x "$p" 2>/dev/null || true; done
    fi
    if [ ! -f "$dir/pgdata/PG_VERSION" ]; then
        # An ICU English collation, not C: what production databases usually have, so that
        # the suites see Pier's byte-order columns (COLLATE "C") at work.
        run_as_postgres "$bin/initdb" -D "$dir/pgdata" -U postgres -A trust -E UTF8 \
            --locale=C.UTF-8 --locale-provider=icu --icu-locale=en-US --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    fi
    if [ -f "$dir/pgdata/postmaster.pid" ] && run_as_postgres "$bin/pg_ctl" -D "$dir/pgdata" status >/dev/null 2>&1; then
        print_env
        exit 0
    fi
    port="$(free_port)"
    echo "$port" >"$dir/port"
    opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir"
    opts="$opts -c max_connections=600 -c shared_buffers=128MB"
    if [ "$durable" = 0 ]; then
        opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    run_as_postgres "$bin/pg_ctl" -D "$dir/pgdata" -l "$dir/server.log" -o "$opts" -w -t 60 start \
        >/dev/null || { tail -20 "$dir/server.log" >&2; die "PostgreSQL did not start"; }
    print_env
    ;;
stop)
    bin="$(pg_bin)" || exit 0
    [ -d "$dir/pgdata" ] || exit 0
    run_as_postgres "$bin/pg_ctl" -D "$dir/pgdata" -m fast -w stop >/dev/null 2>&1 || true
    ;;
env)
    print_env
    ;;
*)
    die "unknown command $cmd (start, stop, env)"
    ;;
esac
