# Latency CDFs of the benchmark: gnuplot -e "out='DIR'" cdf.gp
# Reads DIR/rt-*.txt and DIR/edge-*.txt (sorted microseconds, one a line)
# and writes DIR/latency-cdf.png.
set terminal pngcairo size 1100,420 font ",10"
set output out . "/latency-cdf.png"
set logscale x
set xlabel "latency (ms, log scale)"
set ylabel "fraction of samples"
set yrange [0:1]
set grid
set key bottom right
names = "echo gpio2mqtt diy"
samples(kind, i) = out . "/" . kind . "-" . word(names, i) . ".txt"
array n[3]

set multiplot layout 1,2
do for [kind in "rt edge"] {
	do for [i=1:3] { n[i] = int(system("wc -l < '" . samples(kind, i) . "'")) }
	set title (kind eq "rt" ? "Command → state round trip" : "Input edge → MQTT message (echo: forwarding)")
	plot for [i=1:3] samples(kind, i) \
		using ($1 / 1000):(($0 + 1) / n[i]) \
		with lines lw 2 title (i == 1 ? "echo (limit)" : i == 2 ? "gpio2mqtt" : "DIY pipeline")
}
unset multiplot
