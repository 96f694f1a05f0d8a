"""dtrace(1)'s usage text, adapted to the flags pydtrace accepts (no -32/-64;
-O for the output format), and the version line of -V."""

from __future__ import annotations

# dtrace -V prints "dtrace: Sun D 1.13": the D language version its compiler
# implements.  pydtrace implements that language (Sun D 1.13, as illumos's
# dtrace(1) reports it), and says which pydtrace it is after it.
D_VERSION = "Sun D 1.13"

_USAGE = """\
Usage: {prog} [-aACeFGhHlqSvVwZ] [-b bufsz] [-c cmd] [-D name[=def]]
\t[-I path] [-L path] [-o output] [-O fmt] [-p pid] [-s script] [-U name]
\t[-x opt[=val]] [-X a|c|s|t]

\t[-P provider [[ predicate ] action ]]
\t[-m [ provider: ] module [[ predicate ] action ]]
\t[-f [[ provider: ] module: ] func [[ predicate ] action ]]
\t[-n [[[ provider: ] module: ] func: ] name [[ predicate ] action ]]
\t[-i probe-id [[ predicate ] action ]] [ args ... ]

\tpredicate -> '/' D-expression '/'
\t   action -> '{{' D-statements '}}'

\t-a  claim anonymous tracing state (not supported yet)
\t-A  generate driver.conf(4) directives for anonymous tracing (not supported yet)
\t-b  set trace buffer size
\t-c  run specified command and exit upon its completion
\t-C  run cpp(1) preprocessor on script files
\t-D  define symbol when invoking preprocessor
\t-e  exit after compiling request but prior to enabling probes
\t-f  enable or list probes matching the specified function name
\t-F  coalesce trace output by function
\t-G  generate an ELF file containing embedded dtrace program (not supported yet)
\t-h  generate a header file with definitions for static probes (not supported yet)
\t-H  print included files when invoking preprocessor
\t-i  enable or list probes matching the specified probe id
\t-I  add include directory to preprocessor search path
\t-l  list probes matching specified criteria
\t-L  add library directory to library search path
\t-m  enable or list probes matching the specified module name
\t-n  enable or list probes matching the specified probe name
\t-o  set output file
\t-O  set output format (text or json)
\t-p  grab specified process-ID and cache its symbol tables
\t-P  enable or list probes matching the specified provider name
\t-q  set quiet mode (only output explicitly traced data)
\t-s  enable or list probes for the specified D program
\t-S  print D compiler intermediate code
\t-U  undefine symbol when invoking preprocessor
\t-v  set verbose mode (report stability attributes, arguments)
\t-V  report DTrace API version
\t-w  permit destructive actions
\t-x  enable or modify compiler and tracing options
\t-X  specify ISO C conformance settings for preprocessor
\t-Z  permit probe descriptions that match zero probes
"""


def usage(prog: str) -> str:
    return _USAGE.format(prog=prog)


def version_line(prog: str, pydtrace_version: str) -> str:
    return f"{prog}: {D_VERSION} (pydtrace {pydtrace_version})\n"
