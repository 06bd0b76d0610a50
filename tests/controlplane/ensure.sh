#!/usr/bin/env bash
# Makes sure the kube-apiserver and etcd that the integration tests run (and the
# kube-controller-manager and kube-scheduler the conformance run adds) are built, and prints
# the directory holding them on the last line of stdout. Progress and errors go to stderr.
#
# Versions come from go.mod/go.sum beside this script. The binaries are built once per machine
# into a cache outside the checkout:
#   ${KINGRESS_CACHE:-/var/cache/kingress}/controlplane/<k8s version>-<etcd version>/
# (falling back to ${XDG_CACHE_HOME:-$HOME/.cache}/kingress when that is not writable).
# The Go module and build caches live under the same root unless GOMODCACHE/GOCACHE are set.
# Needs Go >= 1.24 on PATH and, on a cold cache, the Go module proxy.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
  echo "ensure.sh: error: $*" >&2
  exit 1
}
log() {
  echo "ensure.sh: $*" >&2
}

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
k8s_version="$(module_version k8s.io/kubernetes)"
etcd_version="$(module_version go.etcd.io/etcd/server/v3)"
[ -n "$k8s_version" ] || die "no k8s.io/kubernetes requirement in $here/go.mod"
[ -n "$etcd_version" ] || die "no go.etcd.io/etcd/server/v3 requirement in $here/go.mod"

out_parent="$cache_root/controlplane"
out="$out_parent/$k8s_version-$etcd_version"

have_binaries() {
  [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ] &&
    [ -x "$out/kube-controller-manager" ] && [ -x "$out/kube-scheduler" ]
}

if have_binaries; then
  echo "$out"
  exit 0
fi

mkdir -p "$out_parent"
# Several test binaries (or several checkouts) may ask at once: build only once.
exec 9>"$out_parent/.lock"
if ! flock -n 9; then
  log "waiting for another build of the control plane binaries to finish..."
  flock 9
fi
if have_binaries; then
  echo "$out"
  exit 0
fi

# Go's official tarball installs here; it may be missing from a non-login PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 ||
  die "Go is not on PATH; it is needed (once per machine) to build kube-apiserver $k8s_version and etcd $etcd_version"
go_version="$(go env GOVERSION 2>/dev/null || true)"
case "$go_version" in
go1.2[4-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
*) die "Go >= 1.24 is needed to build kube-apiserver $k8s_version, found '${go_version:-unknown}' ($(command -v go))" ;;
esac

export GOMODCACHE="${GOMODCACHE:-$cache_root/go/mod}"
export GOCACHE="${GOCACHE:-$cache_root/go/build}"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

log "building kube-apiserver, kube-controller-manager, kube-scheduler $k8s_version and etcd $etcd_version with $go_version into $out"
log "(once per machine; a cold build takes several minutes)"
start=$(date +%s)

tmp="$(mktemp -d "$out_parent/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cd "$here"
go mod download ||
  die "could not download the Go modules that $here/go.mod pins (is the Go module proxy reachable?)"

# kube-apiserver reports its version from these (its feature gates use a compiled-in constant).
version_pkg=k8s.io/component-base/version
minor="${k8s_version#v1.}"
minor="${minor%%.*}"
ldflags="-s -w -X $version_pkg.gitVersion=$k8s_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor"
ldflags="$ldflags -X $version_pkg.gitTreeState=clean"

# One invocation, so the binaries share the compile of their common dependencies.
go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver go.etcd.io/etcd/server/v3 \
  k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler ||
  die "go build of kube-apiserver/etcd/kube-controller-manager/kube-scheduler failed (see the output above)"
# `go build` names the etcd binary after its package path's last non-version element.
mv "$tmp/server" "$tmp/etcd"
"$tmp/kube-apiserver" --version >&2 || die "the built kube-apiserver does not run"
"$tmp/etcd" --version >&2 || die "the built etcd does not run"
"$tmp/kube-controller-manager" --version >&2 || die "the built kube-controller-manager does not run"
"$tmp/kube-scheduler" --version >&2 || die "the built kube-scheduler does not run"

chmod 755 "$tmp"
# Publish the whole directory at once, so an interrupted build never leaves a half binary.
rm -rf "$out"
mv -T "$tmp" "$out"
trap - EXIT
log "built in $(($(date +%s) - start))s"
echo "$out"
