# pydtrace: top-level targets.  `make help` lists them.
#
# Kernel-facing targets build against the newest installed
# /usr/src/linux-headers-*-amd64; the test VM boots the matching Debian
# kernel (tests/vm/run.py), so nothing here loads a module on this host.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
PIP_PKGS := setuptools wheel cffi cython ply click pytest pytest-xdist hypothesis ruff
# Evaluated when used, so that a fresh machine gets its headers first.
KABI = $(shell $(PYTHON) tests/vm/run.py --print-abi)
KDIR = /usr/src/linux-headers-$(KABI)
VM := $(PYTHON) tests/vm/run.py
VMFLAGS ?=
# The guest is ~10-15x slower than the host, more when the host is busy.
VMTEST_TIMEOUT ?= 3600
DEMO ?= examples/hello.d

.PHONY: help host-deps install build pyc kmod unit vmtest vmrun check demo fuzz bench bench-icount style clean

help:
	@echo "make demo     run $(DEMO) against the real module in the test VM"
	@echo "make check    unit tests on the host, then kernel tests in the test VM"
	@echo "make install  create $(VENV) and install pydtrace into it (editable)"
	@echo "make build    rebuild the cffi/Cython extensions in place"
	@echo "make kmod     build kmod/dtrace.ko against $$(ls -d /usr/src/linux-headers-*-amd64 | tail -n1)"
	@echo "make unit     host tests (tests/unit)"
	@echo "make vmtest   kernel tests (tests/kernel) in the test VM"
	@echo "make vmrun CMD='...'  run a shell command in the test VM with the module loaded"
	@echo "make style    ruff; checkpatch on kmod/ when available"
	@echo "make bench    pydtrace vs bpftrace in one guest boot -> bench/RESULTS.md"
	@echo "make bench-icount  per-event and idle cost on instruction-count time (-icount)"
	@echo "make fuzz     the DIF fuzzer, FUZZ_TIME=60 seconds (libFuzzer, ASan, UBSan)"
	@echo "make clean"

# apt packages (idempotent; quick when already installed).
host-deps:
	tests/vm/setup-host.sh

$(VPY):
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q $(PIP_PKGS)

# The stamp is refreshed when the package metadata or the C sources change.
# editable_mode=compat: a plain .pth entry; the default import-hook finder
# costs every Python start in the guest most of a second (bench/RESULTS.md).
$(VENV)/.installed: $(VPY) pyproject.toml setup.py pydtrace/lang/parser.py pydtrace/lang/lexer.py $(wildcard libdtrace/*.py libdtrace/*.c libdtrace/*.h)
	$(VPY) -m pip install -q --no-build-isolation -e '.[test]' --config-settings editable_mode=compat
	$(VPY) -m pydtrace.lang.parser --write-tables
	@touch $@

install: $(VENV)/.installed

build: install
	$(VPY) setup.py -q build_ext --inplace

# Bytecode for the guest: it mounts the tree read-only and never writes
# __pycache__, so without this every pydtrace start there compiles ~120
# modules (seconds under emulation).  Timestamp-checked: stale files are
# ignored, never wrong.  Then the code @dataclass generates at import
# (pydtrace/_codecache.py), checked by its source text, never wrong either.
pyc: install
	$(VPY) -m compileall -q -j 0 pydtrace
	$(VPY) -c 'import sys, pydtrace._codecache as c; sys.exit(c.main(["--write"]))'

kmod:
	$(MAKE) -C kmod KDIR=$(KDIR)

unit: install
	$(VPY) -m pytest -q tests/unit

vmtest: install pyc kmod
	$(VM) --timeout $(VMTEST_TIMEOUT) $(VMFLAGS) --tests

# e.g. make vmrun CMD="pydtrace -n 'BEGIN { trace(1); exit(0); }'"
vmrun: install pyc kmod
	$(VM) $(VMFLAGS) -- bash -c "$$CMD"

# Both stages run even when the first fails; either failing fails the target.
check: host-deps
	@rc=0; $(MAKE) unit || rc=1; $(MAKE) fuzz || rc=1; $(MAKE) vmtest || rc=1; \
	if [ $$rc -ne 0 ]; then echo "check: FAILED (see above)"; fi; exit $$rc

demo: host-deps
	$(MAKE) install pyc kmod
	$(VM) $(VMFLAGS) -- pydtrace -s $(DEMO)

# The DIF fuzzer (tests/fuzz/fuzz_dif.c) over the host build of the validator
# and interpreter, with ASan and UBSan: libFuzzer when clang has it
# (tests/vm/setup-host.sh installs it), else the standalone random driver
# under gcc.  FUZZ_TIME seconds; any finding fails.  New inputs go to
# .cache/fuzz/corpus; tests/fuzz/corpus is the kept seed corpus.
FUZZ_TIME ?= 60
FUZZ_DIR := .cache/fuzz
FUZZ_SRC := tests/fuzz/fuzz_dif.c kmod/dif/validate.c kmod/dif/emulate.c \
	    kmod/dif/subr.c libdtrace/host/dif_env_host.c
FUZZ_CFLAGS := -g -O1 -fno-sanitize-recover=all -Ikmod/include/uapi -Ikmod/dif
fuzz:
	@mkdir -p $(FUZZ_DIR)/corpus
	@if printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' | \
	    clang -x c -fsanitize=fuzzer - -o $(FUZZ_DIR)/probe >/dev/null 2>&1; then \
	  clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $(FUZZ_SRC) \
	    -o $(FUZZ_DIR)/fuzz_dif && \
	  $(FUZZ_DIR)/fuzz_dif -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 $(FUZZ_DIR)/corpus tests/fuzz/corpus; \
	else \
	  echo "fuzz: no libFuzzer (clang): the standalone random driver under gcc's sanitizers"; \
	  gcc $(FUZZ_CFLAGS) -fsanitize=address,undefined -DFUZZ_STANDALONE $(FUZZ_SRC) \
	    -o $(FUZZ_DIR)/fuzz_dif_standalone && \
	  $(FUZZ_DIR)/fuzz_dif_standalone $$(( $(FUZZ_TIME) * 20000 )); \
	fi

# One guest boot running bench/run_bench.py (~10-20 min of guest time),
# then bench/report.py writes bench/results.json and bench/RESULTS.md; then
# bench-icount: a second boot on instruction-count time (QEMU -icount, one
# vCPU) for the per-event configs and the idle cost, whose numbers are then
# path lengths that host load does not move (bench/results-icount.json, its
# own section of bench/RESULTS.md).  BENCH_ARGS: more bench/report.py options
# (e.g. -n 50000 -m 20000 --reps 3).
BENCH_WORKLOAD := .cache/bench/workload
$(BENCH_WORKLOAD): bench/workload.c
	@mkdir -p $(@D)
	cc -O2 -Wall -Wextra -o $@ $<

bench: host-deps
	@command -v bpftrace >/dev/null || tests/vm/setup-host.sh --extra
	$(MAKE) install pyc kmod $(BENCH_WORKLOAD)
	$(PYTHON) bench/report.py --run $(BENCH_ARGS); rc=$$?; \
	$(PYTHON) bench/report.py --run --icount $(BENCH_ARGS) && exit $$rc

bench-icount: host-deps
	@command -v bpftrace >/dev/null || tests/vm/setup-host.sh --extra
	$(MAKE) install pyc kmod $(BENCH_WORKLOAD)
	$(PYTHON) bench/report.py --run --icount $(BENCH_ARGS)

# checkpatch.pl is not packaged by Debian: point CHECKPATCH at a kernel tree's copy.
CHECKPATCH ?= $(firstword $(shell command -v checkpatch.pl) $(wildcard $(KDIR)/scripts/checkpatch.pl))

style: install
	$(VPY) -m ruff check pydtrace tests
	@if [ -n "$(CHECKPATCH)" ]; then \
		$(CHECKPATCH) --no-tree --quiet --terse -f $(wildcard kmod/*.[ch] kmod/dif/*.[ch]); \
	else echo "style: no checkpatch.pl (set CHECKPATCH=), kmod/ not checked"; fi

clean:
	-$(MAKE) -C kmod KDIR=$(KDIR) clean
	rm -rf build .cache/vm/last .pytest_cache .ruff_cache .hypothesis
	find pydtrace -name '*.so' -delete
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
