"""Processes the tests start: a real Prometheus server, and the command line.

:func:`start_prometheus` writes a config scraping the given loopback targets every
second, starts Debian's ``prometheus`` binary on a free loopback port with its TSDB under
the test's temporary folder and waits (at most 30 s) until it is ready;
:func:`stop_prometheus` terminates it. Tests skip with the reason when the binary is
absent. :func:`start_cli` runs ``gametheory`` in a subprocess and :func:`sigterm` stops
it the way an operator does, killing it if it does not exit in time.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    """A loopback TCP port nobody listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_prometheus(tmp: Path, target_port: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start Prometheus scraping ``127.0.0.1:target_port`` every second; (process, URL)."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the prometheus binary is not installed (apt-get install prometheus)")
    port = free_port()
    config = tmp / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: frontend\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{target_port}']\n"
    )
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "prometheus.log").open("wb"),
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
