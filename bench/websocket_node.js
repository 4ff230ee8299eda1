// The Node `ws` side of bench/websocket.sh: the same broadcast as hostpool's pubsub route, on
// Debian's node-ws. /ws speaks the subset of the pubsub protocol the benchmark uses (welcome,
// subscribe -> subscribed, publish -> {"type":"message",...} to every subscriber of that exact
// topic, the frame's text built once per publish), /echo sends every message back.
// Usage: node bench/websocket_node.js PORT   (prints "listening PORT" when ready)
"use strict";
const http = require("http");
const { WebSocketServer } = require("/usr/share/nodejs/ws");

const port = Number(process.argv[2]);
const topics = new Map(); // topic -> Set of sockets
const pubsub = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const echo = new WebSocketServer({ noServer: true, perMessageDeflate: false });
let nextId = 1;

pubsub.on("connection", (ws) => {
  ws.id = String(nextId++);
  ws.topics = new Set();
  ws.send(JSON.stringify({ type: "welcome", id: ws.id }));
  ws.on("message", (raw) => {
    const msg = JSON.parse(raw);
    if (msg.type === "subscribe") {
      if (!topics.has(msg.topic)) topics.set(msg.topic, new Set());
      topics.get(msg.topic).add(ws);
      ws.topics.add(msg.topic);
      ws.send(JSON.stringify({ type: "subscribed", topic: msg.topic }));
    } else if (msg.type === "publish") {
      const text = JSON.stringify({ type: "message", topic: msg.topic, data: msg.data, from: ws.id });
      for (const s of topics.get(msg.topic) || []) s.send(text);
    } else if (msg.type === "ping") {
      ws.send(JSON.stringify({ type: "pong" }));
    }
  });
  ws.on("close", () => ws.topics.forEach((t) => topics.get(t).delete(ws)));
});
echo.on("connection", (ws) => ws.on("message", (data, binary) => ws.send(data, { binary })));

const server = http.createServer((req, res) => res.writeHead(404).end());
server.on("upgrade", (req, socket, head) => {
  const wss = req.url === "/echo" ? echo : pubsub;
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
});
server.listen(port, "127.0.0.1", () => console.log(`listening ${port}`));
