#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for an old broker that speaks MQTT 3.1.1 only, for the
protocol fall-back test: it answers an MQTT 5 CONNECT the way such a broker
does (a 3.1.1 CONNACK "unacceptable protocol version", then it hangs up) and
serves 3.1.1 clients just enough (CONNACK, SUBACK, PUBACK, PINGRESP).

    mqtt311_broker.py PORT_FILE SECONDS [hangup|takeover]

Listens on a free port of 127.0.0.1, writes the port to PORT_FILE, prints one
line per event ("refused level 5", "accepted level 4", "publish TOPIC") and
exits after SECONDS. With "hangup" it closes the connection on an MQTT 5
CONNECT without any answer, as RabbitMQ 3.10 does ("hung up on level 5").
With "takeover" it accepts MQTT 5 and, at the client's first PUBLISH, ends
the session with a DISCONNECT "Session taken over" (0x8E), as an MQTT 5
broker does when another client connects with the same client id.
"""
import socket
import sys
import time


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_packet(conn):
    first = read_exact(conn, 1)[0]
    length, shift = 0, 0
    while True:
        byte = read_exact(conn, 1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return first, read_exact(conn, length)


def answer(conn, first, body):
    kind = first >> 4
    if kind == 3:  # PUBLISH
        topic_len = int.from_bytes(body[:2], "big")
        print("publish", body[2:2 + topic_len].decode(), flush=True)
        if (first >> 1) & 3 == 1:
            conn.sendall(b"\x40\x02" + body[2 + topic_len:4 + topic_len])
    elif kind == 8:  # SUBSCRIBE: grant every filter at QoS 1
        pos, granted = 2, b""
        while pos < len(body):
            pos += 2 + int.from_bytes(body[pos:pos + 2], "big") + 1
            granted += b"\x01"
        conn.sendall(bytes([0x90, 2 + len(granted)]) + body[:2] + granted)
    elif kind == 12:  # PINGREQ
        conn.sendall(b"\xd0\x00")
    return kind != 14  # DISCONNECT ends the session


def take_over(conn):
    """MQTT 5 until the first PUBLISH, then DISCONNECT 0x8E."""
    conn.sendall(b"\x20\x03\x00\x00\x00")  # CONNACK, no properties
    while True:
        first, body = read_packet(conn)
        if first >> 4 == 3:
            print("took over", flush=True)
            conn.sendall(b"\xe0\x02\x8e\x00")
            return
        if first >> 4 == 12:
            conn.sendall(b"\xd0\x00")
        if first >> 4 == 14:
            return


def serve(conn, mode):
    first, body = read_packet(conn)
    level = body[6] if first >> 4 == 1 and len(body) > 6 else -1
    if level == 5 and mode == "takeover":
        print("accepted level 5", flush=True)
        take_over(conn)
        return
    if level != 4 and mode == "hangup":
        print("hung up on level", level, flush=True)
        return
    if level != 4:
        print("refused level", level, flush=True)
        conn.sendall(b"\x20\x02\x00\x01")
        return
    print("accepted level 4", flush=True)
    conn.sendall(b"\x20\x02\x00\x00")
    while answer(conn, *read_packet(conn)):
        pass


def main():
    port_file, seconds = sys.argv[1], float(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else ""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    with open(port_file, "w") as f:
        f.write(f"{server.getsockname()[1]}\n")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        server.settimeout(max(0.1, end - time.monotonic()))
        try:
            conn, _ = server.accept()
        except socket.timeout:
            break
        conn.settimeout(max(0.1, end - time.monotonic()))
        try:
            serve(conn, mode)
        except (EOFError, OSError):
            pass
        finally:
            conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
