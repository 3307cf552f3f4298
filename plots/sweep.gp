# archsim sweep --plot DIR: p95 latency and availability against the swept
# value, from DIR/sweep.csv (value, x, p50_ms, p95_ms, p99_ms, availability,
# throughput_rps, ok, bisection). The driver sets dir, ext and numeric (0 for
# a list of names, plotted by position with the names as tics).
if (ext eq "svg") {
	set terminal svg size 1000,520 dynamic enhanced font "sans,12" background rgb "white"
} else {
	set terminal pngcairo size 1000,520 enhanced font "sans,11" background rgb "white"
}
set termoption noenhanced
set datafile separator comma
# NaN (a point without a successful request, so without a latency) is left
# undefined, so the p95 line breaks there; declared "missing", it would be
# drawn straight across that point.
set grid lw 0.5 lc rgb "#dddddd"
set key outside right top box opaque
set border 11
set tics nomirror
data = dir . "/sweep.csv"
set output sprintf("%s/sweep.%s", dir, ext)
set title "p95 latency and availability against the swept value"
set xlabel "swept value"
set ylabel "p95 latency (ms)"
set y2label "availability (%)"
set yrange [0:*]
# At least a point of availability in view, so that 100% is not a flat line
# on the bottom edge.
stats data skip 1 using ($6 * 100) nooutput
set y2range [(STATS_min < 99.5 ? STATS_min - 0.5 : 99) : 100.5]
set y2tics
# The points that failed an SLO are circled; when none did, the series is
# left out (gnuplot would warn of a data file with no valid points).
stats data skip 1 using ($8 == 0) nooutput
FAILED = STATS_sum > 0 ? ', data skip 1 using 2:($8 == 0 ? $4 : 1/0) with points pt 6 ps 2 lc rgb "#d62728" title "SLO failed"' : ''
if (numeric) {
	plot data skip 1 using 2:4 with linespoints lw 2 pt 7 lc rgb "#ff7f0e" title "p95", \
		data skip 1 using 2:($6 * 100) axes x1y2 with linespoints lw 2 pt 5 lc rgb "#1f77b4" title "availability" @FAILED
} else {
	plot data skip 1 using 2:4:xtic(1) with linespoints lw 2 pt 7 lc rgb "#ff7f0e" title "p95", \
		data skip 1 using 2:($6 * 100) axes x1y2 with linespoints lw 2 pt 5 lc rgb "#1f77b4" title "availability" @FAILED
}
