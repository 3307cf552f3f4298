# archsim compare --plot DIR: the two designs overlaid, from replication 0 of
# each (DIR/base/ and DIR/candidate/, as `run --out` writes them). The driver
# sets dir, ext, basename and candname.
if (ext eq "svg") {
	set terminal svg size 1000,520 dynamic enhanced font "sans,12" background rgb "white"
} else {
	set terminal pngcairo size 1000,520 enhanced font "sans,11" background rgb "white"
}
set termoption noenhanced
set datafile separator comma
# NaN (a window with no successful request, as in an outage) is left
# undefined, so the p95 line breaks there; declared "missing", it would be
# drawn straight across the outage.
set grid lw 0.5 lc rgb "#dddddd"
set key inside left top box opaque
set border 3
set tics nomirror
b = dir . "/base"
c = dir . "/candidate"

set output sprintf("%s/compare_cdf.%s", dir, ext)
set title "Latency distribution of successful requests (after warm-up), replication 0"
set xlabel "latency (ms, log scale)"
set ylabel "share of requests at or below (%)"
set logscale x
set yrange [0:100]
plot b . "/cdf.csv" skip 1 using 1:($2 * 100) with steps lw 2 lc rgb "#1f77b4" title "base: " . basename, \
	c . "/cdf.csv" skip 1 using 1:($2 * 100) with steps lw 2 lc rgb "#ff7f0e" title "candidate: " . candname

unset logscale x
set output sprintf("%s/compare_p95.%s", dir, ext)
set title "p95 latency per window, replication 0"
set xlabel "simulated time (s)"
set ylabel "p95 latency (ms)"
set yrange [0:*]
set key outside right top box opaque
plot b . "/series.csv" skip 1 using 2:11 with lines lw 2 lc rgb "#1f77b4" title "base: " . basename, \
	c . "/series.csv" skip 1 using 2:11 with lines lw 2 lc rgb "#ff7f0e" title "candidate: " . candname
