"""The Dynamo deployment launcher's parts that need no Dynamo: the model folder, the
mocker's timing tables, the deployment spec and the aiperf command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gametheory.deploy import DeploymentSpec, build_model_folder, mocker_timing_tables
from gametheory.deploy.launcher import DynamoDeployment
from gametheory.deploy.loadgen import aiperf_command
from gametheory.deploy.model_folder import NPZ_KEYS, tokenizer_vocabulary, write_mocker_timing
from gametheory.errors import GameError
from gametheory.sim.serving.step_time import StepTimeModel

tokenizers = pytest.importorskip("tokenizers", reason="the tokenizers package is not installed")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_folder(tmp_path_factory.mktemp("model"), "Llama-3.1-70B")


def test_model_folder_has_the_shapes_of_the_model(model_dir: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    assert (config["num_hidden_layers"], config["num_attention_heads"]) == (80, 64)
    assert (config["num_key_value_heads"], config["head_dim"], config["hidden_size"]) == (
        8,
        128,
        8192,
    )
    assert config["vocab_size"] == 128256
    tok_config = json.loads((model_dir / "tokenizer_config.json").read_text())
    assert "chat_template" in tok_config
    assert not list(model_dir.glob("*.safetensors"))


def test_tokenizer_round_trips_text_and_every_sampled_id(model_dir: Path) -> None:
    tok = tokenizers.Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    assert tok.get_vocab_size() == 128256
    text = "To be, or not to be: that is the question.\n\tWhether 'tis nobler"
    enc = tok.encode(text)
    assert len(enc.ids) == len(text)
    assert tok.decode(enc.ids) == text
    ids = np.random.default_rng(0).integers(3, 128256, size=2000).tolist()
    decoded = tok.decode(ids)
    assert len(decoded) == len(ids)
    assert tok.encode(decoded).ids == ids


def test_vocabulary_is_distinct_and_checked() -> None:
    vocab = tokenizer_vocabulary(1000)
    assert len(vocab) == 1000 and sorted(vocab.values()) == list(range(1000))
    assert all(len(t) == 1 for t in vocab if not t.startswith("<"))
    with pytest.raises(GameError, match="vocab_size"):
        tokenizer_vocabulary(10)
    with pytest.raises(GameError, match="vocab_size"):
        tokenizer_vocabulary("1000")  # type: ignore[arg-type]


def test_model_folder_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(GameError, match="unknown model"):
        build_model_folder(tmp_path / "m", "GPT-9")
    with pytest.raises(GameError, match="max_len"):
        build_model_folder(tmp_path / "m", max_len=0)


def test_timing_tables_are_the_step_time_model() -> None:
    step = StepTimeModel.build("Llama-3.1-70B", "B200", 4)
    t = mocker_timing_tables(step, kv_tokens=100_000, max_batch=48, resolution=16)
    assert set(t) == set(NPZ_KEYS)
    assert t["decode_itl"].shape == (16, 16)
    assert t["prefill_ttft_ms"] == pytest.approx(step.prefill_time(t["prefill_isl"]) * 1e3)
    i, j = 9, 4
    batch = min(max(t["decode_active_kv_tokens"][i] / t["decode_context_length"][j], 1), 48)
    expected = step.decode_step_time(batch, t["decode_active_kv_tokens"][i]) * 1e3
    assert t["decode_itl"][i, j] == pytest.approx(expected)
    assert np.all(np.diff(t["prefill_ttft_ms"]) >= 0)
    with pytest.raises(GameError, match="resolution"):
        mocker_timing_tables(step, kv_tokens=10, resolution=1)
    with pytest.raises(GameError, match="kv_tokens"):
        mocker_timing_tables(step, kv_tokens=-1)


def test_timing_npz_has_the_keys_the_mocker_checks(tmp_path: Path) -> None:
    step = StepTimeModel.build("Llama-3.1-70B", "B200", 4)
    path = write_mocker_timing(tmp_path / "t.npz", step, kv_tokens=50_000, resolution=8)
    with np.load(path) as data:
        assert set(data.files) == set(NPZ_KEYS)
    with pytest.raises(GameError, match=r"\.npz"):
        write_mocker_timing(tmp_path / "t.bin", step, kv_tokens=50_000)


def test_spec_from_topology_and_its_simulator_twin() -> None:
    spec = DeploymentSpec.build("1P/2D", speedup_ratio=0.5)
    assert (spec.n_prefill, spec.n_decode, spec.topology) == (1, 2, "1P/2D")
    cluster = spec.cluster()
    assert cluster.decode.tp == 4 and cluster.decode_batch_limit == spec.max_num_seqs
    assert spec.kv_blocks() == int(cluster.decode.kv_capacity_tokens() // 64)
    assert spec.as_dict()["kv_blocks"] == spec.kv_blocks()


@pytest.mark.parametrize(
    ("topology", "options", "field"),
    [
        ("1P", {}, "topology"),
        ("0P2D", {}, "topology"),
        ("1P2D", {"speedup_ratio": 0}, "speedup_ratio"),
        ("1P2D", {"speedup_ratio": float("nan")}, "speedup_ratio"),
        ("1P2D", {"tp": 0}, "tp"),
        ("1P2D", {"block_size": 2.5}, "block_size"),
        ("1P2D", {"router_mode": "best"}, "router_mode"),
        ("1P2D", {"colour": "red"}, "colour"),
        ("1P2D", {"frontend_args": ("--x", 3)}, "frontend_args"),
        ("1P2D", {"gpu": "TPU"}, "TPU"),
    ],
)
def test_spec_rejects_bad_options(topology: str, options: dict[str, object], field: str) -> None:
    with pytest.raises(GameError, match=field):
        DeploymentSpec.build(topology, **options)


def test_commands_stay_on_loopback(tmp_path: Path) -> None:
    d = DynamoDeployment(DeploymentSpec.build("1P2D"), tmp_path)
    d.port = 12345
    cmds = d.commands()
    assert set(cmds) == {"frontend", "prefill", "decode"}
    front = cmds["frontend"]
    assert front[front.index("--http-host") + 1] == "127.0.0.1"
    assert cmds["decode"][cmds["decode"].index("--num-workers") + 1] == "2"
    env = d.environment()
    assert env["DYN_TCP_RPC_HOST"] == env["DYN_EVENT_PLANE_HOST"] == "127.0.0.1"
    assert env["HF_HUB_OFFLINE"] == "1" and env["HOME"].startswith(str(tmp_path))


def test_aiperf_command_is_the_measured_benchmark() -> None:
    argv = aiperf_command(
        "http://127.0.0.1:8000", "llama", "/m", "/out", concurrency=16, request_count=200
    )
    assert argv[:2] == ["aiperf", "profile"]
    for flag, value in (("--concurrency", "16"), ("--output-tokens-mean", "128")):
        assert argv[argv.index(flag) + 1] == value
    assert "--streaming" in argv and "ignore_eos:true" in argv
    with pytest.raises(GameError, match="loopback"):
        aiperf_command("http://10.0.0.1:80", "m", "/m", "/o", concurrency=1, request_count=1)
    with pytest.raises(GameError, match="concurrency"):
        aiperf_command("http://127.0.0.1:1", "m", "/m", "/o", concurrency=0, request_count=1)


def _record(k: int, t: float, chosen: int, loads: list[tuple[int, int]], attempts: int = 1) -> dict:
    return {
        "decision": k,
        "time": t,
        "request_id": f"r{k}",
        "worker": chosen,
        "dp_rank": 0,
        "overlap": 0,
        "attempts": attempts,
        "cached": [[w, 0, 0] for w in range(len(loads))],
        "loads": [
            {
                "worker_id": w,
                "dp_rank": 0,
                "potential_prefill_tokens": p,
                "potential_decode_blocks": d,
            }
            for w, (p, d) in enumerate(loads)
        ],
        "start_ns": 10**18 + k,
        "ttft_ms": 5.0,
        "latency_ms": 25.0,
        "output_tokens": 11,
    }


def test_probe_frames_and_logit_check() -> None:
    from gametheory.deploy.probe import _frames, _mismatches
    from gametheory.telemetry import poa_hat

    records = [
        _record(1, 2.0, 1, [(256, 4), (128, 2)]),
        _record(0, 1.0, 0, [(128, 2), (128, 2)], attempts=2),
    ]
    decisions, requests = _frames(records, 64, 2, "probe")
    assert decisions["decision"].tolist() == [0, 0, 1, 1]  # in time order
    assert decisions["cost"].tolist() == [4.0, 4.0, 8.0, 4.0]
    assert decisions["chosen"].tolist() == [True, False, False, True]
    assert requests["itl_ms"].tolist() == [2.0, 2.0]
    logged = pd.DataFrame(
        {"request_id": ["-", "-", "-"], "worker": ["0", "0", "1"], "cost": [9.0, 4.0, 4.0]}
    )
    # decision 0 queried twice: its second line is its own; the first does not count
    assert _mismatches(decisions, logged, [2, 1]) == 0
    logged.loc[2, "cost"] = 5.0
    assert _mismatches(decisions, logged, [2, 1]) == 1
    assert _mismatches(decisions, logged.iloc[:2], [2, 1]) == 2
    assert poa_hat(decisions).n_windows == 1  # one window of 2 decisions on 2 workers


def test_simulator_twin_and_comparison() -> None:
    from gametheory.deploy.compare import COMPARED, compare_rows, simulator_twin
    from gametheory.sim.output import sweep_row

    spec = DeploymentSpec.build("1P2D")
    result = simulator_twin(spec, 4, 12, osl=16)
    assert len(result.requests) == 12
    assert (result.requests["output_tokens"] == 16).all()
    assert (result.requests["input_tokens"] == 128).all()
    sim = pd.DataFrame([sweep_row(result)])
    # a mocker at half speed reports durations twice as long and half the throughput
    real = sim.copy()
    for metric, duration in COMPARED.items():
        real[metric] = real[metric] * 2 if duration else real[metric] / 2
    table = compare_rows(real, sim, speedup_ratio=0.5)
    assert len(table) == len(COMPARED)
    assert table["ratio"].tolist() == pytest.approx([1.0] * len(COMPARED))
    with pytest.raises(GameError, match="speedup_ratio"):
        compare_rows(real, sim, speedup_ratio=0)
    with pytest.raises(GameError, match="concurrency"):
        compare_rows(real.drop(columns="concurrency"), sim)
    with pytest.raises(GameError, match="n_requests"):
        simulator_twin(spec, 4, 0)


def test_dynamo_scorecard_rows_score_a_real_shaped_sweep() -> None:
    from gametheory.deploy.compare import dynamo_scorecard_rows
    from gametheory.sim.studies.results import ScorecardResult

    grid = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    # TTFT P99 flat, then rising steeply from 128 on; throughput saturating there
    ttft = [100, 101, 102, 104, 106, 110, 115, 600, 2400]
    rps = [1, 2, 4, 8, 16, 32, 60, 70, 72]
    sweep = pd.DataFrame({"concurrency": grid, "ttft_ms_p99": ttft, "request_throughput": rps})
    poa = {c: (0.99 if c < 128 else 1.2) for c in grid}
    rows = dynamo_scorecard_rows("1P/5D", sweep, poa)
    by = {r["claim"]: r for r in rows}
    assert {r["source"] for r in rows} == {"Dynamo mocker"}
    assert by["PoA-hat plateau below the knee"]["ours"] == pytest.approx(0.99)
    assert not by["PoA-hat plateau below the knee"]["holds"]
    assert by["PoA-hat < 1 is rare"]["ours"] == 1.0
    assert by["PoA-hat growth past the knee"]["ours"] > 1.0
    card = ScorecardResult(
        table=pd.DataFrame(rows[:1]), n_holds=0, converged=True, iterations=1, method="a"
    )
    both = card.with_rows(rows[1:], "b")
    assert both.iterations == 4 and both.method == "a; b"
    assert both.n_holds == sum(r["holds"] for r in rows)
    assert "| source |" in both.to_markdown() and "| Dynamo mocker |" in both.to_markdown()
    with pytest.raises(GameError, match="concurrency 256"):
        dynamo_scorecard_rows("1P/5D", sweep, dict.fromkeys(grid[:-1], 1.0))


def test_probe_rejects_an_unknown_pool(tmp_path: Path) -> None:
    from gametheory.deploy.probe import probe_router

    d = DynamoDeployment(DeploymentSpec.build("1P2D"), tmp_path)
    with pytest.raises(GameError, match="pool"):
        probe_router(d, tmp_path / "probe", pool="both")
    with pytest.raises(GameError, match="concurrency"):
        probe_router(d, tmp_path / "probe", concurrency=0)
