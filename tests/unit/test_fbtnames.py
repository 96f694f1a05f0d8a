"""fbt globs in user space: DTrace's glob matcher, the tracefs names file,
which exact functions a description provides, and the consumer's PROVIDE
calls (against a recording stand-in for the device)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydtrace.api import Consumer, ProvideError, probe_matches
from pydtrace.runtime import ProbeDesc
from pydtrace.runtime.fbtaddrs import Blacklist, parse_text_symbols, with_addresses
from pydtrace.runtime.fbtnames import (
    KernelFunction,
    TooManyFunctions,
    fbt_functions,
    glob_regex,
    gmatch,
    is_glob,
    parse_filter_functions,
    read_filter_functions,
)

NAMES = """\
vfs_read
vfs_readv
vfs_readlink
vfs_write
ksys_read
do_int3
ext4_file_read_iter [ext4]
ext4_readdir [ext4]
vfs_read_helper [fakemod]
static_twin
static_twin
static_twin [ext4]

"""


@pytest.mark.parametrize(
    ("s", "p", "hit"),
    [
        ("vfs_read", "vfs_read", True),
        ("vfs_read", "vfs_rea", False),
        ("vfs_read", "vfs_rea*", True),
        ("vfs_rea", "vfs_rea*", True),
        ("vfs_read", "*read", True),
        ("vfs_read", "*_*_*", False),
        ("a_b_c", "*_*_*", True),
        ("vfs_read", "vfs_re?d", True),
        ("vfs_red", "vfs_re?d", False),
        ("vfs_read", "vfs_[a-r]ead", True),
        ("vfs_sead", "vfs_[a-r]ead", False),
        ("vfs_sead", "vfs_[!a-r]ead", True),
        ("vfs_read", "vfs_[!a-r]ead", False),
        ("a]", "[]]]", False),
        ("]", "[]]", True),  # a leading ']' is a member
        ("-", "[a-]", True),  # a trailing '-' is a member
        ("*x", "\\*x", True),  # \x: the character itself
        ("ax", "\\*x", False),
        ("a*", "a[\\*]", True),
        ("a\\", "a\\", True),  # a trailing backslash matches itself
        ("ab", "a[bc", False),  # a malformed set matches nothing
        ("xab", "*a[bc", False),
        ("", "*", True),
        ("", "", True),
        ("x", "", False),
        ("abcabd", "*abd", True),  # backtracks to the last star
        ("aXbXc", "a*b*c", True),
    ],
)
def test_gmatch_follows_dtrace_globs(s: str, p: str, hit: bool) -> None:
    assert gmatch(s, p) is hit


def test_is_glob() -> None:
    assert not is_glob("vfs_read")
    for p in ("vfs_*", "vfs_rea?", "vfs_[r]ead", "vfs\\_read"):
        assert is_glob(p)


def test_probe_matches_uses_dtrace_globs() -> None:
    probe = ProbeDesc(7, "fbt", "vmlinux", "vfs_read", "entry")
    assert probe_matches(probe, ("fbt", "", "vfs_rea*", "entry"))
    assert probe_matches(probe, ("", "", "", ""))
    assert probe_matches(probe, ("f?t", "vm*", "vfs\\_read", "[e]ntry"))
    assert not probe_matches(probe, ("fbt", "", "vfs_rea*", "return"))
    assert not probe_matches(ProbeDesc(8, "fbt", "vmlinux", "*", "entry"), ("", "", "\\?", ""))


def test_parse_filter_functions() -> None:
    funcs = parse_filter_functions(NAMES)
    assert funcs[0] == KernelFunction("vmlinux", "vfs_read")
    assert KernelFunction("ext4", "ext4_readdir") in funcs
    assert KernelFunction("fakemod", "vfs_read_helper") in funcs
    # each (module, name) once; the same static name in two modules twice
    assert [f for f in funcs if f.name == "static_twin"] == [
        KernelFunction("vmlinux", "static_twin"),
        KernelFunction("ext4", "static_twin"),
    ]
    assert len(funcs) == 11


def test_read_filter_functions(tmp_path) -> None:
    f = tmp_path / "available_filter_functions"
    f.write_text(NAMES)
    missing = str(tmp_path / "missing")
    assert len(read_filter_functions([missing, str(f)])) == 11
    assert read_filter_functions([missing]) == []


def _functions() -> list[KernelFunction]:
    return parse_filter_functions(NAMES)


def _names(desc: tuple[str, str, str, str], **kw: object) -> list[str]:
    return [f"{f.module}:{f.name}" for f in fbt_functions(desc, _functions, **kw)]  # type: ignore[arg-type]


def test_glob_names_the_matching_functions_with_their_modules() -> None:
    assert _names(("fbt", "", "vfs_rea*", "entry")) == [
        "vmlinux:vfs_read",
        "vmlinux:vfs_readv",
        "vmlinux:vfs_readlink",
        "fakemod:vfs_read_helper",
    ]
    assert _names(("fbt", "vmlinux", "vfs_rea*", "")) == [
        "vmlinux:vfs_read",
        "vmlinux:vfs_readv",
        "vmlinux:vfs_readlink",
    ]
    assert _names(("", "ext4", "", "return")) == [
        "ext4:ext4_file_read_iter",
        "ext4:ext4_readdir",
        "ext4:static_twin",
    ]
    assert _names(("f*", "", "*_read", "")) == ["vmlinux:vfs_read", "vmlinux:ksys_read"]
    assert _names(("fbt", "", "nothing*", "entry")) == []


def test_descriptions_fbt_cannot_match_read_nothing() -> None:
    def boom() -> list[KernelFunction]:
        raise AssertionError("names file read")

    for desc in (
        ("syscall", "", "read*", "entry"),
        ("profile", "", "", "tick-1s"),
        ("fbt", "", "vfs_*", "BEGIN"),
        ("", "", "", "BEGIN"),
    ):
        assert fbt_functions(desc, boom) == []
    # an exact name needs no names file
    assert fbt_functions(("fbt", "", "vfs_read", "entry"), boom) == [KernelFunction("", "vfs_read")]
    assert fbt_functions(("fbt", "vmlinux", "vfs_read", ""), boom) == [
        KernelFunction("vmlinux", "vfs_read")
    ]
    # -l -P fbt: nothing restricts the functions: all of them
    assert len(fbt_functions(("fbt", "", "", ""), _functions, limit=None)) == 11


def test_too_many_functions() -> None:
    assert len(_names(("fbt", "", "*", "entry"), limit=11)) == 11
    with pytest.raises(TooManyFunctions) as e:
        fbt_functions(("fbt", "", "*", "entry"), _functions, limit=10)
    assert e.value.count == 11
    assert "fbt::*:entry matches too many fbt functions (11; at most 10" in str(e.value)
    with pytest.raises(TooManyFunctions):  # fbt:::entry enables every function
        fbt_functions(("fbt", "", "", "entry"), _functions, limit=10)


# kallsyms for NAMES (do_int3 blacklisted; vfs_readlink's address hidden)
KALLSYMS = """\
ffffffff81000100 T vfs_read
ffffffff81000200 T vfs_readv
0000000000000000 T vfs_readlink
ffffffff81000400 t vfs_write
ffffffff81000500 T ksys_read
ffffffff81000600 T do_int3
ffffffff81000700 t static_twin
ffffffff81000800 t static_twin
ffffffff81000900 D some_data
ffffffffc0000100 t ext4_file_read_iter\t[ext4]
ffffffffc0000200 t ext4_readdir\t[ext4]
ffffffffc0000300 t static_twin\t[ext4]
ffffffffc0001100 t vfs_read_helper\t[fakemod]
"""
BLACKLIST = "0xffffffff81000600-0xffffffff81000680\tdo_int3\n"


class _Device:
    """Records PROVIDE and FBTPROVIDE calls; the probes it lists are those
    provided (the module of an address from KALLSYMS, as the module's
    symbol table would say)."""

    def __init__(self) -> None:
        self.provided: list[tuple[str, str, str, str]] = []
        self.batches: list[list[tuple[str, int]]] = []
        self._mods = {a: m for (m, _), a in parse_text_symbols(KALLSYMS).items()}

    def provide(self, provider: str, mod: str, func: str, name: str) -> None:
        self.provided.append((provider, mod, func, name))

    def fbt_provide(self, funcs: list[tuple[str, int]]) -> int:
        self.batches.append(list(funcs))
        for func, addr in funcs:
            self.provided.append(("fbt", self._mods[addr], func, ""))
        return len(funcs)

    def probes(self, patterns=None):  # noqa: ANN001, ANN201
        for i, (_, mod, func, _) in enumerate(self.provided):
            for probe in (
                ProbeDesc(2 * i + 4, "fbt", mod, func, "entry"),
                ProbeDesc(2 * i + 5, "fbt", mod, func, "return"),
            ):
                if patterns is None or any(probe_matches(probe, p) for p in patterns):
                    yield probe


def _consumer(names: str = NAMES, kallsyms: str = KALLSYMS) -> tuple[Consumer, _Device]:
    c = Consumer()
    dev = _Device()
    c.device = dev  # type: ignore[assignment]
    reads: list[int] = []

    def functions() -> list[KernelFunction]:
        reads.append(1)
        assert len(reads) == 1, "names file read twice"
        return parse_filter_functions(names)

    syms: list[int] = []

    def symbols() -> tuple[dict[tuple[str, str], int], Blacklist]:
        syms.append(1)
        assert len(syms) == 1, "kallsyms read twice"
        return parse_text_symbols(kallsyms), Blacklist.parse(BLACKLIST)

    c.kernel_functions = functions
    c.fbt_symbols = symbols
    c.trace_events = lambda: []
    return c, dev


def test_text_symbols_and_blacklist() -> None:
    syms = parse_text_symbols(KALLSYMS)
    assert syms[("vmlinux", "static_twin")] == 0xFFFFFFFF81000700  # the first
    assert syms[("ext4", "static_twin")] == 0xFFFFFFFFC0000300
    assert ("vmlinux", "vfs_readlink") not in syms  # hidden
    assert ("vmlinux", "some_data") not in syms  # not text
    bl = Blacklist.parse(BLACKLIST + "0xffffffff81000010-0xffffffff81000020\tx\n")
    assert 0xFFFFFFFF81000600 in bl and 0xFFFFFFFF8100067F in bl
    assert 0xFFFFFFFF81000680 not in bl and 0xFFFFFFFF810005FF not in bl
    assert 0xFFFFFFFF81000015 in bl and 0xFFFFFFFF81000020 not in bl
    assert 0 not in Blacklist.parse("")
    assert bl.refuses("do_int3.isra.0", 1) and bl.refuses("do_int3", 1)
    assert not bl.refuses("do_int3x", 1) and bl.refuses("anything", 0xFFFFFFFF81000600)
    funcs = parse_filter_functions(NAMES)
    got = with_addresses(funcs, syms, Blacklist.parse(BLACKLIST))
    assert [(kf.module, kf.name) for kf, _ in got] == [
        ("vmlinux", "vfs_read"),
        ("vmlinux", "vfs_readv"),
        ("vmlinux", "vfs_write"),
        ("vmlinux", "ksys_read"),
        ("ext4", "ext4_file_read_iter"),
        ("ext4", "ext4_readdir"),
        ("fakemod", "vfs_read_helper"),
        ("vmlinux", "static_twin"),
        ("ext4", "static_twin"),
    ]


def test_consumer_provides_globbed_fbt_functions_before_enabling() -> None:
    c, dev = _consumer()
    prog = c.compile("fbt::vfs_rea*:entry, syscall::read:entry, fbt::ext4_*:return { }")
    # vfs_readlink has no address: left out
    assert c.provide(c.descriptions(prog), kind="probe", label="x") == 5
    assert dev.batches == [
        [
            ("vfs_read", 0xFFFFFFFF81000100),
            ("vfs_readv", 0xFFFFFFFF81000200),
            ("vfs_read_helper", 0xFFFFFFFFC0001100),
            ("ext4_file_read_iter", 0xFFFFFFFFC0000100),
            ("ext4_readdir", 0xFFFFFFFFC0000200),
        ]
    ]
    # an exact name is left to ENABLE, which provides it itself
    dev.provided.clear()
    dev.batches.clear()
    prog = c.compile("fbt::vfs_read:entry { }")
    assert c.provide(c.descriptions(prog)) == 0
    assert dev.provided == [] and dev.batches == []


def test_blacklisted_functions_are_not_provided() -> None:
    c, dev = _consumer()
    c.provide([("fbt", "", "do_*", "entry")])
    assert dev.batches == [[]]
    c.provide([("fbt", "", "*_int3", "entry"), ("fbt", "", "ksys_*", "")])
    assert dev.batches[-1] == [("ksys_read", 0xFFFFFFFF81000500)]


def test_hidden_addresses_provide_by_name() -> None:
    c, dev = _consumer(kallsyms=re.sub("(?m)^[0-9a-f]+", "0" * 16, KALLSYMS))
    c.provide([("fbt", "vmlinux", "vfs_rea*", "entry")])
    assert dev.batches == []
    assert dev.provided == [
        ("fbt", "vmlinux", "vfs_read", ""),
        ("fbt", "vmlinux", "vfs_readv", ""),
        ("fbt", "vmlinux", "vfs_readlink", ""),
    ]


def test_listing_provides_first_then_lists() -> None:
    c, dev = _consumer()
    rows = [p.func for p in c.list_probes(["fbt::vfs_rea*:entry"])]
    assert rows == ["vfs_read", "vfs_readv", "vfs_read_helper"]
    dev.provided.clear()
    rows = [p.func for p in c.list_probes(["fbt::ksys_read:"])]  # -l -f: exact, provided
    assert dev.provided == [("fbt", "", "ksys_read", "")]
    assert rows == ["ksys_read", "ksys_read"]
    dev.provided.clear()
    # -l -P fbt: every function, in one batch, none too many
    rows = [p.func for p in c.list_probes(["fbt:::"])]
    assert len(dev.batches[-1]) == 9
    assert rows.count("static_twin") == 4  # vmlinux's and ext4's, entry and return


def test_too_many_is_a_compile_error_in_dtrace_form() -> None:
    c, dev = _consumer("\n".join(f"f{i}" for i in range(2001)))
    prog = c.compile("fbt:::entry { }")
    with pytest.raises(ProvideError) as e:
        c.enable(prog)
    assert str(e.value) == (
        "invalid probe specifier fbt:::entry : probe description fbt:::entry matches "
        "too many fbt functions (2001; at most 2000 per description): name fewer functions"
    )
    assert dev.provided == []
    c.setopt("errtags")
    with pytest.raises(ProvideError) as e:
        c.provide([("fbt", "", "f*", "")], kind="script", label="t.d")
    assert str(e.value).startswith(
        "failed to compile script t.d: [D_PDESC_INVAL] probe description fbt::f*: matches"
    )


_ALPHABET = "ab-]![\\*?z"


@settings(max_examples=1500, deadline=None)
@given(st.text(_ALPHABET, max_size=8), st.text(_ALPHABET, max_size=10))
def test_glob_regex_matches_as_gmatch(s: str, p: str) -> None:
    assert (glob_regex(p).fullmatch(s) is not None) == gmatch(s, p)
