"""What Dynamo's mocker is given: a local model folder and its timing tables.

**The model folder**: ``config.json`` and a tokenizer, no weights.

The mocker (``python -m dynamo.mocker --model-path DIR``) and the frontend read a model
folder for the architecture (``config.json``: layers, heads, KV heads, head size, from
which the mocker derives the KV bytes per token) and for the tokenizer
(``tokenizer.json``, ``tokenizer_config.json`` with a chat template); aiperf loads the
same tokenizer to size its synthetic prompts. Nothing may be downloaded, so
:func:`build_model_folder` writes that folder itself from a
:class:`~gametheory.sim.serving.models.ModelSpec`.

The tokenizer is made with the ``tokenizers`` package (Hugging Face): a BPE model
without merges over single characters, so that every token is one character and
decoding then encoding gives back the same tokens (aiperf counts input and output
tokens by re-encoding text). Its vocabulary has the model's size (128,256 for
Llama-3.1): the special tokens, the printable ASCII characters (prompts are ASCII
text), then distinct CJK and other non-ASCII code points up to the vocabulary size, so
that any token id the mocker emits decodes to one visible character (an id outside the
vocabulary decodes to nothing, and aiperf counts such a response as an error).

**The timing tables.** The mocker's timing tables from the library's calibrated step-time model.

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

import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError
from gametheory.sim.serving.models import ModelSpec, model
from gametheory.sim.serving.step_time import StepTimeModel

__all__ = [
    "NPZ_KEYS",
    "VOCAB_SIZES",
    "build_model_folder",
    "mocker_timing_tables",
    "tokenizer_vocabulary",
    "write_mocker_timing",
]

#: Vocabulary size of the built-in models (the Hugging Face ``config.json``), lower-case
#: name; other models get 128,256.
VOCAB_SIZES: dict[str, int] = {"llama-3.1-70b": 128256, "nemotron-4-340b": 256000}

_SPECIALS = ("<unk>", "<|begin_of_text|>", "<|end_of_text|>")
_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}"
)


def _usable(c: int) -> bool:
    """Not a surrogate, private-use, noncharacter, variation selector, combining half
    mark, byte-order mark or special code point."""
    return not (
        0xD800 <= c <= 0xF8FF
        or 0xFDD0 <= c <= 0xFDEF
        or 0xFE00 <= c <= 0xFE2F
        or c == 0xFEFF
        or 0xFFF0 <= c <= 0xFFFF
        or (c & 0xFFFE) == 0xFFFE
    )


def _code_points(n: int) -> list[str]:
    """``n`` distinct printable characters: ASCII, then usable code points from U+4E00."""
    out = [chr(c) for c in range(32, 127)] + ["\n", "\t"]
    c = 0x4E00
    while len(out) < n:
        if _usable(c):
            out.append(chr(c))
        c += 1
    return out[:n]


def tokenizer_vocabulary(vocab_size: int) -> dict[str, int]:
    """The token -> id map of the tokenizer :func:`build_model_folder` writes.

    Raises
    ------
    GameError
        If ``vocab_size`` leaves no room for the ASCII characters.
    """
    base = len(_SPECIALS) + 97
    if not isinstance(vocab_size, int) or not base <= vocab_size <= 500_000:
        raise GameError(f"vocab_size must be an integer in [{base}, 500000], got {vocab_size!r}")
    chars = _code_points(vocab_size - len(_SPECIALS))
    return {tok: i for i, tok in enumerate([*_SPECIALS, *chars])}


def _config(spec: ModelSpec, vocab_size: int, max_len: int) -> dict[str, object]:
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "_name_or_path": spec.name,
        "hidden_size": spec.hidden,
        "num_hidden_layers": spec.n_layers,
        "num_attention_heads": spec.n_heads,
        "num_key_value_heads": spec.n_kv_heads,
        "head_dim": spec.head_size,
        "vocab_size": vocab_size,
        "max_position_embeddings": max_len,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "bfloat16",
        "rms_norm_eps": 1e-5,
    }


def build_model_folder(
    path: str | Path,
    model_name: str | ModelSpec = "Llama-3.1-70B",
    *,
    vocab_size: int | None = None,
    max_len: int = 131072,
) -> Path:
    """Write ``config.json``, ``tokenizer.json`` and ``tokenizer_config.json`` to ``path``.

    Parameters
    ----------
    path
        The folder (created if missing).
    model_name
        A built-in model name or a :class:`ModelSpec` (its layers, heads, KV heads and
        head size go into ``config.json``).
    vocab_size
        Tokenizer and config vocabulary; default the model's (:data:`VOCAB_SIZES`).
    max_len
        ``max_position_embeddings`` and the tokenizer's ``model_max_length``.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    GameError
        For an unknown model, a bad vocabulary size or length, or when the
        ``tokenizers`` package is missing.
    """
    spec = model(model_name)
    size = VOCAB_SIZES.get(spec.name.lower(), 128256) if vocab_size is None else vocab_size
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise GameError(f"max_len must be a positive integer, got {max_len!r}")
    try:
        from tokenizers import Tokenizer, decoders, models
    except ImportError:
        raise GameError(
            "building a model folder needs the tokenizers package (pip install tokenizers)"
        ) from None
    vocab = tokenizer_vocabulary(size)
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(list(_SPECIALS))
    tok.save(str(out / "tokenizer.json"))
    (out / "config.json").write_text(json.dumps(_config(spec, size, max_len), indent=1))
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": _SPECIALS[1],
        "eos_token": _SPECIALS[2],
        "unk_token": _SPECIALS[0],
        "model_max_length": max_len,
        "add_bos_token": False,
        "chat_template": _CHAT_TEMPLATE,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=1))
    return out


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
