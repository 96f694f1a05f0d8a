"""cffi builder of ``pydtrace._difhost``: the DIF validator and interpreter
(``kmod/dif/validate.c``, ``kmod/dif/emulate.c``, ``kmod/dif/subr.c``) built
for the host with the host environment ``libdtrace/host/dif_env_host.c``, for
tests and fuzzing.

Every constant and struct of the uapi header comes from the same generated
cdef as ``pydtrace._libdtrace`` (``libdtrace/build_cffi.py``), so tests take
opcode numbers from ``lib.DIF_OP_*``.

Run standalone from anywhere: ``python libdtrace/host/build_difhost.py``
writes ``pydtrace/_difhost*.so``.  ``setup.py`` may instead use
``cffi_modules=["libdtrace/host/build_difhost.py:ffibuilder"]``.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import tempfile
from pathlib import Path
from types import ModuleType

from cffi import FFI

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
UAPI_DIR = ROOT / "kmod" / "include" / "uapi"
DIF_DIR = ROOT / "kmod" / "dif"
SOURCES = [
    DIF_DIR / "validate.c",
    DIF_DIR / "emulate.c",
    DIF_DIR / "subr.c",
    HERE / "dif_env_host.c",
]

_DIF_DEFINE = re.compile(r"^#define\s+(DIF_F_[A-Z]+|DIF_DVAR_[A-Z]+)\s", re.M)

DIF_CDEF = """
struct dif_object {
    const uint32_t *text;
    uint32_t len;
    const unsigned long long *inttab;
    uint32_t intlen;
    const char *strtab;
    uint32_t strlen;
    const struct dtrace_difv *vartab;
    uint32_t varlen;
    struct dtrace_diftype rtype;
    uint32_t destructive;
    ...;
};

struct dif_mstate {
    void *env;
    unsigned long long args[10];
    uint32_t strsize;
    uint16_t flags;
    unsigned long long illval;
    uint32_t fltoffs;
    unsigned long long scratch_base;
    unsigned long long scratch_size;
    unsigned long long scratch_used;
    unsigned long long *globals;
    unsigned long long *locals;
    uint32_t nglobals;
    uint32_t nlocals;
    const struct dif_vinfo *ginfo;
    const struct dif_vinfo *linfo;
    const struct dif_vinfo *tinfo;
    uint32_t ntvars;
    ...;
};

struct dif_vinfo {
    uint32_t size;
    uint32_t string;
};

struct dif_verr {
    uint32_t err;
    uint32_t pc;
};

int dif_validate(struct dif_object *dp, struct dif_verr *err);
unsigned long long dif_emulate(const struct dif_object *dp,
                               struct dif_mstate *ms);
uint32_t dif_fault_code(uint16_t flags);

/* libdtrace/host/dif_env_host.c */
void dif_host_set_fault_range(unsigned long long lo, unsigned long long hi);
void dif_host_set_valid_range(unsigned long long lo, unsigned long long hi);
void dif_host_set_user_range(unsigned long long lo, unsigned long long hi);
int dif_host_set_builtin(uint32_t id, unsigned long long value);
void dif_host_reset(void);
unsigned long dif_host_kload_calls(void);
void dif_host_set_dvar_capacity(unsigned int n);
void dif_host_set_threadkey(unsigned long long key);
unsigned int dif_host_dvar_count(void);
int dif_host_dvar_tails_clean(void);
"""


def _load_abi_builder() -> ModuleType:
    """libdtrace/build_cffi.py, which owns the uapi-header-to-cdef step."""
    path = ROOT / "libdtrace" / "build_cffi.py"
    spec = importlib.util.spec_from_file_location("_pydtrace_build_cffi", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dif_cdef() -> str:
    """The uapi cdef plus dif.h's structs, fault flags and functions."""
    abi = _load_abi_builder().abi_cdef()
    flags = _DIF_DEFINE.findall((DIF_DIR / "dif.h").read_text())
    defines = "".join(f"#define {name} ...\n" for name in flags)
    return abi + DIF_CDEF + defines


def _make_builder() -> FFI:
    ffi = FFI()
    ffi.cdef(dif_cdef())
    ffi.set_source(
        "pydtrace._difhost",
        '#include "dif.h"\n'
        "void dif_host_set_fault_range(__u64 lo, __u64 hi);\n"
        "void dif_host_set_valid_range(__u64 lo, __u64 hi);\n"
        "void dif_host_set_user_range(__u64 lo, __u64 hi);\n"
        "int dif_host_set_builtin(__u32 id, __u64 value);\n"
        "void dif_host_reset(void);\n"
        "unsigned long dif_host_kload_calls(void);\n"
        "void dif_host_set_dvar_capacity(unsigned int n);\n"
        "void dif_host_set_threadkey(__u64 key);\n"
        "unsigned int dif_host_dvar_count(void);\n"
        "int dif_host_dvar_tails_clean(void);\n",
        sources=[str(p.relative_to(ROOT)) for p in SOURCES],
        include_dirs=[str(UAPI_DIR), str(DIF_DIR)],
        extra_compile_args=["-Wall", "-Wextra", "-std=gnu11"],
    )
    return ffi


ffibuilder = _make_builder()


def build() -> Path:
    """Compile in a scratch directory and install the .so into pydtrace/."""
    with tempfile.TemporaryDirectory(prefix="difhost-") as tmp:
        built = Path(ffibuilder.compile(tmpdir=tmp, verbose=False))
        dest = ROOT / "pydtrace" / built.name
        shutil.copy2(built, dest)
    # setup.py builds an abi3 module of the same name; only one may remain.
    (ROOT / "pydtrace" / "_difhost.abi3.so").unlink(missing_ok=True)
    return dest


if __name__ == "__main__":
    print(build())
