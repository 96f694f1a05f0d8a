#!/usr/bin/env python3
"""Boot Debian's kernel in QEMU (TCG) and run a command in it, with /dev/dtrace.

The guest sees the host's root file system read-only over 9p, so the repo, its
.venv and the host's Python work unchanged inside; a second, writable 9p share
(a temporary directory) carries the job in and the results out.

    tests/vm/run.py --tests                         # the kernel test suite
    tests/vm/run.py -- pydtrace -n 'BEGIN { exit(0); }'
    tests/vm/run.py --no-module -- uname -a

Exits with the command's status; non-zero also when the guest crashed, timed
out, or logged a kernel warning, BUG, oops, lockdep splat or RCU stall (the
offending dmesg lines are printed).  The last run's logs are kept in
.cache/vm/last/.  Standard library only: this runs before `make install`.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import itertools
import lzma
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CACHE = REPO / ".cache" / "vm"

# Loaded in this order by init.sh to mount the host root over virtio-9p.
MODULES = (
    "virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci "
    "9pnet 9pnet_virtio netfs fscache 9p"
).split()
# Loaded by init.sh only when the guest has a virtio disk (--disk, --tests).
DISK_MODULES = ("virtio_blk",)
DISK_SIZE = 16 << 20  # bytes of the raw image, sparse in the run's temp dir
GUEST_DISK = "/dev/vda"

# no_timer_check: under TCG on a loaded host the IO-APIC timer check can
# miss its ticks and panic at boot ("IO-APIC + timer doesn't work!").
# A soft lockup or an RCU stall panics at once, with every CPU's backtrace,
# instead of leaving a wedged guest to the timeout.
CMDLINE = (
    "console=ttyS0 tsc=reliable slub_debug=FZPU panic_on_warn=1 oops=panic "
    "panic=-1 loglevel=5 rdinit=/init pci=noacpi no_timer_check "
    "softlockup_panic=1 softlockup_all_cpu_backtrace=1 sysctl.kernel.panic_on_rcu_stall=1"
)

# --icount: the guest's clocks (TSC, CLOCK_MONOTONIC) advance 2^shift ns per
# guest instruction executed, not with host time, so a timing inside the guest
# is a path length that host load does not move.  sleep=off: while every vCPU
# is idle, virtual time jumps to the next timer deadline (no host time in it).
# align=off: QEMU does not slow the guest down to real time.  TCG with icount
# runs all vCPUs round-robin on one host thread; with -cpu max and -smp 2 the
# kernel hangs at "x86: Booting SMP configuration" (QEMU 7.2), so --icount
# defaults to one vCPU.  The PIT calibration of the TSC can hang too: the
# kernel is told the TSC's rate (1 GHz >> shift), which icount makes exact.
ICOUNT = "shift=0,align=off,sleep=off"


def icount_shift(spec: str) -> int:
    """The shift=N of an -icount spec (0 when absent; 'auto' is refused)."""
    for part in spec.split(","):
        key, _, val = part.partition("=")
        if key == "shift" or (not val and key.isdigit()):
            if not (val or key).isdigit():
                sys.exit(f"vm: --icount {spec}: give shift=N (an exact rate), not {val or key}")
            return int(val or key)
    return 0


# dmesg lines that fail a run, and the expected lines that look alike.
BAD_DMESG = re.compile(
    r"\bBUG\b|WARNING:|Oops|Kernel panic|general protection fault|UBSAN:"
    r"|possible circular locking|inconsistent lock state|possible recursive locking"
    r"|rcu_sched self-detected stall|rcu: INFO:|detected stall"
    r"|blocked for more than \d+ seconds"
)
OK_DMESG = re.compile(r"loading out-of-tree module taints kernel|module verification failed")

_INODES = itertools.count(1)

START = "pydtrace-vm: start"
DONE = "pydtrace-vm: done"


def log(msg: str) -> None:
    print(f"vm: {msg}", file=sys.stderr, flush=True)


def kernel_abi() -> str:
    """The newest installed linux-headers-*-amd64, e.g. '6.1.0-56-amd64'."""
    dirs = glob.glob("/usr/src/linux-headers-*-amd64")
    if not dirs:
        sys.exit("vm: no /usr/src/linux-headers-*-amd64 (run tests/vm/setup-host.sh)")

    def key(d: str) -> list[int]:
        return [int(n) for n in re.findall(r"\d+", d)]

    return max(dirs, key=key).removeprefix("/usr/src/linux-headers-")


def fetch_kernel(abi: str, deb: str | None) -> Path:
    """Unpack linux-image-<abi> into the cache once; return its directory."""
    kdir = CACHE / abi
    wanted = (*MODULES, *DISK_MODULES)
    if (kdir / "vmlinuz").exists() and all((kdir / "modules" / f"{m}.ko").exists() for m in wanted):
        return kdir
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        if deb is None:
            log(f"downloading linux-image-{abi}")
            cmd = ["apt-get", "download", "-q", f"linux-image-{abi}"]
            if subprocess.run(cmd, cwd=tmp).returncode != 0:
                subprocess.run(["apt-get", "update", "-qq"], check=True)
                subprocess.run(cmd, cwd=tmp, check=True)
            deb = glob.glob(f"{tmp}/linux-image-*.deb")[0]
        log(f"unpacking {os.path.basename(deb)}")
        root = Path(tmp) / "root"
        subprocess.run(["dpkg-deb", "-x", deb, str(root)], check=True)
        out = Path(tmp) / "kernel"
        (out / "modules").mkdir(parents=True)
        shutil.copy(root / "boot" / f"vmlinuz-{abi}", out / "vmlinuz")
        shutil.copy(root / "boot" / f"config-{abi}", out / "config")
        for name in wanted:
            found = list((root / "lib/modules" / abi).rglob(f"{name}.ko*"))
            if len(found) != 1:
                sys.exit(f"vm: module {name} not found in the kernel package")
            ko = found[0]
            dest = out / "modules" / f"{name}.ko"
            if ko.suffix == ".ko":
                shutil.copy(ko, dest)
            else:  # compressed (.ko.xz / .ko.zst): busybox insmod wants plain ELF
                tool = {".xz": ["xz", "-dc"], ".zst": ["zstd", "-dc"], ".gz": ["gzip", "-dc"]}
                with open(dest, "wb") as f:
                    subprocess.run([*tool[ko.suffix], str(ko)], stdout=f, check=True)
        if (kdir / "vmlinuz").exists():  # an older cache without the disk modules
            shutil.rmtree(kdir, ignore_errors=True)
        try:
            out.rename(kdir)
        except OSError:  # another run unpacked it meanwhile
            if not (kdir / "vmlinuz").exists():
                raise
    return kdir


def _decompress_elf(blob: bytes) -> bytes | None:
    """The vmlinux ELF inside a bzImage (xz or gzip payload), or None."""
    for magic, make in (
        (b"\xfd7zXZ\x00", lzma.LZMADecompressor),
        (b"\x1f\x8b\x08", lambda: zlib.decompressobj(31)),
    ):
        at = blob.find(magic)
        while at >= 0:
            try:
                out = make().decompress(blob[at:])
            except (lzma.LZMAError, zlib.error):
                out = b""
            if out.startswith(b"\x7fELF"):
                return out
            at = blob.find(magic, at + 1)
    return None


def boot_image(kdir: Path) -> Path:
    """The uncompressed vmlinux when we can get it, else the bzImage.

    QEMU boots an ELF vmlinux through its PVH entry point: no real-mode setup
    and no in-guest xz decompression, which costs seconds under TCG.
    """
    vmlinux = kdir / "vmlinux"
    if vmlinux.exists():
        return vmlinux
    config = (kdir / "config").read_text(errors="replace")
    elf = _decompress_elf((kdir / "vmlinuz").read_bytes()) if "CONFIG_PVH=y" in config else None
    if elf is None:
        return kdir / "vmlinuz"
    tmp = vmlinux.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(elf)
    tmp.replace(vmlinux)
    return vmlinux


def _cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> bytes:
    """One entry of a newc cpio archive (what the kernel unpacks as initramfs)."""
    ino = next(_INODES)
    # ino mode uid gid nlink mtime size devmajor devminor rdevmajor rdevminor namesize check
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, *rdev, len(name) + 1, 0)
    head = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def build_initramfs(kdir: Path) -> Path:
    """Busybox, the 9p modules and init.sh as /init; rebuilt when init.sh changes."""
    init = (HERE / "init.sh").read_bytes()
    busybox = shutil.which("busybox") or "/bin/busybox"
    tag = hashlib.sha256(init + busybox.encode()).hexdigest()[:12]
    path = kdir / f"initramfs-{tag}.cpio"
    if path.exists():
        return path
    out = bytearray()
    for d in ("bin", "dev", "proc", "sys", "mnt", "tmp", "modules"):
        out += _cpio_entry(d, 0o040755)
    out += _cpio_entry("dev/console", 0o020600, rdev=(5, 1))
    out += _cpio_entry("init", 0o100755, init)
    out += _cpio_entry("bin/busybox", 0o100755, Path(busybox).read_bytes())
    for ko in sorted((kdir / "modules").iterdir()):
        out += _cpio_entry(f"modules/{ko.name}", 0o100644, ko.read_bytes())
    out += _cpio_entry("TRAILER!!!", 0)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(out)
    tmp.replace(path)
    return path


def qemu_argv(kdir: Path, initrd: Path, share: Path, args: argparse.Namespace) -> list[str]:
    return [
        "qemu-system-x86_64",
        "-accel",
        f"tcg,thread={args.tcg_thread}",
        "-cpu",
        "max",
        "-smp",
        str(args.cpus),
        "-m",
        args.memory,
        "-no-reboot",
        "-nographic",
        "-nic",
        "none",
        "-kernel",
        str(boot_image(kdir)),
        "-initrd",
        str(initrd),
        "-append",
        f"{CMDLINE} {args.append}".strip(),
        "-virtfs",
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs",
        f"local,path={share},mount_tag=vmshare,security_model=none,multidevs=remap",
        *(
            ["-drive", f"file={share / 'disk.img'},format=raw,if=virtio,cache=unsafe"]
            if args.disk
            else []
        ),
        *(["-icount", args.icount] if args.icount else []),
        *args.qemu_arg,
    ]


class Console:
    """Reads the guest's serial console: saves it all, shows the part after START."""

    def __init__(self, proc: subprocess.Popen[bytes], path: Path, verbose: bool) -> None:
        self.proc = proc
        self.file = open(path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
        self.verbose = verbose
        self.showing = verbose
        self.t_start: float | None = None
        self.t_done: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").replace("\r", "").rstrip("\n")
            self.file.write(line + "\n")
            if START in line and self.t_start is None:
                self.t_start = time.monotonic()
                self.showing = True
                continue
            if DONE in line:
                self.t_done = time.monotonic()
                self.showing = self.verbose
                continue
            if self.showing:
                print(line, flush=True)
        self.file.close()


def keep_logs(share: Path, keep: int = 20) -> Path:
    """Copy a run's share to .cache/vm/logs/<time>-<pid>, point .cache/vm/last at it."""
    logs = CACHE / "logs" / time.strftime(f"%Y%m%d-%H%M%S-{os.getpid()}")
    shutil.copytree(share, logs, ignore=shutil.ignore_patterns("*.ko", "*.img"))
    for old in sorted((CACHE / "logs").iterdir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    link = CACHE / f"last.tmp{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(logs.relative_to(CACHE))
    if (CACHE / "last").is_dir() and not (CACHE / "last").is_symlink():
        shutil.rmtree(CACHE / "last")
    link.replace(CACHE / "last")
    return logs


def first_trouble(text: str, before: int = 5, after: int = 150) -> str:
    """The console around its first bad line (the report and its stacks), else its tail."""
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if BAD_DMESG.search(ln) and not OK_DMESG.search(ln):
            return "\n".join(lines[max(0, i - before) : i + after])
    return "\n".join(lines[-60:])


def bad_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if BAD_DMESG.search(ln) and not OK_DMESG.search(ln)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--tests", action="store_true", help="run the kernel test suite (tests/vm/guest_tests.sh)"
    )
    ap.add_argument(
        "--module",
        default=str(REPO / "kmod" / "dtrace.ko"),
        help="module to insmod before the command (default: kmod/dtrace.ko)",
    )
    ap.add_argument("--module-args", default="", help="module parameters, e.g. 'a=1 b=2'")
    ap.add_argument("--no-module", action="store_true", help="do not load a module")
    ap.add_argument(
        "--disk",
        action="store_true",
        help=f"give the guest a blank {DISK_SIZE >> 20} MiB virtio disk, {GUEST_DISK} "
        "(always with --tests)",
    )
    ap.add_argument("--timeout", type=float, default=1200, help="seconds (default 1200)")
    ap.add_argument("--cpus", type=int, default=None, help="vCPUs (default 2; 1 with --icount)")
    ap.add_argument("--memory", default="2G")
    # single: both vCPUs take turns on one host thread.  With multi-threaded
    # TCG, 2 of 5 full guest runs on 2026-11-27 died with both vCPUs looping
    # on an int3 at the syscall tracepoint's jump label (syscall_trace_enter,
    # just patched back by text_poke_bp): a vCPU that translated the site
    # while another vCPU wrote it kept the stale block.  Single-threaded TCG
    # cannot race so; it costs ~1.3x guest time on 2 vCPUs.
    ap.add_argument(
        "--tcg-thread",
        choices=("single", "multi"),
        default="single",
        help="TCG's threading (QEMU -accel tcg,thread=...; default single)",
    )
    ap.add_argument("--append", default="", help="more kernel command line")
    ap.add_argument(
        "--icount",
        nargs="?",
        const=ICOUNT,
        default="",
        metavar="SPEC",
        help=f"instruction-count time: QEMU -icount SPEC (default {ICOUNT}); guest clocks "
        "then advance with instructions executed, not host time (single-threaded TCG)",
    )
    ap.add_argument("--qemu-arg", action="append", default=[], help="one more QEMU argument")
    ap.add_argument(
        "--kernel-deb",
        default=os.environ.get("PYDTRACE_KERNEL_DEB"),
        help="use this linux-image .deb instead of apt-get download",
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="show the whole console")
    ap.add_argument("--print-abi", action="store_true", help="print the kernel ABI and exit")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- command and arguments")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    abi = kernel_abi()
    if args.print_abi:
        print(abi)
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.cpus is None:
        args.cpus = 1 if args.icount else 2
    if args.icount:
        khz = 1_000_000 >> icount_shift(args.icount)
        args.append = f"tsc_early_khz={khz} {args.append}".strip()
    if args.tests:
        command = ["bash", "tests/vm/guest_tests.sh", *command]
        args.disk = True
    if not command:
        ap.error("no command (give --tests or -- COMMAND...)")
    module = ""
    if not args.no_module:
        module = str(Path(args.module).resolve())
        if not Path(module).is_file():
            sys.exit(f"vm: {module} not found (build it: make kmod), or pass --no-module")

    return boot_and_run(args, abi, command, module)


class Run:
    """What one guest boot left behind, and when its milestones came."""

    def __init__(
        self, logs: Path, console: Console, t0: float, t_boot: float, t_end: float, timed_out: bool
    ) -> None:
        self.logs = logs
        self.console = console
        self.t0, self.t_boot, self.t_end = t0, t_boot, t_end
        self.timed_out = timed_out


def boot_and_run(args: argparse.Namespace, abi: str, command: list[str], module: str) -> int:
    # The guest mounts fresh tmpfs over these: a repo there gets its own share.
    masked = ("/tmp", "/run", "/var/tmp")
    repo_share = any(Path(m) in REPO.parents for m in masked)

    t0 = time.monotonic()
    kdir = fetch_kernel(abi, args.kernel_deb)
    initrd = build_initramfs(kdir)
    share = Path(tempfile.mkdtemp(prefix="pydtrace-vm."))
    try:
        if module:  # the share is visible in the guest wherever the .ko was built
            shutil.copy(module, share / Path(module).name)
            module = f"/tmp/vm/{Path(module).name}"
        (share / "job.env").write_text(
            f"REPO={shlex.quote(str(REPO))}\nMODULE={shlex.quote(module)}\n"
            f"MODULE_ARGS={shlex.quote(args.module_args)}\n"
            f"REPO_SHARE={'1' if repo_share else ''}\n"
            f"DISK={GUEST_DISK if args.disk else ''}\n"
        )
        if args.disk:  # sparse: costs no host disk until the guest writes
            with open(share / "disk.img", "wb") as f:
                f.truncate(DISK_SIZE)
        (share / "cmd.sh").write_text(shlex.join(command) + "\n")
        argv = qemu_argv(kdir, initrd, share, args)
        if repo_share:
            argv += [
                "-virtfs",
                f"local,path={REPO},mount_tag=repo,security_model=none,readonly=on,multidevs=remap",
            ]
        t_boot = time.monotonic()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        console = Console(proc, share / "console.log", args.verbose)
        timed_out = False
        try:
            proc.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:  # also on ^C and SIGTERM: never leave a guest running
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        console.thread.join(timeout=10)
        t_end = time.monotonic()
        logs = keep_logs(share)
    finally:
        shutil.rmtree(share, ignore_errors=True)
    return verdict(Run(logs, console, t0, t_boot, t_end, timed_out), args.timeout)


def verdict(run: Run, timeout: float) -> int:
    """Print timings and what went wrong; the exit status for the host."""
    logs, console = run.logs, run.console
    consolelog = (logs / "console.log").read_text(errors="replace")
    if console.t_start is not None:
        done = console.t_done or run.t_end
        log(
            f"prep {run.t_boot - run.t0:.1f}s, boot {console.t_start - run.t_boot:.1f}s, "
            f"command {done - console.t_start:.1f}s, shutdown {run.t_end - done:.1f}s"
        )
    status_file = logs / "status"
    if run.timed_out:
        log(f"TIMEOUT after {timeout:.0f}s; console from the first bad line, else its tail:")
        print(first_trouble(consolelog), file=sys.stderr)
        rc = 124
    elif not status_file.exists():
        log("the guest died before finishing; console from the first bad line:")
        print(first_trouble(consolelog), file=sys.stderr)
        rc = 1
    else:
        rc = int(status_file.read_text().strip() or 1)
        if rc:
            log(f"command failed in the guest: exit status {rc}")

    dmesg_file = logs / "dmesg.txt"
    if not dmesg_file.exists():
        dmesg_file = logs / "console.log"
    bad = bad_lines(dmesg_file.read_text(errors="replace"))
    if bad:
        log(f"kernel log has {len(bad)} bad line(s) (full log: {dmesg_file}):")
        print("\n".join(bad), file=sys.stderr)
        rc = rc or 1
    log(f"{'OK' if rc == 0 else 'FAILED'} (logs in {logs})")
    return rc


if __name__ == "__main__":
    sys.exit(main())
