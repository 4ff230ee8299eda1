#!/usr/bin/python3
"""The WebSocket broadcast benchmark of bench/websocket.sh: one server (hostpool's pubsub
route, or Node `ws` running bench/websocket_node.js) at a time, driven by python3-websockets.

Usage: bench/websocket_fanout.py hostpool|node HOSTPOOL_BIN SUBSCRIBERS MESSAGES ECHOES

SUBSCRIBERS connections subscribe to topic "bench" (the server's VmRSS before and after they
connected gives memory per idle connection); one publisher sends MESSAGES messages whose data
is 64 bytes (a send timestamp padded), paced in bursts of 10; every subscriber records each
delivery's latency (receive time minus send time, both time.monotonic_ns on this machine).
CPU per delivered message is the server's Δ(utime+stime) over the broadcast ÷ (MESSAGES ×
SUBSCRIBERS). Then ECHOES round trips of a 64-byte message on /echo, one at a time. Prints
one line of key=value. Only 127.0.0.1; every wait bounded."""
import asyncio
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time

import websockets

KIND, BIN = sys.argv[1], sys.argv[2]
SUBS, MESSAGES, ECHOES = (int(a) for a in sys.argv[3:6])
HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start_server(tmp):
    port = free_port()
    if KIND == "hostpool":
        config = os.path.join(tmp, "ws.yaml")
        with open(config, "w") as f:
            f.write("workers: 2\naccess_log: off\nlimits: { max_connections: 20000 }\n"
                    f"servers:\n  - name: bench\n    listen: 127.0.0.1:{port}\n    routes:\n"
                    "      - match: { path: /ws }\n"
                    "        websocket: { pubsub: {}, ping_interval: 0, idle_timeout: 0 }\n"
                    "      - match: { path: /echo }\n"
                    "        websocket: { echo: {}, ping_interval: 0, idle_timeout: 0 }\n")
        argv = [BIN, "run", "--config", config, "--admin", f"unix:{tmp}/admin.sock"]
        ready = "listening on"
    else:
        argv = ["/usr/bin/node", os.path.join(HERE, "websocket_node.js"), str(port)]
        ready = "listening"
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 10
    for line in proc.stdout:
        if ready in line:
            return proc, port
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise SystemExit(f"{KIND} did not start")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0


async def subscriber(port, latencies, done):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", ping_interval=None,
                                  compression=None, close_timeout=1, max_queue=None)
    await asyncio.wait_for(ws.recv(), 10)  # welcome
    await ws.send(json.dumps({"type": "subscribe", "topic": "bench"}))
    await asyncio.wait_for(ws.recv(), 10)  # subscribed

    async def read():
        for _ in range(MESSAGES):
            msg = json.loads(await ws.recv())
            latencies.append(time.monotonic_ns() - int(msg["data"].rstrip("x")))
        done.append(1)

    return ws, read


async def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * SUBS + 1024), hard))
    tmp = tempfile.mkdtemp()
    proc, port = start_server(tmp)
    try:
        latencies, done = [], []
        warm = await subscriber(port, [], [])  # the server's first buffers exist
        rss0 = rss_kib(proc.pid)
        subs = [await subscriber(port, latencies, done) for _ in range(SUBS)]
        await asyncio.sleep(0.5)
        rss1 = rss_kib(proc.pid)
        pub = await websockets.connect(f"ws://127.0.0.1:{port}/ws", ping_interval=None,
                                       compression=None, close_timeout=1)
        await pub.recv()
        readers = [asyncio.create_task(read()) for _, read in subs]
        cpu0, t0 = cpu_s(proc.pid), time.monotonic()
        for i in range(MESSAGES):
            data = str(time.monotonic_ns()).ljust(64, "x")
            await pub.send(json.dumps({"type": "publish", "topic": "bench", "data": data}))
            if i % 10 == 9:
                await asyncio.sleep(0.001)
        await asyncio.wait_for(asyncio.gather(*readers), 60 + MESSAGES * SUBS / 10000)
        cpu1, t1 = cpu_s(proc.pid), time.monotonic()
        delivered = MESSAGES * SUBS
        echo = await websockets.connect(f"ws://127.0.0.1:{port}/echo", ping_interval=None,
                                        compression=None, close_timeout=1)
        rtts = []
        for _ in range(ECHOES):
            t = time.monotonic_ns()
            await echo.send("e" * 64)
            await asyncio.wait_for(echo.recv(), 10)
            rtts.append(time.monotonic_ns() - t)
        print(f"server={KIND} subscribers={SUBS} messages={MESSAGES} delivered={delivered} "
              f"seconds={t1 - t0:.2f} cpu_us_per_delivery={(cpu1 - cpu0) * 1e6 / delivered:.3f} "
              f"p50_ms={percentile(latencies, 0.5) / 1e6:.2f} "
              f"p99_ms={percentile(latencies, 0.99) / 1e6:.2f} "
              f"echo_p50_us={percentile(rtts, 0.5) / 1e3:.0f} "
              f"echo_p99_us={percentile(rtts, 0.99) / 1e3:.0f} "
              f"rss_per_idle_conn_bytes={(rss1 - rss0) * 1024 // SUBS}")
        for ws, _ in subs + [warm]:
            await ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


asyncio.run(main())
