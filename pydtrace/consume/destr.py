"""system() and freopen(): the destructive actions the consumer performs
(dtrace-internals 3.2, 7.10).

Both are printf-like: a format and argument records, formatted as printf()
formats them.  Followed: illumos libdtrace dt_consume.c (dtrace_system,
dtrace_freopen).

* system(): our output is flushed first, then the text runs as
  ``/bin/sh -c text`` with our standard streams, and we wait for it; its
  output therefore interleaves with ours in order.  Its status is ignored.
* freopen(path): further output goes to path (created, appended to); like
  dtrace, which dup2()s the new file over its output's descriptor, an output
  with a file descriptor is redirected at that descriptor, so the commands
  of system() write there too.  ``freopen("")`` restores the original
  output (stdout, or the -o file).  A file that cannot be opened is a
  library error on the probe ("<path>: <strerror>"); tracing goes on.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Sequence
from typing import BinaryIO

from pydtrace.abi import lib
from pydtrace.fmt import Format
from pydtrace.runtime import RecDesc

KINDS = (lib.DTRACEACT_SYSTEM, lib.DTRACEACT_FREOPEN)
SHELL = "/bin/sh"


@dataclasses.dataclass(frozen=True)
class ShellItem:
    """A system() or freopen() action: its kind, format and records (the
    first carries the format index).  ``size`` 0: it prints nothing itself."""

    action: int
    fmt: Format
    recs: Sequence[RecDesc]
    size: int = 0


def run_system(command: bytes, out: BinaryIO) -> None:
    """dtrace_system(): flush our output, then run the command and wait."""
    import subprocess  # here: subprocess (and threading) cost every start otherwise

    out.flush()
    subprocess.run([SHELL, "-c", os.fsdecode(command)], check=False)


class Redirect:
    """The freopen() state of one output stream."""

    def __init__(self) -> None:
        self.saved_fd: int | None = None  # the original descriptor, dup()ed
        self.saved_out: BinaryIO | None = None  # the original object

    def freopen(self, out: BinaryIO, path: bytes) -> BinaryIO:
        """Redirect out to path ("" restores); the stream to write to from
        now on.  Raises OSError when path cannot be opened."""
        fd = _fileno(out)
        out.flush()
        if fd is not None and self.saved_out is None:
            return self._by_fd(fd, path, out)
        return self._by_object(out, path)

    def _by_fd(self, fd: int, path: bytes, out: BinaryIO) -> BinaryIO:
        if not path:
            if self.saved_fd is not None:
                os.dup2(self.saved_fd, fd)
                os.close(self.saved_fd)
                self.saved_fd = None
            return out
        nfd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            if self.saved_fd is None:
                self.saved_fd = os.dup(fd)
            os.dup2(nfd, fd)
        finally:
            os.close(nfd)
        return out

    def _by_object(self, out: BinaryIO, path: bytes) -> BinaryIO:
        if not path:
            if self.saved_out is None:
                return out
            orig, self.saved_out = self.saved_out, None
            out.close()
            return orig
        new = open(path, "ab")  # noqa: SIM115 - closed on the next freopen or close()
        if self.saved_out is None:
            self.saved_out = out
        else:
            out.close()
        return new

    def close(self, out: BinaryIO) -> BinaryIO:
        """The end of the run: back to the original output."""
        if self.saved_fd is not None or self.saved_out is not None:
            out.flush()
            return self.freopen(out, b"")
        return out


def _fileno(out: BinaryIO) -> int | None:
    try:
        return out.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
