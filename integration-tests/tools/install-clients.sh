#!/usr/bin/env bash
# Install the third-party clients Pier's integration tests drive, on Debian 12
# (bookworm).  Idempotent: installed pieces are skipped.  Exits non-zero with a
# message naming the piece that could not be installed.
#
#   apt:    skopeo, docker-registry (distribution 2.8), apache2-utils (htpasswd), jq, curl,
#           chromium + chromium-driver (headless browser tests of the web UI, tests/web_ui.rs),
#           nginx (the load balancer in front of the replicas, tests/replicas.rs),
#           docker.io (dockerd) and containerd (containerd, ctr): tests/mirror starts an
#           engine and a containerd of its own, each configured with Pier as its mirror
#   built:  crane            -> build-crane.sh        (Debian go-containerregistry source, offline)
#           oci-conformance  -> build-conformance.sh  (only when sources are vendored in
#                                                      integration-tests/conformance/; else skipped)
#
# Env: PIER_SKIP_CONFORMANCE=1   don't build the conformance runner
#      PIER_REQUIRE_CONFORMANCE=1  fail (instead of skip) when its sources are absent
#      (plus the variables of build-crane.sh / build-conformance.sh)
set -euo pipefail
PIER_TOOL_NAME=install-clients
here="$(dirname "$(readlink -f "$0")")"
# shellcheck source=common.sh
. "$here/common.sh"

require_bookworm

# postgresql + libpq-dev: the PostgreSQL pass and the replica tests (tools/postgres.sh); nginx:
# the load balancer in front of the replicas (tests/replicas)
APT_PKGS=(skopeo docker-registry apache2-utils jq curl chromium chromium-driver postgresql libpq-dev nginx)
# docker-registry's and nginx's postinst may try to start their units (:5000, :80); on
# machines without systemd that is a no-op.  Tests run their own instances.
apt_install -- "${APT_PKGS[@]}"
# The mirror tests' engines (tests/mirror: a dockerd and a containerd of their own beside the
# machine's).  Debian's, unless the machine already has them: docker-ce's packages
# (containerd.io) conflict with Debian's docker.io and containerd.
command -v dockerd >/dev/null 2>&1 || apt_install -- docker.io
{ command -v containerd && command -v ctr; } >/dev/null 2>&1 || apt_install -- containerd

"$here/build-crane.sh" || die "crane could not be built (see messages above)"

conformance="skipped"
conf_src="${PIER_CONFORMANCE_SRC:-$(readlink -f "$here/..")/conformance}"
if [ "${PIER_SKIP_CONFORMANCE:-0}" = 1 ]; then
    conformance="skipped (PIER_SKIP_CONFORMANCE=1)"
elif compgen -G "$conf_src/*.go" >/dev/null; then
    "$here/build-conformance.sh" || die "OCI conformance runner could not be built (see messages above)"
    conformance="built"
elif [ "${PIER_REQUIRE_CONFORMANCE:-0}" = 1 ]; then
    die "PIER_REQUIRE_CONFORMANCE=1 but no conformance sources in $conf_src"
else
    log "no vendored conformance sources in $conf_src: skipping the OCI conformance runner"
    conformance="skipped (no sources in $conf_src)"
fi

# Summary: where each tool is, and that it runs.
show() { # name command-to-print-version...
    local name="$1" path ver
    shift
    path="$(command -v "$name" 2>/dev/null)" || die "$name not found on PATH after install"
    ver="$("$@" 2>&1)" || die "$name is installed at $path but '$*' failed: $ver"
    ver="${ver%%$'\n'*}"
    ver="${ver:0:60}"
    printf '  %-16s %-32s %s\n' "$name" "$path" "$ver"
}
echo "Pier integration-test clients:"
show skopeo skopeo --version
show docker-registry docker-registry --version
# shellcheck disable=SC2016
show htpasswd dpkg-query -W -f='apache2-utils ${Version}' apache2-utils
show jq jq --version
show curl curl --version
show nginx nginx -v
show chromium sh -c 'chromium --version 2>/dev/null'
show chromedriver chromedriver --version
show crane crane version
show dockerd dockerd --version
show containerd containerd --version
show ctr ctr --version
if [ "$conformance" = built ]; then
    # shellcheck disable=SC2016
    show oci-conformance dpkg-query -W -f='vendored suite, built with golang-1.23-go ${Version}' golang-1.23-go
else
    printf '  %-16s %s\n' "oci-conformance" "$conformance"
fi
if command -v docker >/dev/null 2>&1; then
    printf '  %-16s %-32s %s\n' docker "$(command -v docker)" \
        "$(docker version --format 'client {{.Client.Version}}, engine {{.Server.Version}}' 2>/dev/null || echo 'engine not reachable')"
else
    printf '  %-16s %s\n' docker "not installed (not managed by this script)"
fi
