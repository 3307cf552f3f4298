# Availability per window: the share of finished requests that succeeded.
load plotdir . "/common.gp"
set output sprintf("%s/availability.%s", dir, ext)
set title "Availability per window"
set ylabel "availability (%)"
set yrange [*:100.5]
plot @FAULTS \
	series skip 1 using 2:($9 * 100) with lines lw 2 lc rgb "#1f77b4" title "availability"
