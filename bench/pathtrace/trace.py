#!/usr/bin/env python3
"""An exact instruction profile of one traced getppid() in the guest.

Boots the guest on instruction-count time (tests/vm/run.py --icount
shift=0) with QEMU's gdb stub, runs the tracer (or none) and the workload
in a loop, stops the guest at a do_syscall_64 entry for getppid()
(a hardware breakpoint conditional on $rsi == 110), single-steps to that
call's return logging every pc, then kills the guest.  Prints instructions
per function (names from the guest's /proc/kallsyms; a dynamically
allocated ftrace trampoline shows as the nearest symbol before it).

    bench/pathtrace/trace.py --tool pydtrace \\
        --program 'syscall::getppid:entry { @c = count(); }' --out DIR
    bench/pathtrace/trace.py --report DIR [--function dtrace_aggregate]

Needs gdb on the host, make kmod and .cache/bench/workload (make bench).
One guest at a time: do not run it next to another guest of yours.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GETPPID = 110

GDB = """set pagination off
set confirm off
set architecture i386:x86-64
target remote 127.0.0.1:{port}
maint packet Qqemu.sstepbits=1
hbreak *{entry:#x} if $rsi == {nr}
continue
continue
delete
python
import gdb
ret = int(gdb.parse_and_eval("*(unsigned long *)$rsp")) & 0xffffffffffffffff
pcs = []
ins = {{}}
while len(pcs) < 100000:
    gdb.execute("stepi", to_string=True)
    pcs.append(int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff)
    if pcs[-1] not in ins:
        ins[pcs[-1]] = gdb.execute("x/i $pc", to_string=True).split(":", 1)[-1].strip()
    if pcs[-1] == ret:
        break
open("{out}", "w").write("".join("%x\\n" % p for p in pcs))
open("{out}.insn", "w").write("".join("%x %s\\n" % (p, ins[p]) for p in sorted(ins)))
end
detach
quit
"""


def symbols(kallsyms: Path) -> tuple[list[int], list[str]]:
    syms = []
    for line in kallsyms.read_text().splitlines():
        f = line.split()
        if len(f) >= 3 and f[1].lower() in "tw":
            syms.append((int(f[0], 16), f[2]))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def report(out: Path, function: str | None) -> None:
    addrs, names = symbols(out / "kallsyms")
    pcs = [int(x, 16) for x in (out / "trace.txt").read_text().split()]
    where = [bisect.bisect_right(addrs, pc) - 1 for pc in pcs]
    print(f"{(out / 'what.txt').read_text().strip()}: {len(pcs)} instructions")
    if function:
        base = addrs[names.index(function)]
        hits = collections.Counter(
            pc - base for pc, i in zip(pcs, where, strict=True) if names[i] == function
        )
        print(" ".join(f"{o:#x}:{n}" for o, n in sorted(hits.items())))
        return
    for name, n in collections.Counter(names[i] for i in where).most_common():
        print(f"{n:7d}  {name}")


def trace(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "what.txt").write_text(f"{args.tool} {args.program}\n")
    workload = REPO / ".cache" / "bench" / "workload"
    argv = [sys.executable, str(REPO / "tests/vm/run.py"), "--icount", "shift=0"]
    argv += ["--module", args.module, "--timeout", "1800"]
    argv += ["--qemu-arg=-gdb", f"--qemu-arg=tcp:127.0.0.1:{args.port}", "--"]
    argv += ["bash", str(REPO / "bench/pathtrace/guest.sh"), args.tool, args.program]
    argv += [str(workload)]
    before = set(Path("/tmp").glob("pydtrace-vm.*"))
    vm = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        share = None
        while share is None or not (share / "ready").exists():
            if vm.poll() is not None:
                sys.exit(f"pathtrace: the guest exited {vm.returncode} (.cache/vm/last/)")
            new = set(Path("/tmp").glob("pydtrace-vm.*")) - before
            share = next(iter(new), share)
            time.sleep(1)
        (out / "kallsyms").write_bytes((share / "kallsyms").read_bytes())
        addrs, names = symbols(out / "kallsyms")
        entry = addrs[names.index("do_syscall_64")]
        cmd = out / "gdb.cmd"
        cmd.write_text(GDB.format(port=args.port, entry=entry, nr=GETPPID, out=out / "trace.txt"))
        r = subprocess.run(
            ["gdb", "-q", "-nx", "-batch", "-x", str(cmd)],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        (out / "gdb.log").write_text(r.stdout + r.stderr)
        (share / "traced").write_text("1\n")
    finally:
        vm.send_signal(signal.SIGTERM)  # run.py kills its QEMU
        vm.wait()
    report(out, None)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", choices=("none", "pydtrace", "bpftrace"), default="pydtrace")
    ap.add_argument("--program", default="")
    ap.add_argument("--module", default=str(REPO / "kmod" / "dtrace.ko"))
    ap.add_argument("--port", type=int, default=23457)
    ap.add_argument("--out", help="directory for the trace (trace.txt, kallsyms)")
    ap.add_argument("--report", metavar="DIR", help="print the profile of a saved trace")
    ap.add_argument("--function", help="with --report: hits per offset in this function")
    args = ap.parse_args()
    if args.report:
        report(Path(args.report), args.function)
        return 0
    if not args.out:
        ap.error("--out DIR (or --report DIR)")
    return trace(args)


if __name__ == "__main__":
    sys.exit(main())
