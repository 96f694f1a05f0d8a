"""The command line on the host: parsing, compile-only runs, dtrace's messages
and exit statuses.  Tracing itself is tested in the guest (tests/kernel)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pydtrace.api import crop_label, parse_probe_pattern, strip_interpreter_line
from pydtrace.cli import ProgramArg, main, program_args

NO_DEVICE = not os.path.exists("/dev/dtrace")


def run(capsys, *argv: str, prog: str = "pydtrace") -> tuple[int, str, str]:
    rc = main(list(argv), prog=prog)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_no_arguments_prints_usage_and_exits_2(capsys):
    rc, out, err = run(capsys)
    assert rc == 2 and out == ""
    assert err.startswith("Usage: pydtrace ")


def test_illegal_option_is_a_usage_error(capsys):
    rc, out, err = run(capsys, "-z")
    assert rc == 2
    assert err.splitlines()[0] == "pydtrace: illegal option -- z"
    assert err.splitlines()[1].startswith("Usage: pydtrace ")


def test_missing_option_argument_is_a_usage_error(capsys):
    rc, _, err = run(capsys, "-q", "-n")
    assert rc == 2
    assert err.splitlines()[0] == "pydtrace: option requires an argument -- n"


def test_compile_only_succeeds_silently(capsys):
    assert run(capsys, "-e", "-n", 'BEGIN { trace("hello"); exit(0); }') == (0, "", "")


def test_stacked_flags_and_attached_values(capsys):
    assert run(capsys, "-qen", "BEGIN { exit(0); }") == (0, "", "")
    assert run(capsys, "-xquiet", "-en", "BEGIN { exit(0); }") == (0, "", "")


def test_compile_error_with_and_without_errtags(capsys):
    rc, out, err = run(capsys, "-e", "-n", "BEGIN { x = ; }")
    assert (rc, out) == (1, "")
    assert err == 'pydtrace: invalid probe specifier BEGIN { x = ; }: syntax error near ";"\n'
    rc, out, err = run(capsys, "-xerrtags", "-e", "-n", "BEGIN { x = ; }")
    assert rc == 1
    assert err == (
        'pydtrace: invalid probe specifier BEGIN { x = ; }: [D_SYNTAX] syntax error near ";"\n'
    )


def test_messages_use_the_program_name(capsys):
    rc, _, err = run(capsys, "-e", "-n", "BEGIN { x = ; }", prog="dtrace")
    assert rc == 1 and err.startswith("dtrace: invalid probe specifier ")


def test_unknown_x_option(capsys):
    rc, _, err = run(capsys, "-x", "nosuchoption=1", "-e", "-n", "BEGIN")
    assert rc == 1
    assert err == "pydtrace: failed to set -x nosuchoption: Invalid option name\n"


def test_script_file_and_interpreter_line_keep_line_numbers(capsys, tmp_path):
    good = tmp_path / "good.d"
    good.write_text("#!/usr/bin/env -S pydtrace -s\nBEGIN\n{\n\texit(0);\n}\n")
    assert run(capsys, "-e", "-s", str(good)) == (0, "", "")
    bad = tmp_path / "bad.d"
    bad.write_text("#!/usr/bin/env -S pydtrace -s\nBEGIN\n{\n\tx = ;\n}\n")
    rc, _, err = run(capsys, "-e", "-s", str(bad))
    assert rc == 1
    assert err == f'pydtrace: failed to compile script {bad}: line 4: syntax error near ";"\n'


def test_macro_arguments_after_the_script(capsys, tmp_path):
    script = tmp_path / "m.d"
    script.write_text("BEGIN { trace($1 + 1); trace($$2); exit(0); }\n")
    assert run(capsys, "-e", "-s", str(script), "41", "hello") == (0, "", "")
    rc, _, err = run(capsys, "-e", "-s", str(script), "41")
    assert rc == 1 and "macro argument $$2 is not defined" in err, err
    rc, _, err = run(capsys, "-e", "-s", str(script), "41", "hello", "extra")
    assert rc == 1 and "$3" in err, err


def test_dash_S_lists_every_difo_on_stderr(capsys):
    rc, out, err = run(capsys, "-Se", "-n", "BEGIN /1 > 0/ { trace(6 * 7); exit(0); }")
    assert (rc, out) == (0, "")
    assert "\nDIFO 0x0 returns D type (integer) (size 4)\nOFF OPCODE      INSTRUCTION\n" in err
    assert "\nDIFO 0x1 returns D type (integer) (size 4)\n" in err
    # dt_dis.c's "%-4s %%r%u, %%r%u, %%r%u" and "%-4s %%r%u"
    assert "    mul  %r1, %r2, %r1\n" in err
    assert err.count("    ret  %r1\n") == 3


def test_missing_script_file(capsys, tmp_path):
    rc, _, err = run(capsys, "-e", "-s", str(tmp_path / "none.d"))
    assert rc == 1
    assert err == f"pydtrace: failed to open {tmp_path / 'none.d'}: No such file or directory\n"


def test_programs_keep_argv_order():
    argv = ["-n", "A", "-qs", "b.d", "-x", "quiet", "-nC", "-s", "d.d"]
    assert program_args(argv) == [
        ProgramArg("probe", "A"),
        ProgramArg("script", "b.d"),
        ProgramArg("probe", "C"),
        ProgramArg("script", "d.d"),
    ]


@pytest.mark.skipif(not NO_DEVICE, reason="/dev/dtrace exists here")
def test_tracing_without_the_device_fails_cleanly(capsys):
    rc, out, err = run(capsys, "-n", "BEGIN { exit(0); }")
    assert (rc, out) == (1, "")
    assert err == "pydtrace: failed to initialize dtrace: No such file or directory\n"
    rc, out, err = run(capsys, "-l")
    assert (rc, out) == (1, "")


def test_labels_and_patterns():
    assert crop_label("BEGIN { exit(0); }") == "BEGIN "
    assert crop_label("syscall::read:entry/pid == 1/{}") == "syscall::read:entry"
    assert crop_label("BEGIN") == "BEGIN"
    assert parse_probe_pattern("BEGIN") == ("", "", "", "BEGIN")
    assert parse_probe_pattern("dtrace:::BEGIN { x = 1; }") == ("dtrace", "", "", "BEGIN")
    assert parse_probe_pattern("read:entry") == ("", "", "read", "entry")
    assert strip_interpreter_line("#!/bin/x -s\nBEGIN\n") == "\nBEGIN\n"
    assert strip_interpreter_line("BEGIN\n") == "BEGIN\n"


def test_module_entry_point_has_no_traceback():
    p = subprocess.run(
        [sys.executable, "-m", "pydtrace", "-e", "-n", "BEGIN { x = ; }"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 1
    assert p.stderr == 'pydtrace: invalid probe specifier BEGIN { x = ; }: syntax error near ";"\n'
