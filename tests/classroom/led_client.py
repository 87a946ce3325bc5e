#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The classic LED example from the other side: toggles the LED that
gpio2mqtt drives on a board and prints every state of the board's button,
with mappings/classroom-plain.conf (topics public/BOARD/led and
public/BOARD/button). Uses paho-mqtt 1.6 (Debian's python3-paho-mqtt).

    led_client.py [--board BOARD] [--host HOST] [--port PORT] [--toggles N]
                  [--interval S]

BOARD is the board's short host name, by default this machine's (for the
script run on the board itself). Prints "button: ON" / "button: OFF" for each
state received (the retained one first) and "led: toggle" for each command
sent; exits 0 after N toggles, 1 when the broker cannot be reached or refuses
the connection.
"""
import argparse
import socket
import sys
import time

import paho.mqtt.client as mqtt


def on_connect(client, userdata, flags, rc):
    if rc != 0:
        print("connection refused:", mqtt.connack_string(rc), flush=True)
        userdata["failed"] = True
        return
    print("connected", flush=True)
    client.subscribe(userdata["button_topic"], qos=1)


def on_subscribe(client, userdata, mid, granted_qos):
    if granted_qos[0] >= 0x80:
        print("subscription to", userdata["button_topic"], "refused", flush=True)
        userdata["failed"] = True
    else:
        userdata["subscribed"] = True


def on_message(client, userdata, msg):
    print("button:", msg.payload.decode("utf-8", "replace"), flush=True)


def run_until(client, state, deadline):
    """Runs the network loop until the deadline or a failure."""
    while time.monotonic() < deadline and not state["failed"]:
        client.loop(timeout=0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--board", default=socket.gethostname().split(".")[0],
                        help="the board's short host name, %%h of its mapping "
                        "(default: this machine's, %(default)s)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--toggles", type=int, default=5)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    # A wildcard or a level separator would address other topics than the
    # board's own.
    if not args.board or any(c in args.board for c in "/+#"):
        parser.error("--board: a host name without '/', '+' or '#'")
    led_topic = f"public/{args.board}/led"

    state = {"subscribed": False, "failed": False,
             "button_topic": f"public/{args.board}/button"}
    # paho-mqtt 2 (Debian trixie) asks for the callback signatures of 1.x.
    if hasattr(mqtt, "CallbackAPIVersion"):
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, userdata=state)
    else:
        client = mqtt.Client(userdata=state)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    try:
        client.connect(args.host, args.port, keepalive=30)
    except OSError as e:
        print(f"cannot connect to {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    # Subscribed first, so that no state goes unseen.
    deadline = time.monotonic() + 10
    while not state["subscribed"] and not state["failed"] and time.monotonic() < deadline:
        client.loop(timeout=0.1)
    if not state["subscribed"]:
        return 1
    for _ in range(args.toggles):
        client.publish(led_topic, "toggle", qos=1)
        print("led: toggle", flush=True)
        run_until(client, state, time.monotonic() + args.interval)
    client.disconnect()
    return 1 if state["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
