#!/bin/sh
# Builds archsim and runs every test: the Check suites, the scenario and CLI
# tests in a normal build, then the same suites again under AddressSanitizer
# and UndefinedBehaviorSanitizer. Exits non-zero when anything fails.
set -eu
cd "$(dirname "$0")/.."

setup() { # setup DIR [meson options...]
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

echo "== build and test (normal) =="
setup build
meson compile -C build
meson test -C build --print-errorlogs --verbose

echo "== build and test (ASan + UBSan) =="
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan
# Sanitised code runs a few times slower: Check's per-test timeouts are
# scaled as meson's are.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
CK_TIMEOUT_MULTIPLIER=4 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --print-errorlogs --timeout-multiplier 4
# One plain closing line over both builds, from meson's own test logs.
python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        if r == "OK":
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
