"""The processes of -c and -p: $target, and the end of tracing when they are gone.

-c cmd: the command is forked at once (so its pid is known while compiling,
for $target) but held before exec() until the probes are enabled; release()
lets it run. A command that cannot be executed is refused before that with
dtrace(1)'s "failed to execute cmd: strerror" (not found, not executable, a
directory, not an executable format); an exec() that fails nevertheless is
reported by release() with the same message. -p pid: the process is only
watched (pidfd_open, or kill(pid, 0) where that is missing). poll() reports
the processes that went away in dtrace(1)'s words ("pid N has exited", "pid N
exited with status S", "pid N terminated by SIGX"). Processes created with -c
that are still alive when tracing ends are killed, as dtrace(1) does; grabbed
ones are left alone.
"""

from __future__ import annotations

import errno
import os
import select
import shutil
import signal
import sys
from dataclasses import dataclass, field


class TargetError(Exception):
    """dtrace(1)'s message for a -c/-p that cannot be honoured."""


@dataclass
class Target:
    """A -c or -p process."""

    pid: int
    created: bool  # -c (our child) rather than -p
    release_fd: int = -1  # -c: the pipe end that lets the child exec
    error_fd: int = -1  # -c: the child's exec() errno arrives here (CLOEXEC)
    name: str = ""  # -c: the command as typed (its first word)
    pidfd: int = -1  # -p: a pidfd, when available
    alive: bool = True


@dataclass
class Targets:
    """The -c and -p processes of a run."""

    procs: list[Target] = field(default_factory=list)

    # -- creation ---------------------------------------------------------
    def create(self, command: str) -> int:
        """Fork command (split on blanks, as dtrace(1)), held until release()."""
        argv = command.split()
        if not argv:
            raise TargetError("failed to execute : No such file or directory")
        path = argv[0] if "/" in argv[0] else shutil.which(argv[0])
        if path is None or not os.path.exists(path):
            raise TargetError(f"failed to execute {argv[0]}: No such file or directory")
        if not os.access(path, os.X_OK) or os.path.isdir(path):
            raise TargetError(f"failed to execute {argv[0]}: Permission denied")
        if not _executable_format(path):
            raise TargetError(f"failed to execute {argv[0]}: {os.strerror(errno.ENOEXEC)}")
        r, w = os.pipe()
        er, ew = os.pipe2(os.O_CLOEXEC)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: wait for the go-ahead, then exec
            os.close(er)
            _child(r, w, ew, path, argv)
        os.close(r)
        os.close(ew)
        self.procs.append(Target(pid, True, release_fd=w, error_fd=er, name=argv[0]))
        return pid

    def grab(self, text: str) -> int:
        """Watch the process with pid text (-p)."""
        try:
            pid = int(text, 10)
        except ValueError:
            pid = 0
        if pid <= 0 or not text.isdigit():
            raise TargetError(f"invalid pid: {text}")
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            raise TargetError(f"failed to grab pid {pid}: No such process") from None
        except PermissionError:
            raise TargetError(f"failed to grab pid {pid}: Permission denied") from None
        pidfd = -1
        if hasattr(os, "pidfd_open"):
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                pidfd = -1
        self.procs.append(Target(pid, False, pidfd=pidfd))
        return pid

    @property
    def first_pid(self) -> int:
        """$target: the first process created or grabbed, 0 if none."""
        return self.procs[0].pid if self.procs else 0

    def __bool__(self) -> bool:
        return bool(self.procs)

    # -- tracing ----------------------------------------------------------
    def release(self) -> None:
        """Let the held -c commands run (tracing has started); raises
        TargetError when one of them could not be executed."""
        for t in self.procs:
            if t.release_fd >= 0:
                try:
                    os.write(t.release_fd, b"g")
                except OSError:
                    pass
                os.close(t.release_fd)
                t.release_fd = -1
        for t in self.procs:
            if t.error_fd >= 0:
                data = _read_all(t.error_fd)  # EOF: exec() succeeded
                os.close(t.error_fd)
                t.error_fd = -1
                if data:
                    err = int.from_bytes(data[:4], "little")
                    raise TargetError(f"failed to execute {t.name}: {os.strerror(err)}")

    def poll(self) -> list[str]:
        """The notices for processes that have gone since the last poll."""
        out = []
        for t in self.procs:
            if not t.alive:
                continue
            msg = self._check(t)
            if msg is not None:
                t.alive = False
                out.append(msg)
        return out

    def all_gone(self) -> bool:
        return bool(self.procs) and not any(t.alive for t in self.procs)

    @staticmethod
    def _check(t: Target) -> str | None:
        if t.created:
            try:
                pid, status = os.waitpid(t.pid, os.WNOHANG)
            except ChildProcessError:
                return f"pid {t.pid} has exited"
            if pid == 0:
                return None
            if os.WIFSIGNALED(status):
                return f"pid {t.pid} terminated by {signal.Signals(os.WTERMSIG(status)).name}"
            code = os.WEXITSTATUS(status)
            if code != 0:
                return f"pid {t.pid} exited with status {code}"
            return f"pid {t.pid} has exited"
        if t.pidfd >= 0:
            ready, _, _ = select.select([t.pidfd], [], [], 0)
            gone = bool(ready)
        else:
            try:
                os.kill(t.pid, 0)
                gone = False
            except ProcessLookupError:
                gone = True
            except PermissionError:
                gone = False
        return f"pid {t.pid} has exited" if gone else None

    def close(self) -> None:
        """Kill the -c processes still alive (or still held) and reap them."""
        for t in self.procs:
            if t.release_fd >= 0:
                os.close(t.release_fd)  # a held child exits on EOF
                t.release_fd = -1
            if t.error_fd >= 0:
                os.close(t.error_fd)
                t.error_fd = -1
            if t.created and t.alive:
                try:
                    os.kill(t.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    os.waitpid(t.pid, 0)
                except ChildProcessError:
                    pass
                t.alive = False
            if t.pidfd >= 0:
                os.close(t.pidfd)
                t.pidfd = -1

    def __enter__(self) -> Targets:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _executable_format(path: str) -> bool:
    """Whether execv() knows path's format (ELF or a #! script); True when
    it cannot be read (execute-only: exec() decides)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return True
    return head == b"\x7fELF" or head[:2] == b"#!"


def _read_all(fd: int) -> bytes:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 64)
        except InterruptedError:
            continue
        if not chunk:
            return out
        out += chunk


def _child(r: int, w: int, ew: int, path: str, argv: list[str]) -> None:
    """The -c child: signals as an exec'd command expects them, wait for the
    go-ahead (EOF: the consumer gave up), exec; never returns.  A failed
    exec() sends its errno on ew (closed by a successful one)."""
    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        os.close(w)
        go = os.read(r, 1)
        os.close(r)
        if go == b"g":
            os.execv(path, argv)
    except OSError as e:
        os.write(ew, (e.errno or 0).to_bytes(4, "little"))
    finally:
        os._exit(127)
