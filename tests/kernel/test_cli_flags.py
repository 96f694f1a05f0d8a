"""dtrace(1)'s flags against the real module (test VM): -c/-p and $target,
-o, -Z, -P/-m/-f/-i with the syscall provider, -w, -lv, SIGINT twice."""

from __future__ import annotations

import os
import re
import signal
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

TIMEOUT = 180


def pydtrace(*args: str, **kw: Any) -> subprocess.CompletedProcess:
    return run_pydtrace(*args, timeout=TIMEOUT, **kw)


def matched(stderr: str, label: str) -> int:
    m = re.search(
        rf"^pydtrace: description '{re.escape(label)}' matched (\d+) probes?$", stderr, re.M
    )
    assert m, stderr
    return int(m.group(1))


def listed(*args: str) -> list[str]:
    p = pydtrace("-l", *args)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()[1:]


def test_c_runs_the_command_once_probes_are_enabled_and_target_is_its_pid():
    p = pydtrace(
        "-c",
        "/bin/echo hello from the target",
        "-n",
        "syscall::write:entry /pid == $target/ { @writes[pid] = count(); }",
        "-n",
        'END { printf("target %d\\n", $target); }',
    )
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert lines[:2] == [
        "pydtrace: description 'syscall::write:entry ' matched 1 probe",
        "pydtrace: description 'END ' matched 1 probe",
    ]
    m = re.fullmatch(r"pydtrace: pid (\d+) has exited", lines[2])
    assert m and len(lines) == 3, p.stderr
    pid = int(m.group(1))
    assert "hello from the target\n" in p.stdout
    assert f"target {pid}\n" in p.stdout
    # the aggregation at the end: the child's write() was traced, so the
    # command ran only after the probes were enabled
    assert re.search(rf"^ +{pid} +[1-9]\d*$", p.stdout, re.M), p.stdout


def test_c_exit_status_is_reported_and_quiet_hides_it():
    p = pydtrace("-c", "/bin/false", "-n", "BEGIN { }")
    assert p.returncode == 0
    assert re.search(r"^pydtrace: pid \d+ exited with status 1$", p.stderr, re.M), p.stderr
    p = pydtrace("-q", "-c", "/bin/true", "-c", "/bin/true", "-n", "BEGIN { }")
    assert (p.returncode, p.stdout, p.stderr) == (0, "\n", "")


def test_p_ends_with_the_process():
    sleeper = subprocess.Popen(["sleep", "4"])
    try:
        p = pydtrace("-p", str(sleeper.pid), "-n", 'END { printf("target %d\\n", $target); }')
    finally:
        sleeper.kill()
        sleeper.wait()
    assert p.returncode == 0, p.stderr
    assert p.stderr.splitlines()[-1] == f"pydtrace: pid {sleeper.pid} has exited"
    assert f"target {sleeper.pid}\n" in p.stdout


def test_o_appends_the_output(tmp_path: Path):
    out = tmp_path / "trace.out"
    prog = 'BEGIN { printf("one %d\\n", 1); exit(0); }'
    for _ in range(2):
        p = pydtrace("-o", str(out), "-qn", prog)
        assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    assert out.read_text() == "one 1\n\none 1\n\n"


def test_descriptions_matching_nothing_need_Z(tmp_path: Path):
    p = pydtrace("-n", "nosuch:::probe { }", "-n", "BEGIN { exit(0); }")
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == (
        "pydtrace: invalid probe specifier nosuch:::probe { }: "
        "probe description nosuch:::probe does not match any probes\n"
    )
    p = pydtrace("-Z", "-n", "nosuch:::probe { }", "-n", "BEGIN { exit(0); }")
    assert p.returncode == 0, p.stderr
    assert p.stderr == (
        "pydtrace: description 'nosuch:::probe ' matched 0 probes\n"
        "pydtrace: description 'BEGIN ' matched 1 probe\n"
    )
    script = tmp_path / "z.d"
    script.write_text("BEGIN, syscall::nosuchcall:entry\n{\n\texit(0);\n}\n")
    p = pydtrace("-s", str(script))
    assert p.returncode == 1
    assert p.stderr == (
        f"pydtrace: failed to compile script {script}: line 1: "
        "probe description syscall::nosuchcall:entry does not match any probes\n"
    )
    assert pydtrace("-Zqs", str(script)).returncode == 0


def test_provider_module_function_and_id_forms():
    syscalls = listed("-P", "syscall")
    assert len(syscalls) > 100 and all(" syscall " in row for row in syscalls)
    assert listed("-m", "syscall:vmlinux") == syscalls
    reads = listed("-f", "read")
    assert [r.split()[1:] for r in reads] == [
        ["syscall", "vmlinux", "read", "entry"],
        ["syscall", "vmlinux", "read", "return"],
    ]
    entry_id = reads[0].split()[0]
    assert listed("-i", entry_id) == reads[:1]

    p = pydtrace(
        "-P",
        "syscall /0/ { }",
        "-f",
        "syscall:vmlinux:read",
        "-i",
        f"{entry_id} /0/ {{ }}",
        "-n",
        "BEGIN { exit(0); }",
    )
    assert p.returncode == 0, p.stderr
    assert matched(p.stderr, "syscall ") == len(syscalls)
    assert matched(p.stderr, "syscall:vmlinux:read") == 2
    assert matched(p.stderr, f"{entry_id} ") == 1


def test_f_with_syscall_probes_traces_the_target():
    p = pydtrace(
        "-q",
        "-c",
        "/bin/cat /etc/hostname",
        "-f",
        'read /pid == $target/ { printf("%s %s\\n", probefunc, probename); }',
    )
    assert p.returncode == 0, p.stderr
    assert "read entry\n" in p.stdout and "read return\n" in p.stdout


def test_w_notice_and_lv_report():
    p = pydtrace("-w", "-n", "BEGIN { exit(0); }")
    assert p.returncode == 0
    assert p.stderr == (
        "pydtrace: description 'BEGIN ' matched 1 probe\npydtrace: allowing destructive actions\n"
    )
    p = pydtrace("-lv", "-n", "dtrace:::BEGIN")
    assert p.returncode == 0
    rows = p.stdout.split("\n")
    assert rows[1].split() == ["1", "dtrace", "BEGIN"]
    assert rows[2:6] == [
        "",
        "\tProbe Description Attributes",
        "\t\tIdentifier Names: Stable",
        "\t\tData Semantics:   Stable",
    ]
    assert "\tArgument Types\n\t\tNone\n" in p.stdout


def test_second_sigint_aborts_while_draining():
    # END writes more than a pipe holds; nobody reads: draining blocks
    big = " ".join('printf("%4000s\\n", "x");' for _ in range(40))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pydtrace", "-n", f"END {{ {big} }}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    assert proc.stderr.readline() == b"pydtrace: description 'END ' matched 1 probe\n"
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    time.sleep(4)
    assert proc.poll() is None  # stuck writing END's output
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 1
    assert len(out) < 40 * 4001  # END's output was not all written


# -- the audit of issue 7: what the other tests left unchecked ------------------------
def test_program_sources_run_in_argv_order(tmp_path: Path):
    script = tmp_path / "b.d"
    script.write_text('BEGIN { printf("b"); }\n')
    p = pydtrace(
        "-q",
        "-n",
        'BEGIN { printf("a"); }',
        "-s",
        str(script),
        "-i",
        '1 { printf("c"); }',  # probe 1 is dtrace:::BEGIN
        "-P",
        'dtrace /probename == "BEGIN"/ { printf("d"); }',
        "-m",
        'dtrace: /probename == "BEGIN"/ { printf("e"); }',
        "-n",
        'BEGIN { printf("\\n"); exit(0); }',
    )
    assert (p.returncode, p.stderr) == (0, ""), p.stderr
    assert p.stdout == "abcde\n\n"
    # the same sources the other way round: the clauses run in that order
    p = pydtrace(
        "-q", "-n", 'BEGIN { printf("x"); }', "-s", str(script), "-n", "BEGIN { exit(0); }"
    )
    assert p.stdout == "xb\n"
    p = pydtrace("-q", "-s", str(script), "-n", 'BEGIN { printf("x"); exit(0); }')
    assert p.stdout == "bx\n"


def test_several_p_end_when_all_are_gone_and_target_is_the_first():
    short = subprocess.Popen(["sleep", "2"])
    longer = subprocess.Popen(["sleep", "6"])
    try:
        p = pydtrace(
            "-p",
            str(short.pid),
            "-p",
            str(longer.pid),
            "-n",
            'END { printf("target %d\\n", $target); }',
        )
    finally:
        for proc in (short, longer):
            proc.kill()
            proc.wait()
    assert p.returncode == 0, p.stderr
    gone = [line for line in p.stderr.splitlines() if line.endswith("has exited")]
    assert gone == [
        f"pydtrace: pid {short.pid} has exited",
        f"pydtrace: pid {longer.pid} has exited",
    ]
    assert f"target {short.pid}\n" in p.stdout


def test_c_whose_exec_fails_after_the_probes_are_enabled(tmp_path: Path):
    script = tmp_path / "s"
    script.write_text("#!/no/such/interpreter\n")
    script.chmod(0o755)
    p = pydtrace("-q", "-c", f"{script} a", "-n", "BEGIN { }")
    assert p.returncode == 1
    assert p.stderr == f"pydtrace: failed to execute {script}: No such file or directory\n"
    data = tmp_path / "data"
    data.write_text("text\n")
    data.chmod(0o644)
    p = pydtrace("-q", "-c", str(data), "-n", "BEGIN { }")
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == f"pydtrace: failed to execute {data}: Permission denied\n"


def test_sigint_prints_end_and_the_aggregations_and_exits_0():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pydtrace",
            "-q",
            "-n",
            'BEGIN { printf("started\\n"); } tick-10ms { @ticks = count(); }',
            "-n",
            'END { printf("end\\n"); }',
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n"  # tracing has started
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert (err, proc.returncode) == ("", 0)
    m = re.fullmatch(r"end\n\n +(\d+)\n+", out)
    assert m and int(m.group(1)) > 0, out


def test_macro_arguments_at_run_time():
    p = pydtrace("-qn", 'BEGIN { printf("%d %s\\n", $1 + 1, $$2); exit(0); }', "41", "hi")
    assert (p.returncode, p.stderr, p.stdout) == (0, "", "42 hi\n\n")


def test_a_dtrace_link_names_every_message(tmp_path: Path):
    link = tmp_path / "dtrace"
    link.symlink_to(Path(sys.executable).parent / "pydtrace")
    p = subprocess.run(
        [str(link), "-n", "BEGIN { trace(*(int *)8); } BEGIN { exit(0); }"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert lines[0] == "dtrace: description 'BEGIN ' matched 2 probes"
    assert lines[1].startswith("dtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): ")
    assert len(lines) == 2, p.stderr


def test_target_is_the_first_of_mixed_c_and_p():
    sleeper = subprocess.Popen(["sleep", "3"])
    try:
        p = pydtrace(
            "-q",
            "-p",
            str(sleeper.pid),
            "-c",
            "/bin/true",
            "-n",
            'END { printf("target %d\\n", $target); }',
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout == f"target {sleeper.pid}\n\n"
