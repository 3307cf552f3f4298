# Shared by every archsim plot script. The plot driver (cli/plot.c) sets:
#   dir      the output directory holding series.csv, cdf.csv, faults.csv
#   ext      "png" or "svg"
#   nfaults  the number of rows in faults.csv
#   warmup   the end of warm-up in seconds (0: none)
#   tmax     the end of the last window in seconds
if (ext eq "svg") {
	set terminal svg size 1000,520 dynamic enhanced font "sans,12" background rgb "white"
} else {
	set terminal pngcairo size 1000,520 enhanced font "sans,11" background rgb "white"
}
# Fault labels carry underscores ("zone_loss a"): plain text, no subscripts.
set termoption noenhanced
set datafile separator comma
# NaN (a window with no successful request) is left undefined, so lines break
# there instead of bridging the gap as they would for a "missing" value.
set grid lw 0.5 lc rgb "#dddddd"
set key outside right top box opaque
set border 3
set tics nomirror
set xlabel "simulated time (s)"
set xrange [0:tmax]
series = dir . "/series.csv"
faults = dir . "/faults.csv"
# Fault windows and warm-up are drawn on the second y axis, fixed to [0:1],
# so they span the full height whatever the first axis shows.
set y2range [0:1]
unset y2tics
if (warmup > 0) {
	set object 1 rect from 0, graph 0 to warmup, graph 1 behind fc rgb "#888888" fs transparent solid 0.12 noborder
	set label 1 "warm-up" at warmup / 2, graph 0.97 center font ",9" tc rgb "#555555"
}
# A macro: the shaded fault windows with their labels, or nothing.
FAULTS = (nfaults > 0) ? sprintf("'%s' skip 1 using (($1+$2)/2):(0.5):1:2:(0):(1) axes x1y2 with boxxyerror fs transparent solid 0.2 noborder fc rgb '#d62728' title 'fault', '%s' skip 1 using (($1+$2)/2):(0.93):3 axes x1y2 with labels font ',9' tc rgb '#a01010' notitle,", faults, faults) : ""
# A macro: sets the y range to [0, 5% above the largest value of the
# series.csv columns listed in ycols, times yscale], or [0:1] when they are
# all zero (autoscaling would warn of an empty range then). stats leaves out
# points outside the y range in force, so the previous panel's range is
# cleared first: else a larger series here is measured clipped.
yscale = 1
YRANGE_OF_COLS = "set autoscale y; ymax = 0; do for [yi=1:words(ycols)] { stats series skip 1 using (column(int(word(ycols, yi)))) nooutput; if (STATS_max > ymax) { ymax = STATS_max } }; set yrange [0:(ymax > 0 ? ymax * yscale * 1.05 : 1)]"
