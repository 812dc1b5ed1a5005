"""Studies run on the simulator: the regime sweep of the paper, adaptive against static
routing, the detector's switch rates and lag, the PoA-hat estimator against the
affinity-game optimum, and their figures."""
