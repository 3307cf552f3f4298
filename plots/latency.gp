# Latency percentiles per window, with fault windows shaded.
load plotdir . "/common.gp"
set output sprintf("%s/latency.%s", dir, ext)
set title "End-to-end latency of successful requests, per window"
set ylabel "latency (ms)"
set yrange [0:*]
plot @FAULTS \
	series skip 1 using 2:10 with lines lw 2 lc rgb "#1f77b4" title "p50", \
	series skip 1 using 2:11 with lines lw 2 lc rgb "#ff7f0e" title "p95", \
	series skip 1 using 2:12 with lines lw 2 lc rgb "#2ca02c" title "p99"
