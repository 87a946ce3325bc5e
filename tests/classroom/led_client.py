#!/usr/bin/env python3
"""The classic LED example from the other side: toggles the LED that
gpio2mqtt drives on public/led and prints every state of the button it
publishes on public/button. Uses paho-mqtt 1.6 (Debian's python3-paho-mqtt).

    led_client.py [--host HOST] [--port PORT] [--toggles N] [--interval S]

Prints "button: ON" / "button: OFF" for each state received (the retained one
first) and "led: toggle" for each command sent; exits 0 after N toggles, 1
when the broker cannot be reached or refuses the connection.
"""
import argparse
import sys
import time

import paho.mqtt.client as mqtt

LED_TOPIC = "public/led"
BUTTON_TOPIC = "public/button"


def on_connect(client, userdata, flags, rc):
    if rc != 0:
        print("connection refused:", mqtt.connack_string(rc), flush=True)
        userdata["failed"] = True
        return
    print("connected", flush=True)
    client.subscribe(BUTTON_TOPIC, qos=1)


def on_subscribe(client, userdata, mid, granted_qos):
    if granted_qos[0] >= 0x80:
        print("subscription to", BUTTON_TOPIC, "refused", flush=True)
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
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--toggles", type=int, default=5)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()

    state = {"subscribed": False, "failed": False}
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
        client.publish(LED_TOPIC, "toggle", qos=1)
        print("led: toggle", flush=True)
        run_until(client, state, time.monotonic() + args.interval)
    client.disconnect()
    return 1 if state["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
