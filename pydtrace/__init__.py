"""pydtrace: DTrace for stock Linux kernels.

``pydtrace.Consumer`` and ``pydtrace.trace`` are the scripting API
(:mod:`pydtrace.api`), imported on first use so that ``import pydtrace``
stays cheap for the command line.
"""

from __future__ import annotations

from pydtrace import _codecache

__version__ = "0.1.0"
__all__ = ["Consumer", "trace", "__version__"]


def __getattr__(name: str) -> object:
    if name in ("Consumer", "trace"):
        from pydtrace import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# before any pydtrace module defines a dataclass
_codecache.install()
