"""``python -m pydtrace``: the command line, named pydtrace."""

import sys

from pydtrace.cli import main

sys.exit(main(prog="pydtrace"))
