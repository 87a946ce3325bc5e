// SPDX-License-Identifier: MIT
// Drives the LED of one board of gpio2mqtt's classroom example from a web
// page: MQTT over websockets, "toggle" on that board's own public/BOARD/led
// (public/led would switch every board's), its states shown as they arrive.
// The page takes the broker and the board (its short host name) from its
// address, and asks for the board when it is not there:
//   index.html?broker=ws://127.0.0.1:9001&board=pi-07
'use strict';

const params = new URLSearchParams(window.location.search);
const brokerUrl = params.get('broker') || `ws://${window.location.hostname || '127.0.0.1'}:9001`;
const board = (params.get('board') || '').trim();

function show(id, text) {
  document.getElementById(id).textContent = text;
}

show('broker', brokerUrl);
// The form keeps the broker when it asks for another board.
document.getElementById('choose-broker').value = brokerUrl;
document.getElementById('choose-board').value = board;

// A wildcard or a level separator would address other boards' topics.
if (!board) {
  show('connection', 'choose a board');
} else if (/[/+#]/.test(board)) {
  show('connection', `"${board}" is not a board name`);
} else {
  show('board', `of ${board}`);
  run();
}

function run() {
  const topics = {
    command: `public/${board}/led`,
    led: `public/${board}/output/led`,
    button: `public/${board}/button`,
  };
  const client = mqtt.connect(brokerUrl, { reconnectPeriod: 2000, connectTimeout: 10000 });
  const toggle = document.getElementById('toggle');

  client.on('connect', () => {
    client.subscribe([topics.led, topics.button], { qos: 1 }, (err) => {
      if (err) {
        show('connection', `subscription refused: ${err.message}`);
        return;
      }
      show('connection', 'connected');
      toggle.disabled = false;
    });
  });
  client.on('close', () => {
    show('connection', 'disconnected');
    toggle.disabled = true;
  });
  client.on('error', (err) => show('connection', `error: ${err.message}`));
  client.on('message', (topic, payload) => {
    const text = payload.toString();
    if (topic === topics.led) show('led', text);
    if (topic === topics.button) show('button', text);
  });
  toggle.addEventListener('click', () => client.publish(topics.command, 'toggle', { qos: 1 }));
}
