// Drives the LED of gpio2mqtt's classroom example from a web page: MQTT
// over websockets, "toggle" on public/led, the states shown as they arrive.
// The page takes the broker and the LED's state topic from its address:
//   index.html?broker=ws://127.0.0.1:9001&led=public/gpio2mqtt/output/led
'use strict';

const params = new URLSearchParams(window.location.search);
const brokerUrl = params.get('broker') || `ws://${window.location.hostname || '127.0.0.1'}:9001`;
const topics = {
  command: 'public/led',
  led: params.get('led') || 'public/gpio2mqtt/output/led',
  button: params.get('button') || 'public/button',
};

function show(id, text) {
  document.getElementById(id).textContent = text;
}

const client = mqtt.connect(brokerUrl, { reconnectPeriod: 2000, connectTimeout: 10000 });
const toggle = document.getElementById('toggle');
show('broker', brokerUrl);

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
