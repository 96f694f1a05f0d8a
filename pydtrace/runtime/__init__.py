"""Device access: the only user of libdtrace's ioctl wrappers.

The names below come from :mod:`pydtrace.runtime.kernel`, imported on first
use (so that importing :mod:`pydtrace.runtime.fbtnames` does not load it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydtrace.runtime.kernel import (
        BufSnapshot,
        Conf,
        Device,
        DeviceError,
        EnableError,
        EProbe,
        ProbeDesc,
        RecDesc,
        Status,
    )

__all__ = [
    "BufSnapshot",
    "Conf",
    "Device",
    "DeviceError",
    "EProbe",
    "EnableError",
    "ProbeDesc",
    "RecDesc",
    "Status",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        from pydtrace.runtime import kernel

        return getattr(kernel, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
