#!/usr/bin/env bash
# Short fuzzing run (CI): each target for FUZZ_SECONDS (default 60) starting from the committed
# seed corpus, with a memory cap and a per-input timeout. Exits non-zero when a target crashes,
# hangs (an input runs longer than FUZZ_TIMEOUT seconds) or exceeds FUZZ_RSS_MB; the input that
# did it is kept under fuzz/artifacts/<target>/ and printed (base64) so it can be replayed with
# `cargo +nightly fuzz run <target> <file>`.
#
# Needs the nightly toolchain (cargo-fuzz builds with -Zsanitizer=address), which this script
# installs with rustup when missing, and cargo-fuzz, which it installs from crates.io when
# missing. Without nightly (no rustup, or the install failed) it falls back to the stable
# toolchain with RUSTC_BOOTSTRAP=1 and no sanitizer (still libFuzzer, still catching panics,
# hangs and memory blow-ups).
#
# Builds go to their own cache (FUZZ_TARGET_DIR, default /var/cache/kingress/fuzz-target or
# ~/.cache/kingress/fuzz-target), never to an inherited CARGO_TARGET_DIR: the sanitizer build
# would otherwise invalidate the test build's artifacts.
#
#   fuzz/run-short.sh                       # every target, 60 s each
#   FUZZ_SECONDS=600 fuzz/run-short.sh translate
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(manifests translate)
fi

if [ -n "${FUZZ_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$FUZZ_TARGET_DIR"
elif mkdir -p /var/cache/kingress/fuzz-target 2>/dev/null && [ -w /var/cache/kingress/fuzz-target ]; then
  export CARGO_TARGET_DIR=/var/cache/kingress/fuzz-target
else
  export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/kingress/fuzz-target"
fi

toolchain=(+nightly)
sanitizer=(--sanitizer address)
if command -v rustup >/dev/null 2>&1 && ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "--- installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal || true
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1 and no sanitizer" >&2
  toolchain=()
  sanitizer=(--sanitizer none)
  export RUSTC_BOOTSTRAP=1
fi
if ! cargo "${toolchain[@]}" fuzz --version >/dev/null 2>&1; then
  echo "--- installing cargo-fuzz"
  cargo install cargo-fuzz --locked --version 0.13.2
fi

status=0
for target in "${TARGETS[@]}"; do
  echo "--- fuzz ${target}: ${SECONDS_PER_TARGET}s"
  scratch="$(mktemp -d)"
  artifacts="artifacts/${target}/"
  mkdir -p "$artifacts"
  # New inputs go to the scratch corpus (first directory); the committed seeds are only read.
  if ! cargo "${toolchain[@]}" fuzz run "${sanitizer[@]}" "$target" "$scratch" "corpus/${target}" -- \
      -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$RSS_MB" \
      -timeout="$TIMEOUT" -artifact_prefix="$artifacts" -print_final_stats=1; then
    status=1
    echo "fuzz ${target}: FAILED; the failing input:" >&2
    for f in "$artifacts"*; do
      [ -f "$f" ] || continue
      echo "  $f" >&2
      base64 -w0 "$f" >&2
      echo >&2
    done
  fi
  rm -rf "$scratch"
done
# Read by scripts/test for its summary: a run without the sanitizer must not pass for one with it.
echo "fuzz sanitizer: ${sanitizer[1]}"
exit "$status"
