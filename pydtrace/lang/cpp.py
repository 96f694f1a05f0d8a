"""dtrace -C: run the C preprocessor over a D program.

The output keeps cpp's line markers ("# N file"), which the lexer turns
into line numbers, so errors name the line of the original file.  A leading
"#!" line is blanked first (cpp would reject it).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from pydtrace.errors import library_error


def preprocess(
    text: str,
    *,
    defines: Sequence[str] = (),
    undefs: Sequence[str] = (),
    incdirs: Sequence[str] = (),
    show_includes: bool = False,
    cpppath: str = "cpp",
) -> str:
    """text after cpp with -D/-U/-I/-H as given; EDT_CPPERR on failure."""
    if text.startswith("#!"):
        nl = text.find("\n")
        text = "" if nl < 0 else text[nl:]
    argv = [
        cpppath,
        "-D__linux",
        "-D__linux__",
        "-D__x86_64",
        "-D__LP64__",
        "-D_LP64",
        "-D__SUNW_D=1",
        "-D__SUNW_D_64",
    ]
    argv += [f"-D{d}" for d in defines]
    argv += [f"-U{u}" for u in undefs]
    argv += [f"-I{i}" for i in incdirs]
    if show_includes:
        argv.append("-H")
    argv.append("-")
    try:
        # cpp's stderr is the user's, as dtrace(1)'s: its errors and -H's list
        proc = subprocess.run(argv, input=text, stdout=subprocess.PIPE, text=True, check=False)
    except OSError:
        raise library_error("EDT_CPPFORK") from None
    if proc.returncode != 0:
        raise library_error("EDT_CPPERR")
    return proc.stdout
