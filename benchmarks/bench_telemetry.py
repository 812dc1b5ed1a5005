"""Benchmark: telemetry reading and PoA-hat.

Targets (issue 7): 1,000,000 synthetic per-request records in aiperf's
``profile_export.jsonl`` shape load in under 5 s; PoA-hat over 100,000 decisions with
5 workers runs in under 5 s. Peers measured in the same run:

* reading: ``pandas.read_json(lines=True)`` followed by ``pandas.json_normalize`` (the
  usual pandas route to the same flat columns, without validation), and a plain
  ``json.loads`` loop extracting the same fields (both timed on the first 200,000
  records and scaled linearly, to spare the shared machine);
* PoA-hat: a straightforward per-window implementation (pandas pivot of each window,
  then ``linear_sum_assignment``), the way the estimator is usually written.

Run: ``python benchmarks/bench_telemetry.py [n_records] [n_decisions]``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from gametheory.telemetry import poa_hat, read_aiperf_records, read_report

_OK = (
    '{{"metadata":{{"x_request_id":"req-{i}","x_correlation_id":"c-{i}",'
    '"conversation_id":"conv-{i}","turn_index":0,"timestamp_ns":{ts},'
    '"worker_id":"worker_{w}","record_processor_id":"rp_{w}","credit_phase":"profiling"}},'
    '"metrics":{{"input_sequence_length":{{"value":550,"unit":"tokens"}},'
    '"ttft":{{"value":{ttft:.6f},"unit":"ms"}},"request_count":{{"value":1,"unit":"requests"}},'
    '"request_latency":{{"value":{lat:.6f},"unit":"ms"}},'
    '"output_sequence_length":{{"value":200,"unit":"tokens"}},'
    '"inter_token_latency":{{"value":{itl:.6f},"unit":"ms"}}}},"error":null}}\n'
)
_ERR = (
    '{{"metadata":{{"x_request_id":"req-{i}","timestamp_ns":{ts},"worker_id":"worker_{w}",'
    '"credit_phase":"profiling"}},"metrics":{{"error_request_count":{{"value":1,'
    '"unit":"requests"}}}},"error":{{"code":499,"type":"RequestCancellationError",'
    '"message":"Request was cancelled"}}}}\n'
)


def write_records(path: Path, n: int, seed: int = 0) -> None:
    """n synthetic records (2% cancelled), in aiperf's per-request jsonl shape."""
    rng = np.random.default_rng(seed)
    ttft = rng.gamma(2.0, 500.0, n)
    decode = rng.gamma(5.0, 1000.0, n)
    with path.open("w") as f:
        for start in range(0, n, 100_000):
            stop = min(n, start + 100_000)
            f.write(
                "".join(
                    (_ERR if i % 50 == 0 else _OK).format(
                        i=i,
                        ts=1759522419154829652 + 1000 * i,
                        w=i % 16,
                        ttft=ttft[i],
                        lat=ttft[i] + decode[i],
                        itl=decode[i] / 199,
                    )
                    for i in range(start, stop)
                )
            )


def pandas_peer(path: Path) -> pd.DataFrame:
    raw = pd.read_json(path, lines=True)
    meta = pd.json_normalize(raw["metadata"].tolist())
    metrics = pd.json_normalize(raw["metrics"].tolist())
    return pd.DataFrame(
        {
            "request_id": meta["x_request_id"],
            "start_ns": meta["timestamp_ns"],
            "ttft_ms": metrics.get("ttft.value"),
            "latency_ms": metrics.get("request_latency.value"),
        }
    )


def loads_peer(path: Path) -> pd.DataFrame:
    rows = []
    with path.open("rb") as f:
        for line in f:
            rec = json.loads(line)
            m = rec["metrics"]
            rows.append(
                (
                    rec["metadata"]["x_request_id"],
                    rec["metadata"]["timestamp_ns"],
                    m.get("ttft", {}).get("value"),
                    m.get("request_latency", {}).get("value"),
                )
            )
    return pd.DataFrame(rows, columns=["request_id", "start_ns", "ttft_ms", "latency_ms"])


def decisions(n_dec: int, n_wrk: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    prefill = rng.uniform(0, 10, (n_dec, n_wrk))
    load = rng.uniform(0, 5, (n_dec, n_wrk))
    chosen = (prefill + load).argmin(axis=1)
    return pd.DataFrame(
        {
            "decision": np.repeat(np.arange(n_dec), n_wrk),
            "worker": np.tile([f"w{j}" for j in range(n_wrk)], n_dec),
            "prefill_cost": prefill.ravel(),
            "decode_blocks": load.ravel(),
            "cost": (prefill + load).ravel(),
            "chosen": (chosen[:, None] == np.arange(n_wrk)).ravel(),
        }
    )


def naive_poa_hat(frame: pd.DataFrame, window: int) -> float:
    actual = optimal = 0.0
    ids = frame["decision"].unique()
    for k in range(len(ids) // window):
        part = frame[frame["decision"].isin(ids[k * window : (k + 1) * window])]
        first = part[part["decision"] == ids[k * window]].set_index("worker")["decode_blocks"]
        pre = part.pivot(index="decision", columns="worker", values="prefill_cost")
        cost = pre + first[pre.columns].to_numpy()[None, :]
        chosen = part[part["chosen"]].set_index("decision")["worker"]
        actual += sum(cost.loc[d, w] for d, w in chosen.items())
        r, c = linear_sum_assignment(cost.to_numpy())
        optimal += float(cost.to_numpy()[r, c].sum())
    return actual / optimal


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args)
    dt = time.perf_counter() - t
    print(f"  {label:<44s} {dt:8.3f} s")
    return out, dt


def main() -> None:
    n_rec = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_dec = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "profile_export.jsonl"
        write_records(path, n_rec)
        size = path.stat().st_size / 1e6
        print(f"reading {n_rec:,} aiperf records ({size:.0f} MB); target < 5 s")
        frame, t_lib = timed("gametheory read_aiperf_records", read_aiperf_records, path)
        assert len(frame) == n_rec and read_report(frame).skipped == 0
        # The peers are linear in the records: time them on a slice and scale up.
        n_peer = min(n_rec, 200_000)
        small = Path(tmp) / "slice.jsonl"
        with path.open("rb") as src, small.open("wb") as dst:
            dst.writelines(line for _, line in zip(range(n_peer), src))
        scale = n_rec / n_peer
        _, t_pd = timed(f"peer: pandas read_json + json_normalize ({n_peer:,})", pandas_peer, small)
        _, t_js = timed(f"peer: json.loads loop ({n_peer:,})", loads_peer, small)
        print(
            f"  peers scaled to {n_rec:,}: pandas {t_pd * scale:.1f} s, json.loads "
            f"{t_js * scale:.1f} s; speed-up {t_pd * scale / t_lib:.1f}x and "
            f"{t_js * scale / t_lib:.1f}x"
        )
    n_wrk = 5
    frame = decisions(n_dec, n_wrk)
    print(f"PoA-hat over {n_dec:,} decisions, {n_wrk} workers; target < 5 s")
    res, t_lib = timed("gametheory poa_hat (with 1000 bootstrap)", poa_hat, frame, None)
    timed(
        "gametheory poa_hat capacity-aware",
        lambda f: poa_hat(f, variant="capacity", n_bootstrap=0),
        frame,
    )
    n_peer = min(n_dec, 2_000)
    peer_frame = frame[frame["decision"] < n_peer]
    ref, t_peer = timed(
        f"peer: per-window pandas loop ({n_peer:,} decisions)", naive_poa_hat, peer_frame, n_wrk
    )
    mine = poa_hat(peer_frame, n_bootstrap=0).poa_hat
    assert abs(ref - mine) < 1e-9, (ref, mine)
    scaled = t_peer * n_dec / n_peer
    print(f"  peer extrapolated to {n_dec:,}: {scaled:.1f} s; speed-up {scaled / t_lib:.0f}x")
    print(f"  PoA-hat {res.poa_hat:.4f} [{res.ci_low:.4f}, {res.ci_high:.4f}]")


if __name__ == "__main__":
    main()
