"""The version of the distribution ``disagg-gametheory``."""

__version__ = "0.1.0"
