"""dtrace(1)'s flags on the host: argument handling, program sources, the
preprocessor, -o, -V, refused flags, -c/-p process handling, -v reports.
Tracing itself is tested in the guest (tests/kernel/test_cli_flags.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pydtrace import __version__, cli_args
from pydtrace.api import Aborted, Consumer
from pydtrace.cli import _Cpp, _Run, _set_options, main
from pydtrace.cli_args import FLAGS, ProgramArg, parse_args, program_args
from pydtrace.cli_spec import full_description, probe_source, split_head
from pydtrace.cli_stability import probe_info, program_info
from pydtrace.cli_usage import usage
from pydtrace.errors import DError
from pydtrace.options import TABLE, Options
from pydtrace.target import TargetError, Targets

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str, prog: str = "pydtrace") -> tuple[int, str, str]:
    rc = main(list(argv), prog=prog)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


# -- program sources --------------------------------------------------------
def test_every_program_source_kept_in_argv_order():
    argv = ["-qP", "syscall", "-n", "A", "-m", "vmlinux", "-lvf", "vfs_read", "-i42", "-s", "x.d"]
    assert program_args(argv) == [
        ProgramArg("probe", "syscall", "provider"),
        ProgramArg("probe", "A", "name"),
        ProgramArg("probe", "vmlinux", "mod"),
        ProgramArg("probe", "vfs_read", "func"),
        ProgramArg("probe", "42", "id"),
        ProgramArg("script", "x.d", "script"),
    ]


def test_options_after_operands_are_still_options():
    assert program_args(["-n", "A", "arg1", "-n", "B"]) == [
        ProgramArg("probe", "A"),
        ProgramArg("probe", "B"),
    ]


def compiled_descriptions(*sources: tuple[str, str]) -> list[list[tuple[str, ...]]]:
    """Compile each (flag form, text) and return each program's ECB descriptions."""
    c = Consumer()
    out = []
    for form, text in sources:
        prog = c.compile(probe_source(text, form, lambda i: f"dtrace:::{['', 'BEGIN', 'END'][i]}"))
        out.append(c.descriptions(prog))
    return out


def test_probe_forms_fill_the_fields_as_dtrace():
    assert compiled_descriptions(
        ("provider", "syscall"),
        ("provider", "syscall,dtrace /1/ { trace(1); }"),
        ("mod", "vmlinux"),
        ("mod", "fbt:vmlinux{}"),
        ("func", "vfs_read"),
        ("func", "vmlinux:vfs_read /arg0/"),
        ("func", "fbt:vmlinux:vfs_read"),
        ("name", "entry"),
        ("id", "2 { trace(2); }"),
        ("id", "1, 2"),
    ) == [
        [("syscall", "", "", "")],
        [("syscall", "", "", ""), ("dtrace", "", "", "")],
        [("", "vmlinux", "", "")],
        [("fbt", "vmlinux", "", "")],
        [("", "", "vfs_read", "")],
        [("", "vmlinux", "vfs_read", "")],
        [("fbt", "vmlinux", "vfs_read", "")],
        [("", "", "", "entry")],
        [("dtrace", "", "", "END")],
        [("dtrace", "", "", "BEGIN"), ("dtrace", "", "", "END")],
    ]


def test_probe_form_errors():
    with pytest.raises(DError, match="Overspecified probe description"):
        full_description("a:b", "provider")
    with pytest.raises(DError, match="Overspecified"):
        full_description("a:b:c:d", "func")
    with pytest.raises(DError, match="invalid probe identifier x"):
        probe_source("x", "id", lambda i: "dtrace:::BEGIN")
    assert split_head("a , b/x/{}") == (["a", "b"], "/x/{}")


def test_overspecified_provider_is_reported_with_the_argument(capsys):
    rc, out, err = run(capsys, "-e", "-P", "a:b { }")
    assert (rc, out) == (1, "")
    assert err == (
        'pydtrace: invalid probe specifier a:b { }: invalid probe description "a:b": '
        "Overspecified probe description\n"
    )


def test_mixed_sources_compile(capsys, tmp_path):
    script = tmp_path / "s.d"
    script.write_text("END { trace(2); }\n")
    rc, out, err = run(
        capsys, "-qe", "-P", "dtrace", "-s", str(script), "-f", "vfs_read { trace(1); }"
    )
    assert (rc, out, err) == (0, "", "")


def test_lines_of_descriptions_for_zdefs_errors(tmp_path):
    script = tmp_path / "z.d"
    script.write_text("BEGIN,\n syscall::nosuchcall:entry\n{\n\texit(0);\n}\n")
    run = _Run("pydtrace", {}, Consumer(), _Cpp())
    prog = run.compile(ProgramArg("script", str(script)))
    assert prog is not None
    assert run.c.descriptions(prog) == [
        ("", "", "", "BEGIN"),
        ("syscall", "", "nosuchcall", "entry"),
    ]
    assert run.desc_line(prog, "syscall::nosuchcall:entry") == 2
    assert run.desc_line(prog, ":::BEGIN") == 1
    assert run.desc_line(prog, "dtrace:::BEGIN") is None


# -- options ------------------------------------------------------------------
def set_options(*argv: str) -> tuple[Options, _Cpp, list[str]]:
    opts, cpp = Options(), _Cpp()
    notes = _set_options(opts, cli_args.ordered_options(list(argv)), cpp)
    return opts, cpp, notes


def test_option_flags_in_argv_order():
    opts, _, _ = set_options("-b", "8m", "-xbufsize=4m", "-qwFZ", "-x", "aggsortkey")
    assert opts.get("bufsize") == 4 << 20  # the later one wins
    for name in ("quiet", "destructive", "flowindent", "zdefs", "aggsortkey"):
        assert opts.is_set(name), name
    opts, _, _ = set_options("-xbufsize=4m", "-b8m")
    assert opts.get("bufsize") == 8 << 20


def test_preprocessor_flags_are_collected():
    opts, cpp, notes = set_options("-D", "A=1", "-UB", "-I/x", "-H", "-Xs")
    assert (cpp.enabled, cpp.defines, cpp.undefs, cpp.incdirs) == (False, ["A=1"], ["B"], ["/x"])
    assert cpp.show_includes and opts.get("stdc") == "s"
    assert notes == ["-X s ignored: cpp(1) runs in its default mode"]
    assert set_options("-C")[1].enabled and set_options("-xcpp")[1].enabled


def test_bad_option_values(capsys):
    rc, _, err = run(capsys, "-b", "lots", "-en", "BEGIN")
    assert (rc, err) == (1, "pydtrace: failed to set -b: Invalid value for specified option\n")
    rc, _, err = run(capsys, "-X", "q", "-en", "BEGIN")
    assert (rc, err) == (1, "pydtrace: failed to set -X q: Invalid value for specified option\n")
    rc, _, err = run(capsys, "-O", "xml", "-en", "BEGIN")
    assert (rc, err) == (1, "pydtrace: failed to set -O xml: Invalid value for specified option\n")


def test_output_format_flag():
    assert set_options("-O", "text")[0].get("oformat") == "text"
    assert set_options("-Ojson")[0].get("oformat") == "json"


CPP_SCRIPT = """#!/usr/bin/env -S pydtrace -Cs
#if defined(GOOD) && VALUE == 3
BEGIN { exit(VALUE); }
#else
BEGIN { x = ; }
#endif
"""


def test_preprocessor_runs_with_C_only(capsys, tmp_path):
    script = tmp_path / "c.d"
    script.write_text(CPP_SCRIPT)
    assert run(capsys, "-e", "-C", "-DGOOD", "-D", "VALUE=3", "-s", str(script)) == (0, "", "")
    rc, _, err = run(capsys, "-e", "-C", "-DGOOD", "-DVALUE=3", "-UGOOD", "-s", str(script))
    assert rc == 1 and 'syntax error near ";"' in err, err
    # -D without -C is accepted, and the script is not preprocessed
    rc, _, err = run(capsys, "-e", "-DGOOD", "-s", str(script))
    assert rc == 1 and err.startswith(f"pydtrace: failed to compile script {script}: "), err
    assert run(capsys, "-e", "-DGOOD", "-U", "X", "-I", "/tmp", "-n", "BEGIN") == (0, "", "")


def test_include_directories(capsys, tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "defs.h").write_text("#define CODE 7\n")
    script = tmp_path / "i.d"
    script.write_text('#include "defs.h"\nBEGIN { exit(CODE); }\n')
    rc, _, err = run(capsys, "-e", "-C", "-s", str(script))
    assert rc == 1 and "Preprocessor failed" in err, err
    assert run(capsys, "-e", "-C", "-I", str(tmp_path / "inc"), "-s", str(script)) == (0, "", "")


# -- other flags ------------------------------------------------------------------
def test_version(capsys):
    rc, out, err = run(capsys, "-V")
    assert (rc, err) == (0, "")
    assert out == f"pydtrace: Sun D 1.13 (pydtrace {__version__})\n"
    assert run(capsys, "-qV", prog="dtrace")[1].startswith("dtrace: Sun D 1.13 ")


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        ("-a", "anonymous tracing is not supported yet"),
        ("-A", "anonymous tracing is not supported yet"),
        ("-G", "USDT provider ELF objects are not supported yet"),
        ("-h", "USDT provider headers are not supported yet"),
    ],
)
def test_refused_flags(capsys, flag, reason):
    rc, out, err = run(capsys, flag, "-n", "BEGIN")
    assert (rc, out, err) == (1, "", f"pydtrace: {flag}: {reason}\n")


def test_help_and_usage_list_every_flag(capsys):
    rc, out, err = run(capsys, "--help")
    assert (rc, err) == (0, "")
    assert out == usage("pydtrace")
    for letter, _, _ in FLAGS:
        assert re.search(rf"^\t-{letter}  \S", out, re.M), letter
    rc, out, err = run(capsys, "-n", "BEGIN", "-z")
    assert (rc, out) == (2, "")
    assert err == "pydtrace: illegal option -- z\n" + usage("pydtrace")


def test_click_runner_surface():
    res = CliRunner().invoke(cli_args.command, ["-qn", "BEGIN", "-xbufsize=4m", "-c", "ls -l", "a"])
    assert res.exit_code == 0, res.output
    assert res.return_value is None or isinstance(res.return_value, dict)
    kw = cli_args.command.main(
        ["-qn", "BEGIN", "-xbufsize=4m", "-c", "ls -l", "a"], standalone_mode=False
    )
    assert kw["quiet"] and kw["probes"] == ("BEGIN",) and kw["xopts"] == ("bufsize=4m",)
    assert kw["commands"] == ("ls -l",) and kw["args"] == ("a",)


def test_man_page_lists_every_flag():
    page = (ROOT / "pydtrace.1").read_text()
    for letter, _, _ in FLAGS:
        assert re.search(rf"^\.BI? \\-{letter}\b", page, re.M), letter
    assert page.startswith(".TH PYDTRACE 1 ")


def test_output_file_is_appended(capsys, tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("before\n")
    for _ in range(2):
        assert run(capsys, "-o", str(out), "-ev", "-n", "BEGIN { exit(0); }") == (0, "", "")
    text = out.read_text()
    assert text.startswith("before\n\nStability attributes for description BEGIN :\n")
    assert text.count("Stability attributes") == 2
    rc, _, err = run(capsys, "-o", str(tmp_path / "no" / "x"), "-en", "BEGIN")
    assert rc == 1
    missing = tmp_path / "no" / "x"
    assert err == f"pydtrace: failed to open output file '{missing}': No such file or directory\n"


def test_stability_reports():
    dtrace = probe_info("dtrace", ("dtrace", "", "", "BEGIN"))
    assert dtrace == (
        "\n\tProbe Description Attributes\n"
        "\t\tIdentifier Names: Stable\n\t\tData Semantics:   Stable\n\t\tDependency Class: Common\n"
        "\n\tArgument Attributes\n"
        "\t\tIdentifier Names: Stable\n\t\tData Semantics:   Stable\n\t\tDependency Class: Common\n"
        "\n\tArgument Types\n\t\tNone\n\n"
    )
    # the minimum over the fields given: only the name field of syscall is Evolving
    only_name = probe_info("syscall", ("", "", "", "entry"))
    assert "Identifier Names: Evolving" in only_name.split("Argument Attributes")[0]
    full = probe_info("syscall", ("syscall", "vmlinux", "read", "entry"))
    assert "Dependency Class: Unknown" in full.split("Argument Attributes")[0]
    text = program_info(
        "description", "BEGIN ", [("dtrace", ("", "", "", "BEGIN")), ("fbt", ("fbt", "", "", ""))]
    )
    assert text.startswith("\nStability attributes for description BEGIN :\n")
    assert "Minimum Probe Description Attributes\n\t\tIdentifier Names: Evolving\n" in text
    assert "Dependency Class: ISA" in text


# -- -c and -p ------------------------------------------------------------------
def test_bad_targets(capsys):
    rc, _, err = run(capsys, "-c", "/no/such/cmd -x", "-n", "BEGIN")
    assert (rc, err) == (1, "pydtrace: failed to execute /no/such/cmd: No such file or directory\n")
    rc, _, err = run(capsys, "-p", "12ab", "-n", "BEGIN")
    assert (rc, err) == (1, "pydtrace: invalid pid: 12ab\n")
    p = subprocess.Popen(["true"])
    p.wait()
    rc, _, err = run(capsys, "-p", str(p.pid), "-n", "BEGIN")
    assert (rc, err) == (1, f"pydtrace: failed to grab pid {p.pid}: No such process\n")


def test_commands_that_cannot_be_executed(capsys, tmp_path):
    # dtrace: "failed to execute <cmd>: <strerror>", status 1, before tracing
    data = tmp_path / "data"
    data.write_text("just text\n")
    data.chmod(0o644)
    text = tmp_path / "text"
    text.write_text("just text\n")
    text.chmod(0o755)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    empty.chmod(0o755)
    cases = [
        (f"{data} a b", f"{data}: Permission denied"),
        (str(tmp_path), f"{tmp_path}: Permission denied"),
        (f"{text} a", f"{text}: Exec format error"),
        (str(empty), f"{empty}: Exec format error"),
        ("no-such-command-anywhere x", "no-such-command-anywhere: No such file or directory"),
        ("", ": No such file or directory"),
    ]
    for cmd, msg in cases:
        rc, out, err = run(capsys, "-c", cmd, "-n", "BEGIN")
        assert (rc, out, err) == (1, "", f"pydtrace: failed to execute {msg}\n"), cmd
    rc, _, err = run(capsys, "-c", str(text), "-n", "BEGIN", prog="dtrace")
    assert (rc, err) == (1, f"dtrace: failed to execute {text}: Exec format error\n")


def test_an_exec_that_fails_after_release_is_reported(tmp_path):
    # passes the checks (a #! script) but exec() fails: its interpreter is missing
    script = tmp_path / "s"
    script.write_text("#!/no/such/interpreter\n")
    script.chmod(0o755)
    with Targets() as t:
        pid = t.create(f"{script} arg")
        with pytest.raises(TargetError) as e:
            t.release()
        assert str(e.value) == f"failed to execute {script}: No such file or directory"
        assert wait_gone(t) == [f"pid {pid} exited with status 127"]


def test_a_successful_exec_releases_without_error(tmp_path):
    with Targets() as t:
        pid = t.create("true")
        t.release()
        assert wait_gone(t) == [f"pid {pid} has exited"]


def wait_gone(t: Targets, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    msgs: list[str] = []
    while not t.all_gone() and time.monotonic() < deadline:
        msgs += t.poll()
        time.sleep(0.01)
    return msgs


def test_created_process_is_held_until_released(tmp_path):
    marker = tmp_path / "ran"
    script = tmp_path / "s.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n")
    with Targets() as t:
        pid = t.create(f"{sys.executable} {script}")
        assert t.first_pid == pid
        time.sleep(0.3)
        assert t.poll() == [] and not marker.exists()
        t.release()
        assert wait_gone(t) == [f"pid {pid} exited with status 3"]
        assert marker.exists()


def test_signalled_and_clean_exits_and_kill_at_close():
    with Targets() as t:
        a = t.create("sleep 30")
        b = t.create("true")
        t.release()
        os.kill(a, signal.SIGTERM)
        assert sorted(wait_gone(t)) == sorted(
            [f"pid {a} terminated by SIGTERM", f"pid {b} has exited"]
        )
    with Targets() as t:
        c = t.create("sleep 30")
        t.release()
    with pytest.raises(ChildProcessError):
        os.waitpid(c, os.WNOHANG)  # killed and reaped by close()


def test_grabbed_process():
    proc = subprocess.Popen(["sleep", "30"])
    try:
        with Targets() as t:
            assert t.grab(str(proc.pid)) == proc.pid
            assert t.poll() == [] and not t.all_gone()
            proc.kill()
            assert wait_gone(t) == [f"pid {proc.pid} has exited"]
        assert proc.wait(5) == -signal.SIGKILL  # not ours to reap
    finally:
        proc.kill()
        proc.wait()


def test_held_child_exits_when_consumer_gives_up():
    t = Targets()
    pid = t.create("true")
    t.close()  # never released
    with pytest.raises(TargetError):
        Targets().create("")
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


# -- the run loop: targets gone, second signal --------------------------------------
class FakeSession:
    def __init__(self, body, out) -> None:
        from pydtrace.consume.loop import Printer

        self.body = body
        self.printer = Printer(None, [], out)  # type: ignore[arg-type]  # finish() only

    def run(self, stop) -> int | None:
        return self.body(stop)


def fake_consumer(body) -> Consumer:
    import io

    c = Consumer(out=io.BytesIO())
    c.session = FakeSession(body, c.out)  # type: ignore[assignment]
    return c


def test_run_ends_when_done_says_so():
    calls = []

    def body(stop):
        while not stop():
            calls.append(1)
        return 7

    c = fake_consumer(body)
    started = []
    assert c.run(done=lambda: len(calls) >= 3, on_go=lambda: started.append(1)) == 7
    assert started == [1] and len(calls) == 3
    assert c.out.getvalue() == b"\n"


def test_second_sigint_aborts():
    def body(stop):
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 10
        while not stop() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert stop()
        os.kill(os.getpid(), signal.SIGINT)  # while "draining"
        time.sleep(5)
        return 0

    before = signal.getsignal(signal.SIGINT)
    c = fake_consumer(body)
    with pytest.raises(Aborted):
        c.run()
    assert signal.getsignal(signal.SIGINT) is before


# -- the audit of issue 7: what the other tests left unchecked ------------------------
def test_stacked_flags_parse_as_getopt():
    kw = parse_args(["-lvn", "syscall::read:*"])
    assert kw["list_mode"] and kw["verbose"] and kw["probes"] == ("syscall::read:*",)
    kw = parse_args(["-qs", "f.d", "-xbufsize=4m", "-x", "quiet", "-b", "8m", "-b1m", "a"])
    assert kw["quiet"] and kw["scripts"] == ("f.d",)
    assert kw["xopts"] == ("bufsize=4m", "quiet") and kw["bufsize"] == ("8m", "1m")
    assert kw["args"] == ("a",)
    assert cli_args.ordered_options(["-qwn", "BEGIN", "-Xs"]) == [
        ("q", ""),
        ("w", ""),
        ("n", "BEGIN"),
        ("X", "s"),
    ]


def test_X_is_accepted_with_a_notice_that_quiet_hides(capsys):
    for std in "acst":
        rc, out, err = run(capsys, f"-X{std}", "-en", "BEGIN")
        assert (rc, out, err) == (
            0,
            "",
            f"pydtrace: -X {std} ignored: cpp(1) runs in its default mode\n",
        )
    assert run(capsys, "-q", "-X", "a", "-en", "BEGIN") == (0, "", "")


# a valid value of each kind of option
_VALUES = {
    "size": "1m",
    "rate": "100ms",
    "int": "1",
    "string": "x",
    "policy": "switch",
    "resize": "auto",
    "oformat": "text",
    "encoding": "ascii",
}


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_option_is_accepted_by_x_and_by_the_pragma(capsys, name):
    spec = TABLE[name]
    value = None if spec.kind == "bool" else _VALUES[spec.kind]
    if name == "libdir":
        value = "/tmp"
    arg = name if value is None else f"{name}={value}"
    assert run(capsys, "-x", arg, "-en", "BEGIN") == (0, "", "")
    assert run(capsys, "-en", f"#pragma D option {arg}\nBEGIN") == (0, "", "")
    opts, _, _ = set_options("-x", arg)
    assert opts.is_set(name)


def test_macro_arguments_with_n_and_defaultargs(capsys):
    prog = "BEGIN { trace($1 + 1); trace($$2); exit(0); }"
    assert run(capsys, "-en", prog, "41", "hi") == (0, "", "")
    rc, _, err = run(capsys, "-en", prog)
    assert rc == 1 and "macro argument $1 is not defined" in err, err
    # defaultargs: the missing ones are 0 and ""
    assert run(capsys, "-xdefaultargs", "-en", prog) == (0, "", "")
    # an argument no macro references is an error, unless -xargref
    rc, _, err = run(capsys, "-en", "BEGIN { exit(0); }", "x")
    assert rc == 1 and "$1 is not referenced" in err, err
    assert run(capsys, "-xargref", "-en", "BEGIN { exit(0); }", "x") == (0, "", "")


def test_usage_errors_exit_2(capsys):
    rc, out, err = run(capsys, "-q")
    assert (rc, out) == (2, "")
    assert err == "pydtrace: no probes specified\n" + usage("pydtrace")
    rc, out, err = run(capsys, "--nosuch", "-n", "BEGIN")
    assert (rc, out) == (2, "")
    assert err.startswith("pydtrace: illegal option -- n\nUsage: pydtrace ")


def test_a_dtrace_link_and_the_classic_interpreter_line(tmp_path):
    exe = Path(sys.executable).parent / "pydtrace"
    assert exe.exists()
    link = tmp_path / "dtrace"
    link.symlink_to(exe)
    p = subprocess.run(
        [str(link), "-en", "BEGIN { x = ; }"], capture_output=True, text=True, check=False
    )
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == 'dtrace: invalid probe specifier BEGIN { x = ; }: syntax error near ";"\n'
    # "#!/usr/sbin/dtrace -s" with the link in its place (-e: compile only)
    good = tmp_path / "good.d"
    good.write_text(f"#!{link} -es\nBEGIN {{ exit(0); }}\n")
    bad = tmp_path / "bad.d"
    bad.write_text(f"#!{link} -es\nBEGIN\n{{\n\tx = ;\n}}\n")
    for script in (good, bad):
        script.chmod(0o755)
    p = subprocess.run([str(good)], capture_output=True, text=True, check=False)
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    p = subprocess.run([str(bad)], capture_output=True, text=True, check=False)
    assert p.returncode == 1
    assert p.stderr == f'dtrace: failed to compile script {bad}: line 4: syntax error near ";"\n'


def test_man_page_is_installed_with_the_package(tmp_path):
    # what pip installs from setup.py's data files (the wheel's .data/data)
    p = subprocess.run(
        [sys.executable, "setup.py", "-q", "install_data", "--install-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    installed = tmp_path / "share" / "man" / "man1" / "pydtrace.1"
    assert installed.read_bytes() == (ROOT / "pydtrace.1").read_bytes()


def test_H_lists_the_included_files_on_stderr(capfd, tmp_path):
    (tmp_path / "inc").mkdir()
    header = tmp_path / "inc" / "defs.h"
    header.write_text("#define CODE 7\n")
    script = tmp_path / "i.d"
    script.write_text('#include "defs.h"\nBEGIN { exit(CODE); }\n')
    rc = main(["-e", "-C", "-H", "-I", str(tmp_path / "inc"), "-s", str(script)], prog="pydtrace")
    out, err = capfd.readouterr()
    assert (rc, out) == (0, "")
    # cpp's own -H list (gcc's cpp adds its include-guard hints after it)
    assert err.startswith(f". {header}\n"), err
    rc = main(["-e", "-C", "-I", str(tmp_path / "inc"), "-s", str(script)], prog="pydtrace")
    assert (rc, capfd.readouterr()) == (0, ("", ""))


def test_the_error_handler_compiles_with_macro_arguments_given(monkeypatch):
    # the command line's $1..$n must not make the library's ERROR clause an
    # "argument not referenced" error (a traceback when tracing started)
    c = Consumer()
    c.compiler.macro_args = ["prog", "41", "hi"]
    enabled: list[str] = []

    class Device:
        def enable(self, data: bytes, label: str) -> None:
            enabled.append(label)

    monkeypatch.setattr(c, "open", lambda: Device())
    c.enable_error_handler()
    assert enabled == ["dtrace:::ERROR "]
    assert c.compiler.macro_args == ["prog", "41", "hi"]
