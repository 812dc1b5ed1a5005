"""A local model folder for Dynamo's mocker: ``config.json`` and a tokenizer, no weights.

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
"""

from __future__ import annotations

import json
from pathlib import Path

from gametheory.errors import GameError
from gametheory.sim.serving.models import ModelSpec, model

__all__ = ["VOCAB_SIZES", "build_model_folder", "tokenizer_vocabulary"]

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
