"""The D library: pydtrace/dlib/*.d and every -L directory, loaded lazily.

DTrace compiles its library files before every program.  pydtrace gets the
same meaning for less: at start it only splits each file into top-level
items (one ';'-terminated declaration each, found by a scanner that skips
comments, strings and braces) and indexes them by the names they define
(typedef names, struct/union tags, inline names, translator output types).
An item is parsed and declared into the program's TypeEnv the first time
the program (or another library item) names it, so a program that uses no
library name parses nothing and never reads BTF for the library.

Order: the system directory, then every -L directory in command-line order;
within a directory the files sorted by name, then reordered so that a file
follows the files it names in `#pragma D depends_on library x.d`.
"""

from __future__ import annotations

import marshal
import os
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydtrace.errors import DError
from pydtrace.lang import ast

if TYPE_CHECKING:
    from pydtrace.sema.decl import TypeEnv

SYSTEM_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dlib")

_IDENT = re.compile(r"[A-Za-z_]\w*")
_INLINE = re.compile(r"\binline\b[^=]*?\b([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*=")
_TRANSLATOR = re.compile(r"\btranslator\s+([^<]+?)\s*<")
_TAGDEF = re.compile(r"\b(struct|union|enum)\s+([A-Za-z_]\w*)\s*\{")
_EXTERN = re.compile(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*;\s*$")
_DEPENDS = re.compile(r"#\s*pragma\s+D\s+depends_on\s+library\s+(\S+)")


@dataclass
class Item:
    """One top-level declaration of a library file."""

    index: int
    text: str
    file: str
    line: int
    kind: str = ""  # "typedef", "tag", "inline", "translator", "other"
    names: list[str] = field(default_factory=list)

    def source(self) -> str:
        # leading newlines keep the parser's line numbers the file's
        return "\n" * (self.line - 1) + self.text


def split_items(text: str) -> list[tuple[str, int]]:
    """Top-level items of a D library file as (text, first line): each ends
    with a ';' outside braces, comments, strings and character constants;
    control lines (#pragma ...) are items of their own."""
    out: list[tuple[str, int]] = []
    i, n, line = 0, len(text), 1
    depth = 0
    start, start_line = 0, 1
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            at_line_start = True
            i += 1
            continue
        if at_line_start and c == "#" and depth == 0 and not text[start:i].strip():
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append((text[i:end], line))
            i = start = end
            start_line = line
            continue
        if not c.isspace():
            at_line_start = False
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == ";" and depth == 0:
            chunk = _strip_comments(text[start : i + 1])
            stripped = chunk.lstrip()
            first = start_line + chunk[: len(chunk) - len(stripped)].count("\n")
            out.append((stripped, first))
            start, start_line = i + 1, line
        i += 1
    rest = _strip_comments(text[start:])
    if rest.strip():
        stripped = rest.lstrip()
        out.append((stripped, start_line + rest[: len(rest) - len(stripped)].count("\n")))
    return out


def _strip_comments(text: str) -> str:
    """The text with comments blanked (newlines kept), for the name scan."""
    if "/" not in text:
        return text
    return re.sub(
        r"/\*.*?\*/|//[^\n]*", lambda m: "\n" * m.group(0).count("\n") or " ", text, flags=re.S
    )


def _classify(item: Item) -> None:
    text = item.text
    head = text.lstrip()
    if head.startswith("#"):
        item.kind = "pragma"
        return
    if head.startswith("inline"):
        m = _INLINE.match(head)
        item.kind, item.names = "inline", [m.group(1)] if m else []
        return
    if re.match(r"extern\b", head):
        m = _EXTERN.search(head)
        item.kind, item.names = "extern", [m.group(1)] if m else []
        return
    if head.startswith("translator"):
        m = _TRANSLATOR.match(head)
        item.kind = "translator"
        item.names = [_norm(m.group(1))] if m else []
        return
    tags = [f"{k} {t}" for k, t in _TAGDEF.findall(text)]
    if head.startswith("typedef"):
        # the declared name: the last identifier before the final ';'
        # (outside any braces)
        tail = text[text.rfind("}") + 1 :] if "}" in text else text
        idents = _IDENT.findall(tail)
        item.kind = "typedef"
        item.names = ([idents[-1]] if idents else []) + tags
        return
    if tags:
        item.kind, item.names = "tag", tags
        return
    item.kind = "other"


def _norm(typename: str) -> str:
    return " ".join(typename.replace("*", " * ").split())


# One file scanned: the libraries it depends_on, and its items as
# (text, first line, kind, names).
Scan = tuple[list[str], list[tuple[str, int, str, list[str]]]]


class Library:
    """The index of the library files of one consumer."""

    def __init__(self, dirs: list[str]) -> None:
        self.items: list[Item] = []
        self.names: dict[str, list[Item]] = {}
        self.files: list[str] = []
        scans: dict[str, Scan] = {}  # each file read once
        for path in _ordered_files(dirs, scans):
            self._index(path, scans)

    def _index(self, path: str, scans: dict[str, Scan]) -> None:
        try:
            _, scanned = _scan(path, scans)
        except OSError as e:
            raise DError(
                "D_PRAGMA_DEPEND", f"failed to open library {path}: {e.strerror}"
            ) from None
        self.files.append(path)
        for chunk, line, kind, names in scanned:
            item = Item(len(self.items), chunk, path, line, kind, list(names))
            self.items.append(item)
            for name in item.names:
                self.names.setdefault(
                    f"{item.kind}:{name}"
                    if item.kind in ("inline", "translator", "extern")
                    else f"type:{name}",
                    [],
                ).append(item)

    # -- lookups (cheap: dictionary tests, nothing parsed) -------------------------------

    def has_typedef(self, name: str) -> bool:
        return f"type:{name}" in self.names

    def has_inline(self, name: str) -> bool:
        return f"inline:{name}" in self.names

    def lookup(self, key: str) -> list[Item]:
        return self.names.get(key, [])

    def others(self) -> list[Item]:
        return [i for i in self.items if i.kind == "other"]


def _ordered_files(dirs: list[str], scans: dict[str, Scan]) -> list[str]:
    """Every *.d file of dirs, in directory order, each after its
    `depends_on library` dependencies (dt_lib_depend_sort)."""
    files: list[str] = []
    for d in dirs:
        try:
            names = sorted(n for n in os.listdir(d) if n.endswith(".d"))
        except OSError as e:
            raise DError(
                "D_PRAGMA_DEPEND", f"failed to open library directory {d}: {e.strerror}"
            ) from None
        files += [os.path.join(d, n) for n in names]
    by_base: dict[str, str] = {}
    for f in files:
        by_base.setdefault(os.path.basename(f), f)
    deps: dict[str, list[str]] = {}
    for f in files:
        try:
            named, _ = _scan(f, scans)
        except OSError:
            named = []
        wanted = []
        for dep in named:
            if dep not in by_base:
                raise DError(
                    "D_PRAGMA_DEPEND",
                    f"library {os.path.basename(f)} depends on missing library {dep}",
                )
            wanted.append(by_base[dep])
        deps[f] = wanted
    out: list[str] = []
    state: dict[str, int] = {}

    def visit(f: str) -> None:
        s = state.get(f, 0)
        if s == 2:
            return
        if s == 1:
            raise DError(
                "D_PRAGMA_DEPEND", f"cyclic library dependency involving {os.path.basename(f)}"
            )
        state[f] = 1
        for d in deps[f]:
            visit(d)
        state[f] = 2
        out.append(f)

    for f in files:
        visit(f)
    return out


def _scan(path: str, scans: dict[str, Scan]) -> Scan:
    """A library file scanned (raises OSError), once per scans: from the
    prebuilt index of the system directory when it is of this very file."""
    done = scans.get(path)
    if done is None:
        done = _prebuilt(path)
    if done is None:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        done = _scan_text(text, path)
    scans[path] = done
    return done


def _scan_text(text: str, path: str) -> Scan:
    named = [dep.strip('"') for dep in _DEPENDS.findall(text)] if "depends_on" in text else []
    scanned = []
    for chunk, line in split_items(text):
        item = Item(0, chunk, path, line)
        _classify(item)
        scanned.append((chunk, line, item.kind, item.names))
    return named, scanned


# The system directory's files scanned ahead (make pyc: write_index()), each
# with the size and mtime of the file it was scanned from; used only with
# this very scanner (this file's size and mtime) and Python.
INDEX_PATH = os.path.join(
    SYSTEM_DIR, "__pycache__", f"index.{sys.implementation.cache_tag}.marshal"
)
_index_table: dict[str, list[object]] | None = None


def _index_key() -> list[object]:
    st = os.stat(__file__)
    return ["pydtrace D library index 1", sys.version, st.st_size, st.st_mtime_ns]


def _prebuilt(path: str) -> Scan | None:
    global _index_table
    if os.path.dirname(path) != SYSTEM_DIR:
        return None
    if _index_table is None:
        _index_table = {}
        try:
            with open(INDEX_PATH, "rb") as f:
                key, table = marshal.loads(f.read())
            if key == _index_key() and isinstance(table, dict):
                _index_table = table
        except (OSError, ValueError, EOFError, TypeError):
            pass
    entry = _index_table.get(os.path.basename(path))
    if entry is None:
        return None
    size, mtime_ns, named, scanned = entry
    try:
        st = os.stat(path)
    except OSError:
        return None
    if st.st_size != size or st.st_mtime_ns != mtime_ns:
        return None
    return named, scanned  # type: ignore[return-value]


def write_index(path: str = INDEX_PATH) -> int:
    """Scan the system directory's files into the index file; how many."""
    table: dict[str, list[object]] = {}
    for name in sorted(os.listdir(SYSTEM_DIR)):
        if not name.endswith(".d"):
            continue
        f = os.path.join(SYSTEM_DIR, name)
        with open(f, encoding="utf-8", errors="replace") as fh:
            st = os.fstat(fh.fileno())
            text = fh.read()
        named, scanned = _scan_text(text, f)
        table[name] = [st.st_size, st.st_mtime_ns, named, scanned]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as out:
            out.write(marshal.dumps((_index_key(), table)))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return len(table)


_CACHE: dict[tuple[str, ...], Library] = {}


def library(dirs: list[str]) -> Library:
    """The (cached) index of the library in dirs."""
    key = tuple(dirs)
    lib = _CACHE.get(key)
    if lib is None:
        lib = _CACHE[key] = Library(dirs)
    return lib


def load(env: TypeEnv, key: str) -> bool:
    """Declare the library items defining key ("type:name", "inline:name",
    "translator:outname", "extern:name") into env, once; True when there
    were any."""
    lib = env.library
    if lib is None:
        return False
    items = [i for i in lib.lookup(key) if i.index not in env.loaded]
    if not items:
        return bool(lib.lookup(key))
    from pydtrace.lang.parser import parse
    from pydtrace.sema.check import Checker, Scope

    for item in items:
        env.loaded.add(item.index)
        own = set(item.names) if item.kind == "typedef" else set()
        try:
            tree = parse(
                item.source(), lambda name, own=own: name not in own and env.is_typename(name)
            )
            checker = Checker(Scope(), env)
            checker.library_item = True
            for decl in tree.items:
                if not isinstance(decl, ast.Pragma):
                    checker.declare(decl)
        except DError as e:
            if not getattr(e, "library", False):
                e.library = True  # type: ignore[attr-defined]
                e.message = f"in D library file {item.file}: {e.message}"
            raise
    return True
