#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A TCP port that never completes a handshake: its accept queue is filled
and never drained, so the kernel drops further SYNs, as a firewall that drops
packets would. Usage: tarpit.py PORT_FILE SECONDS. Writes the port to
PORT_FILE when ready and exits after SECONDS."""
import os
import socket
import sys
import time

port_file, seconds = sys.argv[1], float(sys.argv[2])
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(0)
port = listener.getsockname()[1]
# Fill the accept queue (backlog 0 still queues one); these are never accepted.
fillers = []
for _ in range(4):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    fillers.append(s)
time.sleep(0.2)
with open(port_file + ".tmp", "w") as f:
    f.write(f"{port}\n")
os.rename(port_file + ".tmp", port_file)
time.sleep(seconds)
