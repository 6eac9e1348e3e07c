#!/usr/bin/env bash
# oomsim set-up: installs whatever this machine lacks to build and test the project, and nothing it already has.
# Idempotent; a few seconds when everything is present. Used by `npm start`, `npm test` and `.ci/run`.
#
#   scripts/setup.sh [--quiet] [--browser] [--redis] [--zstd]
#
# What it ensures (docs/decisions/0001-toolchain.md explains the choices):
#   1. a Rust compiler that can target wasm32-unknown-unknown: rustup's own target when a developer has it,
#      otherwise Debian's rustc-web + rust-web-src (std rebuilt with -Zbuild-std) and the lld it links with;
#   2. wasm-bindgen-cli at exactly the version of the wasm-bindgen crate (Cargo.toml), and wasm-pack, both built with
#      `cargo install --locked` into a cache outside the repository ($OOMSIM_TOOLS, default ~/.cache/oomsim/tools);
#   3. node_modules from package-lock.json (`npm ci`), re-run only when the lockfile changed;
#   4. with --browser: Debian's chromium, for the headless browser tests;
#   5. with --redis: Debian's redis-server, for the distributed sweep tests (they start their own server on a free
#      loopback port; a system service the package may start is not used);
#   6. with --zstd: Debian's zstd tool, which the trace tests use to make .zst inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

QUIET=0
BROWSER=0
REDIS=0
ZSTD=0
for arg in "$@"; do
  case "$arg" in
    --quiet) QUIET=1 ;;
    --browser) BROWSER=1 ;;
    --redis) REDIS=1 ;;
    --zstd) ZSTD=1 ;;
    *) echo "setup: unknown option '$arg' (allowed: --quiet, --browser, --redis, --zstd)" >&2; exit 2 ;;
  esac
done
say() { [ "$QUIET" = 1 ] || echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
TOOLS="${OOMSIM_TOOLS:-$HOME/.cache/oomsim/tools}"
export PATH="$TOOLS/bin:$PATH"
WASM_PACK_VERSION="0.15.1"
WBG_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)"
[ -n "$WBG_VERSION" ] || die "cannot read the pinned wasm-bindgen version from Cargo.toml ([workspace.dependencies] wasm-bindgen = \"=X.Y.Z\")"

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs), then re-run"
command -v node >/dev/null || die "node not found: Node.js 20 or newer is required"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || die "Node.js $(node --version) is too old: 20 or newer is required"

SUDO=""
if [ "$(id -u)" != 0 ]; then command -v sudo >/dev/null && SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "need packages '$*' but this is not a Debian-like system; install them by hand"
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    $SUDO apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }

# 1. wasm-capable Rust -------------------------------------------------------------------------------------------
mkdir -p .oomsim
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  WASM_MODE=rustup
  say "wasm32 target: rustup's ($(rustc --version))"
else
  WASM_MODE=debian
  missing=()
  for p in rustc-web cargo-web rust-web-src rust-web-llvm; do have_pkg "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  lld_pkg="$(basename "$(readlink /usr/bin/rust-lld 2>/dev/null || echo lld)")"
  if ! [ -x "/usr/bin/$lld_pkg" ] && ! command -v "$lld_pkg" >/dev/null; then apt_install "$lld_pkg"; fi
  [ "$(pkg_version rustc-web)" = "$(pkg_version rust-web-src)" ] ||
    die "rustc-web $(pkg_version rustc-web) and rust-web-src $(pkg_version rust-web-src) differ: std sources must match the compiler (apt-get install rustc-web rust-web-src)"
  say "wasm32 target: Debian rustc-web $(pkg_version rustc-web) with -Zbuild-std"
fi
echo "WASM_MODE=$WASM_MODE" > .oomsim/env
echo "TOOLS=$TOOLS" >> .oomsim/env

# 2. wasm-bindgen-cli and wasm-pack, pinned -------------------------------------------------------------------------
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WBG_VERSION" ]; then
  say "building wasm-bindgen-cli $WBG_VERSION into $TOOLS (once per machine, a few minutes)"
  cargo install --quiet wasm-bindgen-cli --version "=$WBG_VERSION" --locked --root "$TOOLS"
fi
if ! wasm-pack --version 2>/dev/null | grep -q " $WASM_PACK_VERSION\$"; then
  say "building wasm-pack $WASM_PACK_VERSION into $TOOLS (once per machine, a few minutes)"
  cargo install --quiet wasm-pack --version "=$WASM_PACK_VERSION" --locked --root "$TOOLS"
fi

# 3. npm dependencies ------------------------------------------------------------------------------------------------
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ "$(cat node_modules/.oomsim-lock 2>/dev/null)" != "$lock_sum" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sum" > node_modules/.oomsim-lock
fi

# 4. a browser for the headless tests -----------------------------------------------------------------------------
if [ "$BROWSER" = 1 ]; then
  CHROMIUM="${OOMSIM_CHROMIUM:-/usr/bin/chromium}"
  [ -x "$CHROMIUM" ] || apt_install chromium
  echo "CHROMIUM=$CHROMIUM" >> .oomsim/env
fi

# 5. redis-server for the distributed sweep tests ------------------------------------------------------------------
if [ "$REDIS" = 1 ]; then
  REDIS_SERVER="${OOMSIM_REDIS_SERVER:-/usr/bin/redis-server}"
  [ -x "$REDIS_SERVER" ] || apt_install redis-server
  echo "REDIS_SERVER=$REDIS_SERVER" >> .oomsim/env
fi
# 6. the zstd tool, which the trace tests use to make .zst inputs -------------------------------------------------
if [ "$ZSTD" = 1 ]; then
  command -v zstd >/dev/null || apt_install zstd
fi
say "ready"
