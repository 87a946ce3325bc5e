#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Usage: line_watch.py CHIP OFFSET FILE

Watches one GPIO line through the kernel's line-info watch (GPIO v2 uAPI,
GPIO_V2_GET_LINEINFO_WATCH_IOCTL) and appends a line to FILE for each change
of its use: "requested", "released" or "config", then its consumer and flags.
Writes "watching" first, once the watch is set, so that a test can wait for
it. Runs until killed. CHIP is "gpiochipN" or a path.

A line released and requested again shows "released"; one reconfigured in
place shows only "config". Neither the libgpiod 1.6 tools nor Python's
standard library watch lines, hence the ioctl by hand."""
import fcntl
import os
import struct
import sys

INFO_SIZE = 256  # struct gpio_v2_line_info
CHANGED_SIZE = INFO_SIZE + 32  # struct gpio_v2_line_info_changed
OFFSET_AT = 64  # after name[32] and consumer[32]
EVENT_AT = INFO_SIZE + 8  # after the info and timestamp_ns
EVENTS = {1: "requested", 2: "released", 3: "config"}


def iowr(nr, size):
    return (3 << 30) | (size << 16) | (0xB4 << 8) | nr


GPIO_V2_GET_LINEINFO_WATCH_IOCTL = iowr(0x06, INFO_SIZE)


def describe(change):
    consumer = change[32:64].split(b"\0")[0].decode(errors="replace")
    (flags,) = struct.unpack_from("=Q", change, OFFSET_AT + 8)
    (event,) = struct.unpack_from("=I", change, EVENT_AT)
    return f"{EVENTS.get(event, event)} consumer={consumer or '-'} flags={flags:#x}"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    chip, offset, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fd = os.open(chip if chip.startswith("/") else "/dev/" + chip, os.O_RDONLY)
    info = bytearray(INFO_SIZE)
    struct.pack_into("=I", info, OFFSET_AT, offset)
    fcntl.ioctl(fd, GPIO_V2_GET_LINEINFO_WATCH_IOCTL, info)
    with open(path, "a", buffering=1) as out:
        out.write("watching\n")
        while True:
            data = os.read(fd, CHANGED_SIZE * 16)
            for at in range(0, len(data) - CHANGED_SIZE + 1, CHANGED_SIZE):
                out.write(describe(data[at : at + CHANGED_SIZE]) + "\n")


if __name__ == "__main__":
    main()
