#!/usr/bin/env bash
# Makes sure the Gateway API conformance suite (as a test binary) and kwok are built, and prints
# the directory holding them (`conformance.test`, `kwok`, and `kwok.yaml`: kwok's own stages) on
# the last line of stdout. Progress
# and errors go to stderr.
#
# Versions come from go.mod/go.sum beside this script. Built once per machine into a cache
# outside the checkout: ${KINGRESS_CACHE:-/var/cache/kingress}/conformance/<key>/, where the key
# names the suite and kwok versions and hashes this module's files. Needs Go >= 1.26 and, on a
# cold cache, the Go module proxy.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
  echo "conformance/ensure.sh: error: $*" >&2
  exit 1
}
log() {
  echo "conformance/ensure.sh: $*" >&2
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

module_version() {
  awk -v m="$1" '{ if ($1 == "require") { n = $2; v = $3 } else { n = $1; v = $2 } }
    n == m && v ~ /^v/ { print v; exit }' "$here/go.mod"
}
suite_version="$(module_version sigs.k8s.io/gateway-api/conformance)"
kwok_version="$(module_version sigs.k8s.io/kwok)"
[ -n "$suite_version" ] || die "no sigs.k8s.io/gateway-api/conformance requirement in $here/go.mod"
[ -n "$kwok_version" ] || die "no sigs.k8s.io/kwok requirement in $here/go.mod"
digest="$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go "$here/ensure.sh" | sha256sum | cut -c1-12)"

out_parent="$cache_root/conformance"
out="$out_parent/$suite_version-kwok-$kwok_version-$digest"

have_binaries() {
  [ -x "$out/conformance.test" ] && [ -x "$out/kwok" ] && [ -f "$out/kwok.yaml" ]
}

if have_binaries; then
  echo "$out"
  exit 0
fi

mkdir -p "$out_parent"
exec 9>"$out_parent/.lock"
if ! flock -n 9; then
  log "waiting for another build of the conformance suite to finish..."
  flock 9
fi
if have_binaries; then
  echo "$out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 ||
  die "Go is not on PATH; it is needed (once per machine) to build the conformance suite $suite_version and kwok $kwok_version"
go_version="$(go env GOVERSION 2>/dev/null || true)"
case "$go_version" in
go1.2[6-9]* | go1.[3-9][0-9]* | go[2-9]*) ;;
*) die "Go >= 1.26 is needed to build the conformance suite, found '${go_version:-unknown}' ($(command -v go))" ;;
esac

export GOMODCACHE="${GOMODCACHE:-$cache_root/go/mod}"
export GOCACHE="${GOCACHE:-$cache_root/go/build}"
export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

log "building the Gateway API conformance suite $suite_version and kwok $kwok_version with $go_version into $out"
log "(once per machine; a cold build takes a few minutes)"
start=$(date +%s)

tmp="$(mktemp -d "$out_parent/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cd "$here"
go mod download ||
  die "could not download the Go modules that $here/go.mod pins (is the Go module proxy reachable?)"
go build -trimpath -ldflags "-s -w" -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok ||
  die "go build of kwok failed (see the output above)"
go test -c -trimpath -ldflags "-s -w" -o "$tmp/conformance.test" . ||
  die "go test -c of the conformance suite failed (see the output above)"
# kwok's own stages (kwokctl's defaults): nodes become Ready and keep a lease, Pods become Ready,
# complete and go away when deleted.
kwok_dir="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)" || die "cannot locate the kwok module"
{
  first=1
  for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    [ -f "$kwok_dir/kustomize/stage/$stage.yaml" ] || die "kwok has no stage $stage"
    [ "$first" = 1 ] || echo "---"
    first=0
    cat "$kwok_dir/kustomize/stage/$stage.yaml"
  done
} >"$tmp/kwok.yaml"

chmod 755 "$tmp"
rm -rf "$out"
mv -T "$tmp" "$out"
trap - EXIT
log "built in $(($(date +%s) - start))s"
echo "$out"
