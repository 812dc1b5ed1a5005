"""The affinity routing game: a congestion game whose players (requests) gain from
sharing a worker with requests of the same prefix (positive externalities in the sense
of de Keijzer and Schaefer, ESA 2012)."""
