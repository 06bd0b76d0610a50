#!/usr/bin/env bash
# Makes sure the `helm` binary that tests/helm.rs runs is built, and prints its path on the last
# line of stdout. Progress and errors go to stderr.
#
# The version comes from go.mod/go.sum beside this script (helm.sh/helm/v3, built from
# ./cmd/helm exactly as helm's own Makefile does). It is built once per machine into a cache
# outside the checkout:
#   ${KINGRESS_CACHE:-/var/cache/kingress}/helm/<helm version>/helm
# (falling back to ${XDG_CACHE_HOME:-$HOME/.cache}/kingress when that is not writable).
# The Go module and build caches live under the same root unless GOMODCACHE/GOCACHE are set.
# KINGRESS_HELM_BIN=/path/to/helm skips all of this and is printed back after a check.
# Needs Go >= 1.26 on PATH and, on a cold cache, the Go module proxy.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
  echo "tests/helm/ensure.sh: error: $*" >&2
  exit 1
}
log() {
  echo "tests/helm/ensure.sh: $*" >&2
}

if [ -n "${KINGRESS_HELM_BIN:-}" ]; then
  [ -x "$KINGRESS_HELM_BIN" ] && [ -f "$KINGRESS_HELM_BIN" ] ||
    die "KINGRESS_HELM_BIN=$KINGRESS_HELM_BIN is not an executable file"
  echo "$KINGRESS_HELM_BIN"
  exit 0
fi

writable_dir() {
  mkdir -p "$1" 2>/dev/null && [ -w "$1" ]
}

if [ -n "${KINGRESS_CACHE:-}" ]; then
  cache_root="$KINGRESS_CACHE"
  writable_dir "$cache_root" || die "KINGRESS_CACHE=$cache_root is not a writable directory"
elif writable_dir /var/cache/kingress; then
  cache_root=/var/cache/kingress
else
  cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/kingress"
  writable_dir "$cache_root" || die "neither /var/cache/kingress nor $cache_root is writable"
fi

# The versions that go.mod pins (require lines look like "<tab>module version [// indirect]").
module_version() {
  awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$here/go.mod"
}
helm_version="$(module_version helm.sh/helm/v3)"
client_go_version="$(module_version k8s.io/client-go)"
[ -n "$helm_version" ] || die "no helm.sh/helm/v3 requirement in $here/go.mod"
[ -n "$client_go_version" ] || die "no k8s.io/client-go requirement in $here/go.mod"

out_parent="$cache_root/helm"
out="$out_parent/$helm_version"

have_binary() {
  [ -x "$out/helm" ]
}

if have_binary; then
  echo "$out/helm"
  exit 0
fi

mkdir -p "$out_parent"
# Several test binaries (or several checkouts) may ask at once: build only once.
exec 9>"$out_parent/.lock"
if ! flock -n 9; then
  log "waiting for another build of helm to finish..."
  flock 9
fi
if have_binary; then
  echo "$out/helm"
  exit 0
fi

# Go's official tarball installs here; it may be missing from a non-login PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 ||
  die "Go is not on PATH; it is needed (once per machine) to build helm $helm_version"
go_version="$(go env GOVERSION 2>/dev/null || true)"
case "$go_version" in
go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
*) die "Go >= 1.26 is needed to build helm $helm_version, found '${go_version:-unknown}' ($(command -v go))" ;;
esac

export GOMODCACHE="${GOMODCACHE:-$cache_root/go/mod}"
export GOCACHE="${GOCACHE:-$cache_root/go/build}"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

log "building helm $helm_version with $go_version into $out"
log "(once per machine; a cold build takes a few minutes)"
start=$(date +%s)

tmp="$(mktemp -d "$out_parent/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cd "$here"
go mod download ||
  die "could not download the Go modules that $here/go.mod pins (is the Go module proxy reachable?)"

# The same ldflags as helm's Makefile: its version, and the Kubernetes version that
# `helm template` and `helm lint` assume without a cluster (client-go v0.X.Y -> 1.X).
k8s_minor="${client_go_version#v0.}"
k8s_minor="${k8s_minor%%.*}"
ldflags="-s -w"
ldflags="$ldflags -X helm.sh/helm/v3/internal/version.version=$helm_version"
ldflags="$ldflags -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

go build -trimpath -ldflags "$ldflags" -o "$tmp/helm" helm.sh/helm/v3/cmd/helm ||
  die "go build of helm failed (see the output above)"
"$tmp/helm" version --short >&2 || die "the built helm does not run"

chmod 755 "$tmp"
# Publish the whole directory at once, so an interrupted build never leaves a half binary.
rm -rf "$out"
mv -T "$tmp" "$out"
trap - EXIT
log "built in $(($(date +%s) - start))s"
echo "$out/helm"
