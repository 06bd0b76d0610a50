#!/usr/bin/env bash
# Wall time and peak RSS of `kingress translate` on synthetic clusters (docs/PERFORMANCE.md):
# writes each cluster as YAML with the bench-cluster example, then runs the release binary
# under /usr/bin/time. Sizes: KINGRESS_BENCH_SIZES (default 1000,10000,50000), 10 endpoints
# per Service; REPEAT runs each (default 3) and prints every run. KINGRESS=<binary> measures
# another build (e.g. an older commit's) on the same clusters.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR=/var/cache/kingress/target
fi
if [ ! -x /usr/bin/time ]; then
  apt-get install -y -qq time >/dev/null
fi
cargo build --release --locked --bin kingress --example bench-cluster >&2
bin="$CARGO_TARGET_DIR/release"
kingress="${KINGRESS:-$bin/kingress}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

echo "| Services | YAML | wall (s) | peak RSS (MiB) | JSON out |"
echo "|---|---|---|---|---|"
for n in $(echo "${KINGRESS_BENCH_SIZES:-1000,10000,50000}" | tr ',' ' '); do
  yaml="$dir/c$n.yaml"
  "$bin/examples/bench-cluster" --services "$n" --endpoints 10 --seed 1 --out "$yaml" 2>/dev/null
  for _ in $(seq "${REPEAT:-3}"); do
    /usr/bin/time -f '%e %M' -o "$dir/time" \
      "$kingress" translate -f "$yaml" -o json >"$dir/out.json" 2>"$dir/err"
    read -r wall kib <"$dir/time"
    echo "| $n | $(($(stat -c %s "$yaml") / 1048576)) MiB | $wall | $((kib / 1024)) | $(($(stat -c %s "$dir/out.json") / 1048576)) MiB |"
  done
done
