#!/bin/sh
# Writes a scenario of N services to standard output, for measuring how setup
# and reporting scale with the number of components (bench/README.md,
# "Scaling with the number of components"):
#   bench/components.sh chain N [DURATION]   s0 calls s1 ... calls s(N-1)
#   bench/components.sh flat N [DURATION]    N services, no calls
# One client at 1 request/s targets s0. DURATION defaults to 2s.
# Example: bench/components.sh chain 4000 >/tmp/chain4000.yaml
#          time build-rel/cli/archsim run -q /tmp/chain4000.yaml
set -eu
shape=${1:?usage: components.sh chain|flat N [DURATION]}
n=${2:?usage: components.sh chain|flat N [DURATION]}
duration=${3:-2s}
case $shape in chain | flat) ;; *) echo "components.sh: shape is chain or flat" >&2; exit 2 ;; esac
printf 'name: %s\nduration: %s\ncomponents:\n  users: {kind: client, rate: 1/s, target: s0}\n' \
	"$shape" "$duration"
awk -v n="$n" -v shape="$shape" 'BEGIN {
	for (i = 0; i < n; i++) {
		if (shape == "chain" && i + 1 < n)
			printf "  s%d: {kind: service, service_time: 1us, calls: [{target: s%d}]}\n", i, i + 1
		else
			printf "  s%d: {kind: service, service_time: 1us}\n", i
	}
}'
