"""A subscriber that stops reading: `coursegraph serve` in its own process, a raw socket
with a tiny receive buffer that subscribes and then reads nothing while thousands of
events are appended. The server's memory stays flat and the socket is closed with a
reason naming the setting."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.factories import envelope, grade_event
from tests.conftest import INGEST_TOKEN, free_port

QUEUE_EVENTS = 200


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    if not Path("/proc/self/status").exists():
        pytest.skip("reads the server's memory from /proc")
    port = free_port()
    env = dict(os.environ)
    env.update(
        COURSEGRAPH_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'coursegraph.db'}",
        COURSEGRAPH_INGEST_TOKENS=INGEST_TOKEN,
        COURSEGRAPH_LIVE_QUEUE_EVENTS=str(QUEUE_EVENTS),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=20)


def _frame(text: str) -> bytes:
    """One masked client text frame."""
    payload = text.encode()
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x81, 0x80 | length)
    else:
        header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed without a close frame")
        data += chunk
    return data


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    first, second = _read_exactly(sock, 2)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exactly(sock, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exactly(sock, 8))
    return first & 0x0F, _read_exactly(sock, length)


def _open_raw_subscription(port: int) -> socket.socket:
    sock = socket.socket()
    # A small receive window, fixed before connecting: the kernel holds little for us.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(_frame(json.dumps({"type": "connection_init"})))
    opcode, ack = _read_frame(sock)
    assert opcode == 0x1 and json.loads(ack)["type"] == "connection_ack"
    query = "subscription { eventAppended { position type actorId objectId raw } }"
    sock.sendall(_frame(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})))
    return sock


async def _post(port: int, start: int, count: int, per_request: int = 500) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        for first in range(start, start + count, per_request):
            events = [
                grade_event(
                    "slow",
                    "SLOW-1",
                    "_i1_1",
                    f"_a{n}_1",
                    f"s{n % 40}",
                    1.0,
                    "2026-04-01T10:00:00.000Z",
                )
                for n in range(first, first + per_request)
            ]
            answer = await http.post(
                "/caliper", json=envelope(events), headers={"authorization": INGEST_TOKEN}
            )
            assert answer.status_code == 200 and answer.json()["appended"] == per_request


@pytest.mark.slow
def test_a_subscriber_that_stops_reading_is_closed_and_memory_stays_bounded(
    server: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, process = server
    asyncio.run(_post(port, 0, 2_000))  # warm up: caches, pools, allocator arenas
    sock = _open_raw_subscription(port)
    try:
        time.sleep(0.5)
        before = _rss_mb(process.pid)
        asyncio.run(_post(port, 10_000, 6_000))
        middle = _rss_mb(process.pid)
        asyncio.run(_post(port, 20_000, 6_000))
        after = _rss_mb(process.pid)
        # Now read: what the socket had taken in, then the close frame with its reason.
        sock.settimeout(30)
        delivered = 0
        while True:
            opcode, payload = _read_frame(sock)
            if opcode == 0x8:
                break
            if opcode == 0x9:  # uvicorn's keepalive ping, queued behind the rest
                continue
            assert opcode == 0x1, f"a non-text frame: {opcode}"
            message = json.loads(payload)
            assert message["type"] == "next", message
            delivered += 1
    finally:
        sock.close()
    (code,) = struct.unpack("!H", payload[:2])
    reason = payload[2:].decode()
    assert code == 4413
    assert f"COURSEGRAPH_LIVE_QUEUE_EVENTS={QUEUE_EVENTS}" in reason
    assert 0 < delivered < 12_000  # it got what was on the wire, then the close
    # Held for it, each 6,000 events would add ~45 MB (measured without the bound); with
    # it the server grows a little while the socket fills, then not at all.
    assert middle - before < 25, (before, middle, after)
    assert after - middle < 10, (before, middle, after)
