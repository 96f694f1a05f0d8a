"""The user/kernel ABI, taken from kmod/include/uapi/linux/dtrace.h through cffi.

Every ioctl number, struct layout, DIF opcode and action kind Python uses comes
from here; nothing is copied by hand.
"""

from pydtrace._libdtrace import ffi, lib

# ed_uarg of the ECB libdtrace enables on dtrace:::ERROR for itself (returned
# as dtepd_uarg): records of that EPID are fault reports, not user output.
# A user-space convention only; the module passes ed_uarg through untouched.
DTRACE_UARG_ERROR = 0x4454_4552_524F_5221  # "DTERROR!"

# ad_uarg of a trace() action whose value is a string (returned as
# dtrd_uarg).  The module writes a string record only up to its NUL and
# leaves the rest of the record as it was; the consumer reads the bytes after
# the NUL as zeros, which is what dtrace(1) sees of a zero-padded record.
# A user-space convention only; the module passes ad_uarg through untouched.
DTRACE_UARG_STRING = 0x4454_5354_5249_4E47  # "DTSTRING"

__all__ = ["DTRACE_UARG_ERROR", "DTRACE_UARG_STRING", "ffi", "lib"]
