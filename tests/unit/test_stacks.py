"""stack()/ustack()/symbol actions: compiling them, the symbolizers and the
text dtrace(1) prints for them (host only; the guest tests are in
tests/kernel/test_stacks.py)."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pydtrace.abi import lib
from pydtrace.compiler import Compiler
from pydtrace.consume import stackfmt
from pydtrace.consume.elfsyms import ElfSymbols
from pydtrace.consume.printf import c_str
from pydtrace.consume.symbols import KernelSymbols, Symbolizer, UserSymbols
from pydtrace.errors import DError
from pydtrace.program.decode import decode

KALLSYMS = """\
ffffffff81000000 T _stext
ffffffff81000100 T startup_64
ffffffff81200000 t ksys_read
ffffffff81200100 T vfs_read
ffffffff81300000 D some_data
ffffffff81400000 T _etext
ffffffffc0001000 t ext4_read_folio\t[ext4]
ffffffffc0001200 t ext4_readahead\t[ext4]
"""


def sym() -> Symbolizer:
    return Symbolizer(kernel_loader=lambda: KernelSymbols(KALLSYMS))


def acts(src: str, c: Compiler | None = None) -> list:
    p = (c or Compiler(kernel=None)).compile(src, kind="probe", label="p")
    (ecb,) = decode(p.data).ecbs
    return ecb.acts


# -- compiling ---------------------------------------------------------------------


def test_stack_actions_and_their_arguments() -> None:
    a = acts("BEGIN { stack(); stack(5); ustack(); ustack(3, 64); }")
    assert [(x.kind, x.arg, x.difo) for x in a] == [
        (lib.DTRACEACT_STACK, 20, None),
        (lib.DTRACEACT_STACK, 5, None),
        (lib.DTRACEACT_USTACK, 100, None),
        (lib.DTRACEACT_USTACK, 3 | 64 << 32, None),
    ]


def test_stackframes_options_set_the_defaults() -> None:
    src = "#pragma D option stackframes=7\n#pragma D option ustackframes=9\n"
    a = acts(src + "BEGIN { stack(); ustack(); }")
    assert [x.arg for x in a] == [7, 9]


def test_symbol_actions_carry_the_address_expression() -> None:
    a = acts("BEGIN { func(caller); sym(caller); mod(caller); usym(ucaller);"
             " ufunc(ucaller); umod(ucaller); uaddr(ucaller); }")
    assert [x.kind for x in a] == [
        lib.DTRACEACT_SYM, lib.DTRACEACT_SYM, lib.DTRACEACT_MOD, lib.DTRACEACT_USYM,
        lib.DTRACEACT_USYM, lib.DTRACEACT_UMOD, lib.DTRACEACT_UADDR,
    ]
    assert all(x.difo is not None for x in a)


def test_stacks_and_symbols_as_aggregation_keys() -> None:
    a = acts("BEGIN { @[stack(4), func(caller), ustack(2)] = count(); }")
    assert [(x.kind, x.arg) for x in a] == [
        (lib.DTRACEACT_DIFEXPR, 0),
        (lib.DTRACEACT_STACK, 4),
        (lib.DTRACEACT_SYM, 0),
        (lib.DTRACEACT_USTACK, 2),
        (lib.DTRACEAGG_COUNT, 0),
    ]
    assert a[-1].ntuple == 4


@pytest.mark.parametrize(
    ("src", "tag"),
    [
        ("stack(0);", "D_STACK_SIZE"),
        ("stack(arg0);", "D_STACK_SIZE"),
        ("stack(1, 2);", "D_STACK_PROTO"),
        ("ustack(0);", "D_USTACK_FRAMES"),
        ("ustack(1, 0);", "D_USTACK_STRSIZE"),
        ("ustack(1, 2, 3);", "D_USTACK_PROTO"),
        ("x = stack();", "D_CG_EXPR"),
        ("trace(func(caller));", "D_CG_EXPR"),
        ('@[1] = count(); printa("%k", @);', "D_PRINTF_ARG_TYPE"),
        ("func();", "D_PROTO_LEN"),
    ],
)
def test_errors(src: str, tag: str) -> None:
    with pytest.raises(DError) as ei:
        acts("BEGIN { " + src + " }")
    assert ei.value.tag == tag


def test_printa_k_accepts_a_stack_key() -> None:
    c = Compiler(kernel=None)
    acts('BEGIN { @[stack()] = count(); printa("%k %@d", @); }', c)
    assert c.formats[-1].text == "%k %@d"


# -- kernel symbols ----------------------------------------------------------------


def test_kallsyms_lookup() -> None:
    k = KernelSymbols(KALLSYMS)
    assert k.lookup(0xFFFFFFFF81200105) == ("vmlinux", "vfs_read", 0xFFFFFFFF81200100)
    assert k.lookup(0xFFFFFFFFC0001210) == ("ext4", "ext4_readahead", 0xFFFFFFFFC0001200)
    assert k.lookup(0xFFFFFFFF80000000) is None
    # data symbols are not functions; past _etext only the module is known
    assert k.lookup(0xFFFFFFFF81300010)[1] == "vfs_read"  # type: ignore[index]
    assert k.lookup(0xFFFFFFFF81400010) == ("vmlinux", None, 0xFFFFFFFF81400000)


def test_kallsyms_hidden_addresses_give_no_symbols() -> None:
    k = KernelSymbols("0000000000000000 T vfs_read\n")
    assert k.lookup(0x1000) is None


def test_addr_sym_mod_text() -> None:
    s = sym()
    assert s.addr2str(0xFFFFFFFF81200105) == "vmlinux`vfs_read+0x5"
    assert s.addr2str(0xFFFFFFFF81200100) == "vmlinux`vfs_read"
    assert s.addr2str(0x1234) == "0x1234"
    assert s.addr2str(0xFFFFFFFF81400010) == "vmlinux`0xffffffff81400010"
    assert s.sym(0xFFFFFFFF81200105) == "vmlinux`vfs_read"
    assert s.mod(0xFFFFFFFFC0001210) == "ext4"
    assert s.mod(0x10) == "0x10"


def _words(*pcs: int) -> bytes:
    return b"".join(pc.to_bytes(8, sys.byteorder) for pc in pcs)


def test_stack_text_as_dtrace_prints_it() -> None:
    raw = _words(0xFFFFFFFF81200105, 0xFFFFFFFFC0001000, 0x42, 0, 0xFFFFFFFF81200100)
    out = stackfmt.stack_text(raw, 5, sym=sym())
    ind = b" " * 14
    assert out == (b"\n" + ind + b"vmlinux`vfs_read+0x5\n" + ind + b"ext4`ext4_read_folio\n"
                   + ind + b"0x42\n")


def test_empty_stack_is_a_newline() -> None:
    assert stackfmt.stack_text(_words(0, 0), 2, sym=sym()) == b"\n"


def test_stackindent_option() -> None:
    s = sym()
    s.indent = 2
    assert stackfmt.stack_text(_words(0xFFFFFFFF81200100), 1, sym=s) == b"\n  vmlinux`vfs_read\n"


def test_sym_and_mod_records() -> None:
    raw = _words(0xFFFFFFFF81200105)
    assert stackfmt.record_text(stackfmt.SYM, 0, raw, sym()) == b"  %-50s" % b"vmlinux`vfs_read"
    assert stackfmt.record_text(stackfmt.MOD, 0, raw, sym()) == b"  %-50s" % b"vmlinux"


def test_percent_k_left_width_is_the_indent() -> None:
    raw = stackfmt.tagged(stackfmt.STACK, 2, _words(0xFFFFFFFF81200105, 0xFFFFFFFF81200100))
    out = stackfmt.conv_stack(raw, "-", 30, lambda b: c_str(b, "-", 30, None), sym())
    assert out == (b"\n" + b" " * 30 + b"vmlinux`vfs_read+0x5".ljust(30) + b"\n"
                   + b" " * 30 + b"vmlinux`vfs_read".ljust(30) + b"\n")
    plain = stackfmt.conv_stack(raw, "", None, lambda b: b, sym())
    assert plain == b"\nvmlinux`vfs_read+0x5\nvmlinux`vfs_read\n"


# -- user symbols ------------------------------------------------------------------


def test_user_symbols_of_this_process() -> None:
    libc = ctypes.CDLL(None)
    addr = ctypes.cast(libc.getpid, ctypes.c_void_p).value
    assert addr
    u = UserSymbols()
    hit = u.lookup(os.getpid(), addr + 1)
    assert hit is not None, "libc's getpid is in its .dynsym"
    obj, name, start = hit
    assert obj.startswith("libc") and start == addr
    assert name.endswith("getpid")
    s = Symbolizer(kernel_loader=lambda: KernelSymbols(""), user=u)
    assert s.uaddr2str(os.getpid(), addr + 1) == f"{obj}`{name}+0x1"
    assert s.usym(os.getpid(), addr + 1) == f"{obj}`{name}"
    assert s.umod(os.getpid(), addr + 1) == obj
    # %A: a (pid, address) record, or a plain address in the -c/-p process
    assert stackfmt.conv_uaddr(_words(os.getpid(), addr), s) == f"{obj}`{name}".encode()
    assert stackfmt.conv_uaddr(_words(addr), s) == b"0x%x" % addr
    s.target = os.getpid()
    assert stackfmt.conv_uaddr(_words(addr), s) == f"{obj}`{name}".encode()


def test_a_gone_process_prints_addresses(tmp_path: Path) -> None:
    s = Symbolizer(kernel_loader=lambda: KernelSymbols(""), user=UserSymbols(str(tmp_path)))
    assert s.uaddr2str(12345, 0x401000) == "0x401000"
    assert s.umod(12345, 0x401000) == "0x401000"
    raw = _words(12345, 0x401000, 0x402000, 0)
    assert stackfmt.ustack_text(raw, 3, sym=s) == b"\n" + b" " * 14 + b"0x401000\n" + \
        b" " * 14 + b"0x402000\n"


def test_elf_symtab_of_a_built_program(tmp_path: Path) -> None:
    cc, nm = shutil.which("cc"), shutil.which("nm")
    if cc is None or nm is None:
        pytest.skip("needs cc and nm")
    src = tmp_path / "p.c"
    src.write_text("static int __attribute__((noinline)) helper(int x) { return x * 3; }\n"
                   "int main(int argc, char **argv) { return helper(argc); }\n")
    exe = tmp_path / "p"
    subprocess.run([cc, "-O1", "-o", str(exe), str(src)], check=True)
    want = {}
    for line in subprocess.run([nm, str(exe)], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "tT":
            want[p[2]] = int(p[0], 16)
    e = ElfSymbols.from_file(str(exe))
    assert e is not None
    for name in ("helper", "main"):
        assert e.lookup(want[name]) == (name, want[name])
        assert e.lookup(want[name] + 1) == (name, want[name])
    assert ElfSymbols.from_bytes(b"not an elf") is None


# -- JSON --------------------------------------------------------------------------


def test_json_stack_and_address_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydtrace.consume import jsonout, symbols

    monkeypatch.setattr(symbols, "_DEFAULT", sym())
    raw = _words(0xFFFFFFFF81200105, 0xFFFFFFFFC0001000, 0)
    assert jsonout.stack_value(stackfmt.STACK, 3, raw) == {
        "kind": "stack",
        "pid": None,
        "frames": [0xFFFFFFFF81200105, 0xFFFFFFFFC0001000],
        "symbols": ["vmlinux`vfs_read+0x5", "ext4`ext4_read_folio"],
    }
    assert jsonout.stack_value(stackfmt.SYM, 0, _words(0xFFFFFFFF81200105)) == {
        "kind": "address", "pid": None, "value": 0xFFFFFFFF81200105,
        "symbol": "vmlinux`vfs_read"}
    gone = _words(0x7FFFFFFF, 0x401000)  # no such pid: addresses only
    assert jsonout.stack_value(stackfmt.UADDR, 0, gone) == {
        "kind": "address", "value": 0x401000, "symbol": "0x401000", "pid": 0x7FFFFFFF}
    u = jsonout.stack_value(stackfmt.USTACK, 2, _words(0x7FFFFFFF, 0x401000, 0x402000, 0x99))
    assert u == {"kind": "stack", "pid": 0x7FFFFFFF, "frames": [0x401000, 0x402000],
                 "symbols": ["0x401000", "0x402000"]}


def test_printers_show_symbol_records(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from test_consume import FakeDevice, ecb_bytes, layout
    from test_jsonout import lines

    from pydtrace.consume import jsonout, records, symbols
    from pydtrace.consume.loop import Printer

    monkeypatch.setattr(symbols, "_DEFAULT", sym())
    ep = layout(3, 1, [(stackfmt.SYM, 8, 0), (stackfmt.MOD, 8, 0)])
    dev = FakeDevice({3: ep})
    data = ecb_bytes(ep, [_words(0xFFFFFFFF81200105), _words(0xFFFFFFFFC0001000)])
    text = Printer(dev, [], io.BytesIO(), quiet=True)
    js = jsonout.JsonPrinter(dev, [], io.BytesIO(), quiet=True)
    for r in records.ecb_records(0, data, 0, dev.eprobe):
        text.ecb(r)
        js.ecb(r)
    assert text.out.getvalue() == b"  %-50s  %-50s" % (b"vmlinux`vfs_read", b"ext4")
    (rec,) = lines(js.out.getvalue())
    assert [o["symbol"] for o in rec["output"]] == ["vmlinux`vfs_read", "ext4"]


def test_python_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydtrace.consume import symbols

    monkeypatch.setattr(symbols, "_DEFAULT", sym())
    raw = _words(0xFFFFFFFF81200105, 0xFFFFFFFFC0001000, 0)
    assert stackfmt.python_value(stackfmt.STACK, 3, raw) == (
        "vmlinux`vfs_read+0x5", "ext4`ext4_read_folio")
    assert stackfmt.python_value(stackfmt.MOD, 0, raw[:8]) == "vmlinux"
