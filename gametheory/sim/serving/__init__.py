"""The serving model of the simulator: GPUs, models, the roofline step-time model
(Williams, Waterman and Patterson, CACM 52(4) 2009) calibrated on aiconfigurator
measurements, the deployment (prefill and decode pools) and the prefix cache."""
