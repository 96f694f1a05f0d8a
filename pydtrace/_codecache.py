"""Start-up cache: the code ``@dataclass`` generates, and compiled regexes.

Two things every pydtrace start used to redo in pure Python, which bytecode
files do not cover: ``@dataclass`` writes the source text of each class's
``__init__``, ``__repr__``, ``__eq__`` (...) and ``exec()``\\ s it (~225
compiles per start), and :mod:`re` parses and compiles each pattern
(the lexer's four master regexes above all).  Together about a quarter of
the host's start-up instructions, and seconds in the emulated test guest.

``make pyc`` records them (:func:`write`: import every pydtrace module,
compile sample programs) into one file next to the bytecode in
``pydtrace/__pycache__``; at start :func:`install` gives :mod:`dataclasses`
an ``exec`` that runs the recorded code object of a text it knows, and
:mod:`re`'s compiler the recorded code of a pattern it knows.  Anything
else is compiled exactly as before.

Nothing changes but the time: an entry is found by the exact source text
(pattern and flags), the file is only used by the interpreter (version,
bytecode, -O level) that wrote it, a regex entry is only written when the
pattern it makes compares equal to ``re``'s own, and a missing, stale or
unreadable file only costs the compiles it would have saved.  The recorded
code is what ``exec(text)`` compiles in the dataclasses module: file name
``<string>``, no inherited ``__future__`` flags.
"""

import builtins
import marshal
import os
import sys
from types import CodeType, ModuleType
from typing import Any

_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
PATH = os.path.join(_DIR, f"startup-cache.{sys.implementation.cache_tag}.marshal")

# dataclass function source -> code; (pattern, flags) -> the rest of _sre.compile's arguments
_code: dict[str, CodeType] = {}
_regex: dict[tuple[Any, int], tuple[Any, ...]] = {}
# module -> (source path, its st_mtime_ns and st_size, is a package, marshalled code);
# directory -> its st_mtime_ns (an entry added or removed changes it)
_modules: dict[str, tuple[str, int, int, bool, bytes]] = {}
_dirs: dict[str, int] = {}
_dir_ok: dict[str, bool] = {}
BUNDLED = ("pydtrace.", "ply.")
_recording: dict[str, set[Any]] | None = None
_re_compile_orig: Any = None


def _header() -> str:
    """What the file must have been written by: this interpreter, its
    bytecode and marshal versions, the same -O level."""
    return (f"pydtrace start-up cache 1|{sys.version}|{sys.hexversion}|"
            f"{sys.implementation.cache_tag}|{marshal.version}|{sys.flags.optimize}")


def _compile(text: str) -> CodeType:
    # as exec(text) in the dataclasses module compiles it (no __future__ there)
    return compile(text, "<string>", "exec", dont_inherit=True)


def _exec(source: Any, globals: Any = None, locals: Any = None) -> None:
    """The dataclasses module's exec(): recorded code for a known text."""
    if isinstance(source, str):
        code = _code.get(source)
        if code is None:
            code = _compile(source)
        if _recording is not None:
            _recording["code"].add(source)
        source = code
    builtins.exec(source, globals, locals)


def _re_compile(p: Any, flags: int = 0) -> Any:
    """re._compiler.compile(): recorded code for a known (pattern, flags)."""
    if isinstance(p, (str, bytes)):
        if _recording is not None:
            _recording["regex"].add((p, int(flags)))
        args = _regex.get((p, flags))
        if args is not None:
            import _sre

            return _sre.compile(p, *args)
    return _re_compile_orig(p, flags)


def _sre_args(pattern: Any, flags: int) -> tuple[Any, ...] | None:
    """_sre.compile's arguments after the pattern, as re._compiler.compile
    makes them; None unless the pattern they make equals re's."""
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]

    if flags & _compiler.SRE_FLAG_DEBUG:
        return None
    p = _parser.parse(pattern, flags)
    code = [int(c) for c in _compiler._code(p, flags)]  # opcodes are int subclasses
    groupindex = dict(p.state.groupdict)
    indexgroup: list[str | None] = [None] * p.state.groups
    for k, i in groupindex.items():
        indexgroup[i] = k
    args = (int(flags | p.state.flags), code, p.state.groups - 1, groupindex, tuple(indexgroup))
    if _sre.compile(pattern, *args) != _re_compile_orig(pattern, flags):
        return None
    return args


def _dir_unchanged(d: str) -> bool:
    ok = _dir_ok.get(d)
    if ok is None:
        try:
            ok = os.stat(d).st_mtime_ns == _dirs.get(d)
        except OSError:
            ok = False
        _dir_ok[d] = ok
    return ok


class _Finder:
    """Finds a bundled submodule where the path finder would: in its parent
    package's only directory, which (and the package's own) has not had an
    entry added or removed since the bundle was written (no file there can
    shadow the module); anything else is left to the path finder."""

    @staticmethod
    def find_spec(fullname: str, path: Any = None, target: Any = None) -> Any:
        entry = _modules.get(fullname)
        if entry is None or path is None:
            return None
        file, _, _, is_pkg, _ = entry
        own = os.path.dirname(file)
        parent = os.path.dirname(own) if is_pkg else own
        if list(path) != [parent] or not _dir_unchanged(parent) or not _dir_unchanged(own):
            return None
        from importlib.util import spec_from_file_location

        return spec_from_file_location(fullname, file, loader=_loader_class()(fullname, file),
                                       submodule_search_locations=[] if is_pkg else None)

    @staticmethod
    def invalidate_caches() -> None:
        """importlib.invalidate_caches(): look at the directories again."""
        _dir_ok.clear()


_LOADER: Any = None


def _loader_class() -> Any:
    global _LOADER
    if _LOADER is None:
        from importlib.machinery import SourceFileLoader

        class BundleLoader(SourceFileLoader):
            """A source file loader whose bytecode comes from the bundle when
            the source is the one it was compiled from (mtime and size, as a
            .pyc is checked); otherwise the usual way."""

            def get_code(self, fullname: str) -> Any:
                entry = _modules.get(fullname)
                if entry is not None and entry[0] == self.path:
                    try:
                        st = os.stat(self.path)
                    except OSError:
                        st = None
                    if st is not None and (st.st_mtime_ns, st.st_size) == entry[1:3]:
                        return marshal.loads(entry[4])
                return super().get_code(fullname)

        _LOADER = BundleLoader
    return _LOADER


def load(path: str = PATH) -> int:
    """Read the cache file (when it is this interpreter's); entries read."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
        header, code, regex, modules, dirs = marshal.loads(blob)
    except (OSError, ValueError, EOFError, TypeError):
        return 0
    if header != _header() or not all(isinstance(t, dict) for t in (code, regex, modules, dirs)):
        return 0
    _code.update(code)
    _regex.update(regex)
    _modules.update(modules)
    _dirs.update(dirs)
    return len(code) + len(regex) + len(modules)


# Imported by dataclasses and ply at their top for what a pydtrace run
# rarely does (a signature for a dataclass without a docstring, reading a
# grammar's source when its tables are stale): loaded when first used.
# (importlib.util.LazyLoader would not do: the import statement reads
# __spec__, which makes its modules load at once.)
LAZY = ("inspect",)


class _Deferred(ModuleType):
    """A stand-in in sys.modules that imports the real module on the first
    attribute it does not have, then takes on all of the real one's."""

    def __getattr__(self, attr: str) -> Any:
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        try:
            real = __import__(name)
        except BaseException:
            sys.modules.setdefault(name, self)
            raise
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def _defer(name: str) -> None:
    if name not in sys.modules:
        sys.modules[name] = _Deferred(name)


def install() -> None:
    """Load the cache file and hook dataclasses' exec and re's compiler (once)."""
    global _re_compile_orig
    for name in LAZY:
        _defer(name)
    import dataclasses
    import re

    if getattr(dataclasses, "exec", None) is _exec:
        return
    load()
    dataclasses.exec = _exec  # type: ignore[attr-defined]
    compiler = getattr(re, "_compiler", None)  # Python >= 3.11
    if compiler is not None and getattr(compiler, "compile", None) is not None:
        _re_compile_orig = compiler.compile
        compiler.compile = _re_compile
    if _modules and _Finder not in sys.meta_path:
        from importlib.machinery import PathFinder

        at = sys.meta_path.index(PathFinder) if PathFinder in sys.meta_path else len(sys.meta_path)
        sys.meta_path.insert(at, _Finder)


# Compiled by write() after the imports, for the regexes and dataclasses that
# only a compilation creates (the lexer's, the library's).
_SAMPLES = (
    "BEGIN { exit(0); }",
    "syscall::getppid:entry /pid == 1/ { @c[execname] = count(); printf(\"%d %s\\n\", pid, "
    "execname); self->t = timestamp; }",
)


def write(path: str = PATH) -> int:
    """Import every pydtrace module and compile the samples, recording what
    @dataclass and re compile; write the cache file (atomically).  The
    number of entries.  In a fresh process (make pyc): what was imported
    before is not recorded."""
    import importlib
    import pkgutil
    import re

    global _recording
    install()
    re.purge()
    _recording = {"code": set(), "regex": set()}
    try:
        import pydtrace

        for mod in pkgutil.walk_packages(pydtrace.__path__, "pydtrace."):
            if not mod.name.endswith("__main__"):
                importlib.import_module(mod.name)
        from pydtrace.api import ERROR_CLAUSE
        from pydtrace.compiler import Compiler
        from pydtrace.errors import DError

        compiler = Compiler()
        for text in (*_SAMPLES, ERROR_CLAUSE):
            try:
                compiler.compile(text, kind="probe", label=text)
            except (DError, OSError):
                pass  # e.g. no kernel types here: only fewer entries
        seen = _recording
    finally:
        _recording = None
    code = {text: _code.get(text) or _compile(text) for text in seen["code"]}
    regex = {}
    if _re_compile_orig is not None:
        for key in seen["regex"]:
            args = _sre_args(*key)
            if args is not None:
                regex[key] = args
    modules, dirs = _bundle()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    blob = marshal.dumps((_header(), code, regex, modules, dirs))
    try:
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return len(code) + len(regex) + len(modules)


def _bundle() -> tuple[dict[str, tuple[str, int, int, bool, bytes]], dict[str, int]]:
    """Every imported submodule of the bundled packages that a source file
    loader loaded, compiled as that loader compiles it."""
    from importlib.machinery import SourceFileLoader

    modules, dirs = {}, {}
    for name, mod in sorted(sys.modules.items()):
        spec = getattr(mod, "__spec__", None)
        if not name.startswith(BUNDLED) or spec is None or spec.origin is None:
            continue
        loader = spec.loader
        if not isinstance(loader, SourceFileLoader) or not spec.origin.endswith(".py"):
            continue
        file = spec.origin
        is_pkg = spec.submodule_search_locations is not None
        own = os.path.dirname(file)
        st = os.stat(file)  # before the read: a later change is a miss
        for d in (own, os.path.dirname(own) if is_pkg else own):  # what _Finder checks
            dirs.setdefault(d, os.stat(d).st_mtime_ns)
        code = loader.source_to_code(loader.get_data(file), file)
        modules[name] = (file, st.st_mtime_ns, st.st_size, is_pkg, marshal.dumps(code))
    return modules, dirs


def main(argv: list[str]) -> int:
    """``python -c 'import pydtrace._codecache as c; c.main(["--write"])'``
    (make pyc; not ``-m``: pydtrace/__init__ imports this module first)."""
    if argv == ["--write"]:
        n = write()
        print(f"pydtrace: {n} start-up cache entries in {PATH}")
        from pydtrace.sema import library

        n = library.write_index()
        print(f"pydtrace: {n} D library files indexed in {library.INDEX_PATH}")
        return 0
    print("usage: pydtrace._codecache.main(['--write'])", file=sys.stderr)
    return 2
