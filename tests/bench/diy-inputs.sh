#!/bin/bash
# The do-it-yourself input bridge: gpiomon, and per edge a mosquitto_pub.
# Usage: diy-inputs.sh PORT CHIP FIRST_OFFSET COUNT
#        (offset FIRST_OFFSET + K is published on bench/input/iK)
port=$1 chip=$2 first=$3 count=$4
offsets=$(seq "$first" $((first + count - 1)))
# shellcheck disable=SC2086 # one argument per offset
gpiomon -b -F '%o %e' "$chip" $offsets |
	while read -r offset rising; do
		[ "$rising" = 1 ] && payload=ON || payload=OFF
		mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t "bench/input/i$((offset - first))" \
			-m "$payload"
	done
