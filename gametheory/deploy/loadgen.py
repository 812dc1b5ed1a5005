"""Load a deployment with NVIDIA aiperf (0.13) and keep its artifact folder.

:func:`aiperf_command` is the benchmark the issue measured by hand: streaming
``/v1/completions`` with fixed synthetic input and output lengths (``ignore_eos`` so
that every request generates exactly ``osl`` tokens) at a fixed concurrency::

    aiperf profile --model NAME --url http://127.0.0.1:PORT --endpoint-type completions
        --streaming --tokenizer DIR --synthetic-input-tokens-mean 128
        --synthetic-input-tokens-stddev 0 --output-tokens-mean 128
        --output-tokens-stddev 0 --extra-inputs ignore_eos:true --concurrency 16
        --request-count 200 --artifact-dir OUT --ui-type none

:func:`run_aiperf` runs it with a time limit. aiperf 0.13 takes a local tokenizer
folder for a hub id while ``HF_HUB_OFFLINE=1`` is set, so that variable is removed from
its environment; the tokenizer is the deployment's local folder, so nothing is
downloaded. The executable is ``$GAMETHEORY_AIPERF`` if set, else ``aiperf`` on the
``PATH`` or beside this Python (aiperf 0.13 pins pandas 2.3, so it usually lives in a
virtual environment of its own, linked into this one's ``bin/``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from gametheory.deploy.launcher import DeploymentError
from gametheory.errors import GameError

__all__ = ["aiperf_command", "find_aiperf", "run_aiperf"]


def find_aiperf() -> str | None:
    """The aiperf executable: ``$GAMETHEORY_AIPERF``, else ``aiperf`` on the PATH, else
    beside this Python (a virtual environment's ``bin/`` not on the PATH)."""
    configured = os.environ.get("GAMETHEORY_AIPERF")
    if configured:
        return configured if Path(configured).is_file() else None
    beside = Path(sys.executable).parent / "aiperf"
    return shutil.which("aiperf") or (str(beside) if beside.is_file() else None)


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GameError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def aiperf_command(
    url: str,
    model: str,
    tokenizer: str | Path,
    artifact_dir: str | Path,
    *,
    concurrency: int,
    request_count: int,
    isl: int = 128,
    osl: int = 128,
    warmup_requests: int = 0,
    seed: int | None = None,
    executable: str = "aiperf",
) -> list[str]:
    """The ``aiperf profile`` command line of one benchmark (see the module docstring).

    Raises
    ------
    GameError
        For a count below 1 (naming it) or a URL that is not on loopback.
    """
    for name, value in (
        ("concurrency", concurrency),
        ("request_count", request_count),
        ("isl", isl),
        ("osl", osl),
    ):
        _count(value, name)
    if (
        isinstance(warmup_requests, bool)
        or not isinstance(warmup_requests, int)
        or warmup_requests < 0
    ):
        raise GameError(f"warmup_requests must be an integer >= 0, got {warmup_requests!r}")
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise GameError(f"url must be a loopback address (http://127.0.0.1:PORT), got {url!r}")
    argv = [
        executable,
        "profile",
        "--model",
        model,
        "--url",
        url,
        "--endpoint-type",
        "completions",
        "--streaming",
        "--tokenizer",
        str(tokenizer),
        "--synthetic-input-tokens-mean",
        str(isl),
        "--synthetic-input-tokens-stddev",
        "0",
        "--output-tokens-mean",
        str(osl),
        "--output-tokens-stddev",
        "0",
        "--extra-inputs",
        "ignore_eos:true",
        "--concurrency",
        str(concurrency),
        "--request-count",
        str(request_count),
        "--artifact-dir",
        str(artifact_dir),
        "--ui-type",
        "none",
    ]
    if warmup_requests:
        argv += ["--warmup-request-count", str(warmup_requests)]
    if seed is not None:
        argv += ["--random-seed", str(int(seed))]
    return argv


def run_aiperf(
    url: str,
    model: str,
    tokenizer: str | Path,
    artifact_dir: str | Path,
    *,
    concurrency: int,
    request_count: int,
    isl: int = 128,
    osl: int = 128,
    warmup_requests: int = 0,
    seed: int | None = None,
    timeout_s: float = 600.0,
) -> Path:
    """Run one aiperf benchmark; its artifact folder (with ``aiperf.out``, its console).

    Raises
    ------
    DeploymentError
        If aiperf is not installed, exits with an error, or overruns ``timeout_s``
        (it is then killed).
    """
    exe = find_aiperf()
    if exe is None:
        raise DeploymentError("aiperf is not installed (pip install aiperf==0.13.0)")
    out = Path(artifact_dir)
    out.mkdir(parents=True, exist_ok=True)
    argv = aiperf_command(
        url,
        model,
        tokenizer,
        out,
        concurrency=concurrency,
        request_count=request_count,
        isl=isl,
        osl=osl,
        warmup_requests=warmup_requests,
        seed=seed,
        executable=exe,
    )
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    console = out / "aiperf.out"
    with console.open("wb") as log:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
        )
        try:
            code = proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            raise DeploymentError(f"aiperf overran {timeout_s} s; console in {console}") from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    if code != 0:
        tail = console.read_text(errors="replace")[-2000:]
        raise DeploymentError(f"aiperf exited with code {code}:\n{tail}")
    return out
