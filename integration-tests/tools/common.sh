# shellcheck shell=bash
# Helpers shared by install-clients.sh, build-crane.sh and build-conformance.sh.
# Sourced, not executed.  Every helper fails loudly via die().

PIER_TOOLS_CACHE="${PIER_TOOLS_CACHE:-/var/cache/pier-tools}"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[%s] %s\n' "${PIER_TOOL_NAME:-pier-tools}" "$*" >&2; }
die() {
    printf '[%s] ERROR: %s\n' "${PIER_TOOL_NAME:-pier-tools}" "$*" >&2
    exit 1
}

# Run a command as root (directly when we are root, else through sudo).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -E "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

require_bookworm() {
    local codename=""
    # shellcheck disable=SC1091
    [ -r /etc/os-release ] && codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    [ "$codename" = "bookworm" ] ||
        die "these scripts target Debian 12 (bookworm); this machine is '${codename:-unknown}'"
}

# apt-get with the dpkg lock waited for (another apt may be running).
APT_LOCK_TIMEOUT="${APT_LOCK_TIMEOUT:-900}"
apt_get() {
    as_root apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" -o Acquire::Retries=3 "$@"
}

# `apt-get update`, retried while another process holds the lists lock.
_PIER_APT_UPDATED=0
apt_update() {
    local i out
    for i in $(seq 1 60); do
        if out="$(apt_get update 2>&1)"; then
            _PIER_APT_UPDATED=1
            return 0
        fi
        if printf '%s' "$out" | grep -qiE 'could not get lock|unable to lock'; then
            log "apt lists locked by another process, waiting ($i/60)..."
            sleep 10
            continue
        fi
        printf '%s\n' "$out" >&2
        die "apt-get update failed"
    done
    die "apt-get update: lock still held after 10 minutes"
}
apt_update_once() { [ "$_PIER_APT_UPDATED" = 1 ] || apt_update; }

# True when every named package is installed (dpkg status "install ok installed").
pkgs_installed() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || return 1
    done
}

# Install packages that are not yet installed.  Extra apt-get options (e.g.
# "-t bookworm-backports") go before a literal "--".
apt_install() {
    local opts=() missing=() p
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
    [ "${1:-}" = "--" ] && shift
    for p in "$@"; do pkgs_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    apt_update_once
    log "apt-get install ${opts[*]} ${missing[*]}"
    apt_get install -y --no-install-recommends "${opts[@]}" "${missing[@]}" >&2 ||
        die "apt-get install failed for: ${missing[*]}"
    pkgs_installed "${missing[@]}" || die "packages still not installed after apt-get: ${missing[*]}"
}

# Make bookworm-backports available (default pin 100: nothing is upgraded
# from it unless asked for with -t bookworm-backports or pkg/bookworm-backports).
ensure_backports() {
    if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        log "adding Debian bookworm-backports to apt sources"
        echo 'deb http://deb.debian.org/debian bookworm-backports main' |
            as_root tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null ||
            die "cannot write /etc/apt/sources.list.d/bookworm-backports.list"
        apt_update
    fi
}

# Candidate version of a package in a given suite ("" when absent).
apt_candidate() { # pkg [suite]
    local pkg="$1" suite="${2:-}"
    if [ -n "$suite" ]; then
        apt-cache madison "$pkg" 2>/dev/null | awk -v s="$suite" '$0 ~ s {print $3; exit}'
    else
        apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2; exit}' | grep -v '(none)' || true
    fi
}
