# Offered load against what succeeded, was rejected or failed, per window.
load plotdir . "/common.gp"
set output sprintf("%s/throughput.%s", dir, ext)
set title "Throughput per window"
set ylabel "requests per second (1/s)"
set yrange [0:*]
plot @FAULTS \
	series skip 1 using 2:4 with lines lw 2 lc rgb "#7f7f7f" dt 2 title "offered", \
	series skip 1 using 2:5 with lines lw 2 lc rgb "#2ca02c" title "succeeded", \
	series skip 1 using 2:6 with lines lw 2 lc rgb "#ff7f0e" title "rejected", \
	series skip 1 using 2:7 with lines lw 2 lc rgb "#d62728" title "failed", \
	series skip 1 using 2:8 with lines lw 1 lc rgb "#9467bd" title "retries"
