"""A real WebSocket client (Debian's python3-websockets) for tests/integration/test_websocket.c.

Usage: client.py PORT SCENARIO. Prints what it checked and exits 0, or raises (exit 1)."""
import asyncio
import sys

import websockets

PORT = int(sys.argv[1])


def url(path):
    return f"ws://127.0.0.1:{PORT}{path}"


async def echo():
    async with websockets.connect(url("/echo"), ping_interval=None, compression=None) as ws:
        await ws.send("héllo")
        assert await ws.recv() == "héllo"
        await ws.send(b"\x00\x01\xff")
        assert await ws.recv() == b"\x00\x01\xff"
        big = "x" * 60000  # several reads, a frame kept whole across them
        await ws.send(big)
        assert await ws.recv() == big
        await ws.send(["frag", "ment", "ed"])  # one message in three frames
        assert await ws.recv() == "fragmented"
        await ws.send([b"a", b"b"])
        assert await ws.recv() == b"ab"
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        await ws.close(4001, "done")
        assert ws.close_code == 4001, ws.close_code  # the server answers with the same code
    print("echo ok")


async def compression():
    async with websockets.connect(url("/echo"), ping_interval=None) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        assert ext.startswith("permessage-deflate"), ext
        assert "server_no_context_takeover" in ext and "client_no_context_takeover" in ext, ext
        text = "compress me " * 2000
        for _ in range(3):  # each message compressed on its own
            await ws.send(text)
            assert await ws.recv() == text
        await ws.send("short")
        assert await ws.recv() == "short"
    print("compression ok")


async def closed_with(path, send, timeout=5):
    async with websockets.connect(url(path), ping_interval=None, compression=None) as ws:
        if send is not None:
            await ws.send(send)
        try:
            await asyncio.wait_for(ws.recv(), timeout)
        except websockets.ConnectionClosed:
            pass
        return ws.close_code


async def too_big():
    code = await closed_with("/small", "y" * 2000)
    assert code == 1009, code
    print("too_big ok")


async def idle():
    code = await closed_with("/idle", None)
    assert code == 1001, code
    print("idle ok")


SCENARIOS = {"echo": echo, "compression": compression, "too_big": too_big, "idle": idle}
asyncio.run(SCENARIOS[sys.argv[2]]())
