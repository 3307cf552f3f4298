# Queue depth of each component at the end of each window. The driver sets
# queuecols (column numbers in series.csv) and queuenames (component names),
# and rebalcols and rebalnames for the queues whose consumer group
# rebalances: the share of each window it spent rebalancing, drawn in a
# second panel, shows when consumption stopped.
load plotdir . "/common.gp"
set output sprintf("%s/queues.%s", dir, ext)
if (words(queuecols) == 0) {
	set title "Queue depth per component (instantaneous, end of window)"
	set ylabel "queued requests"
	set yrange [0:*]
	set label 2 "no component reports a queue" at graph 0.5, graph 0.5 center
	plot @FAULTS 1/0 notitle
} else {
	if (words(rebalcols) > 0) {
		set multiplot layout 2,1 title "Queues"
		# Fixed margins, so that the two panels' time axes line up
		# whatever their keys' widths.
		set lmargin at screen 0.09
		set rmargin at screen 0.82
		set xlabel ""
	}
	set title "Queue depth per component (instantaneous, end of window)"
	set ylabel "queued requests"
	ycols = queuecols
	@YRANGE_OF_COLS
	plot @FAULTS \
		for [i=1:words(queuecols)] series skip 1 using 2:(column(int(word(queuecols, i)))) \
			with lines lw 2 title word(queuenames, i)
	if (words(rebalcols) > 0) {
		set title "Share of each window the consumer group spent rebalancing"
		set xlabel "simulated time (s)"
		set ylabel "share of window"
		set yrange [0:1.05]
		set style fill transparent solid 0.35 noborder
		plot @FAULTS \
			for [i=1:words(rebalcols)] series skip 1 \
				using (($1+$2)/2):(column(int(word(rebalcols, i)))):($2-$1) \
				with boxes title word(rebalnames, i)
		unset multiplot
	}
}
