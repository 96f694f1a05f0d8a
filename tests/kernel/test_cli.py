"""The pydtrace command against the real module (run in the test VM as root,
with the module loaded): output, messages and exit statuses as dtrace(1)'s."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kutil import pydtrace as run_pydtrace

pytestmark = pytest.mark.skipif(
    not os.path.exists("/dev/dtrace"), reason="needs /dev/dtrace (run in the test VM)"
)

# dtrace(1)'s formats: "%3s %6s %32s\n" header, "%5s %10s %17s %33s %s\n" for -l
HEADER = f"{'CPU':>3} {'ID':>6} {'FUNCTION:NAME':>32}\n"


def list_row(pid: int | str, prov: str, mod: str, func: str, name: str) -> str:
    return f"{pid:>5} {prov:>10} {mod:>17} {func:>33} {name}"


TIMEOUT = 120


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def test_trace_string_default_output():
    p = pydtrace("-n", 'BEGIN { trace("hello"); exit(0); }')
    assert p.stderr == "pydtrace: description 'BEGIN ' matched 1 probe\n"
    assert p.returncode == 0
    assert p.stdout.startswith(HEADER)
    line = p.stdout[len(HEADER) :].split("\n")[0]
    m = re.fullmatch(r" *(\d+) .*", line)
    assert m, p.stdout
    cpu = int(m.group(1))
    # "%3d %6d %32s " probe line, then trace()'s string format "  %-33s"
    expected_line = f"{cpu:3d} {1:6d} {':BEGIN':>32} " + f"  {'hello':<33}"
    assert p.stdout == HEADER + expected_line + "\n" + "\n"


def test_quiet_printf_and_exit_status():
    p = pydtrace("-qn", 'BEGIN { printf("%d %s\\n", 6 * 7, "ok"); exit(3); }')
    assert (p.stdout, p.stderr, p.returncode) == ("42 ok\n\n", "", 3)


def test_end_runs_after_exit_in_begin():
    p = pydtrace("-qn", 'END { printf("end\\n"); } BEGIN { exit(0); }')
    assert (p.stdout, p.stderr, p.returncode) == ("end\n\n", "", 0)


def test_two_consumers_see_only_their_own_records():
    progs = [f'BEGIN {{ printf("%s\\n", "consumer-{i}"); exit(0); }}' for i in (1, 2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pydtrace", "-qn", prog],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prog in progs
    ]
    outs = [proc.communicate(timeout=TIMEOUT) for proc in procs]
    for i, (proc, (out, err)) in enumerate(zip(procs, outs, strict=True), start=1):
        assert (out, err, proc.returncode) == (f"consumer-{i}\n\n", "", 0)


def test_compile_error_with_and_without_errtags():
    p = pydtrace("-xerrtags", "-n", "BEGIN { x = ; }")
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr == (
        'pydtrace: invalid probe specifier BEGIN { x = ; }: [D_SYNTAX] syntax error near ";"\n'
    )
    p = pydtrace("-n", "BEGIN { x = ; }")
    assert p.returncode == 1
    assert p.stderr == 'pydtrace: invalid probe specifier BEGIN { x = ; }: syntax error near ";"\n'


def test_list_shows_the_dtrace_provider():
    # -P dtrace: a bare -l makes every fbt probe, 77k of them, slowing every
    # later test of this parallel run; serial/test_fbt_glob.py lists them all
    p = pydtrace("-l", "-P", "dtrace")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == list_row("ID", "PROVIDER", "MODULE", "FUNCTION", "NAME")
    assert lines[1:] == [
        list_row(pid, "dtrace", "", "", name)
        for pid, name in ((1, "BEGIN"), (2, "END"), (3, "ERROR"))
    ]
    p = pydtrace("-l", "-n", "dtrace:::E*")
    assert p.stdout.splitlines()[1:] == [
        list_row(pid, "dtrace", "", "", name) for pid, name in ((2, "END"), (3, "ERROR"))
    ]


SCRIPT = """#!/usr/bin/env -S pydtrace -s
#pragma D option quiet
BEGIN
{
	printf("from %s\\n", "script");
	exit(0);
}
"""


def test_script_file(tmp_path: Path):
    script = tmp_path / "x.d"
    script.write_text(SCRIPT.replace("#pragma D option quiet\n", ""))
    p = pydtrace("-q", "-s", str(script))
    assert (p.stdout, p.stderr, p.returncode) == ("from script\n\n", "", 0)
    p = pydtrace("-s", str(script))
    assert p.stderr == f"pydtrace: script '{script}' matched 1 probe\n"
    assert p.returncode == 0


def test_executable_script_with_interpreter_line(tmp_path: Path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "pydtrace"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m pydtrace "$@"\n')
    wrapper.chmod(0o755)
    script = tmp_path / "hello.d"
    script.write_text(SCRIPT)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ.get('PATH', '')}")
    p = subprocess.run(
        [str(script)], capture_output=True, text=True, timeout=TIMEOUT, check=False, env=env
    )
    # the pragma makes it quiet: no "matched" notice
    assert (p.stdout, p.stderr, p.returncode) == ("from script\n\n", "", 0)


def test_sigint_stops_cleanly_and_fires_end():
    proc = subprocess.Popen(
        [sys.executable, "-m", "pydtrace", "-n", "BEGIN { trace(1); } END { trace(2); }"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    # the notices come after enabling: tracing is about to start
    assert proc.stderr.readline() == "pydtrace: description 'BEGIN ' matched 2 probes\n"
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert (err, proc.returncode) == ("", 0)
    lines = out.split("\n")
    assert lines[0] == HEADER.rstrip("\n")
    assert lines[1].endswith(f"{':BEGIN':>32}  {1:8d}")
    assert lines[2].endswith(f"{':END':>32}  {2:8d}")
    assert lines[3:] == ["", ""]


def test_scripting_api_returns_status_and_output():
    from pydtrace.api import trace

    status, out = trace('BEGIN { printf("%d-%s", 6 * 7, "api"); exit(5); }', quiet=True)
    assert (status, out) == (5, b"42-api\n")
