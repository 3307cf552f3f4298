# The latency CDF of the whole run after warm-up, on a log x axis.
load plotdir . "/common.gp"
unset object 1
unset label 1
set output sprintf("%s/cdf.%s", dir, ext)
set title "Latency distribution of successful requests (after warm-up)"
set xlabel "latency (ms, log scale)"
set ylabel "share of requests at or below (%)"
set logscale x
set xrange [*:*]
set yrange [0:100]
set key inside left top nobox
plot dir . "/cdf.csv" skip 1 using 1:($2 * 100) with steps lw 2 lc rgb "#1f77b4" title "CDF"
