#!/usr/bin/python3
"""Usage: stamp.py FILE

Follows FILE from its current end and prints every line appended to it,
prefixed with the time it was read ("1796672277.856665 LINE"), flushed at
once. Prints "ready" first, once it holds the file open.

mosquitto's log timestamps have whole seconds at best; this gives them
milliseconds. The file is polled every 2 ms: inotify may not see writes on
every file system a test log lives on.
"""
import sys
import time


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        f.seek(0, 2)
        print("ready", flush=True)
        rest = b""
        while True:
            chunk = f.read(65536)
            if not chunk:
                time.sleep(0.002)
                continue
            now = time.time()
            *lines, rest = (rest + chunk).split(b"\n")
            for line in lines:
                sys.stdout.write("%.6f %s\n" % (now, line.decode("utf-8", "replace")))
            sys.stdout.flush()


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
