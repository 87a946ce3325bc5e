# Latency CDFs of the benchmark: gnuplot -e "out='DIR'" cdf.gp
# Reads DIR/rt-untuned-*.txt, DIR/rt-*.txt and DIR/edge-*.txt (sorted
# microseconds, one a line) and writes DIR/latency-cdf.png.
set terminal pngcairo size 1500,420 font ",10"
set output out . "/latency-cdf.png"
set logscale x
set xlabel "latency (ms, log scale)"
set ylabel "fraction of samples"
set yrange [0:1]
set grid
set key bottom right
# Round trips: echo at QoS 0 (echo0); input latency: echo at QoS 1.
names(kind) = kind eq "edge" ? "echo gpio2mqtt diy" : "echo0 gpio2mqtt diy"
samples(kind, i) = out . "/" . kind . "-" . word(names(kind), i) . ".txt"
array n[3]

set multiplot layout 1,3
do for [kind in "rt-untuned rt edge"] {
	# The broker as installed serves round trips of echo and gpio2mqtt only.
	k = kind eq "rt-untuned" ? 2 : 3
	do for [i=1:k] { n[i] = int(system("wc -l < '" . samples(kind, i) . "'")) }
	set title (kind eq "rt-untuned" ? "Round trip, mosquitto as installed" : \
		kind eq "rt" ? "Round trip, set\\_tcp\\_nodelay true" : \
		"Input edge → MQTT message (echo: forwarding)")
	plot for [i=1:k] samples(kind, i) \
		using ($1 / 1000):(($0 + 1) / n[i]) \
		with lines lw 2 title (i == 1 ? (kind eq "edge" ? "echo (limit)" : "echo at QoS 0 (limit)") : \
			i == 2 ? "gpio2mqtt" : "DIY pipeline")
}
unset multiplot
