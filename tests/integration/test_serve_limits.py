"""Issue 14, finding 12: `orderflow serve` against slow and many clients, over real sockets.

Before the fix a client trickling its body held the connection for as long as it liked and any
number of connections were accepted (both red: the first read below timed out, the third
connection was served)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from worker.core.settings import REPO_ROOT

START_TIMEOUT = 30.0  # seconds for the server to answer /healthz
READ_TIMEOUT = 20.0  # seconds a socket waits for the server's answer (far above the limits under test)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def serve(db_url: str, tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url}
    log = tmp_path / "serve.log"
    server = subprocess.Popen([sys.executable, "-m", "worker", "serve", "--port", str(port), "--body-timeout", "0.5",
                               "--max-connections", "3"], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with httpx.Client() as client:
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
    return sock


def _status_line(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def test_a_body_trickling_in_is_cut_off_with_408(serve: int) -> None:
    with _connect(serve) as sock:
        sock.sendall(b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: intake\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{")  # then nothing more
        assert _status_line(sock) == b"HTTP/1.1 408 Request Timeout"


def test_connections_past_the_cap_get_503(serve: int) -> None:
    held = [_connect(serve) for _ in range(3)]
    try:
        for sock in held:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # a head that never ends
        with _connect(serve) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: intake\r\n\r\n")
            assert _status_line(extra) == b"HTTP/1.1 503 Service Unavailable"
    finally:
        for sock in held:
            sock.close()
