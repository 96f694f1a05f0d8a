"""The user/kernel ABI, taken from kmod/include/uapi/linux/dtrace.h through cffi.

Every ioctl number, struct layout, DIF opcode and action kind Python uses comes
from here; nothing is copied by hand.
"""

from pydtrace._libdtrace import ffi, lib

__all__ = ["ffi", "lib"]
