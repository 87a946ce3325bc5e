#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A Home Assistant stand-in for tests/integration/test-homeassistant.sh: it
reads gpio2mqtt's MQTT discovery as Home Assistant would and checks it against
the rules of Home Assistant's MQTT discovery documentation
(home-assistant.io/integrations/mqtt, "Device discovery payload", "Supported
abbreviations", "Migration from single component to device-based discovery"),
and plays Home Assistant's birth message. Uses paho-mqtt (Debian's 1.6).

    ha_standin.py --port P [--prefix homeassistant] check [--mode entity]
        the retained device discovery message(s) (or per-entity ones) and
        the retained states and availability they point at
    ha_standin.py --port P birth [--min-ms N] [--max-ms N] [--timeout S]
        publishes "online" on <prefix>/status, then checks that discovery
        comes (after the random delay) before any state and that every
        state of the discovered entities follows
    ha_standin.py --port P handover --to device|entity [--timeout S]
        prints "ready" once it holds the retained discovery, then follows a
        switch of discovery_mode as Home Assistant's discovery would
        (the discovery id of each entity, the migrate_discovery payload
        that unloads it keeping its settings, a conflicting config from
        another topic refused, an empty message a removal) and checks that
        every entity ends on the new form with none lost or refused, and
        that the old form's topics are emptied
    ha_standin.py --port P removal NAME [--timeout S]
        prints "ready" once subscribed, then waits for the device message
        that removes component NAME (only "p" left) and a later one
        without it

Prints one line per finding ("ok ...", "FAIL ..."); exits 0 when all passed.
"""
import argparse
import json
import re
import sys
import time

import paho.mqtt.client as mqtt

ID = re.compile(r"^[A-Za-z0-9_-]+$")

# Abbreviations used here -> full names (the documentation's tables).
ABBREVIATIONS = {
    "p": "platform", "uniq_id": "unique_id", "stat_t": "state_topic", "cmd_t": "command_topic",
    "avty_t": "availability_topic", "avty": "availability", "avty_mode": "availability_mode",
    "pl_avail": "payload_available", "pl_not_avail": "payload_not_available",
    "dev": "device", "o": "origin", "cmps": "components", "pl_on": "payload_on",
    "pl_off": "payload_off", "stat_on": "state_on", "stat_off": "state_off",
    "pl_prs": "payload_press", "dev_cla": "device_class", "evt_typ": "event_types",
    "stat_cla": "state_class", "stat_val_tpl": "state_value_template",
    "val_tpl": "value_template", "obj_id": "object_id", "ic": "icon", "e": "encoding",
    "ent_cat": "entity_category", "en": "enabled_by_default", "ret": "retain",
    "opt": "optimistic", "unit_of_meas": "unit_of_measurement",
}
DEVICE_ABBREVIATIONS = {
    "cu": "configuration_url", "cns": "connections", "ids": "identifiers", "name": "name",
    "mf": "manufacturer", "mdl": "model", "mdl_id": "model_id", "hw": "hw_version",
    "sw": "sw_version", "sa": "suggested_area", "sn": "serial_number",
}
ORIGIN_ABBREVIATIONS = {"name": "name", "sw": "sw_version", "url": "support_url"}
# Shared options a device discovery payload may have at its root.
ROOT_OPTIONS = {"dev", "o", "cmps", "avty", "avty_t", "avty_mode", "pl_avail", "pl_not_avail",
                "cmd_t", "stat_t", "qos", "e", "~"}
COMMON_OPTIONS = {"p", "uniq_id", "name", "obj_id", "ic", "ent_cat", "en", "qos", "avty_t",
                  "avty", "e"}
# platform -> (required, optional) options, from each platform's page.
PLATFORMS = {
    "switch": ({"cmd_t"}, {"stat_t", "pl_on", "pl_off", "stat_on", "stat_off", "opt", "ret",
                           "val_tpl", "dev_cla"}),
    "light": ({"cmd_t"}, {"stat_t", "pl_on", "pl_off", "stat_val_tpl", "opt", "ret"}),
    "button": ({"cmd_t"}, {"pl_prs", "dev_cla", "ret"}),
    "binary_sensor": ({"stat_t"}, {"pl_on", "pl_off", "dev_cla", "val_tpl"}),
    "event": ({"stat_t", "evt_typ"}, {"dev_cla", "val_tpl"}),
    "sensor": ({"stat_t"}, {"stat_cla", "dev_cla", "unit_of_meas", "val_tpl"}),
}

failures = 0


def report(ok, what):
    global failures
    print(("ok " if ok else "FAIL ") + what, flush=True)
    failures += not ok


def short(key, table):
    """The abbreviation of key (either form is allowed, not both)."""
    for abbr, full in table.items():
        if key in (abbr, full):
            return abbr
    return key


def normalised(obj, table, where):
    out = {}
    for key, value in obj.items():
        abbr = short(key, table)
        if abbr in out:
            report(False, f"{where}: both {abbr} and its full name")
        out[abbr] = value
    return out


class Broker:
    """The messages seen, in order: (time, topic, payload, retained)."""

    def __init__(self, port, topics):
        self.seen = []
        self.subscribed = False
        try:
            self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1)
        except AttributeError:
            self.client = mqtt.Client()
        self.client.on_connect = lambda c, u, f, rc: c.subscribe([(t, 1) for t in topics])
        self.client.on_subscribe = self.on_subscribe
        self.client.on_message = self.on_message
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()
        self.wait(lambda: self.subscribed, 5)

    def on_subscribe(self, client, userdata, mid, granted):
        self.subscribed = True

    def on_message(self, client, userdata, msg):
        self.seen.append((time.monotonic(), msg.topic, msg.payload.decode("utf-8", "replace"),
                          bool(msg.retain)))

    def wait(self, condition, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition():
                return True
            time.sleep(0.02)
        return condition()

    def settle(self, quiet=0.5, timeout=5):
        """Until no message came for quiet seconds (the retained burst)."""
        end = time.monotonic() + timeout
        count = -1
        while time.monotonic() < end and count != len(self.seen):
            count = len(self.seen)
            time.sleep(quiet)

    def retained(self, topic):
        for _, t, payload, retained in reversed(self.seen):
            if t == topic and retained:
                return payload
        return None

    def stop(self):
        self.client.loop_stop()
        self.client.disconnect()


def check_component(key, comp, device_name, unique_ids):
    where = f"component {key}"
    comp = normalised(comp, ABBREVIATIONS, where)
    report(bool(ID.match(key)), f"{where}: id has only [A-Za-z0-9_-]")
    platform = comp.get("p")
    report(platform in PLATFORMS, f"{where}: platform (p) {platform!r} is supported")
    if platform not in PLATFORMS:
        return comp
    required, optional = PLATFORMS[platform]
    report(len(comp) > 1, f"{where}: has an option besides p")
    missing = required - comp.keys()
    report(not missing, f"{where}: has the {platform} options it needs {sorted(required)}")
    unknown = comp.keys() - required - optional - COMMON_OPTIONS
    report(not unknown, f"{where}: no option unknown to {platform} ({sorted(unknown)})")
    uid = comp.get("uniq_id")
    report(isinstance(uid, str) and bool(ID.match(uid)), f"{where}: unique_id {uid!r}")
    report(uid not in unique_ids, f"{where}: unique_id is unique")
    unique_ids.add(uid)
    name = comp.get("name", "")
    report(name is None or (isinstance(name, str) and
                            not name.lower().startswith(device_name.lower())),
           f"{where}: name {name!r} does not start with the device name {device_name!r}")
    for t in ("stat_t", "cmd_t"):
        if t in comp:
            report(isinstance(comp[t], str) and comp[t] and not set("+#") & set(comp[t]),
                   f"{where}: {t} {comp[t]!r} is a topic")
    if platform == "event":
        types = comp.get("evt_typ")
        report(isinstance(types, list) and types and all(isinstance(x, str) for x in types),
               f"{where}: event_types is a list of strings")
    return comp


def expected_state(comp):
    """The retained payloads a stateful component may find, or None."""
    p = comp["p"]
    if p == "switch":
        return {comp.get("stat_on", comp.get("pl_on", "ON")),
                comp.get("stat_off", comp.get("pl_off", "OFF"))}
    if p == "light":
        return None if "stat_val_tpl" in comp else {comp.get("pl_on", "ON"),
                                                    comp.get("pl_off", "OFF")}
    if p == "binary_sensor":
        return {comp.get("pl_on", "ON"), comp.get("pl_off", "OFF")}
    return None


def check_device(broker, topic, payload, prefix):
    """Every rule for one device discovery message; its components."""
    m = re.match(rf"^{re.escape(prefix)}/device/([^/]+)/config$", topic)
    report(bool(m) and bool(ID.match(m.group(1))), f"topic {topic}: <prefix>/device/<node_id>/config")
    try:
        root = json.loads(payload)
    except ValueError:
        report(False, f"{topic}: payload is JSON")
        return {}
    report(isinstance(root, dict), f"{topic}: payload is a JSON object")
    root = normalised(root, ABBREVIATIONS, topic)
    report(not root.keys() - ROOT_OPTIONS, f"{topic}: shared options only at the root "
           f"({sorted(root.keys() - ROOT_OPTIONS)})")
    dev = normalised(root.get("dev") or {}, DEVICE_ABBREVIATIONS, "dev")
    origin = normalised(root.get("o") or {}, ORIGIN_ABBREVIATIONS, "o")
    report(bool(dev), "device (dev) mapping is present")
    report(not dev.keys() - DEVICE_ABBREVIATIONS.keys(), "device: known options only")
    ids = dev.get("ids")
    report(bool(ids) and (isinstance(ids, str) or all(isinstance(i, str) for i in ids)),
           f"device: identifiers {ids!r}")
    report(isinstance(dev.get("name"), str) and dev["name"] != "", f"device: name {dev.get('name')!r}")
    report("sw" in dev, "device: sw_version")
    report(bool(origin) and isinstance(origin.get("name"), str), f"origin (o) with a name: {origin}")
    report(not origin.keys() - ORIGIN_ABBREVIATIONS.keys(), "origin: known options only")
    report("sw" in origin, "origin: sw_version")
    avty = root.get("avty_t")
    report(isinstance(avty, str) and broker.retained(avty) == "online",
           f"availability topic {avty!r} holds a retained \"online\"")
    cmps = root.get("cmps")
    report(isinstance(cmps, dict) and len(cmps) > 0, "components (cmps) are present")
    comps, unique_ids = {}, set()
    for key, comp in (cmps or {}).items():
        comps[key] = check_component(key, comp, dev.get("name", ""), unique_ids)
    return comps


def discovery_messages(broker, prefix, retained):
    pattern = re.compile(rf"^{re.escape(prefix)}/device/[^/]+/config$")
    return [(t, p) for _, t, p, r in broker.seen if pattern.match(t) and r == retained and p]


def cmd_check(args):
    broker = Broker(args.port, ["#"])
    broker.settle()
    found = discovery_messages(broker, args.prefix, True)
    if args.mode == "entity":
        found = [(None, None)]
    else:
        report(len(found) == 1, f"one retained device discovery message (got {len(found)})")
    for topic, payload in found:
        comps = (check_entities(broker, args.prefix) if args.mode == "entity"
                 else check_device(broker, topic, payload, args.prefix))
        print(f"# {len(comps)} components: " +
              ", ".join(f"{k}={c.get('p')}" for k, c in sorted(comps.items())), flush=True)
        for key, comp in comps.items():
            states = expected_state(comp)
            if states is not None:
                got = broker.retained(comp["stat_t"])
                report(got in states, f"component {key}: retained state {got!r} in {sorted(states)}")
            if comp.get("p") == "sensor":
                got = broker.retained(comp["stat_t"])
                report(got is not None and got.isdigit(), f"component {key}: retained count {got!r}")
    broker.stop()


def cmd_birth(args):
    broker = Broker(args.port, ["#"])
    broker.settle()
    found = discovery_messages(broker, args.prefix, True)
    comps = {}
    for _, payload in found:
        comps.update(json.loads(payload).get("cmps", {}))
    stateful = {c["stat_t"] for c in comps.values() if c.get("p") in
                ("switch", "light", "binary_sensor", "sensor")}
    report(bool(stateful), f"{len(stateful)} state topics to expect")
    start = len(broker.seen)
    born = time.monotonic()
    broker.client.publish(f"{args.prefix}/status", "online", qos=1, retain=False)

    def fresh():
        return [m for m in broker.seen[start:] if not m[3]]

    def complete():
        return stateful <= {t for _, t, _, _ in fresh()}

    report(broker.wait(complete, args.timeout), "every state follows the birth")
    msgs = fresh()
    disc = [i for i, m in enumerate(msgs) if m[1].startswith(f"{args.prefix}/device/")]
    states = [i for i, m in enumerate(msgs) if m[1] in stateful]
    report(bool(disc), "discovery follows the birth")
    if disc and states:
        report(disc[0] < states[0], "discovery comes before the states")
        delay = (msgs[disc[0]][0] - born) * 1000
        report(args.min_ms <= delay <= args.max_ms + 1000,
               f"discovery {delay:.0f} ms after the birth (random delay {args.min_ms}-{args.max_ms} ms)")
        print(f"# birth to last state: {(msgs[states[-1]][0] - born) * 1000:.0f} ms, "
              f"{len(states)} states", flush=True)
        print(f"# discovery to last state: {(msgs[states[-1]][0] - msgs[disc[0]][0]) * 1000:.0f} ms",
              flush=True)
    broker.stop()



ENTITY_TOPIC = r"^{prefix}/([a-z_]+)/([A-Za-z0-9_-]+)/([A-Za-z0-9_-]+)/config$"
DEVICE_TOPIC = r"^{prefix}/device/([A-Za-z0-9_-]+)/config$"


def entity_messages(broker, prefix):
    """The retained per-entity discovery messages: topic -> payload."""
    pattern = re.compile(ENTITY_TOPIC.format(prefix=re.escape(prefix)))
    out = {}
    for _, t, p, r in broker.seen:
        m = pattern.match(t)
        if r and m and m.group(1) != "device":
            out[t] = p
    return {t: p for t, p in out.items() if p}


def check_entities(broker, prefix):
    """Every rule for the per-entity messages; their components by key."""
    found = entity_messages(broker, prefix)
    report(len(found) > 0, f"retained per-entity discovery messages ({len(found)})")
    report(not discovery_messages(broker, prefix, True), "no device discovery message besides")
    comps, unique_ids, devices = {}, set(), set()
    pattern = re.compile(ENTITY_TOPIC.format(prefix=re.escape(prefix)))
    for topic, payload in sorted(found.items()):
        platform, node, key = pattern.match(topic).groups()
        try:
            root = json.loads(payload)
        except ValueError:
            report(False, f"{topic}: payload is JSON")
            continue
        root = normalised(root, ABBREVIATIONS, topic)
        report("p" not in root, f"{topic}: the platform is the topic's, not an option")
        dev = normalised(root.pop("dev", None) or {}, DEVICE_ABBREVIATIONS, "dev")
        origin = normalised(root.pop("o", None) or {}, ORIGIN_ABBREVIATIONS, "o")
        report(bool(dev.get("ids")) and isinstance(dev.get("name"), str), f"{topic}: device")
        report(isinstance(origin.get("name"), str), f"{topic}: origin with a name")
        devices.add(json.dumps(dev, sort_keys=True))
        avty = root.pop("avty_t", None)
        report(isinstance(avty, str) and broker.retained(avty) == "online",
               f"{topic}: availability {avty!r} holds a retained \"online\"")
        root.pop("qos", None)
        root["p"] = platform
        comps[key] = check_component(key, root, dev.get("name", ""), unique_ids)
    report(len(devices) == 1, f"one device for all entities (got {len(devices)})")
    return comps


class HomeAssistant:
    """Home Assistant's MQTT discovery as its documentation and discovery.py
    have it: an entity's discovery id is (platform, "<node_id> <object_id>")
    for <prefix>/<platform>/<node_id>/<object_id>/config and (platform,
    "<object_id> <key>") for component key of <prefix>/device/<object_id>/config."""

    def __init__(self, prefix):
        self.entity = re.compile(ENTITY_TOPIC.format(prefix=re.escape(prefix)))
        self.device = re.compile(DEVICE_TOPIC.format(prefix=re.escape(prefix)))
        self.bound = {}       # discovery id -> the topic it was discovered on
        self.registry = {}    # unique id -> discovery id: settings kept
        self.unloaded = set() # discovery ids migrated: unloaded, settings kept
        self.problems = []
        self.removed = set()  # unique ids deleted

    def items(self, topic, payload):
        """(discovery id, config or "" or "migrate") for each item of a message."""
        if m := self.device.match(topic):
            node = m.group(1)
            root = json.loads(payload) if payload else {}
            if not payload or root.get("migrate_discovery") is True:
                what = "migrate" if payload else ""
                return [(d, what) for d, t in self.bound.items() if t == topic]
            out = []
            for key, comp in normalised(root, ABBREVIATIONS, topic).get("cmps", {}).items():
                comp = normalised(comp, ABBREVIATIONS, key)
                out.append(((comp["p"], f"{node} {key}"), comp if set(comp) != {"p"} else ""))
            return out
        if (m := self.entity.match(topic)) and m.group(1) != "device":
            platform, node, obj = m.groups()
            root = json.loads(payload) if payload else {}
            if root.get("migrate_discovery") is True:
                root = "migrate"
            if isinstance(root, dict):
                root = normalised(root, ABBREVIATIONS, topic) if root else ""
            return [((platform, f"{node} {obj}"), root)]
        return []

    def message(self, topic, payload):
        for did, config in self.items(topic, payload):
            where = self.bound.get(did)
            if config == "migrate":
                if where == topic:
                    self.unloaded.add(did)
                continue
            if config == "":
                if where == topic and did not in self.unloaded:
                    for uid, d in list(self.registry.items()):
                        if d == did:
                            del self.registry[uid]
                            self.removed.add(uid)
                    del self.bound[did]
                continue
            if where is not None and where != topic and did not in self.unloaded:
                self.problems.append(f"{did}: config on {topic} conflicts with {where} "
                                     "(not migrated first)")
                continue
            self.unloaded.discard(did)
            self.bound[did] = topic
            if "uniq_id" in config:
                self.registry[config["uniq_id"]] = did


def cmd_handover(args):
    broker = Broker(args.port, [f"{args.prefix}/#"])
    broker.settle()
    ha = HomeAssistant(args.prefix)
    for _, t, p, r in list(broker.seen):
        ha.message(t, p)
    before = dict(ha.registry)
    start = len(broker.seen)
    report(bool(before), f"{len(before)} entities discovered before the switch")
    print("ready", flush=True)
    new = ha.device if args.to == "device" else ha.entity
    old = ha.entity if args.to == "device" else ha.device

    def done():
        view = {}
        for _, t, p, r in broker.seen[start:]:
            view[t] = p
        news = [t for t, p in view.items() if new.match(t) and p and "migrate" not in p]
        olds = [t for t, p in view.items() if old.match(t) and not new.match(t)]
        return news and olds and all(view[t] == "" for t in olds)

    report(broker.wait(done, args.timeout), f"the new form comes and the old topics are emptied")
    broker.settle(quiet=0.5)
    for _, t, p, r in broker.seen[start:]:
        ha.message(t, p)
    for problem in ha.problems:
        report(False, problem)
    if ha.problems:
        for _, t, p, r in broker.seen:
            print(f"#   {'R' if r else '-'} {t} {p[:60]}", flush=True)
    report(not ha.problems, "no config refused as conflicting")
    lost = set(before) - set(ha.registry)
    report(not lost, f"no entity lost its settings ({sorted(lost)})")
    wrong = [d for d, t in ha.bound.items() if not new.match(t)]
    report(not wrong, f"every entity is on the new form ({wrong})")
    report(not ha.unloaded, f"none left unloaded ({sorted(ha.unloaded)})")
    last = {t: p for _, t, p, _ in broker.seen}
    leftover = [t for t, p in last.items() if old.match(t) and not new.match(t) and p]
    report(not leftover, f"nothing retained on the old form's topics ({leftover})")
    broker.stop()

def cmd_removal(args):
    broker = Broker(args.port, [f"{args.prefix}/device/+/config"])
    broker.settle(quiet=0.3)
    start = len(broker.seen)
    print("ready", flush=True)

    def cmps_of(i):
        try:
            return json.loads(broker.seen[i][2]).get("cmps", {})
        except ValueError:
            return {}

    def removed_at():
        for i in range(start, len(broker.seen)):
            c = cmps_of(i).get(args.name)
            if isinstance(c, dict) and set(c) == {"p"}:
                return i
        return None

    report(broker.wait(lambda: removed_at() is not None, args.timeout),
           f"component {args.name} is removed: only its platform (p) is left")
    i = removed_at()
    if i is not None:
        report(broker.wait(lambda: any(args.name not in cmps_of(k) and cmps_of(k)
                                       for k in range(i + 1, len(broker.seen))), args.timeout),
               f"then the device without {args.name}")
    broker.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prefix", default="homeassistant")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check")
    check.add_argument("--mode", choices=("device", "entity"), default="device")
    handover = sub.add_parser("handover")
    handover.add_argument("--to", choices=("device", "entity"), required=True)
    handover.add_argument("--timeout", type=float, default=10)
    birth = sub.add_parser("birth")
    birth.add_argument("--min-ms", type=int, default=0)
    birth.add_argument("--max-ms", type=int, default=3000)
    birth.add_argument("--timeout", type=float, default=10)
    removal = sub.add_parser("removal")
    removal.add_argument("name")
    removal.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    {"check": cmd_check, "birth": cmd_birth, "removal": cmd_removal,
     "handover": cmd_handover}[args.command](args)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
