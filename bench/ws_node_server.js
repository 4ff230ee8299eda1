// The anchor of bench/websocket.sh: a Node server on Debian's `ws` (node-ws) doing what
// hostpool's `pubsub` and `echo` routes do for the benchmark, the way a ws user writes it:
// on /ws, {"type":"subscribe","topic":T} adds the connection to T's set and answers
// {"type":"subscribed","topic":T}; {"type":"publish","topic":T,"data":D} sends
// {"type":"message","topic":T,"data":D,"from":ID}, stringified once, to every subscriber of T;
// {"type":"ping"} answers {"type":"pong"}; on /echo every message is sent back. No compression (ws's default for a server is none).
//
// Usage: node bench/ws_node_server.js PORT   (listens on 127.0.0.1 only)
'use strict';
const http = require('http');
const { WebSocketServer } = require('/usr/share/nodejs/ws');

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const topics = new Map(); // topic -> Set of sockets
let nextId = 1;

function onPubsub(ws) {
  ws.id = String(nextId++);
  ws.topics = new Set();
  ws.send(JSON.stringify({ type: 'welcome', id: ws.id }));
  ws.on('message', (raw) => {
    let m;
    try {
      m = JSON.parse(raw);
    } catch (e) {
      ws.send(JSON.stringify({ type: 'error', message: 'invalid JSON' }));
      return;
    }
    if (m.type === 'ping') {
      ws.send(JSON.stringify({ type: 'pong' }));
    } else if (m.type === 'subscribe') {
      if (!topics.has(m.topic)) topics.set(m.topic, new Set());
      topics.get(m.topic).add(ws);
      ws.topics.add(m.topic);
      ws.send(JSON.stringify({ type: 'subscribed', topic: m.topic }));
    } else if (m.type === 'publish') {
      const text = JSON.stringify({ type: 'message', topic: m.topic, data: m.data, from: ws.id });
      for (const peer of topics.get(m.topic) || []) peer.send(text);
    }
  });
  ws.on('close', () => {
    for (const t of ws.topics) topics.get(t).delete(ws);
  });
}

server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (req.url === '/echo') ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    else onPubsub(ws);
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
