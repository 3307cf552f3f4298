#!/bin/sh
# Runs the whole suite on other random streams: a check that passes only on
# the stream it was written on is not statistically honest. Every stream of
# a build configured with -Dstream_salt=true moves with ARCHSIM_STREAM_SALT;
# this runs `meson test` once per salt and names the suites that failed.
#
#   meson setup build-salt --buildtype=release -Dstream_salt=true
#   ninja -C build-salt && tests/salted.sh build-salt 8
#
# Exits 1 when a suite failed on any salt (its log is kept as
# BUILD/salt-N.log), 2 on a build without the salt.
set -eu
build=${1:?usage: tests/salted.sh BUILD [SALTS]}
salts=${2:-8}
build=$(cd "$build" && pwd)
cd "$(dirname "$0")/.."
if ! "$build/cli/archsim" --version | grep -q "stream salt build"; then
	echo "salted.sh: $build is not configured with -Dstream_salt=true" >&2
	exit 2
fi
bad=0
s=1
while [ "$s" -le "$salts" ]; do
	if ARCHSIM_STREAM_SALT=$s meson test -C "$build" -q --num-processes 2 >/dev/null 2>&1; then
		echo "salt $s: ok"
	else
		cp "$build/meson-logs/testlog.txt" "$build/salt-$s.log"
		failed=$(python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
print(" ".join(r["name"] for r in map(json.loads, open(sys.argv[1])) if r["result"] != "OK"))
PY
)
		echo "salt $s: FAILED $failed (log: $build/salt-$s.log)"
		bad=1
	fi
	s=$((s + 1))
done
exit "$bad"
