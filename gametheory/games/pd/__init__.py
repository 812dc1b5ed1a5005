"""The prefill/decode resource game: two pools sharing one GPU budget, their latency
model and the built-in deployments (Rosen 1965 for the shared constraint)."""
