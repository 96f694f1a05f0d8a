"""Device access: the only user of libdtrace's ioctl wrappers."""

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
