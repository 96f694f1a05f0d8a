"""cffi builder of ``pydtrace._libdtrace``.

The ABI part of the cdef is generated from ``kmod/include/uapi/linux/dtrace.h``:
every object-like ``#define`` becomes ``#define NAME ...`` (so the C compiler,
not this script, supplies the value) and every struct is copied with its fields
(so cffi checks the layout against the real header at build time).  The
library's own C API is declared in ``libdtrace/libdtrace.cdef`` and
implemented by ``libdtrace/*.c``.
"""

from __future__ import annotations

import re
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
UAPI_DIR = ROOT / "kmod" / "include" / "uapi"
HEADER = UAPI_DIR / "linux" / "dtrace.h"

_FIXED = {
    "__u8": "uint8_t",
    "__u16": "uint16_t",
    "__u32": "uint32_t",
    "__u64": "unsigned long long",
    "__s8": "int8_t",
    "__s16": "int16_t",
    "__s32": "int32_t",
    "__s64": "long long",
}
_DEFINE = re.compile(r"^#define\s+([A-Za-z_][A-Za-z0-9_]*)(\(?)\s*(.*)$")
_STRUCT = re.compile(r"^struct\s+\w+\s*\{.*?^\};", re.S | re.M)
_INT_LITERAL = re.compile(r"^\(?\s*(0x[0-9a-fA-F]+|\d+)U?\s*\)?$")


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _join_continuations(text: str) -> str:
    return re.sub(r"\\\n", " ", text)


def abi_cdef(header: Path = HEADER) -> str:
    """The cdef for every constant and struct of the uapi header."""
    text = _join_continuations(_strip_comments(header.read_text()))
    literals: dict[str, str] = {}
    defines: list[str] = []
    for line in text.splitlines():
        m = _DEFINE.match(line.strip())
        if not m or m.group(2) == "(" or m.group(1).startswith("_UAPI_"):
            continue
        name, value = m.group(1), m.group(3).strip()
        lit = _INT_LITERAL.match(value)
        if lit:
            literals[name] = lit.group(1)
        defines.append(f"#define {name} ...")
    structs = []
    for block in _STRUCT.findall(text):
        for old, new in _FIXED.items():
            block = re.sub(rf"\b{old}\b", new, block)
        block = re.sub(
            r"\[([A-Z_][A-Z0-9_]*)\]",
            lambda mm: f"[{literals.get(mm.group(1), '...')}]",
            block,
        )
        structs.append(block)
    return "\n".join(structs + defines) + "\n"


def _library_sources() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in HERE.glob("*.c"))


ffibuilder = FFI()
ffibuilder.cdef(abi_cdef())
_api = HERE / "libdtrace.cdef"
if _api.exists():
    ffibuilder.cdef(_api.read_text())
ffibuilder.set_source(
    "pydtrace._libdtrace",
    '#include <linux/dtrace.h>\n'
    + ('#include "libdtrace.h"\n' if (HERE / "libdtrace.h").exists() else ""),
    sources=_library_sources(),
    include_dirs=[str(UAPI_DIR), str(HERE)],
    extra_compile_args=["-Wall", "-Wextra", "-std=gnu11"],
)

if __name__ == "__main__":
    import os

    os.chdir(ROOT)
    ffibuilder.compile(verbose=False)
    # setup.py builds an abi3 module of the same name; only one may remain.
    (ROOT / "pydtrace" / "_libdtrace.abi3.so").unlink(missing_ok=True)
    for leftover in ("pydtrace/_libdtrace.c", "pydtrace/_libdtrace.o"):
        (ROOT / leftover).unlink(missing_ok=True)
