"""GPU descriptions from public datasheet figures.

Each :class:`GPU` holds what the roofline step-time model needs: HBM capacity and
bandwidth, dense (no sparsity) tensor throughput per precision, and the NVLink and
InfiniBand bandwidth available to one GPU for KV transfers. Figures are the vendor's
per-GPU SXM numbers:

* H100 SXM5: 80 GB HBM3 at 3.35 TB/s; 989 TFLOP/s dense BF16, 1,979 TFLOP/s dense
  FP8; NVLink 4 at 900 GB/s (NVIDIA H100 Tensor Core GPU datasheet, 2023).
* H200 SXM: 141 GB HBM3e at 4.8 TB/s; same tensor cores as H100; NVLink 900 GB/s
  (NVIDIA H200 Tensor Core GPU datasheet, 2024).
* B200 (HGX B200): 180 GB HBM3e at 8 TB/s; 2.25 PFLOP/s dense BF16, 4.5 PFLOP/s dense
  FP8, 9 PFLOP/s dense FP4; NVLink 5 at 1.8 TB/s (NVIDIA HGX B200 / DGX B200
  datasheets, 2024; the datasheets quote sparse figures at twice these).

InfiniBand is one ConnectX-7 NDR port per GPU, 400 Gb/s = 50 GB/s (DGX H100/H200/B200
system specifications). GPUs without native FP4 run FP4 weights at their FP8 rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from gametheory.errors import GameError

__all__ = ["B200", "GPU", "GPUS", "H100", "H200", "gpu"]

_TERA = 1e12


@dataclass(frozen=True)
class GPU:
    """One accelerator: memory, bandwidths and dense tensor throughput.

    Attributes
    ----------
    name
        Short name (``"B200"``).
    hbm_bytes
        HBM capacity in bytes.
    hbm_bandwidth
        HBM bandwidth in bytes/s.
    flops
        Dense tensor throughput in FLOP/s per precision (``"bf16"``, ``"fp8"``, ``"fp4"``).
    nvlink_bandwidth
        NVLink bandwidth per GPU in bytes/s.
    ib_bandwidth
        InfiniBand bandwidth per GPU in bytes/s.
    """

    name: str
    hbm_bytes: float
    hbm_bandwidth: float
    flops: dict[str, float]
    nvlink_bandwidth: float
    ib_bandwidth: float

    def dense_flops(self, precision: str) -> float:
        """Dense throughput (FLOP/s) for ``precision``.

        Raises
        ------
        GameError
            For a precision the GPU has no figure for.
        """
        try:
            return self.flops[precision]
        except KeyError:
            raise GameError(
                f"unknown precision {precision!r} for {self.name}; expected one of "
                f"{sorted(self.flops)}"
            ) from None

    def link_bandwidth(self, link: str) -> float:
        """Bandwidth (bytes/s) of ``"nvlink"`` or ``"ib"``."""
        if link == "nvlink":
            return self.nvlink_bandwidth
        if link == "ib":
            return self.ib_bandwidth
        raise GameError(f"unknown link {link!r}; expected 'nvlink' or 'ib'")


H100 = GPU(
    "H100",
    hbm_bytes=80e9,
    hbm_bandwidth=3.35 * _TERA,
    flops={"bf16": 989 * _TERA, "fp8": 1979 * _TERA, "fp4": 1979 * _TERA},
    nvlink_bandwidth=900e9,
    ib_bandwidth=50e9,
)
H200 = GPU(
    "H200",
    hbm_bytes=141e9,
    hbm_bandwidth=4.8 * _TERA,
    flops={"bf16": 989 * _TERA, "fp8": 1979 * _TERA, "fp4": 1979 * _TERA},
    nvlink_bandwidth=900e9,
    ib_bandwidth=50e9,
)
B200 = GPU(
    "B200",
    hbm_bytes=180e9,
    hbm_bandwidth=8.0 * _TERA,
    flops={"bf16": 2250 * _TERA, "fp8": 4500 * _TERA, "fp4": 9000 * _TERA},
    nvlink_bandwidth=1800e9,
    ib_bandwidth=50e9,
)

#: The built-in GPUs by lower-case name.
GPUS: dict[str, GPU] = {"h100": H100, "h200": H200, "b200": B200}


def gpu(name: str | GPU) -> GPU:
    """The built-in GPU called ``name`` (case-insensitive; ``"b200_sxm"`` works too).

    Raises
    ------
    GameError
        For an unknown GPU.
    """
    if isinstance(name, GPU):
        return name
    key = name.lower().removesuffix("_sxm")
    if key not in GPUS:
        raise GameError(f"unknown GPU {name!r}; expected one of {sorted(GPUS)} or a GPU")
    return GPUS[key]
