#!/usr/bin/env bash
# Builds kic-translate-gw: KIC v3.5.13's own translator and config sender as a command, Gateway variant
# (GatewayClass documents loaded, -gateway-controller-name). Mirrors /work/shared/tools/kic-oracle/build.sh.
# Usage: build.sh KIC_REPO [OUT]   (KIC_REPO: a clone or mirror of github.com/Kong/kubernetes-ingress-controller)
set -euo pipefail
src=${1:?usage: build.sh KIC_REPO [OUT]}
out=${2:-$PWD/kic-translate-gw}
here=$(cd "$(dirname "$0")" && pwd)
# the shared oracle (its adminmock.go is used unchanged); KIC_ORACLE overrides where it is
shared=${KIC_ORACLE:-$here/../../../shared/tools/kic-oracle}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$src" "$work/kic"
git -C "$work/kic" -c advice.detachedHead=false checkout --quiet v3.5.13
mkdir -p "$work/kic/cmd"
cp -r "$here/cmd-kic-translate" "$work/kic/cmd/kic-translate"
cp "$shared/cmd-kic-translate/adminmock.go" "$work/kic/cmd/kic-translate/"
(cd "$work/kic" && go build -o "$out" ./cmd/kic-translate)
echo "$out"
