#!/usr/bin/env bash
# Build go-containerregistry's `crane` CLI from Debian's source package, offline
# (GOPATH mode, GOPROXY=off): every Go source comes from a Debian .deb.
#
# Debian 12 main has no go-containerregistry; bookworm-backports has
# golang-github-google-go-containerregistry-dev 0.14.0+ds1-2~bpo12+1 (sources
# only, no binary).  Installing it with apt would pull its full Depends (~260
# packages, incl. docker/containerd dev trees and a systemd upgrade), so
# instead the exact .debs that cmd/crane's import graph needs are fetched with
# `apt-get download` and unpacked into a private GOPATH.  Only the compiler
# (golang-1.19-go, the one Debian built this package with) is apt-installed.
#
# Env: CRANE_BIN   output path              (default /usr/local/bin/crane)
#      FORCE=1     rebuild even if $CRANE_BIN already runs
#      PIER_TOOLS_CACHE  work/cache dir     (default /var/cache/pier-tools)
set -euo pipefail
PIER_TOOL_NAME=build-crane
# shellcheck source=common.sh
. "$(dirname "$(readlink -f "$0")")/common.sh"

CRANE_BIN="${CRANE_BIN:-/usr/local/bin/crane}"
GO=/usr/lib/go-1.19/bin/go

if [ "${FORCE:-0}" != 1 ] && [ -x "$CRANE_BIN" ] && v="$("$CRANE_BIN" version 2>/dev/null)"; then
    log "crane already installed: $CRANE_BIN ($v); FORCE=1 to rebuild"
    exit 0
fi

require_bookworm
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

# The source package (from backports) plus exactly the -dev packages that
# `go list -deps github.com/google/go-containerregistry/cmd/crane` resolves to.
SRC_PKG=golang-github-google-go-containerregistry-dev
DEP_PKGS=(
    golang-github-cespare-xxhash-dev
    golang-github-containerd-stargz-snapshotter-dev
    golang-github-docker-distribution-dev
    golang-github-docker-docker-credential-helpers-dev
    golang-github-docker-docker-dev           # only for github.com/docker/cli/cli/config{,/configfile,/types,/credentials}
    golang-github-docker-go-connections-dev
    golang-github-docker-go-units-dev
    golang-github-gogo-protobuf-dev
    golang-github-google-go-cmp-dev
    golang-github-klauspost-compress-dev
    golang-github-mitchellh-go-homedir-dev
    golang-github-opencontainers-go-digest-dev
    golang-github-opencontainers-image-spec-dev
    golang-github-pkg-errors-dev
    golang-github-sirupsen-logrus-dev
    golang-github-spf13-cobra-dev
    golang-github-spf13-pflag-dev
    golang-github-vbatts-tar-split-dev
    golang-golang-x-sync-dev
    golang-golang-x-sys-dev
)

ensure_backports
apt_install -- golang-1.19-go
[ -x "$GO" ] || die "$GO missing after installing golang-1.19-go"

src_ver="$(apt_candidate "$SRC_PKG" bookworm-backports)"
if [ -z "$src_ver" ]; then
    apt_update
    src_ver="$(apt_candidate "$SRC_PKG" bookworm-backports)"
fi
[ -n "$src_ver" ] || die "$SRC_PKG not found in bookworm-backports (apt-cache madison $SRC_PKG is empty)"

work="$PIER_TOOLS_CACHE/crane"
debs="$work/debs"
root="$work/root"
as_root mkdir -p "$debs"
as_root rm -rf "$root"
as_root mkdir -p "$root"

# Fetch the .debs (main-suite versions for the deps, backports for the source;
# deps are pinned to bookworm main so a backports upgrade can't sneak in).
fetch() { # pkg=ver...
    (cd "$debs" && as_root apt-get -o Acquire::Retries=3 download "$@") >"$work/download.log" 2>&1 || {
        cat "$work/download.log" >&2
        die "apt-get download failed for: $*"
    }
}
# One madison call for all deps: first version offered by bookworm main.
declare -A main_ver=()
while IFS='|' read -r p v where; do
    p="${p// /}" v="${v// /}"
    [[ "$where" == *" bookworm/main "* ]] && [ -z "${main_ver[$p]:-}" ] && main_ver[$p]="$v"
done < <(apt-cache madison "${DEP_PKGS[@]}" 2>/dev/null)
dep_specs=()
for p in "${DEP_PKGS[@]}"; do
    [ -n "${main_ver[$p]:-}" ] || die "no bookworm main version of $p (apt-cache madison $p)"
    dep_specs+=("$p=${main_ver[$p]}")
done

deb_of() { # pkg=ver -> path of the downloaded .deb, or ""
    local p="${1%%=*}" v="${1#*=}"
    find "$debs" -maxdepth 1 -name "${p}_${v//:/%3a}_*.deb" | head -1
}
to_fetch=()
for spec in "$SRC_PKG=$src_ver" "${dep_specs[@]}"; do
    [ -n "$(deb_of "$spec")" ] || to_fetch+=("$spec")
done
if [ ${#to_fetch[@]} -gt 0 ]; then
    log "downloading ${#to_fetch[@]} .debs ($SRC_PKG=$src_ver and its Go dependencies)"
    fetch "${to_fetch[@]}"
fi
for spec in "$SRC_PKG=$src_ver" "${dep_specs[@]}"; do
    deb="$(deb_of "$spec")"
    [ -n "$deb" ] || die "downloaded .deb for $spec not found in $debs"
    as_root dpkg-deb -x "$deb" "$root"
done

# Offline GOPATH-mode toolchain environment.
go_env() {
    as_root env GO111MODULE=off GOPATH="$root/usr/share/gocode" GOCACHE="$work/gocache" \
        GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 "$GO" "$@"
}
pkg=github.com/google/go-containerregistry/cmd/crane

missing_go="$(go_env list -e -deps -f '{{if .Error}}{{.ImportPath}}{{end}}' "$pkg" 2>/dev/null | sort -u)"
[ -z "$missing_go" ] || die "Go packages missing from the unpacked Debian sources (a Debian package split changed?):
$missing_go"

upstream="${src_ver%%+*}"
version="v${upstream} (Debian ${src_ver})"
tmp_bin="$work/crane.new"
log "building $pkg with $("$GO" version | awk '{print $3}') (GOPATH mode, offline)"
start=$(date +%s)
go_env build -trimpath \
    -ldflags "-s -w -X 'github.com/google/go-containerregistry/cmd/crane/cmd.Version=$version'" \
    -o "$tmp_bin" "$pkg" || die "go build of crane failed"
as_root install -D -m 0755 "$tmp_bin" "$CRANE_BIN"
as_root rm -f "$tmp_bin"
as_root rm -rf "$root" # unpacked sources (~150 MB); the .debs and GOCACHE stay for rebuilds
log "built in $(($(date +%s) - start))s"

got="$("$CRANE_BIN" version)" || die "$CRANE_BIN version failed"
log "installed $CRANE_BIN: $got"
