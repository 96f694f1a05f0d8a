"""Typed args[] (pydtrace.sema.probeargs) on BTF blobs built here, the sdt
names from available_events, and -lv's Argument Types."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_btf import Builder

from pydtrace.cli_stability import probe_info
from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.runtime.sdtnames import TraceEvent, parse_available_events, sdt_events
from pydtrace.sema import btf as B
from pydtrace.sema import probeargs as P
from pydtrace.sema.btf import Btf, BtfTypes


def proto(b: Builder, ret: int, params: list[int]) -> int:
    data = b"".join(struct.pack("<II", 0, t) for t in params)
    return b.add(B.KIND_FUNC_PROTO, "", len(params), ret, data)


def kernel() -> bytes:
    b = Builder()
    i32 = b.int_("int", 4)
    ulong = b.int_("long unsigned int", 8, signed=False)
    size_t = b.add(B.KIND_TYPEDEF, "size_t", 0, ulong)
    char = b.int_("char", 1)
    cptr = b.add(B.KIND_PTR, "", 0, char)
    b.sou(B.KIND_STRUCT, "file", 16, [("f_flags", i32, 0, 0), ("f_count", ulong, 64, 0)])
    fptr = b.add(B.KIND_PTR, "", 0, b.first_id + len(b.types) - 1)
    long = b.int_("long int", 8)
    ssize_t = b.add(B.KIND_TYPEDEF, "ssize_t", 0, long)
    read = proto(b, ssize_t, [fptr, cptr, size_t])
    b.add(B.KIND_FUNC, "vfs_read", 1, read)
    b.add(B.KIND_FUNC, "do_nothing", 1, proto(b, 0, [i32]))
    boolean = b.add(B.KIND_TYPEDEF, "bool", 0, b.int_("_Bool", 1, signed=False, boolean=True))
    vptr = b.add(B.KIND_PTR, "", 0, 0)
    cb = proto(b, 0, [vptr, boolean, fptr, fptr, i32, i32, i32, i32])
    b.add(B.KIND_TYPEDEF, "btf_trace_many", 0, b.add(B.KIND_PTR, "", 0, cb))
    return b.blob()


@pytest.fixture
def btf(monkeypatch: pytest.MonkeyPatch) -> Iterator[bytes]:
    blob = kernel()
    monkeypatch.setattr(P, "_kernel_btf", lambda: Btf(blob))
    P.fbt_args.cache_clear()
    P.sdt_args.cache_clear()
    yield blob
    P.fbt_args.cache_clear()
    P.sdt_args.cache_clear()


def natives(args: list[P.ArgType] | None) -> list[str] | None:
    return None if args is None else [a.native for a in args]


def test_fbt_entry_and_return_from_the_prototype(btf: bytes) -> None:
    assert natives(P.probe_args("fbt", "vmlinux", "vfs_read", "entry")) == [
        "struct file *",
        "char *",
        "size_t",
    ]
    # return: args[0] the return offset, args[1] the return value
    assert natives(P.probe_args("fbt", "vmlinux", "vfs_read", "return")) == ["int", "ssize_t"]
    assert natives(P.probe_args("fbt", "vmlinux", "do_nothing", "return")) == ["int"]
    assert P.probe_args("fbt", "vmlinux", "nosuch", "entry") is None


def test_sdt_skips_the_callback_data_and_keeps_five(btf: bytes) -> None:
    assert natives(P.probe_args("sdt", "x", "", "many")) == [
        "bool",
        "struct file *",
        "struct file *",
        "int",
        "int",
    ]
    assert P.probe_args("sdt", "x", "", "nosuch") is None


def module_blob(base: Btf) -> bytes:
    """A module's split BTF on top of kernel(): struct p9_fid, a function
    p9_read(struct p9_fid *, struct file *) and a tracepoint p9_req."""
    m = Builder(first_id=base.next_id, str_base=base.str_total)
    i32 = base.lookup("int", (B.KIND_INT,))
    fstruct = base.lookup("file", (B.KIND_STRUCT,))
    assert i32 is not None and fstruct is not None
    fid = m.sou(B.KIND_STRUCT, "p9_fid", 4, [("fid", i32, 0, 0)])
    fidp = m.add(B.KIND_PTR, "", 0, fid)
    fptr = m.add(B.KIND_PTR, "", 0, fstruct)
    m.add(B.KIND_FUNC, "p9_read", 1, proto(m, i32, [fidp, fptr]))
    cb = proto(m, 0, [m.add(B.KIND_PTR, "", 0, 0), fidp, i32])
    m.add(B.KIND_TYPEDEF, "btf_trace_p9_req", 0, m.add(B.KIND_PTR, "", 0, cb))
    return m.blob()


@pytest.fixture
def modbtf(btf: bytes, monkeypatch: pytest.MonkeyPatch) -> Iterator[bytes]:
    """kernel() as vmlinux and module_blob() as the loaded module 9p's BTF."""
    base = Btf(btf)
    split = Btf(module_blob(base), base)
    monkeypatch.setattr(P, "_kernel_btf", lambda: base)
    monkeypatch.setattr(P, "_module_names", lambda: ["9p"])
    monkeypatch.setattr(P, "_module_btf", lambda mod: split if mod == "9p" else None)
    yield btf


def test_module_functions_and_tracepoints_typed_from_module_btf(modbtf: bytes) -> None:
    entry = ["struct p9_fid *", "struct file *"]
    assert natives(P.probe_args("fbt", "9p", "p9_read", "entry")) == entry
    assert natives(P.probe_args("fbt", "9p", "p9_read", "return")) == ["int", "int"]
    # module field empty: vmlinux first, then every module with BTF
    assert natives(P.desc_args("fbt", "", "p9_read", "entry")) == entry
    assert natives(P.desc_args("fbt", "", "vfs_read", "entry"))[0] == "struct file *"  # type: ignore[index]
    # another module, or vmlinux named: not there
    assert P.probe_args("fbt", "vmlinux", "p9_read", "entry") is None
    assert P.probe_args("fbt", "ext4", "p9_read", "entry") is None
    # a module's tracepoint, found among the modules
    assert natives(P.probe_args("sdt", "9p", "", "p9_req")) == ["struct p9_fid *", "int"]
    # module types resolve through the compiler
    compile_with("fbt:9p:p9_read:entry { trace(args[0]->fid); trace(args[1]->f_flags); }", modbtf)


def test_module_btf_is_read_from_the_btf_directory(tmp_path: Path) -> None:
    base = Btf(kernel())
    (tmp_path / "vmlinux").write_bytes(kernel())
    (tmp_path / "9p").write_bytes(module_blob(base))
    (tmp_path / "broken").write_bytes(b"not btf")
    assert B.module_names(str(tmp_path)) == ["9p", "broken"]
    split = B.module_btf("9p", base, str(tmp_path))
    assert split is not None and split.lookup("p9_read", (B.KIND_FUNC,)) is not None
    assert B.module_btf("9p", base, str(tmp_path)) is split  # parsed once
    assert B.module_btf("broken", base, str(tmp_path)) is None
    assert B.module_btf("nosuch", base, str(tmp_path)) is None
    assert B.module_btf("../vmlinux", base, str(tmp_path)) is None
    assert B.module_names(str(tmp_path / "nosuch")) == []


def test_static_providers_native_and_translated() -> None:
    off = P.probe_args("sched", "vmlinux", "sched_switch", "off-cpu")
    assert off is not None
    assert [(a.native, a.shown) for a in off] == [
        ("struct task_struct *", "lwpsinfo_t *"),
        ("struct task_struct *", "psinfo_t *"),
    ]
    assert P.probe_args("proc", "vmlinux", "sched_process_exec", "exec-success") == []
    assert P.probe_args("io", "", "", "nosuch") is None


def test_clause_types_need_exact_and_agreeing_descriptions(btf: bytes) -> None:
    on = ("sched", "", "", "on-cpu")
    off = ("sched", "", "", "off-cpu")
    wake = ("sched", "", "", "wakeup")
    assert P.clause_args([off, wake]) == P.probe_args(*off)  # the same types
    assert P.clause_args([on, off]) is None  # different: untyped
    assert P.clause_args([("sched", "", "", "*-cpu")]) is None  # a glob
    assert P.clause_args([("fbt", "", "vfs_*", "entry")]) is None
    assert natives(P.clause_args([("fbt", "", "vfs_read", "entry")]))[2] == "size_t"  # type: ignore[index]


def compile_with(src: str, blob: bytes) -> object:
    return Compiler(kernel=BtfTypes(data=blob)).compile(src, kind="script", label="t.d")


def test_compiler_types_args_from_the_probe(btf: bytes) -> None:
    compile_with("fbt::vfs_read:entry { trace(args[0]->f_flags); trace(args[2]); }", btf)
    with pytest.raises(DError) as ei:
        compile_with("fbt::vfs_read:entry { trace(args[3]); }", btf)
    assert ei.value.tag == "D_ARGS_IDX"
    with pytest.raises(DError) as ei:  # int64_t has no members: args[0] is typed
        compile_with("fbt::vfs_*:entry { trace(args[0]->f_flags); }", btf)
    assert ei.value.tag != "D_ARGS_IDX"
    # untyped when the description is a glob
    compile_with("fbt::vfs_*:entry { trace(args[7]); }", btf)


def test_parse_available_events_skips_syscalls() -> None:
    text = "sched:sched_switch\nsyscalls:sys_enter_read\n9p:9p_client_req\nsched:sched_switch\n"
    assert parse_available_events(text) == [
        TraceEvent("sched", "sched_switch"),
        TraceEvent("9p", "9p_client_req"),
    ]


def test_sdt_events_for_descriptions() -> None:
    evs = [TraceEvent("sched", "sched_switch"), TraceEvent("irq", "irq_handler_entry")]
    calls: list[int] = []

    def events() -> list[TraceEvent]:
        calls.append(1)
        return evs

    for name in ("BEGIN", "tick-1s"):
        assert sdt_events(("", "", "", name), events) == []
    assert calls == []
    assert sdt_events(("sdt", "", "", "sched_*"), events) == evs[:1]
    assert sdt_events(("", "irq", "", ""), events) == evs[1:]
    assert sdt_events(("fbt", "", "", ""), events) == []
    assert sdt_events(("sdt", "", "f", ""), events) == []  # sdt probes have no function
    # names no tracepoint has: tracefs is not read
    for name in ("BEGIN", "END", "ERROR", "tick-1s", "profile-997"):
        assert sdt_events(("", "", "", name), events) == []
    assert sdt_events(("", "", "", "irq_*"), events) == evs[1:]
    n = len(calls)
    # an exact description is provided by the module when enabling
    assert sdt_events(("sdt", "sched", "", "sched_switch"), events) == []
    assert len(calls) == n
    assert sdt_events(("sdt", "sched", "", "sched_switch"), events, listing=True) == evs[:1]


def test_lv_argument_types() -> None:
    text = probe_info("sched", ("sched", "vmlinux", "sched_switch", "off-cpu"), ["a *", "b"])
    assert text.endswith("\n\tArgument Types\n\t\targs[0]: a *\n\t\targs[1]: b\n\n")
    assert probe_info("dtrace", ("dtrace", "", "", "BEGIN")).endswith(
        "\n\tArgument Types\n\t\tNone\n\n"
    )


class _Device:
    def __init__(self) -> None:
        self.provided: list[tuple[str, str, str, str]] = []

    def provide(self, provider: str, mod: str, func: str, name: str) -> None:
        self.provided.append((provider, mod, func, name))


def test_consumer_provides_sdt_events_once_each() -> None:
    from pydtrace.api import Consumer

    c = Consumer()
    dev = _Device()
    c.device = dev  # type: ignore[assignment]
    reads: list[int] = []

    def events() -> list[TraceEvent]:
        reads.append(1)
        return parse_available_events("sched:sched_switch\nsched:sched_wakeup\nirq:softirq_entry\n")

    c.trace_events = events
    descs = [("sdt", "sched", "", ""), ("", "", "", "sched_s*"), ("dtrace", "", "", "BEGIN")]
    assert c.provide_sdt(descs) == 2
    assert dev.provided == [
        ("sdt", "sched", "", "sched_switch"),
        ("sdt", "sched", "", "sched_wakeup"),
    ]
    assert len(reads) == 1
    dev.provided.clear()
    prog = c.compile("BEGIN { } sdt:sched::sched_switch { }")
    assert c.provide(c.descriptions(prog)) == 0  # exact: ENABLE provides it
    assert dev.provided == []


REAL_BTF = "/sys/kernel/btf/vmlinux"


@pytest.mark.skipif(not os.path.exists(REAL_BTF), reason="no kernel BTF on this machine")
def test_translated_args_go_through_the_d_library() -> None:
    def compile_(src: str) -> object:
        return Compiler().compile(src, kind="script", label="t.d")

    # proc:::create's args[0] is the child's psinfo_t, io:::start's a bufinfo_t
    compile_("proc:::create { trace(args[0]->pr_pid); trace(args[0]->pr_fname); }")
    compile_("io:::start { trace(args[0]->b_bcount); trace(args[1]->dev_name); }")
    with pytest.raises(DError) as ei:  # a task_struct member is not a psinfo_t one
        compile_("proc:::create { trace(args[0]->tgid); }")
    assert ei.value.tag.startswith("D_XLATE") or ei.value.tag == "D_TYPE_MEMBER"
    # proc:::exec's path is a string
    with pytest.raises(DError) as ei:
        compile_("proc:::exec { trace(args[0] + 1); }")
    assert ei.value.tag == "D_OP_ARITH"
    # no translator from an int: the native type stands
    compile_("sched:::enqueue { trace(args[2] + 1); }")
