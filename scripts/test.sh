#!/usr/bin/env bash
# `npm test`: set up, build, then run every test: the Rust core natively (cargo test: unit tests, kernel-vector
# table tests, property tests), then vitest against the built wasm package (engine, conformance runner, Node import,
# headless Chromium), then the type check of sources, tests and benches. Ends with one plain line `N passed, N failed` counting all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test/.output

bash scripts/setup.sh --browser --redis --zstd || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }
npx vite build --config bindings/web/vite.config.ts >test/.output/vite.txt 2>&1 || { echo "test: building the browser page failed" >&2; echo "0 passed, 1 failed"; exit 1; }
# shellcheck disable=SC1091
. .oomsim/env
export OOMSIM_CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export OOMSIM_REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

echo "== cargo test (native core)"
cargo test --workspace 2>&1 | tee test/.output/cargo.txt | grep -E '^(test result|failures:|---- |thread .* panicked)|FAILED|error(\[|:)' 
cargo_rc=${PIPESTATUS[0]}
read -r rust_passed rust_failed < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p + 0, f + 0 }' test/.output/cargo.txt)
if [ "$cargo_rc" != 0 ] && [ "$rust_failed" = 0 ]; then rust_failed=1; fi  # a build error counts as a failure

echo "== vitest (wasm package)"
npx vitest run --reporter=default --reporter=json --outputFile=test/.output/vitest.json
vitest_rc=$?
read -r ts_passed ts_failed < <(node -e '
  try { const r = JSON.parse(require("fs").readFileSync("test/.output/vitest.json", "utf8"));
        // failed tests, plus each file that failed with no failed test of its own (an import or setup error)
        const broken = (r.testResults || []).filter((f) => f.status === "failed" && !(f.assertionResults || []).some((a) => a.status === "failed")).length;
        console.log(r.numPassedTests, r.numFailedTests + broken); }
  catch { console.log(0, 1); }')
if [ "$vitest_rc" != 0 ] && [ "$ts_failed" = 0 ]; then ts_failed=1; fi

echo "== typecheck (tsc --noEmit: sources, tests, benches)"
if npx tsc -p tsconfig.json --noEmit; then tc_passed=1 tc_failed=0; else tc_passed=0 tc_failed=1; fi

echo "rust: $rust_passed passed, $rust_failed failed; ts: $ts_passed passed, $ts_failed failed; typecheck: $tc_passed passed, $tc_failed failed"
passed=$((rust_passed + ts_passed + tc_passed))
failed=$((rust_failed + ts_failed + tc_failed))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
