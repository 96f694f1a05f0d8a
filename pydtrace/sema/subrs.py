"""D prototypes of the DIF subroutines (dtrace-internals.md 1.10).

Each prototype is libdtrace's (dt_open.c), adapted to Linux where a
Solaris type has no meaning: the lock subroutines take any pointer, and
the Solaris-only ones (STREAMS messages, device paths, getf) are refused
at compile time rather than compiled to a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydtrace.abi import lib
from pydtrace.sema import types as T


@dataclass(frozen=True)
class Proto:
    """A D subroutine's prototype."""

    name: str
    subr: int  # DIF_SUBR_*
    ret: T.DType
    params: tuple[T.DType, ...]
    optional: int = 0  # how many trailing params may be left out


def _named_ptr(ref: T.DType, name: str) -> T.DType:
    return T.alias(T.pointer(ref), name)


CONST_CHARP = _named_ptr(T.CHAR, "const char *")
CHARP = T.pointer(T.CHAR)
VOIDP = T.pointer(T.VOID)
_TD = T.TYPEDEFS
_IPADDRP = _named_ptr(T.alias(T.UINT, "ipaddr_t"), "ipaddr_t *")
_IN6P = _named_ptr(T.VOID, "in6_addr_t *")
_PATHP = _named_ptr(T.VOID, "struct path *")


def _p(name: str, ret: T.DType, params: list[T.DType], optional: int = 0) -> Proto:
    return Proto(name, int(getattr(lib, "DIF_SUBR_" + name.upper())), ret, tuple(params), optional)


PROTOS: dict[str, Proto] = {
    p.name: p
    for p in (
        _p("rand", T.INT, []),
        _p("mutex_owned", T.INT, [VOIDP]),
        _p("mutex_owner", VOIDP, [VOIDP]),
        _p("mutex_type_adaptive", T.INT, [VOIDP]),
        _p("mutex_type_spin", T.INT, [VOIDP]),
        _p("rw_read_held", T.INT, [VOIDP]),
        _p("rw_write_held", T.INT, [VOIDP]),
        _p("rw_iswriter", T.INT, [VOIDP]),
        _p("copyin", VOIDP, [_TD["uintptr_t"], _TD["size_t"]]),
        _p("copyinstr", T.STRING, [_TD["uintptr_t"], _TD["size_t"]], 1),
        _p("speculation", T.INT, []),
        _p("progenyof", T.INT, [_TD["pid_t"]]),
        _p("strlen", _TD["size_t"], [CONST_CHARP]),
        _p("copyout", T.VOID, [VOIDP, _TD["uintptr_t"], _TD["size_t"]]),
        _p("copyoutstr", T.VOID, [CHARP, _TD["uintptr_t"], _TD["size_t"]]),
        _p("alloca", VOIDP, [_TD["size_t"]]),
        _p("bcopy", T.VOID, [VOIDP, VOIDP, _TD["size_t"]]),
        _p("copyinto", T.VOID, [_TD["uintptr_t"], _TD["size_t"], VOIDP]),
        _p("getmajor", _TD["dev_t"], [_TD["dev_t"]]),
        _p("getminor", _TD["dev_t"], [_TD["dev_t"]]),
        _p("strjoin", T.STRING, [CONST_CHARP, CONST_CHARP]),
        _p("lltostr", T.STRING, [_TD["int64_t"], T.INT], 1),
        _p("basename", T.STRING, [CONST_CHARP]),
        _p("dirname", T.STRING, [CONST_CHARP]),
        _p("cleanpath", T.STRING, [CONST_CHARP]),
        _p("strchr", T.STRING, [CONST_CHARP, T.CHAR]),
        _p("strrchr", T.STRING, [CONST_CHARP, T.CHAR]),
        _p("strstr", T.STRING, [CONST_CHARP, CONST_CHARP]),
        _p("strtok", T.STRING, [CONST_CHARP, CONST_CHARP]),
        _p("substr", T.STRING, [CONST_CHARP, T.INT, T.INT], 1),
        _p("index", T.INT, [CONST_CHARP, CONST_CHARP, T.INT], 1),
        _p("rindex", T.INT, [CONST_CHARP, CONST_CHARP, T.INT], 1),
        _p("htons", _TD["uint16_t"], [_TD["uint16_t"]]),
        _p("htonl", _TD["uint32_t"], [_TD["uint32_t"]]),
        _p("htonll", _TD["uint64_t"], [_TD["uint64_t"]]),
        _p("ntohs", _TD["uint16_t"], [_TD["uint16_t"]]),
        _p("ntohl", _TD["uint32_t"], [_TD["uint32_t"]]),
        _p("ntohll", _TD["uint64_t"], [_TD["uint64_t"]]),
        _p("inet_ntop", T.STRING, [T.INT, VOIDP]),
        _p("inet_ntoa", T.STRING, [_IPADDRP]),
        _p("inet_ntoa6", T.STRING, [_IN6P]),
        _p("toupper", T.STRING, [CONST_CHARP]),
        _p("tolower", T.STRING, [CONST_CHARP]),
        _p("json", T.STRING, [CONST_CHARP, CONST_CHARP]),
        _p("strtoll", _TD["int64_t"], [CONST_CHARP, T.INT], 1),
        _p("d_path", T.STRING, [_PATHP]),
    )
}

# Solaris subroutines with no meaning on Linux: a compile-time error.
SOLARIS_ONLY = ("msgdsize", "msgsize", "ddi_pathname", "getf")
