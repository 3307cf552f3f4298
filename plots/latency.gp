# Latency percentiles per window, with fault windows shaded. The driver
# (cli/plot.c) counts the windows with a latency (latwindows) and their
# largest p99 (latmax): with none, or all 0 ms, the axis is set by hand
# (autoscaling has nothing to scale, and gnuplot would stop or warn).
load plotdir . "/common.gp"
set output sprintf("%s/latency.%s", dir, ext)
set title "End-to-end latency of successful requests, per window"
set ylabel "latency (ms)"
if (latwindows == 0) {
	set yrange [0:1]
	unset key
	set label 2 "no request succeeded: no latency to draw" at graph 0.5, graph 0.5 center
	plot @FAULTS -1 notitle
} else {
	if (latmax > 0) { set yrange [0:*] } else { set yrange [0:1] }
	plot @FAULTS \
		series skip 1 using 2:10 with lines lw 2 lc rgb "#1f77b4" title "p50", \
		series skip 1 using 2:11 with lines lw 2 lc rgb "#ff7f0e" title "p95", \
		series skip 1 using 2:12 with lines lw 2 lc rgb "#2ca02c" title "p99"
}
