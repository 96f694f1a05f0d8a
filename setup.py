"""Build the compiled parts: the cffi modules and the Cython consumer."""

from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent


def _cython_extensions() -> list:
    pyx = sorted(ROOT.glob("pydtrace/**/*.pyx"))
    if not pyx:
        return []
    from Cython.Build import cythonize

    return cythonize(
        [str(p.relative_to(ROOT)) for p in pyx],
        compiler_directives={"language_level": "3"},
        quiet=True,
    )


def _cffi_modules() -> list[str]:
    mods = ["libdtrace/build_cffi.py:ffibuilder"]
    if (ROOT / "libdtrace/host/build_difhost.py").exists():
        mods.append("libdtrace/host/build_difhost.py:ffibuilder")
    return mods


def _remove_shadowing_builds() -> None:
    """The builders' standalone mode writes version-tagged modules, which
    Python prefers over the abi3 ones built here: remove them so a stale one
    never hides a fresh build."""
    for so in ROOT.glob("pydtrace/_*.cpython-*.so"):
        so.unlink()


_remove_shadowing_builds()

setup(
    cffi_modules=_cffi_modules(),
    # dtrace(1)'s manual page, as man(1) finds it under the install prefix
    data_files=[("share/man/man1", ["pydtrace.1"])],
    ext_modules=_cython_extensions(),
)
