#!/usr/bin/env bash
# Builds vpcflowd with every warning an error and runs the whole test suite
# (unit and golden). Installs the Debian packages it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/debian-deps.sh
# the emulators the integration tests start (npm registry; no install scripts)
if [ ! -d test/emulators/node_modules ] || [ test/emulators/package-lock.json -nt test/emulators/node_modules ]; then
	(cd test/emulators && npm ci --no-audit --no-fund --loglevel=error)
fi
build=build-test
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" --buildtype=debugoptimized --werror -Dbench=true
fi
ninja -C "$build"
set +e
meson test -C "$build" --print-errorlogs --num-processes 2 2>&1 | tee "$build/test-output.txt"
rc=${PIPESTATUS[0]}
set -e
ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$build/test-output.txt")
fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$build/test-output.txt")
timeout=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$build/test-output.txt")
skip=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$build/test-output.txt")
echo "${ok:-0} passed, $(( ${fail:-0} + ${timeout:-0} )) failed, ${skip:-0} skipped"
exit "$rc"
