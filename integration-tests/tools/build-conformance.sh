#!/usr/bin/env bash
# Build the OCI distribution-spec conformance runner (the `main`-branch
# redesign: plain `go build`, no Ginkgo) offline, from sources vendored in this
# repo, with Debian's Go toolchain and Debian -dev packages only.
#
# Sources (not downloaded here; CI has no GitHub access):
#   $PIER_CONFORMANCE_SRC (default: <repo>/integration-tests/conformance)
#     *.go                 conformance/ package main from opencontainers/distribution-spec
#     specs-go/v1/*.go     distribution-spec/specs-go/v1 (only TagList is used)
# Debian packages (bookworm + bookworm-backports):
#   golang-1.23-go (bpo)                          toolchain; suite needs >= 1.23
#   golang-github-opencontainers-image-spec-dev (bpo, >= 1.1.0; main's 1.1.0~rc2 lacks ArtifactType/Subject)
#   golang-github-goccy-go-yaml-dev (1.9.5), golang-github-opencontainers-go-digest-dev (1.0.0)
#   (+ their Depends: x/xerrors, x/sys, fatih/color, mattn/go-colorable, mattn/go-isatty, ...)
# Upstream targets Go 1.24 (crypto/rand.Text, strings.SplitSeq); the build copy
# is patched with a 1.23 shim.  The vendored files themselves stay pristine.
#
# Env: OCI_CONFORMANCE_BIN  output   (default /usr/local/bin/oci-conformance)
#      FORCE=1              rebuild even if the stamp matches
set -euo pipefail
PIER_TOOL_NAME=build-conformance
here="$(dirname "$(readlink -f "$0")")"
# shellcheck source=common.sh
. "$here/common.sh"

SRC="${PIER_CONFORMANCE_SRC:-$(readlink -f "$here/..")/conformance}"
OUT="${OCI_CONFORMANCE_BIN:-/usr/local/bin/oci-conformance}"
GO=/usr/lib/go-1.23/bin/go
work="$PIER_TOOLS_CACHE/conformance"

compgen -G "$SRC/*.go" >/dev/null ||
    die "no conformance sources in $SRC (vendor opencontainers/distribution-spec conformance/*.go there, or set PIER_CONFORMANCE_SRC)"
compgen -G "$SRC/specs-go/v1/*.go" >/dev/null ||
    die "missing $SRC/specs-go/v1/*.go (distribution-spec specs-go/v1, needed for TagList)"

stamp_of() {
    {
        (cd "$SRC" && find . -name '*.go' -type f -print0 | sort -z | xargs -0 sha256sum)
        sha256sum <"$0"
    } | sha256sum | cut -d' ' -f1
}
stamp="$(stamp_of)"
if [ "${FORCE:-0}" != 1 ] && [ -x "$OUT" ] && [ "$(cat "$work/stamp" 2>/dev/null)" = "$stamp" ]; then
    log "conformance runner up to date: $OUT"
    exit 0
fi

require_bookworm
ensure_backports
apt_install -t bookworm-backports -- golang-1.23-go
apt_install -- golang-github-goccy-go-yaml-dev golang-github-opencontainers-go-digest-dev
isv="$(dpkg-query -W -f='${Version}' golang-github-opencontainers-image-spec-dev 2>/dev/null || true)"
if [ -z "$isv" ] || dpkg --compare-versions "$isv" lt 1.1.0; then
    apt_update_once
    log "installing golang-github-opencontainers-image-spec-dev from bookworm-backports (have: ${isv:-none})"
    apt_get install -y --no-install-recommends golang-github-opencontainers-image-spec-dev/bookworm-backports >&2 ||
        die "cannot install golang-github-opencontainers-image-spec-dev >= 1.1.0 from bookworm-backports"
fi
[ -x "$GO" ] || die "$GO missing after installing golang-1.23-go"

# Private GOPATH holding the suite + specs-go; everything else from /usr/share/gocode.
gopath="$work/gopath"
pkgdir="$gopath/src/github.com/opencontainers/distribution-spec"
as_root rm -rf "$gopath"
as_root mkdir -p "$pkgdir/conformance" "$pkgdir/specs-go/v1"
as_root cp "$SRC"/*.go "$pkgdir/conformance/"
as_root cp "$SRC"/specs-go/v1/*.go "$pkgdir/specs-go/v1/"

# Go 1.23 shim for the two Go 1.24 APIs upstream uses.
as_root sed -i -e 's/\brand\.Text()/randText()/g' \
    -e 's/for \([A-Za-z_][A-Za-z0-9_]*\) := range strings\.SplitSeq(/for _, \1 := range strings.Split(/g' \
    "$pkgdir"/conformance/*.go
as_root tee "$pkgdir/conformance/zz_pier_go123_compat.go" >/dev/null <<'EOF'
// Added by Pier's build-conformance.sh: Go 1.23 stand-in for crypto/rand.Text
// (Go 1.24), which upstream uses for random names.

package main

import (
	"crypto/rand"
	"encoding/base32"
)

func randText() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}
EOF
if grep -nE 'rand\.Text\(|SplitSeq\(' "$pkgdir"/conformance/*.go >&2; then
    die "Go 1.24 APIs left after patching (see above); extend the shim in $0"
fi

log "building conformance runner with $("$GO" version | awk '{print $3}') (GOPATH mode, offline)"
start=$(date +%s)
(cd "$pkgdir/conformance" &&
    as_root env GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$work/gocache" \
        GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 \
        "$GO" build -trimpath -ldflags "-s -w -X main.Version=pier-vendored-${stamp:0:12}" \
        -o "$work/oci-conformance.new" .) || die "go build of the conformance runner failed"
as_root install -D -m 0755 "$work/oci-conformance.new" "$OUT"
as_root rm -f "$work/oci-conformance.new"
echo "$stamp" | as_root tee "$work/stamp" >/dev/null
log "built in $(($(date +%s) - start))s: $OUT"
