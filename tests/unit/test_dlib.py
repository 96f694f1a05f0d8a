"""The D library: pydtrace/dlib and -L directories, indexed at start and
declared on first use, in depends_on order."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_codegen import Runner, run_trace
from test_codegen import difos as compiled

from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.options import Options
from pydtrace.sema.library import SYSTEM_DIR, library, split_items

try:
    from pydtrace import _difhost
except ImportError:  # pragma: no cover - the host build is optional
    _difhost = None

needs_vm = pytest.mark.skipif(_difhost is None, reason="pydtrace._difhost not built")


def compiler(*libdirs: str, kernel: object = None) -> Compiler:
    opts = Options()
    for d in libdirs:
        opts.set("libdir", d)
    return Compiler(opts, kernel=kernel)  # type: ignore[arg-type]


@needs_vm
@pytest.mark.parametrize("expr,want", [
    ("SIGHUP", 1), ("SIGKILL", 9), ("SIGSEGV", 11), ("SIGCHLD", 17), ("SIGCLD", 17),
    ("SIGSYS", 31), ("EPERM", 1), ("ENOENT", 2), ("EAGAIN", 11), ("EWOULDBLOCK", 11),
    ("ENOTSUP", 95), ("ETIMEDOUT", 110), ("B_READ", 0x40), ("B_WRITE", 0x100),
    ("B_ASYNC", 0x400), ("SONPROC", 6), ("PR_MODEL_LP64", 2),
])
def test_library_constants(expr: str, want: int) -> None:
    assert run_trace(expr) == want


def test_library_names_are_inlines_not_variables() -> None:
    with pytest.raises(DError) as info:
        Compiler(kernel=None).compile("BEGIN { SIGHUP = 2; }", kind="probe", label="t")
    assert info.value.tag == "D_OP_WRITE"


def test_a_program_declares_only_the_library_items_it_uses() -> None:
    c = Compiler(kernel=None)
    c.compile("BEGIN { trace(ENOENT); }", kind="probe", label="t")
    lib = c.types.library
    assert lib is not None
    loaded = {lib.items[i].names[0] for i in c.types.loaded}
    assert loaded == {"ENOENT"}
    # psinfo_t is known as a type name without being declared
    assert c.types.is_typename("psinfo_t")
    assert "psinfo_t" not in c.types.typedefs


def test_nolibs_skips_the_library() -> None:
    opts = Options()
    opts.set("nolibs", None)
    with pytest.raises(DError) as info:
        Compiler(opts, kernel=None).compile("BEGIN { trace(SIGHUP); }", kind="probe", label="t")
    assert info.value.tag == "D_IDENT_UNDEF"


LIB_A = """
#pragma D depends_on library b.d
typedef struct pair { int lo; int hi; } pair_t;
translator pair_t < int64_t V > {
	lo = V & 0xffff;
	hi = (V >> 16) & BMASK;
};
inline pair_t *curpair = xlate<pair_t *>(arg0);
"""
LIB_B = "inline int BMASK = 0xff; /* ; in a comment */ inline string BNAME = \"b;}\";\n"


@needs_vm
def test_libdir_translators_and_inlines(tmp_path: Path) -> None:
    (tmp_path / "a.d").write_text(LIB_A)
    (tmp_path / "b.d").write_text(LIB_B)
    c = compiler(str(tmp_path))
    prog = compiled("BEGIN { trace(curpair->hi * 100000 + curpair->lo); }", c)
    (difo,) = prog.difos
    r = Runner(difo)
    assert r.validate() == (0, 0)
    res = r.run(args=[0x12345678])
    assert res.flags == 0
    assert res.value == 0x34 * 100000 + 0x5678
    # -L directories come after the system directory, in order
    assert c.types.library.files[-2:] == [str(tmp_path / "b.d"), str(tmp_path / "a.d")]
    assert c.types.library.files[0].startswith(SYSTEM_DIR)


def test_library_dependency_order(tmp_path: Path) -> None:
    (tmp_path / "a.d").write_text("#pragma D depends_on library c.d\ninline int A = 1;\n")
    (tmp_path / "b.d").write_text("inline int B = 2;\n")
    (tmp_path / "c.d").write_text("#pragma D depends_on library b.d\ninline int C = 3;\n")
    files = [os.path.basename(f) for f in library([str(tmp_path)]).files]
    assert files == ["b.d", "c.d", "a.d"]


def test_library_missing_dependency(tmp_path: Path) -> None:
    (tmp_path / "a.d").write_text("#pragma D depends_on library zz.d\ninline int A = 1;\n")
    with pytest.raises(DError) as info:
        compiler(str(tmp_path)).compile("BEGIN { exit(0); }", kind="probe", label="t")
    assert info.value.tag == "D_PRAGMA_DEPEND"
    assert "zz.d" in info.value.message


def test_library_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.d").write_text("\n\ninline int BAD = \"x\";\n")
    c = compiler(str(tmp_path))
    c.compile("BEGIN { exit(0); }", kind="probe", label="t")  # not used: fine
    with pytest.raises(DError) as info:
        c.compile("BEGIN { trace(BAD); }", kind="probe", label="t")
    assert info.value.tag == "D_OP_INCOMPAT"
    assert str(tmp_path / "bad.d") in info.value.message
    assert info.value.line == 3


def test_main_program_may_not_depend_on_a_library() -> None:
    with pytest.raises(DError) as info:
        Compiler(kernel=None).compile("#pragma D depends_on library psinfo.d\nBEGIN { }",
                                      kind="probe", label="t")
    assert (info.value.tag, info.value.message) == (
        "D_PRAGMA_DEPEND", "main program may not explicitly depend on a library")


def test_split_items() -> None:
    text = ('/* a; b */\ninline int X = 1;\n#pragma D depends_on library y.d\n'
            'typedef struct t { int a; char b; } t_t;\n// c;\ninline string S = "a;b";\n')
    items = split_items(text)
    assert [line for _, line in items] == [2, 3, 4, 6]
    assert items[1][0] == "#pragma D depends_on library y.d"
    assert items[3][0] == 'inline string S = "a;b";'


BTF = "/sys/kernel/btf/vmlinux"
needs_btf = pytest.mark.skipif(not os.access(BTF, os.R_OK), reason="no kernel BTF")


@needs_btf
@pytest.mark.parametrize("expr", [
    "curpsinfo->pr_pid", "curpsinfo->pr_ppid", "curpsinfo->pr_uid", "curpsinfo->pr_fname",
    "curpsinfo->pr_pgid", "curpsinfo->pr_nlwp", "curlwpsinfo->pr_lwpid",
    "curlwpsinfo->pr_sname", "curlwpsinfo->pr_onpro", "curcpu->cpu_id",
    "xlate<psinfo_t>(curthread).pr_euid",
    "xlate<fileinfo_t *>((struct file *)arg0)->fi_name",
])
def test_system_translators_compile_against_the_kernel(expr: str) -> None:
    Compiler().compile(f"BEGIN {{ trace({expr}); }}", kind="probe", label="t")


@needs_btf
def test_curpsinfo_members_read_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    """pr_pid = T->tgid: the DIF loads from curthread + offsetof(tgid)."""
    if _difhost is None:
        pytest.skip("pydtrace._difhost not built")
    from pydtrace.abi import lib

    c = Compiler()
    off = compiled("BEGIN { trace(offsetof(struct task_struct, tgid)); }", c).difos
    r = Runner(off[0])
    tgid_off = r.run().value
    buf = ctypes.create_string_buffer(tgid_off + 8)
    ctypes.c_int.from_buffer(buf, tgid_off).value = 4242
    (difo,) = compiled("BEGIN { trace(curpsinfo->pr_pid); }", c).difos
    r = Runner(difo)
    assert r.validate() == (0, 0)
    res = r.run(builtins={int(lib.DIF_VAR_CURTHREAD): ctypes.addressof(buf)})
    assert res.flags == 0
    assert res.value == 4242


def test_compile_only_startup_does_not_read_btf_for_the_library() -> None:
    code = ("import sys\nfrom pydtrace.cli import main\n"
            "rc = main(['-e', '-n', 'BEGIN { trace(SIGKILL); exit(0); }'])\n"
            "print(rc, 'pydtrace.sema.btf' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", "False"]


def test_library_translator_members_are_checked_on_first_use(tmp_path: Path) -> None:
    (tmp_path / "x.d").write_text(
        "typedef struct two { int good; int bad; } two_t;\n"
        "translator two_t < int64_t V > { good = V + 1; bad = \"str\"; };\n")
    c = compiler(str(tmp_path))
    c.compile("BEGIN { trace(xlate<two_t *>(1)->good); }", kind="probe", label="t")
    with pytest.raises(DError) as info:
        c.compile("BEGIN { trace(xlate<two_t *>(1)->bad); }", kind="probe", label="t")
    assert info.value.tag == "D_XLATE_INCOMPAT"
    # a program's own translator is checked whole, at its definition
    with pytest.raises(DError) as info:
        Compiler(kernel=None).compile(
            "typedef struct two { int good; int bad; } two_t;\n"
            "translator two_t < int64_t V > { good = V + 1; bad = \"str\"; };\n",
            kind="script", label="t.d")
    assert info.value.tag == "D_XLATE_INCOMPAT"


def system_translators() -> list[tuple[str, str]]:
    """(output type, input type) of every translator of pydtrace/dlib."""
    import re

    out = []
    for item in library([SYSTEM_DIR]).items:
        if item.kind == "translator":
            m = re.match(r"\s*translator\s+(.+?)\s*<\s*(.+?)\s*\w+\s*>", item.text)
            assert m is not None, item.text
            out.append((m.group(1), m.group(2)))
    return out


def test_the_system_library_has_its_translators() -> None:
    assert sorted(system_translators()) == [
        ("bufinfo_t", "struct request *"), ("cpuinfo_t", "struct task_struct *"),
        ("devinfo_t", "struct request *"), ("fileinfo_t", "struct file *"),
        ("fileinfo_t", "struct request *"), ("lwpsinfo_t", "struct task_struct *"),
        ("psinfo_t", "struct task_struct *")]


@needs_btf
@pytest.mark.parametrize("out,src", system_translators())
def test_every_system_translator_member_compiles(out: str, src: str) -> None:
    """trace(xlate<T>(x)) checks and compiles every member of the translator
    against the running kernel's types."""
    Compiler().compile(f"BEGIN {{ trace(xlate<{out}>(({src})arg0)); }}",
                       kind="probe", label="t")
