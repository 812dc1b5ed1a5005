"""A real NVIDIA Dynamo 1.6 deployment (frontend, KV router, mocker workers) and real
aiperf 0.13, started by the tests on loopback; the readers on the files they write.

Skips with the reason when the ``dynamo`` extra or aiperf is not installed (checked
before anything starts). Every process is stopped in the fixture's teardown; every
wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gametheory.deploy import DynamoDeployment, deploy
from gametheory.deploy.loadgen import find_aiperf, run_aiperf
from gametheory.errors import TelemetryError
from gametheory.telemetry import (
    histogram_quantile,
    load,
    read_prometheus,
    read_report,
    read_router_log,
    series,
)

pytest.importorskip("dynamo.mocker", reason="the dynamo extra is not installed")
pytest.importorskip("dynamo.frontend", reason="the dynamo extra is not installed")

N_REQUESTS = 24


def _complete(d: DynamoDeployment, prompt: str, max_tokens: int = 8) -> dict[str, object]:
    body = json.dumps({"model": d.spec.served_name, "prompt": prompt, "max_tokens": max_tokens})
    req = urllib.request.Request(
        d.url + "/v1/completions", data=body.encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        out: dict[str, object] = json.loads(r.read())
        return out


def _running_in(folder: Path) -> list[int]:
    """Processes whose command line names ``folder`` (the deployment's own)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(folder) in (proc / "cmdline").read_text():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDeployment]:
    d = deploy(tmp_path_factory.mktemp("dynamo"), "1P2D", speedup_ratio=1.0)
    with d:
        yield d
    assert _running_in(d.workdir) == []


def test_deployment_starts_fast_and_serves_completions(stack: DynamoDeployment) -> None:
    assert stack.startup_s < 30
    out = _complete(stack, "The quick brown fox jumps over the lazy dog. " * 3, max_tokens=6)
    usage = out["usage"]
    assert isinstance(usage, dict) and usage["completion_tokens"] == 6
    assert usage["prompt_tokens"] == len("The quick brown fox jumps over the lazy dog. " * 3)


def test_router_log_of_dynamo_16_both_stages(stack: DynamoDeployment) -> None:
    ids = [str(_complete(stack, f"request {i} " * 40)["id"]) for i in range(3)]
    deadline = time.monotonic() + 10
    frame = read_router_log(stack.frontend_log)
    while time.monotonic() < deadline and len(frame) < 6:
        time.sleep(0.2)
        frame = read_router_log(stack.frontend_log)
    assert read_report(frame).skipped == 0
    mine = frame[frame["request_id"].isin([i.removeprefix("cmpl-") for i in ids])]
    assert len(mine) == 6
    assert sorted(mine["stage"].tolist()) == ["decode"] * 3 + ["prefill"] * 3
    assert mine["chosen"].all() and (mine["cost"] >= 0).all()
    prefill = mine[mine["stage"] == "prefill"]
    # a prompt of 400+ tokens is ceil(n / 64) blocks of prefill work at least
    assert (prefill["cost"] >= 400 / 64).all()
    assert prefill["cached_blocks"].notna().all()
    assert set(mine.loc[mine["stage"] == "decode", "worker"]) <= set(frame["worker"])


def test_frontend_metrics_scrape(stack: DynamoDeployment, tmp_path: Path) -> None:
    _complete(stack, "a scrape after one request")
    scrape = tmp_path / "metrics.prom"
    with urllib.request.urlopen(stack.url + "/metrics", timeout=10) as r:
        scrape.write_bytes(r.read())
    samples = read_prometheus(scrape)
    assert read_report(samples).skipped == 0
    assert series(samples, "dynamo_frontend_requests_total").iloc[0] >= 1
    ttft = histogram_quantile(0.5, samples, "dynamo_frontend_time_to_first_token_seconds")
    assert 0 < ttft["quantile"].iloc[0] < 10
    loads = samples[samples["family"] == "dynamo_frontend_worker_active_decode_blocks"]
    assert loads["labels"].str.contains('worker_type="decode"').sum() == 2


@pytest.fixture(scope="module")
def aiperf_run(stack: DynamoDeployment) -> Path:
    if find_aiperf() is None:
        pytest.skip("aiperf is not installed (pip install aiperf==0.13.0)")
    return run_aiperf(
        stack.url,
        stack.spec.served_name,
        stack.model_dir,
        stack.workdir / "aiperf-c4",
        concurrency=4,
        request_count=N_REQUESTS,
        osl=16,
        timeout_s=180,
    )


def test_aiperf_013_artifact_folder(aiperf_run: Path) -> None:
    data = load(aiperf_run)
    assert len(data.requests) == N_REQUESTS
    assert data.requests["error"].isna().all()
    assert (data.requests["output_tokens"] == 16).all()
    assert (data.requests["input_tokens"] == 128).all()
    assert len(data.sweep) == 1
    row = data.sweep.iloc[0]
    assert row["concurrency"] == 4 and row["n_requests"] == N_REQUESTS
    assert row["ttft_ms_p50"] > 0 and row["itl_ms_p50"] > 0
    formats = {r.format for r in data.reports}
    assert "aiperf-server-metrics" in formats
    ttft = data.samples[
        data.samples["metric"] == "dynamo_frontend_time_to_first_token_seconds_count"
    ]
    # aiperf counts what its scrapes of the phase saw: at most every request
    assert N_REQUESTS / 2 <= ttft["value"].sum() <= N_REQUESTS
    q = histogram_quantile(0.5, data.samples, "dynamo_frontend_time_to_first_token_seconds")
    # the server's median TTFT (bucketed) and the client's agree within the bucket width
    assert q["quantile"].iloc[0] == pytest.approx(row["ttft_ms_p50"] / 1e3, rel=1.5)
    assert not any("server_metrics_export.csv" in n and "recognised" in n for n in data.notes)


def test_a_real_artifact_folder_compressed_and_damaged(aiperf_run: Path, tmp_path: Path) -> None:
    """aiperf 0.13's own files, gzip- and zstd-compressed, read like the plain ones; a
    truncated copy is named, a size limit below the export stops it, and the units aiperf
    wrote are ones the reader converts (nothing skipped)."""
    import gzip
    import shutil

    zstandard = pytest.importorskip("zstandard")
    plain = load(aiperf_run)
    assert plain.skipped == 0
    export = (aiperf_run / "profile_export.jsonl").read_bytes()
    units = {
        entry.get("unit")
        for line in export.splitlines()
        if line.strip()
        for entry in json.loads(line)["metrics"].values()
        if isinstance(entry, dict)
    }
    assert {"ms", "tokens"} <= units  # what the release writes for durations and counts
    for suffix, pack in ((".gz", gzip.compress), (".zst", zstandard.ZstdCompressor().compress)):
        folder = tmp_path / f"run{suffix}"
        shutil.copytree(aiperf_run, folder)
        for f in [p for p in folder.rglob("*") if p.is_file()]:
            f.with_name(f.name + suffix).write_bytes(pack(f.read_bytes()))
            f.unlink()
        data = load(folder)
        assert data.requests.drop(columns="source").equals(plain.requests.drop(columns="source"))
        assert data.sweep["ttft_ms_p50"].tolist() == plain.sweep["ttft_ms_p50"].tolist()
        with pytest.raises(TelemetryError, match="expands past 1,024 bytes"):
            load(folder / f"profile_export.jsonl{suffix}", max_decompressed=1024)
    cut = tmp_path / "cut" / "profile_export.jsonl.zst"
    cut.parent.mkdir()
    packed = zstandard.ZstdCompressor().compress(export)
    cut.write_bytes(packed[: len(packed) - 8])
    with pytest.raises(TelemetryError, match="truncated zstandard data"):
        load(cut.parent)


def test_report_on_a_real_run_folder(stack: DynamoDeployment, aiperf_run: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gametheory.cli", "report", str(aiperf_run), "--quiet"],
        capture_output=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    text = proc.stdout.decode()
    assert "[aiperf-server-metrics]" in text
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("4 ")]
    assert len(lines) == 1 and "nan" not in lines[0].lower()


def test_prometheus_scrapes_the_deployment(tmp_path: Path) -> None:
    import shutil

    if shutil.which("prometheus") is None:
        pytest.skip("the prometheus binary is not installed (apt-get install prometheus)")
    with deploy(tmp_path, "1P2D", prometheus=True) as d:
        assert d.prometheus_url is not None
        _complete(d, "scraped by a real Prometheus")
        query = d.prometheus_url + "/api/v1/query?query=dynamo_frontend_requests_total"
        deadline, found = time.monotonic() + 20, 0.0
        while time.monotonic() < deadline and found < 1:
            with urllib.request.urlopen(query, timeout=5) as r:
                result = json.loads(r.read())["data"]["result"]
            found = sum(float(x["value"][1]) for x in result)
            time.sleep(0.5)
        assert found >= 1
    assert d.prometheus_url is None


def test_cli_deploy_serves_until_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gametheory.cli", "deploy", "1P2D", "--dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the deployment prints one line once ready
        info = json.loads(line)
        with urllib.request.urlopen(info["url"] + "/v1/models", timeout=10) as r:
            assert b'"llama"' in r.read()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    with pytest.raises(OSError):
        urllib.request.urlopen(info["url"] + "/v1/models", timeout=2)


def test_cli_load_sweep_resumes(tmp_path: Path) -> None:
    if find_aiperf() is None:
        pytest.skip("aiperf is not installed (pip install aiperf==0.13.0)")
    argv = [sys.executable, "-m", "gametheory.cli", "deploy", "1P2D", "--dir", str(tmp_path)]
    argv += ["--load", "1", "2", "--requests", "6", "--osl", "8"]
    first = subprocess.run(argv, capture_output=True, timeout=300)
    assert first.returncode == 0, first.stderr.decode()
    cells = [json.loads(ln) for ln in first.stdout.decode().splitlines()]
    assert [c["concurrency"] for c in cells] == [1, 2]
    assert not any(c["resumed"] for c in cells) and all(c["ttft_ms_p50"] > 0 for c in cells)
    again = subprocess.run(argv, capture_output=True, timeout=120)
    assert again.returncode == 0, again.stderr.decode()
    assert all(json.loads(ln)["resumed"] for ln in again.stdout.decode().splitlines())
    data = load(tmp_path / "1P2D")
    assert sorted(data.sweep["concurrency"]) == [1.0, 2.0]
    assert set(data.sweep["deployment"]) == {"1P2D"}  # one sweep, so one knee search
    # the router log of the run: two decisions (prefill, decode) per request
    assert len(data.decisions) == 2 * (6 + 6)


def test_probe_gives_every_candidates_cost_checked_against_the_log(
    stack: DynamoDeployment, tmp_path: Path
) -> None:
    from gametheory.deploy.probe import probe_router
    from gametheory.telemetry import poa_hat

    result = probe_router(stack, tmp_path / "probe", concurrency=4, requests=20, osl=8)
    assert result.logit_mismatches == 0
    d = result.decisions
    assert d["decision"].nunique() == 20
    assert (d.groupby("decision")["worker"].count() == stack.spec.n_decode).all()
    assert (d.groupby("decision")["chosen"].sum() == 1).all()
    # the router's choice has the lowest cost (temperature 0)
    chosen = d[d["chosen"]].set_index("decision")["cost"]
    assert (chosen <= d.groupby("decision")["cost"].min() + 1e-9).all()
    assert (result.requests["output_tokens"] == 8).all()
    assert (d["cached_blocks"] == 0).all()  # random prompts: no prefix is cached
    p = poa_hat(d, window=2)
    assert p.n_windows == 10 and p.poa_hat > 0
    # the 0.6-shape log of every candidate reads back to the same decisions
    back = load(tmp_path / "probe" / "router_candidates.log").decisions
    key = ["decision", "worker"]
    back, d = back.sort_values(key, ignore_index=True), d.sort_values(key, ignore_index=True)
    assert back["worker"].tolist() == d["worker"].tolist()
    assert back["cost"].tolist() == pytest.approx(d["cost"].tolist(), abs=1e-6)
    assert back["chosen"].tolist() == d["chosen"].tolist()


def test_a_failing_worker_stops_the_deployment(tmp_path: Path) -> None:
    from gametheory.deploy import DeploymentError

    d = deploy(tmp_path, "1P2D", mocker_args=("--no-such-flag",), startup_timeout_s=30.0)
    with pytest.raises(DeploymentError, match="exited with code") as info:
        d.start()
    assert "--no-such-flag" in str(info.value)  # the tail of the worker's log
    assert d._procs == {}
    assert _running_in(tmp_path) == []  # every process it had started is gone
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{d.url}/v1/models", timeout=2)


def test_probe_of_the_prefill_pool(tmp_path: Path) -> None:
    from gametheory.deploy.probe import probe_router

    with deploy(tmp_path, "2P1D") as d:
        result = probe_router(d, tmp_path / "probe", concurrency=2, requests=8, pool="prefill")
    assert result.logit_mismatches == 0
    dec = result.decisions
    assert set(dec["stage"]) == {"prefill"} and dec["worker"].nunique() == 2
    assert (dec.groupby("decision")["chosen"].sum() == 1).all()
    # a prefill worker answers with its one token, after the prompt's prefill
    assert (result.requests["output_tokens"] == 1).all()
    assert _running_in(tmp_path) == []
