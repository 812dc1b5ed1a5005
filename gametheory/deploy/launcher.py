"""Start a real NVIDIA Dynamo xPyD deployment of mocker workers on this machine.

:class:`DynamoDeployment` (a context manager; :func:`deploy` builds one from names)
starts, on loopback only:

* the frontend: ``python -m dynamo.frontend --http-host 127.0.0.1 --http-port PORT
  --router-mode kv --discovery-backend file`` (HTTP API, tokenizer, the KV router of
  both stages, and ``/metrics`` on the same port);
* one prefill and one decode mocker process, ``python -m dynamo.mocker --model-path DIR
  --disaggregation-mode prefill|decode --num-workers N --discovery-backend file``, with
  the timing tables of :mod:`~gametheory.deploy.model_folder`, the KV capacity of the
  library's step-time model, the scheduler limits and the speed-up ratio;
* optionally a real Prometheus server scraping the frontend every second;
* with ``spec.front``, the router front (:mod:`~gametheory.deploy.front`) between the
  frontend and the workers: the workers register in the ``pool`` namespace, the frontend
  routes round-robin within the ``front`` namespace (the front alone), and the front's
  control port (:attr:`DynamoDeployment.router_url`) takes ``POST /router``.

No etcd and no NATS are needed: discovery goes through files in a private folder
(``DYN_FILE_KV``), every server binds or advertises 127.0.0.1 (``DYN_TCP_RPC_HOST``,
``DYN_EVENT_PLANE_HOST``, ...), ``HOME`` points into the deployment's folder (the
frontend caches model cards under it) and ``HF_HUB_OFFLINE=1`` forbids downloads. The
deployment is ready when every worker has registered and ``/v1/models`` lists the
model; every process writes its log to ``logs/`` and all are stopped (SIGINT, then
SIGTERM, then SIGKILL, each process group by its id) on exit, on Ctrl-C or on error.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from gametheory.deploy.model_folder import build_model_folder, write_mocker_timing
from gametheory.deploy.spec import DeploymentSpec
from gametheory.errors import GameTheoryError

__all__ = ["DeploymentError", "DynamoDeployment", "deploy", "free_port"]

_LOOPBACK = "127.0.0.1"


class DeploymentError(GameTheoryError, RuntimeError):
    """A deployment could not start, or a process of it failed."""


def free_port() -> int:
    """A loopback TCP port nobody listens on (now)."""
    with socket.socket() as s:
        s.bind((_LOOPBACK, 0))
        return int(s.getsockname()[1])


def _require_dynamo() -> None:
    for module in ("dynamo.frontend", "dynamo.mocker"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise DeploymentError(
                f"{module} is not installed: install the dynamo extra "
                "(see docs/howto/dynamo.md for the three pip steps)"
            )


def _get(url: str, timeout: float = 1.0) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            data: bytes = r.read()
            return data
    except OSError:
        return None


@dataclass
class DynamoDeployment:
    """A running (or startable) Dynamo deployment; use it as a context manager.

    Parameters
    ----------
    spec
        What to deploy.
    workdir
        Folder for the model, timing tables, discovery files and logs (created).

    Attributes
    ----------
    port
        The frontend's HTTP port (chosen free at start).
    prometheus_url
        The Prometheus server's URL when ``spec.prometheus``, else None.
    router_port
        The router front's control port when ``spec.front`` (``POST /router``,
        ``GET /router``), else 0.
    startup_s
        Seconds from the first process start to ready.
    """

    spec: DeploymentSpec
    workdir: Path
    port: int = 0
    prometheus_url: str | None = None
    router_port: int = 0
    startup_s: float = float("nan")
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)

    @property
    def url(self) -> str:
        """The frontend's base URL (``http://127.0.0.1:PORT``)."""
        return f"http://{_LOOPBACK}:{self.port}"

    @property
    def router_url(self) -> str | None:
        """The router front's ``/router`` URL when ``spec.front``, else None."""
        return f"http://{_LOOPBACK}:{self.router_port}/router" if self.spec.front else None

    @property
    def decision_log(self) -> Path:
        """The router front's log of decisions (JSON lines), when ``spec.front``."""
        return self.log_dir / "front_decisions.jsonl"

    @property
    def model_dir(self) -> Path:
        """The model folder (config and tokenizer) the mocker and aiperf read."""
        return self.workdir / "model"

    @property
    def timing_path(self) -> Path:
        """The mocker's NPZ timing tables."""
        return self.workdir / "timing.npz"

    @property
    def log_dir(self) -> Path:
        """Where every process writes its log."""
        return self.workdir / "logs"

    @property
    def frontend_log(self) -> Path:
        """The frontend's log, which holds the router's ``Selected worker`` lines."""
        return self.log_dir / "frontend.log"

    def environment(self) -> dict[str, str]:
        """The environment of the Dynamo processes (loopback, private discovery)."""
        env = dict(os.environ)
        env.pop("DYN_LOGGING_JSONL", None)
        env.update(
            {
                "DYN_FILE_KV": str(self.workdir / "discovery"),
                "DYN_DISCOVERY_BACKEND": "file",
                "DYN_EVENT_PLANE_HOST": _LOOPBACK,
                "DYN_TCP_RPC_HOST": _LOOPBACK,
                "DYN_TCP_RESPONSE_STREAM_HOST": _LOOPBACK,
                "DYN_HTTP_RPC_HOST": _LOOPBACK,
                "DYN_SYSTEM_HOST": _LOOPBACK,
                "DYN_SELF_HOST_METADATA": "0",
                "DYN_LOG": env.get("DYN_LOG", "info"),
                "HOME": str(self.workdir / "home"),
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "NO_COLOR": "1",
            }
        )
        return env

    def commands(self) -> dict[str, list[str]]:
        """The command line of each process (frontend, prefill, decode)."""
        s = self.spec
        py = [sys.executable, "-m"]
        frontend = [
            *py,
            "dynamo.frontend",
            "--http-host",
            _LOOPBACK,
            "--http-port",
            str(self.port),
            "--router-mode",
            "round-robin" if s.front else s.router_mode,
            *(("--namespace", "front") if s.front else ()),
            "--kv-cache-block-size",
            str(s.block_size),
            "--discovery-backend",
            "file",
            *s.frontend_args,
        ]
        step = s.step_model()
        common = [
            "--model-path",
            str(self.model_dir),
            "--model-name",
            s.served_name,
            "--discovery-backend",
            "file",
            "--block-size",
            str(s.block_size),
            "--num-gpu-blocks-override",
            str(s.kv_blocks()),
            "--max-num-seqs",
            str(s.max_num_seqs),
            "--max-num-batched-tokens",
            str(s.max_num_batched_tokens),
            "--speedup-ratio",
            repr(s.speedup_ratio),
            "--planner-profile-data",
            str(self.timing_path),
            "--kv-bytes-per-token",
            str(int(step.model.kv_bytes_per_token(step.kv_precision))),
            "--kv-transfer-bandwidth",
            repr(step.gpu.link_bandwidth(s.link) * step.tp / 1e9),
        ]
        out = {"frontend": frontend}
        ns = s.worker_namespace
        for stage, n in (("prefill", s.n_prefill), ("decode", s.n_decode)):
            component = "prefill" if stage == "prefill" else "backend"
            out[stage] = [
                *py,
                "dynamo.mocker",
                *common,
                "--disaggregation-mode",
                stage,
                "--num-workers",
                str(n),
                *(("--endpoint", f"dyn://{ns}.{component}.generate") if s.front else ()),
                *s.mocker_args,
            ]
        if s.front:
            cfg = {
                "port": self.router_port,
                "model_dir": str(self.model_dir),
                "model": s.served_name,
                "block_size": s.block_size,
                "pool": ns,
                "n_prefill": s.n_prefill,
                "n_decode": s.n_decode,
                "pairs": [[0.1, 0.8]],
                "decisions": str(self.decision_log),
            }
            out["front"] = [*py, "gametheory.deploy.front", json.dumps(cfg)]
        return out

    def prepare(self) -> None:
        """Write the model folder, the timing tables and ``deployment.json`` (what
        :meth:`start` does before starting anything)."""
        s = self.spec
        for sub in ("logs", "discovery", "home"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        build_model_folder(self.model_dir, s.model)
        write_mocker_timing(
            self.timing_path,
            s.step_model(),
            max_batched_tokens=s.max_num_batched_tokens,
            kv_tokens=s.kv_blocks() * s.block_size,
            max_batch=s.max_num_seqs,
        )
        (self.workdir / "deployment.json").write_text(json.dumps(s.as_dict(), indent=1))

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        try:
            self._procs[name] = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.workdir,
                start_new_session=True,
            )
        finally:
            log.close()

    def _registered(self, component: str, namespace: str = "", endpoint: str = "generate") -> int:
        folder = self.workdir / "discovery" / "v1" / "instances"
        name = endpoint.replace("_", "%5F")  # the file backend escapes "_" too
        prefix = f"{namespace or self.spec.worker_namespace}%2F{component}%2F{name}%2F"
        return sum(1 for f in folder.glob(prefix + "*")) if folder.is_dir() else 0

    def check_alive(self) -> None:
        """Raise DeploymentError (with the log's tail) if a process has exited."""
        for name, proc in self._procs.items():
            code = proc.poll()
            if code is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise DeploymentError(f"the {name} process exited with code {code}:\n{tail}")

    def ready(self) -> bool:
        """Whether every worker has registered and the frontend lists the model."""
        if self._registered("prefill") < self.spec.n_prefill:
            return False
        if self._registered("backend") < self.spec.n_decode:
            return False
        if self.spec.front:
            if self._registered("router", "front", "decode_generate") < 1:
                return False
            if _get(f"http://{_LOOPBACK}:{self.router_port}/router") is None:
                return False
        body = _get(self.url + "/v1/models")
        return body is not None and f'"{self.spec.served_name}"'.encode() in body

    def start(self) -> DynamoDeployment:
        """Build the model folder and tables, start every process, wait until ready.

        Raises
        ------
        DeploymentError
            If Dynamo is not installed, a process exits, or the deployment is not ready
            within ``spec.startup_timeout_s`` (every process started is stopped first).
        """
        _require_dynamo()
        if self._procs:
            raise DeploymentError("the deployment is already started")
        self.workdir = Path(self.workdir).resolve()
        self.prepare()
        self.port = free_port()
        self.router_port = free_port() if self.spec.front else 0
        env = self.environment()
        try:
            t0 = time.monotonic()
            for name, argv in self.commands().items():
                self._spawn(name, argv, env)
            deadline = t0 + self.spec.startup_timeout_s
            while not self.ready():
                self.check_alive()
                if time.monotonic() > deadline:
                    raise DeploymentError(
                        f"not ready after {self.spec.startup_timeout_s} s; logs in {self.log_dir}"
                    )
                time.sleep(0.1)
            self.startup_s = time.monotonic() - t0
            if self.spec.prometheus:
                self._start_prometheus()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_prometheus(self) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise DeploymentError("prometheus=True but the prometheus binary is not installed")
        port = free_port()
        config = self.workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: dynamo-frontend\n    static_configs:\n"
            f"      - targets: ['{_LOOPBACK}:{self.port}']\n"
        )
        argv = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.workdir / 'tsdb'}",
            f"--web.listen-address={_LOOPBACK}:{port}",
        ]
        self._spawn("prometheus", argv, dict(os.environ))
        url = f"http://{_LOOPBACK}:{port}"
        deadline = time.monotonic() + 30
        while _get(url + "/-/ready") is None:
            self.check_alive()
            if time.monotonic() > deadline:
                raise DeploymentError(f"prometheus not ready after 30 s; log {self.log_dir}")
            time.sleep(0.2)
        self.prometheus_url = url

    def stop(self, timeout_s: float = 10.0) -> dict[str, int | None]:
        """Stop every process (SIGINT, SIGTERM after ``timeout_s``, then SIGKILL).

        Returns
        -------
        dict
            The exit code of each process (None if it could not be reaped).
        """
        codes: dict[str, int | None] = {}
        procs = list(reversed(self._procs.items()))
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            alive = [(n, p) for n, p in procs if p.poll() is None]
            for _, proc in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
            deadline = time.monotonic() + timeout_s
            for _, proc in alive:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(max(0.0, deadline - time.monotonic()))
        for name, proc in procs:
            codes[name] = proc.poll()
        self._procs.clear()
        self.prometheus_url = None
        return codes

    def __enter__(self) -> DynamoDeployment:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def deploy(workdir: str | Path, topology: str = "1P5D", **options: object) -> DynamoDeployment:
    """A :class:`DynamoDeployment` of ``topology`` in ``workdir`` (not started yet).

    ``options`` are the fields of :class:`~gametheory.deploy.spec.DeploymentSpec`
    (``model``, ``gpu``, ``tp``, ``block_size``, ``speedup_ratio``, ...)::

        with deploy(tmp, "1P2D", speedup_ratio=0.5) as d:
            ...  # d.url serves /v1/completions and /metrics

    Raises
    ------
    GameError
        For a bad topology or option (naming it).
    """
    return DynamoDeployment(DeploymentSpec.build(topology, **options), Path(workdir))
