"""Caching games: selfish caching on a metric (Chun et al., PODC 2004) and the
hierarchical KV cache (HBM, host DRAM, SSD, remote) of a disaggregated cluster."""
