"""Real NVIDIA Dynamo deployments on one machine: launch, load and measure.

:func:`~gametheory.deploy.launcher.deploy` starts a disaggregated (xPyD) Dynamo 1.6
deployment of mocker workers on loopback -- frontend with its KV router, prefill and
decode workers whose step times come from the library's calibrated model
and a local model folder built without downloading
anything (:mod:`~gametheory.deploy.model_folder`) -- and stops it cleanly.
:mod:`~gametheory.deploy.loadgen` drives it with aiperf and
:mod:`~gametheory.deploy.sweep` over a concurrency grid, resumably;
:mod:`~gametheory.deploy.probe` gets every candidate's cost from Dynamo's own KV router
for PoA-hat; :mod:`~gametheory.deploy.front` (``deploy(..., front=True)``) routes every
request with the adaptive controller's current ``(omega, tau)`` and takes them at
``POST /router``; :mod:`~gametheory.deploy.compare` puts a run beside the simulator's twin,
:mod:`~gametheory.deploy.adaptive` runs the paper's adaptive experiment on it and
:mod:`~gametheory.deploy.detection` measures the detector on its TTFT histogram.
What they write is read by :mod:`gametheory.telemetry` like any other telemetry.

Needs the ``dynamo`` extra (``ai-dynamo`` and ``ai-dynamo-runtime`` 1.6.1) and, for
load, ``aiperf`` 0.13 on the ``PATH``.
"""

from __future__ import annotations

from gametheory.deploy.launcher import DeploymentError, DynamoDeployment, deploy
from gametheory.deploy.model_folder import (
    build_model_folder,
    mocker_timing_tables,
    write_mocker_timing,
)
from gametheory.deploy.spec import DeploymentSpec

__all__ = [
    "DeploymentError",
    "DeploymentSpec",
    "DynamoDeployment",
    "build_model_folder",
    "deploy",
    "mocker_timing_tables",
    "write_mocker_timing",
]
