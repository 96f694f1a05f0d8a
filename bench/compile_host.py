#!/usr/bin/env python3
"""Compile time of a 300-line D script on the host, warm (issue 3's target:
under 150 ms).

The script is 30 clauses of 10 lines each, of the kinds people write:
predicates, thread-local and clause-local variables, associative arrays,
aggregations with keys, printf, string subroutines, kernel types through
curthread (BTF).  It is compiled once to warm the caches (BTF, the D
library), then timed N times in the same process; prints the median and
range of wall and CPU time.

    .venv/bin/python bench/compile_host.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

from pydtrace.compiler import Compiler

CLAUSE = """\
syscall::{name}:entry
/execname != "pydtrace" && pid != $pid/
{{
\tself->ts{i} = timestamp;
\tthis->n{i} = arg2 * 2 + {i};
\t@calls{i}[execname, probefunc] = count();
\t@bytes{i}[execname] = sum(this->n{i});
\tself->name{i} = strjoin(execname, "-{i}");
\tprintf("%s %d %d\\n", self->name{i}, pid, curthread->pid);
}}
"""
NAMES = (
    "read write openat close mmap munmap brk ioctl pread64 pwrite64 readv writev access pipe "
    "select sched_yield mremap msync mincore madvise dup dup2 pause nanosleep getpid sendfile "
    "socket connect accept sendto"
).split()


def script() -> str:
    text = "".join(CLAUSE.format(name=n, i=i) for i, n in enumerate(NAMES))
    assert text.count("\n") == 300, text.count("\n")
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    src = script()
    Compiler().compile(src, kind="script", label="bench.d")  # warm
    walls, cpus = [], []
    for _ in range(args.runs):
        w, c = time.perf_counter(), time.process_time()
        Compiler().compile(src, kind="script", label="bench.d")
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    for what, xs in (("wall", walls), ("cpu", cpus)):
        print(
            f"300-line script, {what}: median {statistics.median(xs) * 1000:.1f} ms "
            f"({min(xs) * 1000:.1f} - {max(xs) * 1000:.1f}), {args.runs} runs"
        )


if __name__ == "__main__":
    main()
