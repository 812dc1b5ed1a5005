"""Processes the tests start: a real Prometheus server, and the command line.

:func:`start_prometheus` writes a config scraping the given loopback targets every
second, starts Debian's ``prometheus`` binary on a free loopback port with its TSDB under
the test's temporary folder and waits (at most 30 s) until it is ready;
:func:`stop_prometheus` terminates it. Tests skip with the reason when the binary is
absent. :func:`start_cli` runs ``gametheory`` in a subprocess and :func:`sigterm` stops
it the way an operator does, killing it if it does not exit in time. :class:`Scripted` is a
loopback HTTP server that answers each connection as the test scripts it (:func:`answer`,
:func:`vector`, :func:`drip` one byte at a time, :func:`send` bytes that are not HTTP,
:func:`hang_up`, :func:`silence`): a misbehaving Prometheus or router.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    """A loopback TCP port nobody listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_prometheus(
    tmp: Path, target_port: int, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start Prometheus scraping ``127.0.0.1:target_port`` every second; (process, URL).

    It listens on ``port`` (default a free one) and keeps its TSDB in ``tmp / "tsdb"``,
    so starting it again with the same ``tmp`` and ``port`` is a restart.
    """
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the prometheus binary is not installed (apt-get install prometheus)")
    port = free_port() if port is None else port
    config = tmp / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: frontend\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{target_port}']\n"
    )
    with (tmp / "prometheus.log").open("ab") as log:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    proc.wait(5)
    raise AssertionError(f"prometheus did not become ready: {(tmp / 'prometheus.log').read_text()}")


def stop_prometheus(proc: subprocess.Popen[bytes]) -> None:
    """Terminate it (kill after 10 s)."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def start_cli(*args: str) -> subprocess.Popen[bytes]:
    """``gametheory ARGS`` in a subprocess, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "gametheory.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def sigterm(proc: subprocess.Popen[bytes], timeout_s: float) -> tuple[bytes, bytes]:
    """Send SIGTERM and wait at most ``timeout_s`` for the exit; (stdout, stderr)."""
    try:
        proc.send_signal(signal.SIGTERM)
        return proc.communicate(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


Reply = Callable[[socket.socket, threading.Event], None]
"""How :class:`Scripted` answers one connection: writes to the socket (``done`` is set
when the server closes, which ends any waiting)."""


_PHRASES = {s.value: s.phrase for s in HTTPStatus}


def http_bytes(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    """A whole HTTP/1.1 answer with ``body``."""
    head = (
        f"HTTP/1.1 {status} {_PHRASES.get(status, 'Status')}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def answer(status: int, body: Any = b"") -> Reply:
    """An HTTP answer with ``body``: as it is when bytes, else as JSON."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()

    def reply(conn: socket.socket, done: threading.Event) -> None:
        conn.sendall(http_bytes(status, data))

    return reply


def vector(value: Any) -> Reply:
    """Prometheus's answer to an instant query whose one series has ``value``."""
    return answer(
        200,
        {
            "status": "success",
            "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1.0, value]}]},
        },
    )


def send(data: bytes) -> Reply:
    """``data`` as it is (not HTTP, or half an answer), then the connection closes."""

    def reply(conn: socket.socket, done: threading.Event) -> None:
        conn.sendall(data)

    return reply


def drip(data: bytes, every_s: float, *, start: int = 0) -> Reply:
    """``data[:start]`` at once, then one byte every ``every_s`` seconds (a slow server)."""

    def reply(conn: socket.socket, done: threading.Event) -> None:
        conn.sendall(data[:start])
        for k in range(start, len(data)):
            if done.wait(every_s):
                return
            try:
                conn.sendall(data[k : k + 1])
            except OSError:  # the client gave up
                return

    return reply


def silence(conn: socket.socket, done: threading.Event) -> None:
    """Accept, read the request, answer nothing until the client leaves (or 30 s)."""
    conn.settimeout(0.1)
    deadline = time.monotonic() + 30
    while not done.is_set() and time.monotonic() < deadline:
        try:
            if not conn.recv(1024):
                return
        except TimeoutError:
            continue
        except OSError:
            return


def hang_up(conn: socket.socket, done: threading.Event) -> None:
    """Close the connection without a byte."""


class Scripted:
    """A loopback HTTP server that answers its ``n``-th connection with ``replies[n]``
    (the last reply again once they run out), recording each request.

    Parameters
    ----------
    replies
        One :data:`Reply` per connection, in order.
    port
        Port to listen on (default a free one).

    Attributes
    ----------
    requests
        ``(method, target, body)`` of each request, in order.
    """

    def __init__(self, replies: Sequence[Reply], port: int = 0) -> None:
        if not replies:
            raise ValueError("give at least one reply")
        self.replies = list(replies)
        self.requests: list[tuple[str, str, bytes]] = []
        self.done = threading.Event()
        lock = threading.Lock()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 10  # no test client takes longer to send its request

            def handle(self) -> None:
                try:
                    method, target, _ = self.rfile.readline(65537).decode().split(" ", 2)
                    length = 0
                    while (line := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
                        name, _, value = line.decode().partition(":")
                        if name.strip().lower() == "content-length":
                            length = int(value)
                    body = self.rfile.read(length)
                except (OSError, ValueError):
                    return
                with lock:
                    outer.requests.append((method, target, body))
                    reply = outer.replies[min(len(outer.requests), len(outer.replies)) - 1]
                with contextlib.suppress(OSError):
                    reply(self.connection, outer.done)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = False  # server_close joins every handler

        self.server = Server(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def bodies(self) -> list[Any]:
        """The JSON bodies of the requests, in order."""
        return [json.loads(body) for _, _, body in self.requests]

    def close(self) -> None:
        """Stop serving; end the replies still sending or waiting, and join them."""
        self.done.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
