"""pydtrace: DTrace for stock Linux kernels."""

__version__ = "0.1.0"
