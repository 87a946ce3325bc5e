// SPDX-License-Identifier: MIT
// Usage: node paho-client.js NODE_MODULES URL STATE_TOPIC COMMAND_TOPIC COMMAND EXPECTED
//
// The Eclipse Paho JavaScript client (a browser library) in node, over
// websockets: connects to URL (ws://HOST:PORT/PATH), subscribes to
// STATE_TOPIC, publishes COMMAND on COMMAND_TOPIC and waits for a live (not
// retained) EXPECTED on STATE_TOPIC. Prints what it saw, one "key: value" a
// line ("retained: OFF", "state: ON"); exits 0 when EXPECTED came, 1 on any
// failure or when a step takes longer than its limit.
'use strict';

const [modules, url, stateTopic, commandTopic, command, expected] = process.argv.slice(2);
// Node 20 has no WebSocket of its own; Paho looks for one on the global object.
global.WebSocket = require(require.resolve('ws', { paths: [modules] }));
const Paho = require(require.resolve('paho-mqtt', { paths: [modules] }));

const STEP_MS = 15000;
const say = (key, value) => console.log(`${key}: ${value}`);
const fail = (why) => {
  say('error', why);
  process.exit(1);
};

let step;
function next(name) {
  clearTimeout(step);
  step = setTimeout(() => fail(`${name}: no answer within ${STEP_MS} ms`), STEP_MS);
}

const client = new Paho.Client(url, `paho-js-${process.pid}`);
client.onConnectionLost = (res) => fail(`connection lost: ${res.errorMessage}`);
client.onMessageArrived = (msg) => {
  if (msg.destinationName !== stateTopic) return;
  say(msg.retained ? 'retained' : 'state', msg.payloadString);
  if (!msg.retained && msg.payloadString === expected) {
    clearTimeout(step);
    client.onConnectionLost = () => {};
    client.disconnect();
    process.exit(0);
  }
};

next('connect');
client.connect({
  timeout: STEP_MS / 1000,
  keepAliveInterval: 30,
  cleanSession: true,
  onFailure: (res) => fail(`connect: ${res.errorMessage}`),
  onSuccess: () => {
    say('connected', url);
    next('subscribe');
    client.subscribe(stateTopic, {
      qos: 1,
      timeout: STEP_MS / 1000,
      onFailure: (res) => fail(`subscribe: ${res.errorMessage || res.errorCode}`),
      onSuccess: () => {
        say('subscribed', stateTopic);
        next(`state ${expected}`);
        client.send(commandTopic, command, 1, false);
        say('sent', `${command} on ${commandTopic}`);
      },
    });
  },
});
