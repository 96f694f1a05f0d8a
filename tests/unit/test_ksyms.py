"""The backquote operator: kernel symbols' addresses from kallsyms (a file
written here), their types from `extern` declarations (the D library's
ksyms.d or the program's), compiled as a load from the address."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_btf import Builder

from pydtrace.cli import main
from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.sema import btf as B
from pydtrace.sema import ksyms
from pydtrace.sema.btf import BtfTypes

KALLSYMS = """\
0000000000000000 D __per_cpu_start
0000000000000000 D fixed_percpu_data
000000000001a0c0 D cpu_number
000000000002a000 D runqueues
000000000002c000 D __per_cpu_end
ffffffff81000000 T _stext
ffffffff82a0a000 D __per_cpu_offset
ffffffff82a0b000 D jiffies
ffffffff82a0c000 D init_task
ffffffff82a0d000 B avenrun
ffffffff82a0e000 D nr_cpu_ids
ffffffff82a0f000 d shared_name
ffffffffc0a00000 d shared_name\t[fakemod]
ffffffffc0b00000 b mod_only\t[fakemod]
ffffffffc0c00010 d p9_debug_level\t[9pnet]
ffffffffc0c00020 d shared_name\t[9pnet]
"""


@pytest.fixture
def kallsyms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "kallsyms"
    path.write_text(KALLSYMS)
    monkeypatch.setattr(ksyms, "KALLSYMS", str(path))
    yield path
    ksyms._text.pop(str(path), None)
    ksyms._percpu.pop(str(path), None)


def kernel_btf() -> BtfTypes:
    """A struct task_struct { int pid; char comm[16]; } for `init_task."""
    b = Builder()
    i32 = b.int_("int", 4)
    char = b.int_("char", 1)
    arr = b.add(B.KIND_ARRAY, "", 0, 0, b"".join(x.to_bytes(4, "little") for x in (char, i32, 16)))
    b.sou(B.KIND_STRUCT, "task_struct", 20, [("pid", i32, 0, 0), ("comm", arr, 32, 0)])
    return BtfTypes(data=b.blob())


def listing(src: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["-S", "-e", "-n", src]) == 0
    return capsys.readouterr().err  # dtrace -S writes to stderr


def compile_err(src: str, kernel: BtfTypes | None = None) -> DError:
    with pytest.raises(DError) as ei:
        Compiler(kernel=kernel).compile(src, kind="probe", label=src)
    return ei.value


def test_addresses_by_scope(kallsyms: Path) -> None:
    assert ksyms.address("jiffies", "", "`jiffies", str(kallsyms)) == 0xFFFFFFFF82A0B000
    # vmlinux's first when no module is named; a module's by its name
    assert ksyms.address("shared_name", "", "w", str(kallsyms)) == 0xFFFFFFFF82A0F000
    assert ksyms.address("shared_name", "vmlinux", "w", str(kallsyms)) == 0xFFFFFFFF82A0F000
    assert ksyms.address("shared_name", "fakemod", "w", str(kallsyms)) == 0xFFFFFFFFC0A00000
    assert ksyms.address("mod_only", "", "w", str(kallsyms)) == 0xFFFFFFFFC0B00000
    with pytest.raises(DError) as ei:
        ksyms.address("mod_only", "vmlinux", "vmlinux`mod_only", str(kallsyms))
    assert (ei.value.tag, ei.value.message) == (
        "D_IDENT_UNDEF",
        "failed to resolve vmlinux`mod_only: Unknown symbol name",
    )


def test_hidden_addresses_are_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hidden"
    path.write_text("0000000000000000 D jiffies\n0000000000000000 D untyped\n")
    monkeypatch.setattr(ksyms, "KALLSYMS", str(path))
    assert compile_err("BEGIN { trace(`jiffies); }").message == (
        f"failed to resolve `jiffies: kernel addresses are hidden ({path} shows them to root)"
    )
    # names are listed all the same: the type is looked for first
    assert compile_err("BEGIN { trace(`untyped); }").tag == "D_SYM_NOTYPES"


def test_library_types_and_loads_of_their_width(
    kallsyms: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # jiffies: unsigned long from ksyms.d, an 8-byte load from its address
    out = listing("BEGIN { trace(`jiffies); }", capsys)
    assert "! 0xffffffff82a0b000" in out and "ldx  [%r1], %r1" in out, out
    # nr_cpu_ids: unsigned int, a 4-byte unsigned load
    out = listing("BEGIN { trace(vmlinux`nr_cpu_ids); }", capsys)
    assert "! 0xffffffff82a0e000" in out and "lduw [%r1], %r1" in out, out
    # an array element: base + index * 8
    out = listing("BEGIN { trace(`avenrun[2]); }", capsys)
    assert "! 0xffffffff82a0d000" in out and "! 0x10" not in out and "mul" in out, out
    # the address itself
    out = listing("BEGIN { trace(&`jiffies); }", capsys)
    assert "! 0xffffffff82a0b000" in out and "ld" not in out.split("OPCODE")[1], out


def test_program_extern_declarations(kallsyms: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = listing("extern short mod_only; BEGIN { trace(fakemod`mod_only); }", capsys)
    assert "! 0xffffffffc0b00000" in out and "ldsh [%r1], %r1" in out, out
    err = compile_err("extern int jiffies; BEGIN { trace(`jiffies); }")
    assert err.tag == "D_DECL_IDRED"  # ksyms.d says unsigned long


def test_struct_symbols_through_btf(kallsyms: Path) -> None:
    c = Compiler(kernel=kernel_btf())
    c.compile(
        "BEGIN { trace(`init_task.pid); trace(stringof(`init_task.comm)); }",
        kind="probe",
        label="t",
    )


def test_symbols_without_types_or_addresses(kallsyms: Path) -> None:
    err = compile_err("BEGIN { trace(`shared_name); }")
    assert (err.tag, err.message) == (
        "D_SYM_NOTYPES",
        "no symbolic type information is available for `shared_name",
    )
    err = compile_err("BEGIN { trace(`no_such_symbol); }")
    assert err.tag == "D_IDENT_UNDEF" and err.message.endswith("Unknown symbol name")


def test_kernel_variables_are_read_only(kallsyms: Path) -> None:
    for src in ("BEGIN { `jiffies = 1; }", "BEGIN { `jiffies++; }", "BEGIN { `avenrun[0] += 1; }"):
        err = compile_err(src)
        assert err.tag in ("D_OP_WRITE", "D_OP_LVAL"), (src, err.tag, err.message)


def test_module_names_starting_with_a_digit(
    kallsyms: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ksyms.address("shared_name", "9pnet", "w", str(kallsyms)) == 0xFFFFFFFFC0C00020
    out = listing(
        "extern unsigned int p9_debug_level; BEGIN { trace(9pnet`p9_debug_level); }", capsys
    )
    assert "! 0xffffffffc0c00010" in out and "lduw [%r1], %r1" in out, out
    # scoped: 9pnet's shared_name, not vmlinux's or fakemod's
    out = listing("extern int shared_name; BEGIN { trace(&9pnet`shared_name); }", capsys)
    assert "! 0xffffffffc0c00020" in out, out
    out = listing("extern int shared_name; BEGIN { trace(&vmlinux`shared_name); }", capsys)
    assert "! 0xffffffff82a0f000" in out, out
    # an expression around it, and a module without the symbol
    out = listing(
        "extern unsigned int p9_debug_level; BEGIN { trace(1-9pnet`p9_debug_level*2); }",
        capsys,
    )
    assert "! 0xffffffffc0c00010" in out, out
    err = compile_err("extern int mod_only; BEGIN { trace(9pnet`mod_only); }")
    assert (err.tag, err.message) == (
        "D_IDENT_UNDEF",
        "failed to resolve 9pnet`mod_only: Unknown symbol name",
    )


def percpu_btf() -> BtfTypes:
    """6.1's shape: VARs of per-CPU variables listed in DATASEC .data..percpu
    (and one VAR elsewhere, which is not per-CPU)."""
    b = Builder()
    i32 = b.int_("int", 4)
    u64 = b.int_("long unsigned int", 8, signed=False)
    rq = b.sou(B.KIND_STRUCT, "rq", 16, [("nr_running", i32, 0, 0), ("clock", u64, 64, 0)])
    link = (1).to_bytes(4, "little")
    v_cpu = b.add(B.KIND_VAR, "cpu_number", 0, i32, link)
    v_rq = b.add(B.KIND_VAR, "runqueues", 0, rq, link)
    v_other = b.add(B.KIND_VAR, "avenrun", 0, u64, link)
    secinfo = b"".join(struct.pack("<III", t, off, size)
                       for t, off, size in ((v_cpu, 0x1A0C0, 4), (v_rq, 0x2A000, 16)))
    b.add(B.KIND_DATASEC, ".data..percpu", 2, 0, secinfo)
    b.add(B.KIND_DATASEC, ".data", 1, 0, struct.pack("<III", v_other, 0, 8))
    return BtfTypes(data=b.blob())


def test_btf_per_cpu_variables() -> None:
    k = percpu_btf()
    assert str(k.percpu_var("cpu_number")) == "int"
    assert str(k.percpu_var("runqueues")) == "struct rq"
    assert k.percpu_var("avenrun") is None  # a VAR, but not of .data..percpu
    assert k.percpu_var("no_such") is None and k.percpu_var("int") is None


def test_per_cpu_variables_are_this_cpus_instance(kallsyms: Path) -> None:
    assert ksyms.percpu_offsets(0x1A0C0, "vmlinux", str(kallsyms)) == 0xFFFFFFFF82A0A000
    assert ksyms.percpu_offsets(0, "vmlinux", str(kallsyms)) == 0xFFFFFFFF82A0A000
    assert ksyms.percpu_offsets(0x2C000, "vmlinux", str(kallsyms)) is None
    assert ksyms.percpu_offsets(0xFFFFFFFF82A0B000, "vmlinux", str(kallsyms)) is None
    assert ksyms.percpu_offsets(0x1A0C0, "fakemod", str(kallsyms)) is None
    c = Compiler(kernel=percpu_btf())
    # types from BTF: int and struct rq, no extern declaration needed
    c.compile("BEGIN { trace(`cpu_number); trace(`runqueues.clock); "
              "trace(&vmlinux`runqueues); }", kind="probe", label="t")
    err = compile_err("BEGIN { trace(`runqueues.nope); }", percpu_btf())
    assert err.tag == "D_TYPE_MEMBER", err
    err = compile_err("BEGIN { `cpu_number = 1; }", percpu_btf())
    assert err.tag in ("D_OP_WRITE", "D_OP_LVAL"), err


def test_per_cpu_loads_add_this_cpus_offset(
    kallsyms: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # no BTF on the CLI path here: an extern declaration gives the type; the
    # kallsyms address is still an offset, so __per_cpu_offset[cpu] is added
    out = listing("extern int cpu_number; BEGIN { trace(`cpu_number); }", capsys)
    assert "! 0x1a0c0" in out and "! 0xffffffff82a0a000" in out, out
    assert "%cpu" in out or "cpu" in out.split("OPCODE")[1], out
    # an ordinary variable has no per-CPU part
    out = listing("BEGIN { trace(`jiffies); }", capsys)
    assert "0xffffffff82a0a000" not in out and "cpu" not in out.split("OPCODE")[1], out
