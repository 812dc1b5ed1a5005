"""The mocker's timing tables from the library's calibrated step-time model.

Dynamo's mocker takes its forward-pass times from an NPZ file
(``--planner-profile-data FILE.npz``) with five arrays, the format of
``dynamo/mocker/utils/planner_profiler_perf_data_converter.py`` (Dynamo 1.6):

``prefill_isl`` (n,) and ``prefill_ttft_ms`` (n,)
    the time of a prefill pass of ``isl`` new tokens;
``decode_active_kv_tokens`` (m,), ``decode_context_length`` (k,) and ``decode_itl`` (m, k)
    the time of a decode step whose batch holds ``active_kv_tokens`` KV tokens at a
    mean context of ``context_length`` (so a batch of ``active_kv_tokens /
    context_length`` requests).

:func:`mocker_timing_tables` fills them from a
:class:`~gametheory.sim.serving.step_time.StepTimeModel` (the roofline model calibrated
on aiconfigurator's B200 measurements), so that the mocker and
:func:`gametheory.sim.engine.simulate` share their step times and differ only in the
router, the scheduler and the KV transfer. Writing the NPZ directly avoids the
profiler path of ``--planner-profile-data``, which imports ``dynamo.planner`` and needs
packages that cannot be installed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError
from gametheory.sim.serving.step_time import StepTimeModel

__all__ = ["NPZ_KEYS", "mocker_timing_tables", "write_mocker_timing"]

#: The arrays of the mocker's NPZ, in the order the converter writes them.
NPZ_KEYS = (
    "prefill_isl",
    "prefill_ttft_ms",
    "decode_active_kv_tokens",
    "decode_context_length",
    "decode_itl",
)


def _positive_int(value: object, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise GameError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def mocker_timing_tables(
    step: StepTimeModel,
    *,
    max_batched_tokens: int = 8192,
    kv_tokens: int,
    max_context: int = 16384,
    max_batch: int = 256,
    resolution: int = 128,
) -> dict[str, NDArray[np.float64]]:
    """The five arrays of the mocker's NPZ for one instance (see the module docstring).

    Parameters
    ----------
    step
        Step-time model of one instance (model, GPU, tensor parallelism, parameters).
    max_batched_tokens
        Largest prefill pass (the scheduler's ``max_num_batched_tokens``).
    kv_tokens
        KV tokens one instance holds (the top of the decode grid).
    max_context
        Longest mean context of the decode grid.
    max_batch
        Largest decode batch; a grid point implying more requests is evaluated at it.
    resolution
        Grid points per axis (at least 2).

    Returns
    -------
    dict
        ``prefill_isl``, ``prefill_ttft_ms``, ``decode_active_kv_tokens``,
        ``decode_context_length`` and ``decode_itl``, times in milliseconds.

    Raises
    ------
    GameError
        For a nonpositive size or a resolution below 2.
    """
    tokens = _positive_int(max_batched_tokens, "max_batched_tokens")
    kv = _positive_int(kv_tokens, "kv_tokens")
    context = _positive_int(max_context, "max_context")
    batch = _positive_int(max_batch, "max_batch")
    n = _positive_int(resolution, "resolution", 2)
    isl = np.linspace(1.0, float(tokens), n)
    active = np.linspace(0.0, float(kv), n)
    ctx = np.linspace(1.0, float(context), n)
    requests = np.clip(active[:, None] / ctx[None, :], 1.0, float(batch))
    itl = step.decode_step_time(requests, active[:, None]) * 1e3
    return {
        "prefill_isl": isl,
        "prefill_ttft_ms": np.asarray(step.prefill_time(isl) * 1e3, dtype=np.float64),
        "decode_active_kv_tokens": active,
        "decode_context_length": ctx,
        "decode_itl": np.asarray(itl, dtype=np.float64),
    }


def write_mocker_timing(
    path: str | Path,
    step: StepTimeModel,
    *,
    max_batched_tokens: int = 8192,
    kv_tokens: int,
    max_context: int = 16384,
    max_batch: int = 256,
    resolution: int = 128,
) -> Path:
    """Write :func:`mocker_timing_tables` to ``path`` (an ``.npz`` file) and return it.

    Raises
    ------
    GameError
        If ``path`` does not end in ``.npz`` (the mocker checks the suffix), or as
        :func:`mocker_timing_tables`.
    """
    out = Path(path)
    if out.suffix != ".npz":
        raise GameError(f"the mocker reads timing tables from a .npz file, got {out.name!r}")
    tables = mocker_timing_tables(
        step,
        max_batched_tokens=max_batched_tokens,
        kv_tokens=kv_tokens,
        max_context=max_context,
        max_batch=max_batch,
        resolution=resolution,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, allow_pickle=False, **tables)
    return out
