# Replication of each database over time, in two panels: how long its most
# held-back replica has been waiting for writes (a link cut by a partition or
# a zone loss, a crash, a paused log), and the stale reads so far of each
# database and of each cache over one. The driver sets stallcols and dbnames,
# stalecols and stalenames (column numbers in series.csv, and whose).
load plotdir . "/common.gp"
set output sprintf("%s/replication.%s", dir, ext)
if (words(stallcols) == 0) {
	set title "Replication"
	set label 2 "no database reports replication" at graph 0.5, graph 0.5 center
	set yrange [0:1]
	plot @FAULTS 1/0 notitle
} else {
	set multiplot layout 2,1 title "Replication per database"
	set lmargin 10
	set title "Longest a replica has been held back (end of window)"
	set xlabel ""
	set ylabel "seconds"
	ycols = stallcols
	yscale = 0.001
	@YRANGE_OF_COLS
	plot @FAULTS \
		for [i=1:words(stallcols)] series skip 1 using 2:(column(int(word(stallcols, i))) / 1000) \
			with lines lw 2 title word(dbnames, i)
	set title "Stale reads since warm-up (cumulative)"
	set xlabel "simulated time (s)"
	set ylabel "reads"
	ycols = stalecols
	yscale = 1
	@YRANGE_OF_COLS
	plot @FAULTS \
		for [i=1:words(stalecols)] series skip 1 using 2:(column(int(word(stalecols, i)))) \
			with lines lw 2 title word(stalenames, i)
	unset multiplot
}
