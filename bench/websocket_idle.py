#!/usr/bin/python3
"""Resident memory per idle WebSocket connection (issue 16's target: <= 2 KiB).

Usage: bench/websocket_idle.py [HOSTPOOL_BIN] [CONNECTIONS]   (defaults: build/hostpool, 2000)

Starts `hostpool run` with one worker and a `websocket: {echo: {}}` route on a loopback port,
opens one connection and exchanges a message (so the worker's per-handler state exists and
its first buffers are warm), reads the daemon's VmRSS, opens CONNECTIONS more WebSocket
connections (Debian's python3-websockets, no pings, no compression), each exchanging one
message and then left idle, waits for the daemon to settle, reads VmRSS again and prints the
difference per connection. Only ever listens and connects on 127.0.0.1."""
import asyncio
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

import websockets

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/hostpool"
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 2000


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


async def open_idle(port, n):
    conns = []
    for _ in range(n):
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", ping_interval=None,
                                      compression=None, close_timeout=1)
        await ws.send("hi")
        assert await ws.recv() == "hi"
        conns.append(ws)
    return conns


async def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, COUNT + 1024), hard))
    tmp = tempfile.mkdtemp()
    config = os.path.join(tmp, "ws.yaml")
    with open(config, "w") as f:
        f.write("workers: 1\nlimits: { max_connections: 10000 }\nservers:\n"
                "  - name: ws\n    listen: 127.0.0.1:0\n    routes:\n"
                "      - match: { path: /ws }\n"
                "        websocket: { echo: {}, ping_interval: 0, idle_timeout: 0 }\n")
    daemon = subprocess.Popen([BIN, "run", "--config", config, "--admin",
                               f"unix:{tmp}/admin.sock"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        port = None
        for line in daemon.stdout:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
                break
        first = await open_idle(port, 1)
        time.sleep(0.5)
        before = rss_kib(daemon.pid)
        conns = await open_idle(port, COUNT)
        time.sleep(1.0)
        after = rss_kib(daemon.pid)
        per = (after - before) * 1024 / COUNT
        print(f"connections {COUNT} rss_before_kib {before} rss_after_kib {after} "
              f"bytes_per_connection {per:.0f}")
        for ws in conns + first:
            await ws.close()
    finally:
        daemon.terminate()
        daemon.wait(10)


asyncio.run(main())
