"""The start-up caches (pydtrace/_codecache.py, the lexer's prebuilt table,
the D library's prebuilt index) change nothing but the time: what they hold
is what would have been compiled or scanned, and whatever does not match the
files it was made from is not used."""

from __future__ import annotations

import dataclasses
import glob
import marshal
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ply import lex

from pydtrace import _codecache as cc
from pydtrace.errors import DError
from pydtrace.lang import lexer as L
from pydtrace.sema import library as lib

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict, dict, dict, dict]:
    path = str(tmp_path_factory.mktemp("cache") / "startup.marshal")
    # in a fresh process, as make pyc: here the modules are imported already
    code = f"import pydtrace._codecache as c; assert c.write({path!r}) > 0"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    with open(path, "rb") as f:
        header, code, regex, modules, dirs = marshal.loads(f.read())
    assert header == cc._header()
    return path, code, regex, modules, dirs


def test_dataclass_code_is_what_exec_compiles(written) -> None:
    _, code, _, _, _ = written
    assert len(code) > 100
    for text, co in code.items():
        assert co == compile(text, "<string>", "exec", dont_inherit=True)


def test_regexes_are_what_re_compiles(written) -> None:
    import _sre

    _, _, regex, _, _ = written
    # the lexer's master regexes are among them
    assert any(len(p) > 1000 for p, _ in regex)
    for (pattern, flags), args in regex.items():
        assert _sre.compile(pattern, *args) == cc._re_compile_orig(pattern, flags)


def test_bundled_modules_are_their_sources(written) -> None:
    _, _, _, modules, dirs = written
    assert "pydtrace.cli" in modules and "ply.lex" in modules
    assert "pydtrace" not in modules  # top-level packages are found on sys.path
    for name, (file, _mtime_ns, _size, is_pkg, blob) in modules.items():
        assert name.startswith(cc.BUNDLED)
        assert is_pkg == file.endswith("__init__.py")
        with open(file, "rb") as f:
            source = f.read()
        assert marshal.loads(blob) == compile(source, file, "exec", dont_inherit=True)
        assert os.path.dirname(file) in dirs


def test_hooks_keep_dataclasses_and_re_as_they_were() -> None:
    cc.install()
    assert dataclasses.exec is cc._exec  # type: ignore[attr-defined]
    # no __future__ annotations leak into the generated code (this module has them)
    P = dataclasses.make_dataclass("P", [("x", int), ("y", str, dataclasses.field(default="a"))])
    assert P.__init__.__annotations__ == {"x": int, "y": str, "return": None}
    assert repr(P(1)) == "P(x=1, y='a')" and P(1) == P(1, "a")
    # a pattern never seen is compiled by re; flags and groups as ever
    rx = re.compile(r"(?P<w>q[0-9]{3})z", re.I)
    assert rx.match("Q123Z").group("w") == "Q123" and rx.flags & re.I
    assert rx == cc._re_compile_orig(r"(?P<w>q[0-9]{3})z", re.I)


def test_a_cache_of_another_interpreter_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "c.marshal"
    path.write_bytes(marshal.dumps(("another python", {"x": compile("1", "", "exec")}, {}, {}, {})))
    assert cc.load(str(path)) == 0
    path.write_bytes(b"garbage")
    assert cc.load(str(path)) == 0
    assert cc.load(str(tmp_path / "missing")) == 0


def _bundle_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """tpkg/mod.py says X = 'source'; its bundled code says X = 'bundle'."""
    pkg = tmp_path / "tpkg"
    pkg.mkdir()
    mod = pkg / "mod.py"
    mod.write_text("X = 'source'\n")
    st = mod.stat()
    blob = marshal.dumps(compile("X = 'bundle'\n", str(mod), "exec"))
    entry = (str(mod), st.st_mtime_ns, st.st_size, False, blob)
    monkeypatch.setitem(cc._modules, "tpkg.mod", entry)
    monkeypatch.setitem(cc._dirs, str(pkg), pkg.stat().st_mtime_ns)
    monkeypatch.setattr(cc, "_dir_ok", {})
    return pkg, mod


def _load(spec) -> object:
    import importlib.util

    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m.X


def test_bundled_module_served_only_where_the_path_finder_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg, mod = _bundle_one(tmp_path, monkeypatch)
    spec = cc._Finder.find_spec("tpkg.mod", [str(pkg)])
    assert spec.origin == str(mod) and spec.submodule_search_locations is None
    assert spec.cached == str(pkg / "__pycache__" / os.path.basename(spec.cached))
    assert _load(spec) == "bundle"
    # another parent directory, or a top-level search: the path finder's
    assert cc._Finder.find_spec("tpkg.mod", [str(tmp_path)]) is None
    assert cc._Finder.find_spec("tpkg.mod", None) is None
    assert cc._Finder.find_spec("tpkg.other", [str(pkg)]) is None


def test_bundled_module_not_used_for_a_changed_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg, mod = _bundle_one(tmp_path, monkeypatch)
    mod.write_text("X = 'edited'\n")  # another size
    spec = cc._Finder.find_spec("tpkg.mod", [str(pkg)])
    assert _load(spec) == "edited"
    st = mod.stat()
    os.utime(mod, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # same size, newer
    mod.write_text("X = 'source'\n")
    assert _load(cc._Finder.find_spec("tpkg.mod", [str(pkg)])) == "source"


def test_bundled_module_not_used_when_its_directory_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg, mod = _bundle_one(tmp_path, monkeypatch)
    st = pkg.stat()
    assert cc._Finder.find_spec("tpkg.mod", [str(pkg)]) is not None
    (pkg / "mod.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")  # could shadow mod.py
    os.utime(pkg, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    # importlib.invalidate_caches() reaches the finder when it is installed (a
    # start-up cache was loaded); call it directly so that this holds without
    cc._Finder.invalidate_caches()  # as the path finder, it looks again then
    assert cc._Finder.find_spec("tpkg.mod", [str(pkg)]) is None


# -- the lexer's prebuilt table -------------------------------------------------------


def _tokens(master: lex.Lexer, text: str) -> list[tuple[object, ...]]:
    lx = master.clone()
    lx.begin("INITIAL")
    lx.lineno = 1
    lx.is_typename = lambda name: name.endswith("_t")
    lx.depth = 0
    lx.input(text)
    out: list[tuple[object, ...]] = []
    try:
        for t in iter(lx.token, None):
            out.append((t.type, repr(t.value), t.lineno, t.lexpos, lx.lexstate))
    except DError as e:
        out.append(("error", str(e)))
    return out


def test_prebuilt_lexer_table_is_the_rules() -> None:
    from pydtrace.lang import lextab  # type: ignore[attr-defined]

    assert lextab._rules_fingerprint == L.rules_fingerprint(), (
        "stale pydtrace/lang/lextab.py: run python -m pydtrace.lang.parser --write-tables"
    )
    built = L._build()
    assert built.lexstateretext == {s: [] for s in built.lexstatere}  # from the table
    ref = lex.lex(module=L, optimize=False, errorlog=lex.NullLogger())
    files = [*glob.glob(str(REPO / "tests" / "**" / "*.d"), recursive=True),
             *glob.glob(str(REPO / "pydtrace" / "dlib" / "*.d"))]
    assert len(files) > 50
    for f in files:
        text = Path(f).read_text(errors="replace")
        assert _tokens(built, text) == _tokens(ref, text), f
    bad = 'BEGIN { x = "unterminated\n; y = 1 @ 2; }'
    assert _tokens(built, bad) == _tokens(ref, bad)


def test_lexer_table_of_other_rules_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydtrace.lang import lextab  # type: ignore[attr-defined]

    monkeypatch.setattr(lextab, "_rules_fingerprint", "other rules")
    built = L._build()
    assert all(built.lexstateretext[s] for s in built.lexstatere)  # built from the rules


# -- the D library's prebuilt index ---------------------------------------------------


def _fresh_library(monkeypatch: pytest.MonkeyPatch, index: str) -> lib.Library:
    monkeypatch.setattr(lib, "INDEX_PATH", index)
    monkeypatch.setattr(lib, "_index_table", None)
    return lib.Library([lib.SYSTEM_DIR])


def test_prebuilt_library_index_is_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = str(tmp_path / "index.marshal")
    assert lib.write_index(index) == len(glob.glob(os.path.join(lib.SYSTEM_DIR, "*.d")))
    scanned = _fresh_library(monkeypatch, str(tmp_path / "none"))
    hits: list[bool] = []
    real = lib._prebuilt

    def spy(path: str) -> object:
        got = real(path)
        hits.append(got is not None)
        return got

    monkeypatch.setattr(lib, "_prebuilt", spy)
    prebuilt = _fresh_library(monkeypatch, index)
    assert len(hits) == len(prebuilt.files) and all(hits)  # each file read once, from the index
    assert prebuilt.files == scanned.files
    assert prebuilt.items == scanned.items and prebuilt.names == scanned.names


def test_library_index_entry_of_another_file_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = str(tmp_path / "index.marshal")
    lib.write_index(index)
    monkeypatch.setattr(lib, "INDEX_PATH", index)
    monkeypatch.setattr(lib, "_index_table", None)
    f = os.path.join(lib.SYSTEM_DIR, "errno.d")
    assert lib._prebuilt(f) is not None
    lib._index_table["errno.d"][0] += 1  # the file it was made from had another size
    assert lib._prebuilt(f) is None
    assert lib._prebuilt(str(tmp_path / "errno.d")) is None  # not the system directory
