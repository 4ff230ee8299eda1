"""Real WebSocket clients (Debian's python3-websockets) against `hostpool run` with the pubsub
routes of tests/integration/test_pubsub.c. One scenario per run:

    /usr/bin/python3 scenarios.py SCENARIO PORT ADMIN_SOCKET HOSTPOOL_BIN DAEMON_PID

It prints "ok" and exits 0, or exits 1 with what went wrong. Every wait is bounded (the whole
scenario by DEADLINE), so a lost message fails instead of hanging."""
import asyncio
import json
import re
import socket
import subprocess
import sys

import websockets

DEADLINE = 90
STEP = 10  # one expected message


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)


scenario, port, admin_socket, hostpool, daemon_pid = sys.argv[1:6]


def url(path):
    return f"ws://127.0.0.1:{port}{path}"


def admin(method, path, body=None):
    """One call to the admin API on its unix socket: (status, JSON answer or text)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(STEP)
    s.connect(admin_socket)
    data = body.encode() if body is not None else b""
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n"
              f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    raw = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        raw += chunk
    s.close()
    head, _, text = raw.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text.decode()


async def connect(path="/all", **kw):
    ws = await websockets.connect(url(path), close_timeout=1, **kw)
    welcome = await recv(ws)
    check(welcome["type"] == "welcome" and welcome["id"].isdigit(), f"welcome: {welcome}")
    ws.id = welcome["id"]
    return ws


async def recv(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), STEP))


async def call(ws, msg):
    await ws.send(json.dumps(msg))
    return await recv(ws)


async def subscribe(ws, *patterns):
    for p in patterns:
        got = await call(ws, {"type": "subscribe", "topic": p})
        check(got == {"type": "subscribed", "topic": p}, f"subscribe {p}: {got}")


async def until_end(ws):
    """The messages before the one on topic "end" (a publisher's order is kept: once its "end"
    arrived, everything it published before has)."""
    got = []
    while True:
        m = await recv(ws)
        if m.get("topic") == "end":
            return got
        got.append(m)


def topics(msgs):
    return [m["topic"] for m in msgs]


# ---- scenarios ----------------------------------------------------------------------------


async def fanout_200_clients_100_messages_in_order():
    clients = []
    for _ in range(200):
        ws = await connect("/ws")
        await subscribe(ws, "chat.room")
        clients.append(ws)
    _, listing = admin("GET", "/servers/chat/connections")
    check(len(listing["connections"]) == 200, "200 connections listed")
    pub = await connect("/ws")
    for i in range(100):
        await pub.send(json.dumps({"type": "publish", "topic": "chat.room", "data": i}))

    async def all_of(ws):
        return [(await recv(ws)) for _ in range(100)]

    results = await asyncio.gather(*(all_of(ws) for ws in clients))
    for got in results:
        check([m["data"] for m in got] == list(range(100)), "100 messages in order")
        check(all(m["from"] == pub.id and m["type"] == "message" for m in got), "from")
    for ws in clients + [pub]:
        await ws.close()


async def wildcards_match_one_segment_or_the_rest():
    a, b, c, pub = [await connect() for _ in range(4)]
    await subscribe(a, "chat.*", "end")
    await subscribe(b, "chat.**", "end")
    await subscribe(c, "chat.a.b", "end")
    for t in ["chat.x", "chat.a.b", "chat", "other.x", "end"]:
        await pub.send(json.dumps({"type": "publish", "topic": t, "data": t}))
    check(topics(await until_end(a)) == ["chat.x"], "chat.* gets chat.x only")
    check(topics(await until_end(b)) == ["chat.x", "chat.a.b"], "chat.** gets both")
    check(topics(await until_end(c)) == ["chat.a.b"], "chat.a.b gets itself")


async def overlapping_patterns_deliver_once():
    a, pub = await connect(), await connect()
    await subscribe(a, "chat.*", "chat.**", "chat.x", "*.x", "end")
    for t in ["chat.x", "end"]:
        await pub.send(json.dumps({"type": "publish", "topic": t, "data": 1}))
    check(topics(await until_end(a)) == ["chat.x"], "exactly once")


async def the_sender_gets_its_own_message_when_subscribed():
    a = await connect()
    await subscribe(a, "chat.*")
    await a.send(json.dumps({"type": "publish", "topic": "chat.me", "data": {"k": [1, 2]}}))
    got = await recv(a)
    check(got == {"type": "message", "topic": "chat.me", "data": {"k": [1, 2]}, "from": a.id},
          f"own message: {got}")


async def unsubscribe_stops_delivery():
    a, pub = await connect(), await connect()
    await subscribe(a, "chat.*", "end")
    got = await call(a, {"type": "unsubscribe", "topic": "chat.*"})
    check(got == {"type": "unsubscribed", "topic": "chat.*"}, f"unsubscribed: {got}")
    got = await call(a, {"type": "unsubscribe", "topic": "chat.*"})
    check(got["type"] == "error", f"not subscribed: {got}")
    for t in ["chat.x", "end"]:
        await pub.send(json.dumps({"type": "publish", "topic": t}))
    check(await until_end(a) == [], "nothing after unsubscribe")


async def names_are_unique_and_presence_is_published():
    watcher = await connect("/ws")
    await subscribe(watcher, "presence")
    alice = await connect("/ws")
    await alice.send(json.dumps({"type": "join", "name": "alice"}))
    got = await recv(watcher)
    check(got == {"type": "joined", "name": "alice", "id": alice.id}, f"joined: {got}")
    other = await connect("/ws")
    got = await call(other, {"type": "join", "name": "alice"})
    check(got["type"] == "error" and "taken" in got["message"], f"taken: {got}")
    got = await call(other, {"type": "who"})
    check(got == {"type": "present", "members": [{"id": alice.id, "name": "alice"}]},
          f"who: {got}")
    _, listing = admin("GET", "/servers/chat/connections")
    names = {c["id"]: c["name"] for c in listing["connections"]}
    check(names[int(alice.id)] == "alice" and names[int(other.id)] is None, "the name stays")
    await alice.close()
    got = await recv(watcher)
    check(got == {"type": "left", "name": "alice", "id": alice.id}, f"left: {got}")
    await other.send(json.dumps({"type": "join", "name": "alice"}))
    got = await recv(watcher)
    check(got == {"type": "joined", "name": "alice", "id": other.id}, f"freed: {got}")


async def errors_keep_the_connection_open():
    a = await connect("/ws")
    for bad, word in [("not json", "invalid JSON"), ('{"type":"dance"}', "unknown type"),
                      ('{"type":"subscribe","topic":"news.*"}', "not allowed"),
                      ('{"type":"subscribe","topic":"**"}', "not allowed"),
                      ('{"type":"publish","topic":"news","data":1}', "not allowed"),
                      ('{"type":"subscribe","topic":"a..b"}', "not a topic"),
                      ('[1,2]', "type")]:
        await a.send(bad)
        got = await recv(a)
        check(got["type"] == "error" and word in got["message"], f"{bad}: {got}")
    check(await call(a, {"type": "ping"}) == {"type": "pong"}, "still open")
    await subscribe(a, "chat.**")  # covered by the allowed chat.**


async def publish_server_refuses_clients():
    a = await connect("/announce")
    got = await call(a, {"type": "publish", "topic": "news", "data": 1})
    check(got["type"] == "error" and "server" in got["message"], f"refused: {got}")
    await subscribe(a, "news")
    status, answer = admin("POST", "/servers/chat/publish", '{"topic":"news","data":"hi"}')
    check(status == 200 and answer["reached"] >= 1, f"admin publish: {status} {answer}")
    got = await recv(a)
    check(got == {"type": "message", "topic": "news", "data": "hi", "from": "server"}, f"{got}")


async def a_closed_connection_leaves_no_subscription():
    a = await connect("/ws")
    await subscribe(a, "chat.gone")
    status, answer = admin("POST", "/servers/chat/publish", '{"topic":"chat.gone","data":1}')
    check(answer == {"reached": 1}, f"reached while subscribed: {answer}")
    await recv(a)
    gone = int(a.id)
    await a.close()
    for _ in range(200):
        _, listing = admin("GET", "/servers/chat/connections")
        if all(c["id"] != gone for c in listing["connections"]):
            break
        await asyncio.sleep(0.02)
    else:
        raise Failed("the closed connection is still listed")
    status, answer = admin("POST", "/servers/chat/publish", '{"topic":"chat.gone","data":1}')
    check(answer == {"reached": 0}, f"reached after close: {answer}")


async def admin_and_cli_publish_reach_subscribers():
    subs = [await connect() for _ in range(3)]
    for ws in subs:
        await subscribe(ws, "chat.cli")
    status, answer = admin("POST", "/servers/chat/publish", '{"topic":"chat.cli","data":[1]}')
    check(status == 200 and answer == {"reached": 3}, f"admin: {status} {answer}")
    for ws in subs:
        check((await recv(ws))["data"] == [1], "admin message")
    out = subprocess.run([hostpool, "publish", "--admin", "unix:" + admin_socket, "chat",
                          "chat.cli", '{"n": 2}'], capture_output=True, text=True, timeout=STEP)
    check(out.returncode == 0 and out.stdout == "reached 3\n", f"cli: {out}")
    for ws in subs:
        got = await recv(ws)
        check(got == {"type": "message", "topic": "chat.cli", "data": {"n": 2}, "from": "server"},
              f"cli message: {got}")
    out = subprocess.run([hostpool, "publish", "--admin", "unix:" + admin_socket, "chat",
                          "chat.cli", "{not json"], capture_output=True, text=True, timeout=STEP)
    check(out.returncode == 2 and "not valid JSON" in out.stderr, f"cli usage: {out}")
    status, answer = admin("POST", "/servers/chat/publish", '{"topic":"a.*","extra":1}')
    check(status == 400 and len(answer["error"]["details"]) == 3, f"every error: {answer}")
    status, answer = admin("POST", "/servers/spare/publish", '{"topic":"a","data":1}')
    check(status == 404, f"no pubsub route: {status}")
    status, answer = admin("POST", "/servers/nope/publish", '{"topic":"a","data":1}')
    check(status == 404, f"no server: {status}")


async def delete_closes_with_1000():
    a = await connect()
    status, answer = admin("DELETE", f"/servers/chat/connections/{a.id}")
    check(status == 200, f"delete: {status} {answer}")
    try:
        await asyncio.wait_for(a.recv(), STEP)
        raise Failed("still open")
    except websockets.ConnectionClosed as e:
        check(e.code == 1000, f"close code {e.code}")
    status, _ = admin("DELETE", f"/servers/chat/connections/{a.id}")
    check(status == 404, f"unknown id: {status}")


async def events_are_forwarded_as_messages():
    ev = await connect("/events")
    await subscribe(ev, "events.**")
    status, _ = admin("POST", "/servers/spare/restart")
    check(status == 200, f"restart: {status}")
    seen = []
    while "server.started" not in seen:
        m = await recv(ev)
        check(m["type"] == "message" and m["from"] == "server", f"{m}")
        check(m["topic"] == "events." + m["data"]["topic"], f"topic: {m}")
        check(m["data"]["server"] == "spare" and m["data"]["seq"] > 0, f"data: {m}")
        seen.append(m["data"]["topic"])
    presence = await connect("/presence-events")
    await subscribe(presence, "events.ws.*")
    bob = await connect("/ws")
    await call(bob, {"type": "ping"})
    await bob.send(json.dumps({"type": "join", "name": "bob"}))
    got = await recv(presence)
    check(got["topic"] == "events.ws.joined" and got["data"]["name"] == "bob" and
          got["data"]["id"] == int(bob.id) and got["data"]["server"] == "chat", f"{got}")
    await bob.close()
    got = await recv(presence)
    check(got["topic"] == "events.ws.left" and got["data"]["name"] == "bob", f"{got}")


async def hostpool_events_prints_joins_and_leaves():
    follower = await asyncio.create_subprocess_exec(
        hostpool, "events", "--admin", "unix:" + admin_socket, "ws.*",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        following = await asyncio.wait_for(follower.stderr.readline(), STEP)
        check(b"following ws.*" in following, f"following: {following}")
        carol = await connect("/ws")
        await carol.send(json.dumps({"type": "join", "name": "carol"}))
        line = (await asyncio.wait_for(follower.stdout.readline(), STEP)).decode()
        check(re.fullmatch(rf"ws\.joined +chat id {carol.id} name carol\n", line), f"{line!r}")
        await carol.close()
        line = (await asyncio.wait_for(follower.stdout.readline(), STEP)).decode()
        check(re.fullmatch(rf"ws\.left +chat id {carol.id} name carol\n", line), f"{line!r}")
    finally:
        follower.kill()
        await follower.wait()


def rss_kib():
    with open(f"/proc/{daemon_pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


async def flood(path, count):
    """A publisher sends `count` 4 KiB messages on "flood" to a subscriber that never reads."""
    slow = await connect(path, max_queue=1, read_limit=2 ** 12)
    await subscribe(slow, "flood")
    pub = await connect(path)
    payload = "x" * 4000
    for i in range(count):
        await pub.send(json.dumps({"type": "publish", "topic": "flood", "data": payload}))
    await call(pub, {"type": "ping"})  # the server read them all
    return slow, pub


def metric(name):
    _, text = admin("GET", "/metrics")
    total = 0
    for line in text.splitlines():
        if line.startswith(name) and 'server="chat"' in line:
            total += float(line.split()[-1])
    return total


async def a_slow_subscriber_is_closed_with_1008():
    slow, pub = await flood("/slow-close", 3000)
    for _ in range(500):
        _, listing = admin("GET", "/servers/chat/connections")
        if all(c["id"] != int(slow.id) for c in listing["connections"]):
            break
        await asyncio.sleep(0.02)
    else:
        raise Failed("the slow subscriber is still open")
    check(metric('hostpool_websocket_closes_total{') >= 1, "a close counted")
    _, text = admin("GET", "/metrics")
    check(re.search(r'hostpool_websocket_closes_total\{[^}]*code="1008"[^}]*\} [1-9]', text),
          "closed with 1008")
    check(await call(pub, {"type": "ping"}) == {"type": "pong"}, "the publisher is fine")
    try:
        while True:  # what was written before the close, then the close
            await asyncio.wait_for(slow.recv(), STEP)
    except websockets.ConnectionClosed as e:
        check(e.code == 1008, f"closed with {e.code}")


def connection(ws):
    _, listing = admin("GET", "/servers/chat/connections")
    mine = [c for c in listing["connections"] if c["id"] == int(ws.id)]
    check(mine, f"connection {ws.id} is open")
    return mine[0]


async def a_slow_subscriber_is_skipped_and_counted_with_drop():
    dropped = metric("hostpool_websocket_dropped_total")
    slow, pub = await flood("/slow-drop", 500)
    before, sent = rss_kib(), 2  # its welcome and its "subscribed"
    for _ in range(3):
        for i in range(1000):
            await pub.send(json.dumps({"type": "publish", "topic": "flood", "data": "y" * 4000}))
        await call(pub, {"type": "ping"})
    for _ in range(500):  # each message is either queued to it or skipped and counted
        now = connection(slow)
        skipped = metric("hostpool_websocket_dropped_total") - dropped
        if now["messages_out"] - sent + skipped == 3500:
            break
        await asyncio.sleep(0.02)
    else:
        raise Failed(f"sent {now['messages_out'] - sent} and skipped {skipped} of 3500")
    check(skipped >= 1000, f"most skipped: {skipped}")
    check(now["bytes_queued"] <= 64 * 1024, f"bounded: {now}")
    grown = rss_kib() - before
    check(grown < 4096, f"memory flat: grew {grown} KiB while 12 MB were published")


async def main():
    await asyncio.wait_for(globals()[scenario](), DEADLINE)
    print("ok")


try:
    asyncio.run(main())
except Failed as e:
    print(f"{scenario}: {e}", file=sys.stderr)
    sys.exit(1)
