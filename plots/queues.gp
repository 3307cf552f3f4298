# Queue depth of each component at the end of each window. The driver sets
# queuecols (column numbers in series.csv) and queuenames (component names).
load plotdir . "/common.gp"
set output sprintf("%s/queues.%s", dir, ext)
set title "Queue depth per component (instantaneous, end of window)"
set ylabel "queued requests"
set yrange [0:*]
if (words(queuecols) == 0) {
	set label 2 "no component reports a queue" at graph 0.5, graph 0.5 center
	plot @FAULTS 1/0 notitle
} else {
	ycols = queuecols
	@YRANGE_OF_COLS
	plot @FAULTS \
		for [i=1:words(queuecols)] series skip 1 using 2:(column(int(word(queuecols, i)))) \
			with lines lw 2 title word(queuenames, i)
}
