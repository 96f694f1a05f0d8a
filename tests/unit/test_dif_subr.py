"""DIF subroutines (``call``) on the host build (pydtrace._difhost).

Each test assembles a DIF program that pushes the arguments (strings from
the string table by reference, integers and addresses by value), calls the
subroutine and stores every result in a global, runs it with dif_emulate()
and reads string results back from the returned address.  Expected values
come from tables of illumos behaviour or from Python references, never
from the C code.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

difhost = pytest.importorskip("pydtrace._difhost")
ffi, lib = difhost.ffi, difhost.lib

M = (1 << 64) - 1
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UBASE = lib.DIF_VAR_OTHER_UBASE
NRESULTS = 8
AF_INET, AF_INET6 = 2, 10  # Linux values

# A string argument goes through the string table (pushtr), an int by value
# (pushtv), None is a NULL pointer by value.
Arg = bytes | int | None


def u(x: int) -> int:
    return x & M


def s64(x: int) -> int:
    x &= M
    return x - (1 << 64) if x >> 63 else x


def addr(cdata: Any) -> int:
    return int(ffi.cast("uintptr_t", cdata))


# ---------------------------------------------------------------- assembler


def op(name: str) -> int:
    return int(getattr(lib, f"DIF_OP_{name.upper()}"))


def ins(name: str, r1: int = 0, r2: int = 0, rd: int = 0) -> int:
    return (op(name) << 24) | (r1 << 16) | (r2 << 8) | rd


def wide(name: str, value: int, rd: int) -> int:
    return (op(name) << 24) | (value << 8) | rd


def push(name: str, typ: int, r2: int, rs: int) -> int:
    return (op(name) << 24) | (typ << 16) | (r2 << 8) | rs


def subr(name: str) -> int:
    return int(getattr(lib, f"DIF_SUBR_{name.upper()}"))


@dataclass
class Result:
    values: list[int]
    flags: int
    illval: int
    fltoffs: int
    scratch: int
    scratch_size: int
    scratch_used: int

    @property
    def fault(self) -> int:
        return int(lib.dif_fault_code(self.flags))

    @property
    def value(self) -> int:
        return self.values[-1]

    def ok(self) -> Result:
        assert self.flags & lib.DIF_F_FAULT == 0, f"fault {self.fault} illval {self.illval:#x}"
        return self

    def str(self, i: int = -1) -> bytes | None:
        """The string a result points to (None for NULL)."""
        v = self.values[i]
        return None if v == 0 else ffi.string(ffi.cast("char *", v))

    def in_scratch(self, i: int = -1) -> bool:
        v = self.values[i]
        return self.scratch <= v < self.scratch + self.scratch_used


class Prog:
    """flushts; push args; call; stgs result -> global k, for each call."""

    def __init__(self) -> None:
        self.text: list[int] = []
        self.ints: list[int] = []
        self.strs = bytearray()
        self.ncalls = 0

    def _int(self, v: int, rd: int) -> None:
        self.ints.append(u(v))
        self.text.append(wide("setx", len(self.ints) - 1, rd))

    def call(self, name: str, *args: Arg) -> Prog:
        assert len(args) <= 6 and self.ncalls < NRESULTS
        self.text.append(ins("flushts"))
        for i, a in enumerate(args):
            rd = i + 1
            if isinstance(a, bytes):
                self.text.append(wide("sets", len(self.strs), rd))
                self.strs += a + b"\0"
                self.text.append(push("pushtr", lib.DIF_TYPE_STRING, 0, rd))
            else:
                self._int(0 if a is None else a, rd)
                self.text.append(push("pushtv", 0, 0, rd))
        self.text.append(wide("call", subr(name), 7))
        self.text.append(wide("stgs", UBASE + self.ncalls, 7))
        self.ncalls += 1
        return self

    def run(self, strsize: int = 256, scratch: int = 4096) -> Result:
        text = self.text + [ins("ret", rd=7)]
        dp = ffi.new("struct dif_object *")
        textbuf = ffi.new("uint32_t[]", text)
        intbuf = ffi.new("unsigned long long[]", self.ints or [0])
        strbuf = ffi.new("char[]", bytes(self.strs) or b"\0")
        vartab = ffi.new("struct dtrace_difv[]", NRESULTS)
        for i in range(NRESULTS):
            vartab[i].dtdv_id = UBASE + i
            vartab[i].dtdv_scope = lib.DIFV_SCOPE_GLOBAL
            vartab[i].dtdv_kind = lib.DIFV_KIND_SCALAR
            vartab[i].dtdv_type.dtdt_size = 8
        dp.text, dp.len = textbuf, len(text)
        dp.inttab, dp.intlen = intbuf, len(self.ints)
        dp.strtab, dp.strlen = strbuf, len(self.strs)
        dp.vartab, dp.varlen = vartab, NRESULTS
        dp.rtype.dtdt_size = 8
        err = ffi.new("struct dif_verr *")
        assert lib.dif_validate(dp, err) == 0, f"refused: {err.err} at {err.pc}"
        globs = ffi.new("unsigned long long[]", NRESULTS)
        sbuf = ffi.new("unsigned char[]", max(scratch, 1))
        ms = ffi.new("struct dif_mstate *")
        ms.strsize = strsize
        ms.scratch_base = addr(sbuf) if scratch else 0
        ms.scratch_size = scratch
        ms.globals, ms.nglobals = globs, NRESULTS
        value = int(lib.dif_emulate(dp, ms))
        # keep the buffers that results point into alive with the result
        _KEEP[:] = [textbuf, intbuf, strbuf, vartab, globs, sbuf]
        # every result from its global; the last one as dif_emulate() returned
        values = [int(globs[i]) for i in range(self.ncalls)]
        values[-1] = value
        return Result(
            values,
            int(ms.flags),
            int(ms.illval),
            int(ms.fltoffs),
            addr(sbuf),
            scratch,
            int(ms.scratch_used),
        )


_KEEP: list[Any] = []


def call(name: str, *args: Arg, strsize: int = 256, scratch: int = 4096) -> Result:
    return Prog().call(name, *args).run(strsize=strsize, scratch=scratch)


def string(name: str, *args: Arg, **kw: Any) -> bytes | None:
    r = call(name, *args, **kw).ok()
    if r.value:
        assert r.in_scratch(), "string result outside the allocated scratch"
    return r.str()


def assert_fault(r: Result, code: int, illval: int | None = None) -> None:
    assert r.fault == code, f"fault {r.fault}, wanted {code}"
    assert r.value == 0
    if illval is not None:
        assert r.illval == u(illval)


@pytest.fixture(autouse=True)
def _host_env() -> Iterator[None]:
    lib.dif_host_reset()
    yield
    lib.dif_host_reset()


def aligned_buf(data: bytes, align: int = 64) -> tuple[Any, int]:
    """A buffer holding data at an address aligned to align."""
    buf = ffi.new("char[]", len(data) + 2 * align)
    a = (addr(buf) + align - 1) & ~(align - 1)
    ffi.memmove(ffi.cast("char *", a), data, len(data))
    return buf, a


# ---------------------------------------------------------- argument counts

ARGC = {
    "copyin": 2,
    "copyinstr": 1,
    "copyinto": 3,
    "copyout": 3,
    "copyoutstr": 3,
    "strjoin": 2,
    "lltostr": 1,
    "basename": 1,
    "dirname": 1,
    "cleanpath": 1,
    "strchr": 2,
    "strrchr": 2,
    "strstr": 2,
    "strtok": 2,
    "substr": 2,
    "index": 2,
    "rindex": 2,
    "toupper": 1,
    "tolower": 1,
    "strtoll": 1,
    "inet_ntop": 2,
    "inet_ntoa": 1,
    "inet_ntoa6": 1,
    "json": 2,
}


@pytest.mark.parametrize("name,need", sorted(ARGC.items()))
def test_too_few_arguments_illop(name: str, need: int) -> None:
    r = call(name, *([b"x"] * (need - 1)))
    assert_fault(r, lib.DTRACEFLT_ILLOP, subr(name))


# The environment's (kmod/dif_subr_env.c; the host has no kernel types),
# and the ones with no Linux meaning or not written yet.
NOT_HERE = [
    "mutex_owned",
    "mutex_owner",
    "mutex_type_adaptive",
    "mutex_type_spin",
    "rw_read_held",
    "rw_write_held",
    "rw_iswriter",
    "progenyof",
    "msgdsize",
    "msgsize",
    "ddi_pathname",
    "getf",
    "d_path",
]


@pytest.mark.parametrize("name", NOT_HERE)
def test_framework_subroutines_illop(name: str) -> None:
    assert_fault(call(name, 0, 0, 0), lib.DTRACEFLT_ILLOP, subr(name))


def test_speculation_in_the_host_build_finds_none_free() -> None:
    # the environment's dif_env_speculation(): no consumer on the host
    assert call("speculation").ok().value == 0


# ------------------------------------------------------------------ strjoin


@pytest.mark.parametrize(
    "a,b", [(b"abc", b"def"), (b"", b""), (b"", b"xyz"), (b"xyz", b""), (b"a" * 100, b"b" * 155)]
)
def test_strjoin(a: bytes, b: bytes) -> None:
    r = call("strjoin", a, b).ok()
    assert r.str() == a + b
    # strjoin keeps exactly the bytes of its result
    assert r.value + len(a + b) + 1 == r.scratch + r.scratch_used


def test_strjoin_overflow_noscratch() -> None:
    assert call("strjoin", b"abc", b"def", strsize=7).ok().str() == b"abcdef"
    assert_fault(call("strjoin", b"abc", b"def", strsize=6), lib.DTRACEFLT_NOSCRATCH)
    assert_fault(call("strjoin", b"a" * 200, b"b" * 56), lib.DTRACEFLT_NOSCRATCH)
    # no room for strsize bytes at all
    assert_fault(call("strjoin", b"a", b"b", scratch=100), lib.DTRACEFLT_NOSCRATCH)
    assert_fault(call("strjoin", b"a", b"b", scratch=0), lib.DTRACEFLT_NOSCRATCH)


def test_strjoin_null_badaddr() -> None:
    assert_fault(call("strjoin", None, b"x"), lib.DTRACEFLT_BADADDR, 0)


def test_strjoin_results_are_distinct() -> None:
    r = Prog().call("strjoin", b"ab", b"cd").call("strjoin", b"ef", b"gh").run().ok()
    assert (r.str(0), r.str(1)) == (b"abcd", b"efgh")
    assert r.values[1] >= r.values[0] + 5 and r.values[1] % 8 == 0


# ------------------------------------------------------------------ lltostr

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def ref_lltostr(v: int, base: int) -> bytes:
    neg = base == 10 and v < 0
    x = -v if neg else u(v)
    out = ""
    while x:
        out = DIGITS[x % base] + out
        x //= base
    if base == 16:
        out = "0x" + (out or "0")
    elif base == 8 or not out:
        out = "0" + out
    return (("-" if neg else "") + out).encode()


LLTOSTR_VALUES = [0, 1, 7, 8, 9, 10, 255, 256, -1, -8, -255, 123456789, INT64_MIN, INT64_MAX]


@pytest.mark.parametrize("v", LLTOSTR_VALUES)
def test_lltostr_default_base(v: int) -> None:
    assert string("lltostr", v) == str(v).encode()


@pytest.mark.parametrize("base", [2, 3, 8, 10, 16, 36])
@pytest.mark.parametrize("v", LLTOSTR_VALUES)
def test_lltostr_base(v: int, base: int) -> None:
    assert string("lltostr", v, base) == ref_lltostr(v, base)


def test_lltostr_known_values() -> None:
    assert string("lltostr", INT64_MIN) == b"-9223372036854775808"
    assert string("lltostr", 255, 16) == b"0xff"
    assert string("lltostr", 0, 16) == b"0x0"
    assert string("lltostr", 8, 8) == b"010"
    assert string("lltostr", 0, 8) == b"0"
    assert string("lltostr", -1, 2) == b"1" * 64
    assert string("lltostr", -1, 16) == b"0xffffffffffffffff"


@pytest.mark.parametrize("base", [-1, 0, 1, 37, 1 << 32, INT64_MIN])
def test_lltostr_bad_base_illop(base: int) -> None:
    assert_fault(call("lltostr", 5, base), lib.DTRACEFLT_ILLOP)


def test_lltostr_noscratch() -> None:
    assert_fault(call("lltostr", 5, scratch=64), lib.DTRACEFLT_NOSCRATCH)
    assert string("lltostr", 5, scratch=72) == b"5"


# --------------------------------------------------------- basename/dirname

PATHS = [
    # path, basename, dirname
    (b"/", b"/", b"/"),
    (b"", b".", b"."),
    (b"foo", b"foo", b"."),
    (b"/foo", b"foo", b"/"),
    (b"/foo/bar", b"bar", b"/foo"),
    (b"foo/bar/", b"bar", b"foo"),
    (b"//a//b//", b"b", b"//a"),
    (b"///", b"/", b"/"),
    (b"a/", b"a", b"."),
    (b"/a/", b"a", b"/"),
    (b"./x", b"x", b"."),
    (b"a//b", b"b", b"a"),
    (b"/usr/lib/libc.so.1", b"libc.so.1", b"/usr/lib"),
]


@pytest.mark.parametrize("path,base,dir_", PATHS)
def test_basename_dirname(path: bytes, base: bytes, dir_: bytes) -> None:
    assert string("basename", path) == base
    assert string("dirname", path) == dir_


def test_basename_bounded_by_strsize() -> None:
    # strsize 8: the path reads as "/abc/def" and the result is cut to 7
    assert string("basename", b"/abc/defghij", strsize=8) == b"def"
    assert string("dirname", b"/abcdefghij/x", strsize=8) == b"/"
    assert string("basename", b"abcdefghijk", strsize=8) == b"abcdefg"


# ---------------------------------------------------------------- cleanpath

CLEAN = [
    (b"/a/./b/../c//d", b"/a/c/d"),
    (b"/foo/bar/baz", b"/foo/bar/baz"),
    (b"/foo/bar///baz/", b"/foo/bar/baz/"),
    (b"/foo/bar/baz/./", b"/foo/bar/baz/"),
    (b"/foo/bar/../../baz/.//", b"/baz/"),
    (b"/../../../", b"/"),
    (b"//", b"/"),
    (b"/./", b"/"),
    (b"/a/b/..", b"/a/"),
    (b"/a/..", b"/"),
    (b"/a/../b", b"/b"),
    (b"/a/..b/c", b"/a/..b/c"),
    (b"/a/.b", b"/a/.b"),
    (b"abc", b"abc"),
    (b"", b""),
]


@pytest.mark.parametrize("path,want", CLEAN)
def test_cleanpath(path: bytes, want: bytes) -> None:
    assert string("cleanpath", path) == want


def test_cleanpath_stops_before_strsize() -> None:
    # the result stops growing when 5 bytes are left (illumos)
    assert string("cleanpath", b"/abcdefghij", strsize=10) == b"/abcd"


# ------------------------------------------------------ strchr and strrchr


@pytest.mark.parametrize(
    "text,ch",
    [
        (b"hello", "l"),
        (b"hello", "h"),
        (b"hello", "o"),
        (b"hello", "z"),
        (b"", "a"),
        (b"a/b/c", "/"),
    ],
)
def test_strchr_strrchr(text: bytes, ch: str) -> None:
    r = Prog().call("strchr", text, ord(ch)).call("strrchr", text, ord(ch)).run().ok()
    first, last = text.find(ch.encode()), text.rfind(ch.encode())
    assert r.str(0) == (None if first < 0 else text[first:])
    assert r.str(1) == (None if last < 0 else text[last:])
    if first >= 0:
        assert not r.in_scratch(0)  # a pointer into the original string


def test_strchr_finds_the_nul() -> None:
    assert call("strchr", b"abc", 0).ok().str() == b""


def test_strchr_bounded_by_strsize() -> None:
    assert call("strchr", b"abcdef", ord("e"), strsize=4).ok().value == 0
    assert call("strchr", b"abcdef", ord("c"), strsize=4).ok().str() == b"cdef"


# ------------------------------------------------------ strstr/index/rindex


def ref_rindex(s: bytes, sub: bytes, start: int | None = None) -> int:
    if start is None:
        return s.rfind(sub)
    if start < 0:
        return 0 if not sub else -1
    return s.rfind(sub, 0, min(start, len(s)) + len(sub))


def ref_index(s: bytes, sub: bytes, start: int | None = None) -> int:
    if (not s and not sub) or start is None:
        return s.find(sub)
    start = max(start, 0)
    if start >= len(s):
        return len(s) if not sub else -1
    return s.find(sub, start)


SEARCH = [
    (b"hello world", b"o"),
    (b"hello world", b"world"),
    (b"hello world", b"hello"),
    (b"hello world", b"xyz"),
    (b"hello world", b""),
    (b"", b""),
    (b"", b"a"),
    (b"aaaa", b"aa"),
    (b"abc", b"abcd"),
]


@pytest.mark.parametrize("text,sub", SEARCH)
def test_strstr(text: bytes, sub: bytes) -> None:
    r = call("strstr", text, sub).ok()
    pos = text.find(sub)
    assert r.str() == (None if pos < 0 else text[pos:])


@pytest.mark.parametrize("text,sub", SEARCH)
def test_index_rindex(text: bytes, sub: bytes) -> None:
    r = Prog().call("index", text, sub).call("rindex", text, sub).run().ok()
    assert s64(r.values[0]) == ref_index(text, sub)
    assert s64(r.values[1]) == ref_rindex(text, sub)


@pytest.mark.parametrize("start", [-5, -1, 0, 1, 2, 4, 5, 7, 8, 11, 100])
@pytest.mark.parametrize("sub", [b"o", b"l", b"hello", b"", b"z"])
def test_index_rindex_start(sub: bytes, start: int) -> None:
    text = b"hello world"
    r = Prog().call("index", text, sub, start).call("rindex", text, sub, start).run().ok()
    assert s64(r.values[0]) == ref_index(text, sub, start)
    assert s64(r.values[1]) == ref_rindex(text, sub, start)


def test_index_perl_oddities() -> None:
    # illumos/Perl: "" is found at len past the end and at 0 before the start
    assert s64(call("index", b"abc", b"", 10).ok().value) == 3
    assert s64(call("rindex", b"abc", b"", -3).ok().value) == 0
    assert s64(call("index", b"", b"", 10).ok().value) == 0


# ------------------------------------------------------------------- strtok


def test_strtok_sequence_in_one_firing() -> None:
    p = Prog().call("strtok", b",,a,bc;;d,", b",;")
    for _ in range(4):
        p.call("strtok", None, b",;")
    r = p.run().ok()
    assert [r.str(i) for i in range(5)] == [b"a", b"bc", b"d", None, None]
    for i in range(3):
        assert r.in_scratch(i)


def test_strtok_delimiters_can_change() -> None:
    r = (
        Prog()
        .call("strtok", b"a=1&b=2", b"=")
        .call("strtok", None, b"&")
        .call("strtok", None, b"=")
        .call("strtok", None, b"")
        .run()
        .ok()
    )
    assert [r.str(i) for i in range(4)] == [b"a", b"=1", b"&b", b"=2"]


def test_strtok_null_without_state_is_null() -> None:
    r = call("strtok", None, b",").ok()
    assert r.value == 0 and r.scratch_used == 0


def test_strtok_only_delimiters() -> None:
    r = Prog().call("strtok", b",,,", b",").call("strtok", None, b",").run().ok()
    assert r.values == [0, 0]


def test_strtok_state_starts_empty_each_firing() -> None:
    p = Prog().call("strtok", None, b" ")
    assert p.run().ok().value == 0
    assert p.run().ok().value == 0
    q = Prog().call("strtok", b"x y", b" ").call("strtok", None, b" ")
    assert [q.run().ok().str(i) for i in range(2)] == [b"x", b"y"]


# ------------------------------------------------------------------- substr


def ref_substr(text: bytes, index: int, length: int | None, strsize: int = 256) -> bytes:
    """illumos' substr() rules, written from its documentation."""
    n = len(text)
    rem = strsize if length is None else length
    if index < 0:
        index += n
        if index < 0 and index + rem > 0:
            rem += index
            index = 0
    if index >= n or index < 0:
        rem = 0
    elif rem < 0:
        rem += n - index
    elif index + rem > strsize:
        rem = strsize - index
    return text[index : index + max(rem, 0)]


SUBSTR = [
    (b"hello", 1, None, b"ello"),
    (b"hello", 1, 3, b"ell"),
    (b"hello", -2, None, b"lo"),
    (b"hello", -10, None, b"hello"),
    (b"hello", -10, 3, b""),
    (b"hello", -10, 7, b"he"),
    (b"hello", 1, -1, b"ell"),
    (b"hello", 0, -5, b""),
    (b"hello", 0, -10, b""),
    (b"hello", -3, -1, b"ll"),
    (b"hello", 5, None, b""),
    (b"hello", 100, 2, b""),
    (b"hello", 0, 0, b""),
    (b"hello", 2, 100, b"llo"),
    (b"", 0, None, b""),
]


@pytest.mark.parametrize("text,index,length,want", SUBSTR)
def test_substr(text: bytes, index: int, length: int | None, want: bytes) -> None:
    args: list[Arg] = [text, index] + ([] if length is None else [length])
    assert string("substr", *args) == want
    assert want == ref_substr(text, index, length)


@pytest.mark.parametrize("index", [INT64_MIN, -6, -5, -1, 0, 4, 5, INT64_MAX])
@pytest.mark.parametrize("length", [None, INT64_MIN, -6, -1, 0, 1, 6, INT64_MAX])
def test_substr_extremes(index: int, length: int | None) -> None:
    args: list[Arg] = [b"hello", index] + ([] if length is None else [length])
    assert string("substr", *args) == ref_substr(b"hello", index, length)


def test_substr_bounded_by_strsize() -> None:
    # reads "abcdef"; index 2 + strsize 6 is cut to 4 characters
    assert string("substr", b"abcdefghij", 2, strsize=6) == b"cdef"


# ---------------------------------------------------------- toupper/tolower


@pytest.mark.parametrize("text", [b"Hello, World! 123", b"", b"\xe9t\xc9", b"az[`@AZ{"])
def test_toupper_tolower(text: bytes) -> None:
    up = bytes(c - 32 if 0x61 <= c <= 0x7A else c for c in text)
    lo = bytes(c + 32 if 0x41 <= c <= 0x5A else c for c in text)
    r = Prog().call("toupper", text).call("tolower", text).run().ok()
    assert (r.str(0), r.str(1)) == (up, lo)


def test_toupper_bounded_by_strsize() -> None:
    assert string("toupper", b"abcdefgh", strsize=4) == b"ABC"


# ------------------------------------------------------------------ strtoll

STRTOLL = [
    (b"123", None, 123),
    (b"  \t-42xyz", None, -42),
    (b"+7", None, 7),
    (b"", None, 0),
    (b"abc", None, 0),
    (b"0x1f", 16, 31),
    (b"0X1F", 16, 31),
    (b"0xg", 16, 0),
    (b"1f", 16, 31),
    (b"777", 8, 511),
    (b"101", 2, 5),
    (b"zz", 36, 35 * 36 + 35),
    (b"9223372036854775807", None, INT64_MAX),
    (b"-9223372036854775808", None, INT64_MIN),
    (b"18446744073709551617", None, 1),  # wraps
    (b"12 34", None, 12),
]


@pytest.mark.parametrize("text,base,want", STRTOLL)
def test_strtoll(text: bytes, base: int | None, want: int) -> None:
    args: list[Arg] = [text] + ([] if base is None else [base])
    assert s64(call("strtoll", *args).ok().value) == want


@pytest.mark.parametrize("base", [0, 1, 37, -1])
def test_strtoll_bad_base(base: int) -> None:
    assert_fault(call("strtoll", b"1", base), lib.DTRACEFLT_ILLOP)


def test_strtoll_bounded_by_strsize() -> None:
    assert call("strtoll", b"123456", strsize=4).ok().value == 1234


# --------------------------------------------------------------------- inet


def ntop(af: int, raw: bytes, name: str = "inet_ntop") -> bytes | None:
    buf, a = aligned_buf(raw, 8)
    args: list[Arg] = [af, a] if name == "inet_ntop" else [a]
    return string(name, *args)


@pytest.mark.parametrize(
    "raw", [b"\x7f\x00\x00\x01", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\xc0\xa8\x01\x0a"]
)
def test_inet_ipv4(raw: bytes) -> None:
    want = ".".join(str(b) for b in raw).encode()
    assert ntop(AF_INET, raw) == want
    assert ntop(0, raw, "inet_ntoa") == want


IPV6 = [
    ("fe80::214:4fff:fe0b:76c8", b"fe80::214:4fff:fe0b:76c8"),
    ("::", b"::"),
    ("::1", b"::1"),
    ("1::", b"1::"),
    ("1080::8:800:200c:417a", b"1080::8:800:200c:417a"),
    ("ff01::43", b"ff01::43"),
    ("2001:db8:0:0:1:0:0:ff01", b"2001:db8::1:0:0:ff01"),  # first of equal runs
    # illumos counts the zero high byte of the group after a run as part of
    # it, so here the second run wins (RFC 5952: 2001:db8::1:0:0:1)
    ("2001:db8:0:0:1:0:0:1", b"2001:db8:0:0:1::1"),
    ("2001:db8:0:0:1:0:0:0", b"2001:db8:0:0:1::"),  # the longer run
    ("1:2:3:4:5:6:7:8", b"1:2:3:4:5:6:7:8"),
    ("::ffff:127.0.0.1", b"::ffff:127.0.0.1"),
    ("::10.1.2.3", b"::10.1.2.3"),
    # illumos compresses a single zero group too (RFC 5952 would not)
    ("2001:db8:0:1:1:1:1:1", b"2001:db8::1:1:1:1:1"),
]


@pytest.mark.parametrize("text,want", IPV6)
def test_inet_ipv6(text: str, want: bytes) -> None:
    raw = ipaddress.IPv6Address(text).packed
    assert ntop(AF_INET6, raw) == want
    if b"." not in want:
        assert ntop(0, raw, "inet_ntoa6") == want


def test_inet_ntoa6_embedded_ipv4() -> None:
    raw = ipaddress.IPv6Address("::ffff:10.0.0.1").packed
    assert ntop(0, raw, "inet_ntoa6") == b"10.0.0.1"
    raw = ipaddress.IPv6Address("::10.1.2.3").packed
    assert ntop(0, raw, "inet_ntoa6") == b"10.1.2.3"


def test_inet_ipv6_random_against_rfc5952() -> None:
    # where one zero run of two or more groups is the only zero, illumos and
    # RFC 5952 agree; compare with Python's formatter
    rng = random.Random(1234)
    for _ in range(300):
        groups = [rng.randrange(1, 1 << 16) for _ in range(8)]
        if rng.random() < 0.8:
            start = rng.randrange(0, 7)
            n = rng.randrange(2, 9 - start)
            groups[start : start + n] = [0] * n
        for i, g in enumerate(groups):
            if rng.random() < 0.3:
                groups[i] = g & rng.choice([0xFF, 0xFF0, 0xF00F, 0xFFFF]) or g
        raw = b"".join(g.to_bytes(2, "big") for g in groups)
        ip = ipaddress.IPv6Address(raw)
        v4compat = raw[:12] == bytes(12) and raw[12:] not in (bytes(4), bytes(3) + b"\x01")
        if ip.ipv4_mapped or v4compat:
            continue
        assert ntop(AF_INET6, raw) == ip.compressed.encode(), ip.exploded


@pytest.mark.parametrize("af", [0, 1, 26, -1])
def test_inet_ntop_bad_family(af: int) -> None:
    buf, a = aligned_buf(bytes(16))
    assert_fault(call("inet_ntop", af, a), lib.DTRACEFLT_ILLOP)


@pytest.mark.parametrize("name", ["inet_ntoa", "inet_ntoa6"])
def test_inet_bad_address(name: str) -> None:
    buf, a = aligned_buf(bytes(16))
    lib.dif_host_set_fault_range(a + 3, a + 4)
    assert_fault(call(name, a), lib.DTRACEFLT_BADADDR, a)


def test_inet_noscratch() -> None:
    buf, a = aligned_buf(bytes(16))
    assert_fault(call("inet_ntoa6", a, scratch=40), lib.DTRACEFLT_NOSCRATCH)
    assert call("inet_ntoa", a, scratch=16).ok().str() == b"0.0.0.0"


# ------------------------------------------------- copyin and friends


def test_copyin() -> None:
    data = bytes(range(1, 40))
    buf, a = aligned_buf(data)
    r = call("copyin", a + 1, 20).ok()
    assert r.value % 8 == 0 and r.in_scratch()
    assert bytes(ffi.buffer(ffi.cast("char *", r.value), 20)) == data[1:21]


def test_copyin_fault_and_noscratch() -> None:
    buf, a = aligned_buf(bytes(64))
    lib.dif_host_set_fault_range(a + 16, a + 17)
    assert_fault(call("copyin", a, 32), lib.DTRACEFLT_BADADDR)
    assert call("copyin", a, 16).ok().value != 0
    assert_fault(call("copyin", a, 5000), lib.DTRACEFLT_NOSCRATCH)
    assert_fault(call("copyin", a, M), lib.DTRACEFLT_NOSCRATCH)


@pytest.mark.parametrize(
    "n,strsize,want",
    [
        (None, 256, b"hello, world"),
        (5, 256, b"hello"),
        (0, 256, b""),
        (None, 6, b"hello"),
        (100, 4, b"hel"),
    ],
)
def test_copyinstr(n: int | None, strsize: int, want: bytes) -> None:
    buf, a = aligned_buf(b"hello, world\0")
    args: list[Arg] = [a] + ([] if n is None else [n])
    assert string("copyinstr", *args, strsize=strsize) == want


def test_copyinstr_near_fault_range() -> None:
    # the chunk of the string runs into unreadable memory after its NUL
    buf, a = aligned_buf(b"hi\0")
    lib.dif_host_set_fault_range(a + 3, a + 64)
    assert string("copyinstr", a) == b"hi"
    lib.dif_host_set_fault_range(a + 1, a + 2)
    assert_fault(call("copyinstr", a), lib.DTRACEFLT_BADADDR, a + 1)


def test_copyinto() -> None:
    buf, a = aligned_buf(b"ABCDEFGH")
    p = Prog().call("alloca", 16)  # r7 = the destination, returned at the end
    p.text.append(ins("flushts"))
    p._int(a, 1)
    p._int(8, 2)
    p.text += [push("pushtv", 0, 0, 1), push("pushtv", 0, 0, 2), push("pushtv", 0, 0, 7)]
    p.text.append(wide("call", subr("copyinto"), 6))
    r = p.run().ok()
    assert bytes(ffi.buffer(ffi.cast("char *", r.value), 8)) == b"ABCDEFGH"
    # a NULL (never allocated) destination
    assert_fault(call("copyinto", a, 8, 0), lib.DTRACEFLT_BADADDR, 0)


def test_copyinto_outside_scratch() -> None:
    buf, a = aligned_buf(b"ABCDEFGH")
    dst = ffi.new("char[]", 8)
    assert_fault(call("copyinto", a, 8, addr(dst)), lib.DTRACEFLT_BADADDR, addr(dst))


# ------------------------------------------------- copyout and copyoutstr


def user_area(data: bytes) -> tuple[Any, int]:
    """A buffer: source data at +0, a 128-byte 0xEE-filled destination at
    +128; the host build stores only inside its user range (set here)."""
    buf, a = aligned_buf(data.ljust(128, b"\0") + b"\xee" * 128)
    lib.dif_host_set_user_range(a + 128, a + 256)
    return buf, a


def user_bytes(a: int, n: int) -> bytes:
    return bytes(ffi.buffer(ffi.cast("char *", a), n))


def test_copyout_writes_size_bytes_and_no_more() -> None:
    data = bytes(range(1, 100))
    buf, a = user_area(data)
    r = call("copyout", a + 1, a + 128 + 3, 70).ok()
    assert r.value == 0
    assert user_bytes(a + 128, 3) == b"\xee" * 3
    assert user_bytes(a + 131, 70) == data[1:71]
    assert user_bytes(a + 201, 55) == b"\xee" * 55


def test_copyout_faults_on_an_unwritable_destination() -> None:
    buf, a = user_area(b"abcdefgh")
    # outside the user range: not writable
    assert_fault(call("copyout", a, a + 256 + 64, 8), lib.DTRACEFLT_BADADDR, a + 256 + 64)
    assert_fault(call("copyout", a, a + 124, 8), lib.DTRACEFLT_BADADDR, a + 124)
    assert user_bytes(a + 128, 4) == b"\xee" * 4
    lib.dif_host_set_user_range(0, 0)
    assert_fault(call("copyout", a, a + 128, 8), lib.DTRACEFLT_BADADDR, a + 128)
    lib.dif_host_set_user_range(a + 128, a + 256)
    assert_fault(call("copyout", a, 0, 8), lib.DTRACEFLT_BADADDR, 0)
    # an unreadable source
    lib.dif_host_set_fault_range(a + 4, a + 5)
    assert_fault(call("copyout", a, a + 128, 8), lib.DTRACEFLT_BADADDR, a)
    assert user_bytes(a + 128, 8) == b"\xee" * 8


@pytest.mark.parametrize(
    "size,want",
    [
        (100, b"hello, world\0"),  # the string and its NUL
        (13, b"hello, world\0"),
        (5, b"hello"),  # cut, unterminated
        (0, b""),
    ],
)
def test_copyoutstr(size: int, want: bytes) -> None:
    buf, a = user_area(b"hello, world\0and more")
    r = call("copyoutstr", a, a + 128, size).ok()
    assert r.value == 0
    assert user_bytes(a + 128, 100) == want + b"\xee" * (100 - len(want))


def test_copyoutstr_longer_than_a_chunk() -> None:
    text = bytes(ord("a") + i % 26 for i in range(90))
    buf, a = user_area(text + b"\0")
    call("copyoutstr", a, a + 128, 127).ok()
    assert user_bytes(a + 128, 92) == text + b"\0\xee"


def test_copyout_subroutines_make_the_difo_destructive() -> None:
    for name in ("copyout", "copyoutstr"):
        dp = ffi.new("struct dif_object *")
        text = ffi.new(
            "uint32_t[]",
            [push("pushtv", 0, 0, 0)] * 3 + [wide("call", subr(name), 1), ins("ret", rd=1)],
        )
        dp.text, dp.len = text, 5
        dp.rtype.dtdt_size = 8
        err = ffi.new("struct dif_verr *")
        assert lib.dif_validate(dp, err) == 0
        assert dp.destructive == 1


# --------------------------------------------- strings near unreadable memory

STRING_SUBRS: list[tuple[str, Sequence[Arg]]] = [
    ("strjoin", [b"x"]),
    ("basename", []),
    ("dirname", []),
    ("cleanpath", []),
    ("strchr", [ord("z")]),
    ("strrchr", [ord("z")]),
    ("strstr", [b"zz"]),
    ("index", [b"zz"]),
    ("rindex", [b"zz"]),
    ("substr", [1]),
    ("toupper", []),
    ("tolower", []),
    ("strtoll", []),
    ("strtok", [b","]),
    ("strlen", []),
]


@pytest.mark.parametrize("name,rest", STRING_SUBRS)
def test_string_ending_before_unreadable_memory(name: str, rest: Sequence[Arg]) -> None:
    # "12/45" then NUL, then unreadable bytes in the same 32-byte chunk
    buf, a = aligned_buf(b"12/45\0", 64)
    lib.dif_host_set_fault_range(a + 6, a + 32)
    r = call(name, a, *rest).ok()
    assert r.flags == 0


@pytest.mark.parametrize("name,rest", STRING_SUBRS)
def test_string_running_into_unreadable_memory(name: str, rest: Sequence[Arg]) -> None:
    buf, a = aligned_buf(b"1234567\0", 64)
    lib.dif_host_set_fault_range(a + 4, a + 5)
    assert_fault(call(name, a, *rest), lib.DTRACEFLT_BADADDR, a + 4)


@pytest.mark.parametrize("name,rest", STRING_SUBRS)
def test_null_string_badaddr(name: str, rest: Sequence[Arg]) -> None:
    if name == "strtok":
        pytest.skip("strtok(NULL, ...) continues the previous string")
    assert_fault(call(name, None, *rest), lib.DTRACEFLT_BADADDR, 0)


# json(): illumos' json/tst.general.d cases, with the values its .out file
# says dtrace prints (None: NULL).
_JARR = '["string",32,true,{"a":9,"b":false},100.3e10,false,200.5,{"key":"val"},null]'
_JWS = ('\n[\t"string" ,\t32 , true\t,\t {"a":  9,\t"b": false},\t\t100.3e10, false, '
        '200.5,{"key" \t:\n "val"},\t\t null ]\t\t')
_JESC = r'["abcd \" \\ \/ \b \f \n \r \t \u0000 \uf00F ", "final"]'
_JBAD = r'["fine here", "dodgey \u00AZ", "wont get here"]'
_JTOP = ('{ "top": { "mid"  : { "legs": "feet" }, "number": 9, '
         '"array":[0,1,{"a":true,"bb":[1,2,false,{"x":"yz"}]}]}}')
_JTOPV = _JTOP[len('{ "top": '):-1]
JSON_CASES = [
    ("[]", "0", None), ("[1]", "0", "1"), ("[1]", "1", None), ("[1]", "100", None),
    ("[1]", "-1", None), ("[0x1000]", "0", None), ("[1.5001]", "0", "1.5001"),
    ("[16.3e10]", "0", "16.3e10"), ("[ \t   5\t]", "0", "5"),
    ("[ \t    \t 16E10  \t ]", "0", "16E10"), ('["alpha"]', "0", "alpha"),
    ("[1,5,10,15,20]", "[0]", "1"), ("[1,5,10,15,20]", "[3]", "15"),
    ("[1,5,10,15,20]", "[4]", "20"), ("[1,5,10,15,20]", "[5]", None),
    ('[ { "first": true, "second": false }]', "0.first", "true"),
    ('[ { "first": true, "second": false }]', "0.second", "false"),
    ('[ { "first": true, "second": false }]', "0.third", None),
    ("[0,1,1,2,3,5,8,13,21,34,55,89,144,233,377]", "10", "55"),
    ("[0,1,1,2,3,5,8,13,21,34,55,89,144,233,377]", "14", "377"),
    ("[0,1,1,2,3,5,8,13,21,34,55,89,144,233,377]", "19", None),
    *((_JARR, sel, want) for sel, want in [
        ("0", "string"), ("0.notobject", None), ("1", "32"), ("2", "true"),
        ("3", '{"a":9,"b":false}'), ("3.a", "9"), ("3.b", "false"), ("3.c", None),
        ("4", "100.3e10"), ("5", "false"), ("6", "200.5"), ("7", '{"key":"val"}'),
        ("7.key", "val"), ("7.key.notobject", None), ("7.nonexist", None),
        ("8", "null"), ("9", None)]),
    *((_JWS, sel, want) for sel, want in [
        ("0", "string"), ("1", "32"), ("3", '{"a":  9,\t"b": false}'), ("3.a", "9"),
        ("7", '{"key" \t:\n "val"}'), ("7.key", "val"), ("8", "null"), ("9", None)]),
    (_JESC, "0", r'abcd \" \\ \/ \b \f \n \r \t \u0000 \uf00F '), (_JESC, "1", "final"),
    (_JBAD, "0", "fine here"), (_JBAD, "1", None), (_JBAD, "2", None),
    *((_JTOP, sel, want) for sel, want in [
        ("top", _JTOPV), ("fargo", None), ("top.mid", '{ "legs": "feet" }'),
        ("top.centre", None), ("top.mid.legs", "feet"), ("top.mid.number", None),
        ("top.mid.array", None), ("top.number", "9"),
        ("top.array", '[0,1,{"a":true,"bb":[1,2,false,{"x":"yz"}]}]'),
        ("top.array[0]", "0"), ("top.array[1]", "1"),
        ("top.array[2]", '{"a":true,"bb":[1,2,false,{"x":"yz"}]}'),
        ("top.array[2].a", "true"), ("top.array[2].b", None),
        ("top.array[2].bb", '[1,2,false,{"x":"yz"}]'), ("top.array[2].bb[0]", "1"),
        ("top.array[2].bb[1]", "2"), ("top.array[2].bb[2]", "false"),
        ("top.array[2].bb[3]", '{"x":"yz"}'), ("top.array[2].bb[3].x", "yz"),
        ("top.array[2].bb[3].x.nofurther", None), ("top.array[2].bb[4]", None),
        ("top.array[3]", None)]),
]


@pytest.mark.parametrize("text,sel,want", JSON_CASES)
def test_json_selects_as_illumos(text: str, sel: str, want: str | None) -> None:
    got = string("json", text.encode(), sel.encode(), strsize=1024)
    assert got == (want.encode() if want is not None else None)


def test_json_is_bounded_by_strsize_and_unbalanced_text_is_null() -> None:
    # the text beyond strsize is not read: the array never closes
    assert string("json", b'{"a":[1,2,3]}', b"a", strsize=8) is None
    assert string("json", b'{"a":[1,2,3]}', b"a", strsize=64) == b"[1,2,3]"
    assert string("json", b'{"a":[1,2}', b"a") is None
    assert string("json", b'{"a":' + b"[" * 70 + b"]" * 70 + b"}", b"a") is None
    assert string("json", b'{"a":1}', b"a..b") is None


def test_json_of_an_unreadable_text_faults() -> None:
    lib.dif_host_set_fault_range(0x10000, 0x20000)
    assert_fault(call("json", 0x10000, b"a"), lib.DTRACEFLT_BADADDR, 0x10000)
