# The latency CDF of the whole run after warm-up, on a log x axis. The
# driver (cli/plot.c) gives cdf.csv's rows (cdfrows) and largest latency
# (cdfmax): a log axis needs a latency above 0, so a run whose requests all
# took 0 ns (zero-time services, no network) is drawn on a linear one, and
# a run where none succeeded says so.
load plotdir . "/common.gp"
unset object 1
unset label 1
set output sprintf("%s/cdf.%s", dir, ext)
set title "Latency distribution of successful requests (after warm-up)"
set ylabel "share of requests at or below (%)"
set yrange [0:100]
set key inside left top nobox
if (cdfrows == 0) {
	set xlabel "latency (ms)"
	set xrange [0:1]
	unset key
	set label 2 "no request succeeded after warm-up: no latency to draw" at graph 0.5, graph 0.5 center
	plot -1 notitle
} else {
	if (cdfmax > 0) {
		set xlabel "latency (ms, log scale)"
		set logscale x
		set xrange [*:*]
		plot dir . "/cdf.csv" skip 1 using 1:($2 * 100) with steps lw 2 lc rgb "#1f77b4" title "CDF"
	} else {
		# Every request at 0 ms: one step, from 0 to 100% at 0.
		set xlabel "latency (ms)"
		set xrange [-0.1:1]
		set key inside right top nobox
		plot dir . "/cdf.csv" skip 1 using 1:($2 * 100) with impulses lw 3 lc rgb "#1f77b4" title "CDF (every request at 0 ms)"
	}
}
