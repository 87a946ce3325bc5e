#!/bin/sh
# Usage: tests/bench/report.sh OUT_DIR
# Turns OUT_DIR/results.txt ("CONTESTANT FIGURE VALUE" lines from
# run-bench.sh) into a Markdown table on stdout: each figure, its ratio to
# echo, and the issue's target for gpio2mqtt where there is one.
set -eu
out=$1
[ -s "$out/results.txt" ] || { echo "report: no $out/results.txt" >&2; exit 1; }

awk -v settings="$(cat "$out/settings.txt" 2>/dev/null)" '
# Counts of several rounds add up; other figures are given once.
{ if ($2 ~ /_late$/) v[$1, $2] += $3; else v[$1, $2] = $3 }

function has(who, key) { return ((who, key) in v) }
# A figure in the unit of its row: "ms" from microseconds, "MiB" from kB.
function show(who, key, unit,   x) {
	if (!has(who, key)) return "—"
	x = v[who, key]
	if (unit == "ms") return sprintf("%.2f", x / 1000)
	if (unit == "MiB") return sprintf("%.2f", x / 1024)
	if (unit == "ms1") return sprintf("%.1f", x)
	if (unit == "us") return sprintf("%.0f", x)
	return x
}
function ratio(who, key) {
	if (!has(who, key) || !has("echo", key) || v["echo", key] + 0 == 0) return "—"
	return sprintf("%.2f×", v[who, key] / v["echo", key])
}
function verdict(ok) { return ok ? "met" : "**missed**" }
function row(label, key, unit, target) {
	printf "| %s | %s | %s | %s | %s | %s | %s |\n", label, show("echo", key, unit),
		show("gpio2mqtt", key, unit), ratio("gpio2mqtt", key), show("diy", key, unit),
		ratio("diy", key), target
}
# Target "gpio2mqtt <= LIMIT x echo" (or >= when AT_LEAST).
function vs_echo(key, limit, at_least,   r) {
	if (!has("gpio2mqtt", key) || !has("echo", key) || v["echo", key] + 0 == 0) return "—"
	r = v["gpio2mqtt", key] / v["echo", key]
	return sprintf("%s %.2f × echo: %s", at_least ? "≥" : "≤", limit,
		verdict(at_least ? r >= limit : r <= limit))
}
# gpio2mqtt against echo at QoS 1 (the "qos1_" figures), for the reading.
function vs_qos1(key) {
	if (!has("gpio2mqtt", key) || !has("echo", "qos1_" key) || v["echo", "qos1_" key] + 0 == 0)
		return ""
	return sprintf("gpio2mqtt ÷ echo at QoS 1: %.2f×", v["gpio2mqtt", key] / v["echo", "qos1_" key])
}
function kernel_delay(key) {
	return has("kernel", key) ? sprintf(" (kernel alone, flip → edge timestamp: %.2f)", v["kernel", key] / 1000) : ""
}
function burst(rate, label,   k, lost) {
	k = "burst" rate "_lost"
	lost = has("kernel", k) ? sprintf(" (kernel alone: %d lost)", v["kernel", k]) : ""
	printf "| Edges lost at %s, of %s flips%s | %s | %s | | %s | | |\n", label, n_burst, lost,
		burst_cell("echo", rate), burst_cell("gpio2mqtt", rate), burst_cell("diy", rate)
}
function burst_cell(who, rate,   r) {
	if (!has(who, "burst" rate "_lost")) return "—"
	r = v[who, "burst" rate "_rate"]
	return sprintf("%d (at %d Hz%s)", v[who, "burst" rate "_lost"], r,
		v[who, "burst" rate "_last_right"] == "no" ? ", last state wrong" : "")
}
# Flat: less than 256 kB more after the long run than at its start.
function growth(after, before,   d) {
	if (!has("gpio2mqtt", after) || !has("gpio2mqtt", before)) return "flat"
	d = v["gpio2mqtt", after] - v["gpio2mqtt", before]
	return sprintf("flat: %s (%+d kB)", verdict(d < 256), d)
}
function per_line(key8, key1000, what,   r) {
	if (!has("gpio2mqtt", key8) || !has("gpio2mqtt", key1000)) return "—"
	r = v["gpio2mqtt", key1000] / v["gpio2mqtt", key8]
	return sprintf("1000 lines ÷ 8 lines = %.2f", r)
}
# The start-up as gpio2mqtt itself accounts for it (from opening its chips
# to every line requested, before connecting), one cell with its main parts.
function phase_rows(n,   k) {
	k = "startup" n "_"
	if (!has("gpio2mqtt", k "setup_ms")) return
	printf "| Start-up, %s lines, as the daemon logs it: lines ready (ms; of which reading the mapping, finding the lines, requesting them) | — | %.1f (%.1f, %.1f, %.1f) | — | — | — | |\n",
		n == 1000 ? "1,000" : n, v["gpio2mqtt", k "setup_ms"], v["gpio2mqtt", k "read_ms"],
		v["gpio2mqtt", k "find_ms"], v["gpio2mqtt", k "request_ms"]
}

# The last state of the commands whose lines were read, for the line rows.
function polled(key) {
	return has("gpio2mqtt", key) ? sprintf("last state of the same commands: %.2f", v["gpio2mqtt", key] / 1000) : ""
}
function reconnect_rows() {
	if (!has("gpio2mqtt", "reconnect_last_ms")) return
	printf "| Fleet: reconnects after a broker restart (down %.0f ms), connections accepted after its start: first / median / last (ms) | — | %.0f / %.0f / %.0f | — | — | — | |\n",
		v["gpio2mqtt", "reconnect_down_ms"], v["gpio2mqtt", "reconnect_first_ms"],
		v["gpio2mqtt", "reconnect_median_ms"], v["gpio2mqtt", "reconnect_last_ms"]
	row("Fleet: the most reconnects accepted in any 100 ms", "reconnect_busiest", "", "")
}

# Timed outputs (run-timed.sh): widths on the line, pending pulses.
function cpu_ratio(key, base, limit, what,   r) {
	if (!has("gpio2mqtt", key) || !has("gpio2mqtt", base) || v["gpio2mqtt", base] + 0 == 0) return "—"
	r = v["gpio2mqtt", key] / v["gpio2mqtt", base]
	return sprintf("%.2f × %s%s", r, what, limit ? sprintf(" (≤ %.1f: %s)", limit, verdict(r <= limit)) : "")
}
function timed_rows(   late) {
	if (has("gpio2mqtt", "pulse_err_p99_us")) {
		late = has("kernel", "timer_late_p99_us") ? sprintf("; a 50 ms timer of the test kernel alone: late by %.2f / %.2f / %.2f", v["kernel", "timer_late_p50_us"] / 1000, v["kernel", "timer_late_p99_us"] / 1000, v["kernel", "timer_late_max_us"] / 1000) : ""
		late = late (has("host", "timer_late_p99_us") ? sprintf(", on the host itself: %.2f / %.2f / %.2f", v["host", "timer_late_p50_us"] / 1000, v["host", "timer_late_p99_us"] / 1000, v["host", "timer_late_max_us"] / 1000) : "")
		printf "| Timed pulse of 50 ms, error of its width on the line p50 / p99 / max (ms), %d pulses one at a time (mean %+.2f)%s | — | %.2f / %.2f / %.2f | — | — | — | p99 ≤ 2 ms: %s |\n",
			cfg["pulses"], v["gpio2mqtt", "pulse_err_mean_us"] / 1000, late,
			v["gpio2mqtt", "pulse_err_p50_us"] / 1000, v["gpio2mqtt", "pulse_err_p99_us"] / 1000,
			v["gpio2mqtt", "pulse_err_max_us"] / 1000, verdict(v["gpio2mqtt", "pulse_err_p99_us"] <= 2000)
	}
	if (!has("gpio2mqtt", "pending_fds_during")) return
	printf "| %d outputs, each with a pulse pending: open file descriptors before / while pending | — | %d / %d | — | — | — | none more: %s |\n",
		v["gpio2mqtt", "pending_outputs"], v["gpio2mqtt", "pending_fds_before"], v["gpio2mqtt", "pending_fds_during"],
		verdict(v["gpio2mqtt", "pending_fds_during"] <= v["gpio2mqtt", "pending_fds_before"])
	row("CPU per plain command, 1,000 outputs (µs; \"on\" then \"off\" to each)", "plain_cpu_us", "", "")
	row("CPU per pulse command, up to 1,000 pulses pending (µs)", "pulse_command_cpu_us", "",
		cpu_ratio("pulse_command_cpu_us", "plain_on_cpu_us", 1.2, "a plain \"on\""))
	row("CPU per pulse return, the timer firing (µs)", "pulse_return_cpu_us", "", "")
	row("CPU per whole pulse, command and return: two edges, two states (µs)", "pulse_cpu_us", "",
		cpu_ratio("pulse_cpu_us", "plain_cpu_us", 1.2, "a plain command") "; " \
		sprintf("%.2f × the \"on\" and \"off\" it stands for", v["gpio2mqtt", "pulse_cpu_us"] / (2 * v["gpio2mqtt", "plain_cpu_us"])))
}

END {
	split(settings, s, /[ =]/)
	for (i = 1; i in s; i += 2) cfg[s[i]] = s[i + 1]
	n_burst = cfg["burst"]
	print "| Figure | echo (limit) | gpio2mqtt | ÷ echo | DIY pipeline | ÷ echo | Target for gpio2mqtt |"
	print "|---|---:|---:|---:|---:|---:|---|"
	# Round trips: echo at QoS 0, first on mosquitto as installed.
	row("Round trip p50 (ms), mosquitto as installed (no `set_tcp_nodelay`), " cfg["rt"] " commands; echo at QoS 0", "untuned_rt_p50", "ms", "")
	row("Round trip p90 (ms), as installed", "untuned_rt_p90", "ms", "")
	row("Round trip p99 (ms), as installed", "untuned_rt_p99", "ms", vs_echo("untuned_rt_p99", 1.15, 0))
	row("Round trip max (ms), as installed", "untuned_rt_max", "ms", "")
	row("Round trip p50 (ms), as installed, echo at QoS 1 (" cfg["stall"] " commands): the stall itself, no limit", "untuned_qos1_rt_p50", "ms", "")
	row("Round trip p50 (ms), mosquitto with `set_tcp_nodelay true` (as for the rest), " cfg["rt"] " commands; echo at QoS 0", "rt_p50", "ms", "")
	row("Round trip p90 (ms), `set_tcp_nodelay true`", "rt_p90", "ms", "")
	row("Round trip p99 (ms), `set_tcp_nodelay true`", "rt_p99", "ms", vs_echo("rt_p99", 1.15, 0))
	row("Round trip max (ms), `set_tcp_nodelay true`", "rt_max", "ms", "")
	row("Round trip p50 (ms), `set_tcp_nodelay true`, echo at QoS 1 as gpio2mqtt: no limit", "qos1_rt_p50", "ms", vs_qos1("rt_p50"))
	row("Round trip p99 (ms), `set_tcp_nodelay true`, echo at QoS 1", "qos1_rt_p99", "ms", vs_qos1("rt_p99"))
	row("Line not yet set when its state arrived (commands, both brokers)", "rt_line_late", "", "")
	row("Flood: commands per second (" cfg["flood"] " back to back; DIY " cfg["diy_flood"] (cfg["rounds"] > 1 ? "; the median of " cfg["rounds"] " rounds in turns" : "") ")",
		"flood_rate", "", vs_echo("flood_rate", 0.9, 1))
	row("Flood: time to the last state (ms)", "flood_ms", "ms1", "")
	row("Flood: CPU time per command (µs)", "flood_cpu_us_per_msg", "us", "")
	row("Flood: lines not yet set at the last state (all rounds)", "flood_line_late", "", "")
	row("Input edge → message p50 (ms), " cfg["edges"] " edges; echo: forwarding" kernel_delay("kedge_p50"), "edge_p50", "ms", "")
	row("Input edge → message p99 (ms)" kernel_delay("kedge_p99"), "edge_p99", "ms", vs_echo("edge_p99", 1.15, 0))
	burst(1000, "1 kHz"); burst(10000, "10 kHz"); burst(100000, "100 kHz")
	row("Idle CPU time over " cfg["idle"] " s (ms)", "idle_cpu_ms", "", "")
	row("Idle context switches over " cfg["idle"] " s", "idle_ctxsw", "",
		has("gpio2mqtt", "idle_ctxsw") && has("echo", "idle_ctxsw") ? "keep-alive only, as echo: " verdict(v["gpio2mqtt", "idle_ctxsw"] <= v["echo", "idle_ctxsw"]) : "keep-alive only")
	row("RSS, 8 lines (MiB)", "mem8_rss_kb", "MiB", "")
	row("PSS, 8 lines (MiB)", "mem8_pss_kb", "MiB", "")
	row("RSS after " cfg["long"] " commands (MiB)", "memlong_rss_kb", "MiB",
		growth("memlong_rss_kb", "mem8_rss_kb"))
	row("PSS after " cfg["long"] " commands (MiB)", "memlong_pss_kb", "MiB", "")
	row("RSS, 64 lines (MiB)", "mem64_rss_kb", "MiB",
		has("gpio2mqtt", "mem64_rss_kb") ? "≤ 4 MiB: " verdict(v["gpio2mqtt", "mem64_rss_kb"] <= 4096) : "≤ 4 MiB")
	row("PSS, 64 lines (MiB)", "mem64_pss_kb", "MiB", "")
	row("RSS, 512 lines (MiB)", "mem512_rss_kb", "MiB", "")
	row("PSS, 512 lines (MiB)", "mem512_pss_kb", "MiB", "")
	row("Start-up to ready (online), 8 lines (ms)", "startup8_ms", "ms1", "")
	row("Start-up to ready, 1,000 lines on 4 chips (ms)", "startup1000_ms", "ms1",
		has("gpio2mqtt", "startup1000_ms") ? "< 100 ms: " verdict(v["gpio2mqtt", "startup1000_ms"] < 100) : "< 100 ms")
	phase_rows(8)
	phase_rows(1000)
	row("Page faults until ready, 8 lines", "startup8_faults", "", "")
	row("Page faults until ready, 1,000 lines", "startup1000_faults", "", "")
	row("`--check`, 8 lines (ms)", "check8_ms", "ms1", "")
	row("`--check`, 1,000 lines (ms)", "check1000_ms", "ms1", "")
	row("CPU per command, 8 mappings (µs)", "map8_cpu_us_per_msg", "us", "")
	row("CPU per command, 1,000 mappings (µs)", "map1000_cpu_us_per_msg", "us",
		per_line("map8_cpu_us_per_msg", "map1000_cpu_us_per_msg"))
	row("Round trip p50, 8 mappings (ms)", "map8_rt_p50", "ms", "")
	row("Round trip p50, 1,000 mappings (ms)", "map1000_rt_p50", "ms",
		per_line("map8_rt_p50", "map1000_rt_p50"))
	row("Home Assistant birth message to the last of 1,000 states (ms; random delay of 333 to 1,000 ms included)", "ha_birth_last_ms", "", "")
	row("Home Assistant: discovery to the last of 1,000 states (ms)", "ha_discovery_last_ms", "", "")
	# Fleets: gpio2mqtt as in test-fleet.sh, echo clients as many; both up at once.
	row("Fleet of " cfg["fleet"] ", each in a UTS namespace of its own: all online after starting the first (ms)", "fleet_online_ms", "", "")
	row("Fleet: all online after starting the last (ms)", "fleet_online_last_ms", "", "")
	row("Fleet: memory it takes (MiB, of MemAvailable)", "fleet_mem_kb", "MiB", "")
	row("Group command to the fleet, to the last of " cfg["fleet"] " states p50 (ms), " cfg["fanout"] " commands to each fleet in turns", "fanout_p50", "ms", vs_echo("fanout_p50", 1.2, 0))
	row("Group command, to the last state p90 (ms)", "fanout_p90", "ms", "")
	row("Group command, to the last state p99 (ms)", "fanout_p99", "ms", vs_echo("fanout_p99", 1.2, 0))
	row("Group command, to the last state max (ms)", "fanout_max", "ms", "")
	row("Group command, to the last of " cfg["fleet"] " lines p50 (ms), every other pair of commands (the driver reads each line until it changes)", "fanout_line_p50", "ms", polled("fanout_polled_p50"))
	row("Group command, to the last line p99 (ms)", "fanout_line_p99", "ms", polled("fanout_polled_p99"))
	row("Group command: lines not yet set at the last state (the other commands)", "fanout_line_late", "", "")
	reconnect_rows()
	timed_rows()
	if (has("rig", "syscall_us"))
		printf "\nTest kernel: User-Mode Linux %s, trapping system calls with %s; in it a system call costs %s µs and the first touch of a page %s µs%s.\n",
			cfg["uml_cpu"] == "" || cfg["uml_cpu"] == "off" ? "on any host CPU" : "pinned to one host CPU",
			cfg["uml_seccomp"] == "off" ? "ptrace" : cfg["uml_seccomp"] == "on" ? "seccomp" : "seccomp where the host allows (auto)",
			v["rig", "syscall_us"], v["rig", "fault_us"],
			has("host", "syscall_us") ? sprintf(" (on the host itself: %s and %s µs)", v["host", "syscall_us"], v["host", "fault_us"]) : ""
}' "$out/results.txt"
