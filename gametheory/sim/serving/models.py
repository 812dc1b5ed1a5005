"""Transformer model descriptions: sizes that set weight and KV-cache traffic.

The KV cache of a token is ``2 (K and V) x layers x kv_heads x head_dim x kv_bytes``
bytes (grouped-query attention, Ainslie et al., EMNLP 2023). Built-in models:

* Llama-3.1-70B: 80 layers, hidden 8192, 64 query heads, 8 KV heads, head dim 128,
  70.6 B parameters (Meta, "The Llama 3 Herd of Models", arXiv:2407.21783, table 3;
  the Hugging Face ``config.json``). KV: 320 KiB per token in BF16.
* Nemotron-4-340B: 96 layers, hidden 18432, 96 query heads, 8 KV heads, head dim 192,
  341 B parameters (NVIDIA, "Nemotron-4 340B Technical Report", arXiv:2406.11704,
  table 1).

User models are built with :class:`ModelSpec` directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from gametheory.errors import GameError

__all__ = ["LLAMA_3_1_70B", "MODELS", "NEMOTRON_4_340B", "PRECISION_BYTES", "ModelSpec", "model"]

#: Bytes per weight or KV element by precision name.
PRECISION_BYTES: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp4": 0.5}


@dataclass(frozen=True)
class ModelSpec:
    """A dense decoder-only transformer.

    Attributes
    ----------
    name
        Model name.
    n_params
        Number of parameters.
    n_layers, hidden, n_heads, n_kv_heads, head_dim
        Architecture (``head_dim`` defaults to ``hidden / n_heads`` when 0).
    """

    name: str
    n_params: float
    n_layers: int
    hidden: int
    n_heads: int
    n_kv_heads: int
    head_dim: int = 0

    def __post_init__(self) -> None:
        for field in ("n_params", "n_layers", "hidden", "n_heads", "n_kv_heads"):
            if getattr(self, field) <= 0:
                raise GameError(f"model {self.name!r}: {field} must be positive")
        if self.head_dim < 0:
            raise GameError(f"model {self.name!r}: head_dim must be nonnegative")

    @property
    def head_size(self) -> int:
        """Dimension of one attention head."""
        return self.head_dim or self.hidden // self.n_heads

    def weight_bytes(self, precision: str = "bf16") -> float:
        """Bytes of the weights stored in ``precision``."""
        return self.n_params * _bytes(precision)

    def kv_bytes_per_token(self, precision: str = "bf16") -> float:
        """KV-cache bytes of one token (all layers, K and V)."""
        return 2.0 * self.n_layers * self.n_kv_heads * self.head_size * _bytes(precision)

    def attention_flops(self, new_tokens: float, context: float) -> float:
        """FLOPs of attention scores and values for ``new_tokens`` over ``context`` tokens.

        ``4 x layers x n_heads x head_dim`` per (query, key) pair (QK^T and PV).
        """
        return 4.0 * self.n_layers * self.n_heads * self.head_size * new_tokens * context


def _bytes(precision: str) -> float:
    try:
        return PRECISION_BYTES[precision]
    except KeyError:
        raise GameError(
            f"unknown precision {precision!r}; expected one of {sorted(PRECISION_BYTES)}"
        ) from None


LLAMA_3_1_70B = ModelSpec(
    "Llama-3.1-70B",
    n_params=70.6e9,
    n_layers=80,
    hidden=8192,
    n_heads=64,
    n_kv_heads=8,
    head_dim=128,
)
NEMOTRON_4_340B = ModelSpec(
    "Nemotron-4-340B",
    n_params=341e9,
    n_layers=96,
    hidden=18432,
    n_heads=96,
    n_kv_heads=8,
    head_dim=192,
)

#: The built-in models by lower-case name.
MODELS: dict[str, ModelSpec] = {
    "llama-3.1-70b": LLAMA_3_1_70B,
    "nemotron-4-340b": NEMOTRON_4_340B,
}


def model(name: str | ModelSpec) -> ModelSpec:
    """The built-in model called ``name`` (case-insensitive, a path prefix is dropped).

    Raises
    ------
    GameError
        For an unknown model.
    """
    if isinstance(name, ModelSpec):
        return name
    key = name.rsplit("/", 1)[-1].lower()
    if key not in MODELS:
        raise GameError(f"unknown model {name!r}; expected one of {sorted(MODELS)} or a ModelSpec")
    return MODELS[key]
