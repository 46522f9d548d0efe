#!/usr/bin/env bash
# Builds sinter and runs the whole test suite: the normal build, then an ASan+UBSan build,
# then short bounded fuzz runs. Usage: scripts/test.sh [--quick]  (--quick: normal build only)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (warnings are errors) and test"
cmake -S . -B build -DSINTER_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

if [ "${1:-}" = "--quick" ]; then exit 0; fi

echo "== ASan+UBSan build (with allocation-failure injection: tests/cli/fault.sh) and test"
cmake -S . -B build-asan -DSINTER_WERROR=ON -DSINTER_SANITIZE=ON -DSINTER_FAULT_INJECTION=ON \
      -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j"$jobs")

echo "== fuzz (bounded)"
CC=clang-14 cmake -S . -B build-fuzz -DSINTER_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzzers
for f in build-fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f"); corpus=tests/fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d); cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  echo "-- $name (${SINTER_FUZZ_SECONDS:-30}s)"
  "$f" -max_total_time="${SINTER_FUZZ_SECONDS:-30}" -rss_limit_mb=2048 -print_final_stats=0 "$work" 2>&1 | tail -2
  rm -rf "$work"
done
echo "test.sh: all stages passed"
