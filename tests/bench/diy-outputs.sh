#!/bin/bash
# The do-it-yourself output bridge users write without a daemon: one
# mosquitto_sub, and per command a gpioset and a mosquitto_pub.
# Usage: diy-outputs.sh PORT CHIP    (bench/output/oK/set drives offset K)
#
# gpioset of libgpiod 1.6 gives the line back when it exits, and the kernel
# may then let it float (gpio-sim returns it to its pull), so each line is
# held by a "gpioset --mode=signal" that the next command for it replaces.
port=$1 chip=$2
declare -A holder
mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -v -t 'bench/output/+/set' |
	while read -r topic payload; do
		name=${topic#bench/output/}
		name=${name%/set}
		case $payload in
		ON) value=1 ;;
		OFF) value=0 ;;
		*) continue ;;
		esac
		offset=${name#o}
		if [ -n "${holder[$offset]:-}" ]; then
			kill "${holder[$offset]}"
			wait "${holder[$offset]}"
		fi
		gpioset --mode=signal "$chip" "$offset=$value" &
		holder[$offset]=$!
		mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t "bench/output/$name" -m "$payload"
	done
