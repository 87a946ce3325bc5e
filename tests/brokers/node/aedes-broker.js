// SPDX-License-Identifier: MIT
// Usage: node aedes-broker.js NODE_MODULES PORT_FILE
//
// The aedes broker (MQTT 3.1.1) on free ports of 127.0.0.1: plain MQTT over
// TCP, and MQTT over websockets on any path. Once both listen, writes
// "tcp PORT" and "ws PORT" to PORT_FILE. Prints one line per event:
//   refused: REASON                 a CONNECT turned down (MQTT 5, for one)
//   connect ID version N tcp|ws     a client's session is ready
//   disconnect ID
//   publish TOPIC from ID|broker    a will comes from its client's ID
//   client error ID: MESSAGE
// Ends on SIGTERM.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const { pathToFileURL } = require('node:url');

const [modules, portFile] = process.argv.slice(2);
const load = (name) => require.resolve(name, { paths: [modules] });
const { WebSocketServer, createWebSocketStream } = require(load('ws'));

const say = (line) => console.log(line);

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function main() {
  // aedes 1.x is an ES module, which node 20 cannot require().
  const { Aedes } = await import(pathToFileURL(load('aedes')).href);
  const broker = await Aedes.createBroker();
  const transport = new WeakMap();

  broker.on('connectionError', (client, err) => say(`refused: ${err.message}`));
  broker.on('clientReady', (client) =>
    say(`connect ${client.id} version ${client.version} ${transport.get(client.conn) || '?'}`));
  broker.on('clientDisconnect', (client) => say(`disconnect ${client.id}`));
  broker.on('clientError', (client, err) => say(`client error ${client.id}: ${err.message}`));
  broker.on('publish', (packet, client) => {
    if (!packet.topic.startsWith('$SYS/')) say(`publish ${packet.topic} from ${client ? client.id : 'broker'}`);
  });

  const tcp = net.createServer((socket) => {
    transport.set(socket, 'tcp');
    broker.handle(socket);
  });
  const web = http.createServer();
  // No path given: aedes' websockets answer on every path, "/" and "/mqtt" alike.
  new WebSocketServer({ server: web }).on('connection', (socket, req) => {
    const stream = createWebSocketStream(socket);
    transport.set(stream, 'ws');
    broker.handle(stream, req);
  });
  const ports = `tcp ${await listen(tcp)}\nws ${await listen(web)}\n`;
  // Renamed into place, so that a reader never sees half of it.
  fs.writeFileSync(`${portFile}.tmp`, ports);
  fs.renameSync(`${portFile}.tmp`, portFile);
  say(ports.trim().replace('\n', ', '));

  process.on('SIGTERM', () => {
    // A client that lingers must not keep the broker from ending.
    setTimeout(() => process.exit(0), 1000).unref();
    tcp.close();
    web.close();
    broker.close(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(`aedes-broker: ${err.stack || err}`);
  process.exit(1);
});
