#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Usage: line_sample.py [-i A,B,...] SIM_DIR OUT OFFSET...

Samples the values of gpio-sim lines (SIM_DIR/sim_gpioN/value, what an output
drives) in a tight loop and appends to OUT, with CLOCK_MONOTONIC times in
nanoseconds:
  "T OFFSET VALUE"   the first value of each line, then each change
  "T overlap A B"    lines A and B of the -i set (an interlock group) were
                     both seen on (once per overlap)
Writes "sampling" first, once every line was read, so that a test can wait
for it. Runs until killed.

Outputs change no edge a program could wait for, hence the sampling. Each
pass reads every line twice; A and B count as both on only when A was on
before and after B was read on. A daemon that switches A off before B on
(or B off before A on) is never caught between the two, whatever the order
of the reads, while an overlap lasting a pass is.

A pass takes some tens of microseconds in the test kernel, then the sampler
sleeps PAUSE_S. It runs at a real-time priority when it may: otherwise,
on the test kernel's one CPU, a change would be seen only once the daemon,
the broker and the clients had had their turn, milliseconds late."""
import os
import sys
import time

PAUSE_S = 0.0002


def read_all(fds):
    return [os.pread(fd, 2, 0)[:1] == b"1" for fd in fds]


def overlaps(first, second, group):
    """Pairs of group (indexes, in read order) on around each other."""
    for i, a in enumerate(group):
        for b in group[i + 1 :]:
            if first[a] and first[b] and second[a]:
                yield a, b
            elif first[b] and second[a] and second[b]:
                yield a, b


def main():
    args = sys.argv[1:]
    group = []
    if args[:1] == ["-i"] and len(args) > 1:
        group = args[1].split(",")
        args = args[2:]
    if len(args) < 3:
        sys.exit(__doc__)
    sim_dir, path, offsets = args[0], args[1], args[2:]
    group = sorted(offsets.index(o) for o in group)
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except OSError:
        pass
    fds = [os.open(f"{sim_dir}/sim_gpio{o}/value", os.O_RDONLY) for o in offsets]
    last = [None] * len(fds)
    seen = set()
    with open(path, "a", buffering=1) as out:
        while True:
            first = read_all(fds)
            now = time.monotonic_ns()
            second = read_all(fds)
            started = last[0] is not None
            for i, value in enumerate(first):
                if value != last[i]:
                    out.write(f"{now} {offsets[i]} {int(value)}\n")
                    last[i] = value
            if not started:
                out.write("sampling\n")
            both = set(overlaps(first, second, group))
            for a, b in both - seen:
                out.write(f"{now} overlap {offsets[a]} {offsets[b]}\n")
            seen = both
            time.sleep(PAUSE_S)


if __name__ == "__main__":
    main()
