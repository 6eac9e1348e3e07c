#!/usr/bin/env bash
# Builds the wasm engine (pkg/) and the TypeScript package (bindings/dist/). Incremental: seconds when nothing
# changed. Run scripts/setup.sh first (npm start / npm test do).
#
#   scripts/build.sh [--quiet] [--release-native]
set -euo pipefail
cd "$(dirname "$0")/.."
QUIET=0
NATIVE=0
for arg in "$@"; do
  case "$arg" in
    --quiet) QUIET=1 ;;
    --release-native) NATIVE=1 ;;
    *) echo "build: unknown option '$arg' (allowed: --quiet, --release-native)" >&2; exit 2 ;;
  esac
done
say() { [ "$QUIET" = 1 ] || echo "build: $*"; }
[ -f .oomsim/env ] || { echo "build: run scripts/setup.sh first" >&2; exit 1; }
# shellcheck disable=SC1091
. .oomsim/env
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
export PATH="$TOOLS/bin:$PATH"

# The wasm engine. wasm-pack drives cargo and the pinned wasm-bindgen from PATH (--mode no-install: never download).
# With Debian's compiler, std is rebuilt for wasm32 (-Zbuild-std) and wasm-pack's rustup-based target check is
# skipped (--mode force), because it inspects the rustup rustc on PATH, not $RUSTC.
args=(build engine/wasm --release --no-opt --target web --out-dir ../../pkg --out-name oomsim_wasm --no-pack)
extra=()
if [ "$WASM_MODE" = debian ]; then
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
  args+=(--mode force)
  extra=(-- -Zbuild-std=std,panic_abort)
else
  args+=(--mode no-install)
fi
say "wasm engine ($WASM_MODE toolchain)"
CARGO_TARGET_DIR="$PWD/target/wasm" wasm-pack --log-level error --quiet "${args[@]}" "${extra[@]}"
unset RUSTC RUSTDOC RUSTC_BOOTSTRAP

# wasm-opt (binaryen, pinned in package.json) makes the engine ~1.5-1.8x faster (docs/decisions/0001-toolchain.md).
# It takes ~10 s, so its output is cached by the hash of its input and reused when the engine did not change.
# OOMSIM_WASM_OPT=0 skips it (faster edit-build loops).
if [ "${OOMSIM_WASM_OPT:-1}" != 0 ]; then
  wasm=pkg/oomsim_wasm_bg.wasm
  sum="$(sha256sum "$wasm" | cut -d' ' -f1)"
  cache="target/wasm/opt-$sum.wasm"
  if [ ! -f "$cache" ]; then
    say "wasm-opt -O3"
    rm -f target/wasm/opt-*.wasm
    npx wasm-opt -O3 --enable-bulk-memory --enable-reference-types --enable-multivalue --enable-sign-ext \
      --enable-nontrapping-float-to-int --enable-mutable-globals "$wasm" -o "$cache.tmp"
    mv "$cache.tmp" "$cache"
  fi
  cp "$cache" "$wasm"
fi

if [ "$NATIVE" = 1 ]; then
  say "native bench binary"
  cargo build --quiet --release -p oomsim-core --bin oomsim-bench
fi

# The helper process of the real-kernel tests (test/capture-kernel.test.ts); Linux only, a second when unchanged.
if [ "$(uname -s)" = Linux ]; then
  say "test helper oomsim-memhog"
  cargo build --quiet -p oomsim-memhog
fi

say "TypeScript package"
npx tsc -p tsconfig.build.json
