#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Usage: value_watch.py CHIP OFFSET FILE SECONDS

Samples the level of one gpio-sim line (its sim_gpioN/value attribute) as
fast as it can, for at most SECONDS, and appends to FILE "watching V" with
the first level read, then "changed V" for each change seen. CHIP is
"gpiochipN".

The kernel reports no event when an output's level changes, so sampling is
the only outside view of the wire: a line driven to another level and back
within one sample (tens of microseconds under the test kernel) can slip
through, one left at another level cannot."""
import glob
import os
import sys
import time


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    chip, offset, path, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    found = glob.glob(f"/sys/devices/platform/gpio-sim.*/{chip}/sim_gpio{offset}/value")
    if not found:
        sys.exit(f"no gpio-sim line {chip} {offset}")
    fd = os.open(found[0], os.O_RDONLY)
    end = time.monotonic() + seconds
    with open(path, "a", buffering=1) as out:
        last = os.pread(fd, 8, 0).strip().decode()
        out.write(f"watching {last}\n")
        while time.monotonic() < end:
            value = os.pread(fd, 8, 0).strip().decode()
            if value != last:
                out.write(f"changed {value}\n")
                last = value


if __name__ == "__main__":
    main()
