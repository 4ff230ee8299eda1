// The chat page's client of the pubsub protocol (docs/WEBSOCKET.md, "## pub/sub"): it
// subscribes to the room and to presence, asks who is there, joins with a name, then
// publishes what is typed. No framework: the WebSocket API and the DOM.
"use strict";

const ROOM = "chat.lobby";
const log = document.getElementById("log");
const people = document.getElementById("people");
const joinForm = document.getElementById("join");
const sayForm = document.getElementById("say");
const present = new Map(); // connection id -> name
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const ws = new WebSocket(`${scheme}//${location.host}/ws`);
let me = null; // our connection id, from the welcome

function note(text, cls) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  li.textContent = text;
  log.append(li);
  li.scrollIntoView();
}

function said(name, text) {
  const li = document.createElement("li");
  const who = document.createElement("b");
  who.textContent = name + ":";
  li.append(who, document.createTextNode(" " + text));
  log.append(li);
  li.scrollIntoView();
}

function showPeople() {
  people.replaceChildren(...[...present.values()].sort().map((name) => {
    const li = document.createElement("li");
    li.textContent = name;
    return li;
  }));
}

function send(msg) {
  ws.send(JSON.stringify(msg));
}

ws.addEventListener("open", () => {
  send({ type: "subscribe", topic: ROOM });
  send({ type: "subscribe", topic: "presence" });
  send({ type: "who" });
});

ws.addEventListener("message", (event) => {
  const msg = JSON.parse(event.data);
  switch (msg.type) {
    case "welcome":
      me = msg.id;
      break;
    case "present": // who joined before us
      msg.members.forEach((m) => present.set(m.id, m.name));
      showPeople();
      break;
    case "joined":
      present.set(msg.id, msg.name);
      showPeople();
      note(`${msg.name} joined`, "note");
      if (msg.id === me) {
        joinForm.hidden = true;
        sayForm.hidden = false;
        sayForm.text.focus();
      }
      break;
    case "left":
      present.delete(msg.id);
      showPeople();
      note(`${msg.name} left`, "note");
      break;
    case "message":
      said(present.get(msg.from) || `#${msg.from}`, String(msg.data && msg.data.text));
      break;
    case "error":
      note(`error: ${msg.message}`, "note");
      break;
  }
});

ws.addEventListener("close", (event) => note(`disconnected (${event.code})`, "note"));

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  send({ type: "join", name: joinForm.name.value.trim() });
});

sayForm.addEventListener("submit", (event) => {
  event.preventDefault();
  send({ type: "publish", topic: ROOM, data: { text: sayForm.text.value } });
  sayForm.text.value = "";
});
