#!/bin/sh
# Replications spread over 2 MPI ranks on this machine give byte-identical
# output (summary, JSON) and the same exit code as the serial run.
#   tests/mpi_test.sh ARCHSIM MPIRUN    (built only with meson -Dmpi=true)
set -u
bin=$1
mpirun=$2
root=${ARCHSIM_SOURCE_ROOT:-$(dirname "$0")/..}
scen=$root/scenarios/validation/mm1-rho05.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for reps in 1 3 5; do
	"$bin" run "$scen" --duration 60s --reps $reps --json "$tmp/serial.json" >"$tmp/serial.txt"
	serial_rc=$?
	"$mpirun" --oversubscribe --allow-run-as-root -n 2 \
		"$bin" run "$scen" --duration 60s --reps $reps --json "$tmp/mpi.json" >"$tmp/mpi.txt"
	mpi_rc=$?
	[ "$serial_rc" = "$mpi_rc" ] || fail "reps $reps: exit $mpi_rc under mpirun, $serial_rc serial"
	cmp -s "$tmp/serial.json" "$tmp/mpi.json" || fail "reps $reps: JSON differs"
	cmp -s "$tmp/serial.txt" "$tmp/mpi.txt" || fail "reps $reps: summary differs"
	echo "ok: --reps $reps on 2 ranks equals serial"
done
