"""The user/kernel ABI, taken from kmod/include/uapi/linux/dtrace.h through cffi.

Every ioctl number, struct layout, DIF opcode and action kind Python uses comes
from here; nothing is copied by hand.
"""

from pydtrace._libdtrace import ffi, lib

# ed_uarg of the ECB libdtrace enables on dtrace:::ERROR for itself (returned
# as dtepd_uarg): records of that EPID are fault reports, not user output.
# A user-space convention only; the module passes ed_uarg through untouched.
DTRACE_UARG_ERROR = 0x4454_4552_524F_5221  # "DTERROR!"

__all__ = ["DTRACE_UARG_ERROR", "ffi", "lib"]
