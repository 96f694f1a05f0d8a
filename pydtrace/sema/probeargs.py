"""The types of args[] per probe (DTrace's probe argument descriptions).

fbt takes them from the function's BTF prototype (entry: the parameters;
return: args[0] an int, the return offset, and args[1] the return type);
sdt from the tracepoint's ``btf_trace_<event>`` typedef (a pointer to the
callback's prototype, whose first parameter, the callback's ``void *`` data,
is skipped); proc, sched and io from the table below (the native kernel
pointers the module passes, and the type DTrace gives args[i] after
translation).  None: the probe's arguments are not known (untyped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from pydtrace.sema import types as T

if TYPE_CHECKING:
    from pydtrace.sema.btf import Btf


@dataclass(frozen=True)
class ArgType:
    """The type of a probe argument, native and translated."""

    native: str  # C type as D parses it, e.g. "struct task_struct *"
    xlate: str | None  # DTrace's type of args[i] after translation (None: no translator)
    # the type itself when D cannot name it: a module's own types are in its
    # split BTF, which the compiler's type lookups (vmlinux) do not see
    dtype: T.DType | None = field(default=None, compare=False)

    @property
    def shown(self) -> str:
        """The type dtrace -lv prints (the translated one)."""
        return self.xlate or self.native


# at most this many args[] come from the module (arg0..arg4 for sdt)
SDT_MAX_ARGS = 5

_TASK = "struct task_struct *"
_LWP = ArgType(_TASK, "lwpsinfo_t *")
_PS = ArgType(_TASK, "psinfo_t *")
_INT = ArgType("int", None)
_RQ = "struct request *"

# (provider, name) -> args, for the probes of kmod/prov_{proc,sched,io}.c
STATIC: dict[tuple[str, str], list[ArgType]] = {
    ("proc", "create"): [_PS],
    ("proc", "lwp-create"): [_LWP, _PS],
    ("proc", "exec"): [ArgType("char *", "string")],
    ("proc", "exec-failure"): [_INT],
    ("proc", "exec-success"): [],
    ("proc", "start"): [],
    ("proc", "lwp-start"): [],
    ("proc", "exit"): [_INT],
    ("proc", "lwp-exit"): [],
    ("proc", "signal-send"): [_LWP, _PS, _INT],
    ("proc", "signal-handle"): [
        _INT,
        ArgType("struct kernel_siginfo *", "siginfo_t *"),
        ArgType("void (*)(int)", None),
    ],
    ("sched", "on-cpu"): [],
    ("sched", "off-cpu"): [_LWP, _PS],
    ("sched", "sleep"): [],
    ("sched", "preempt"): [],
    ("sched", "wakeup"): [_LWP, _PS],
    ("sched", "enqueue"): [_LWP, _PS, ArgType("int", "cpuinfo_t *")],
    ("sched", "dequeue"): [_LWP, _PS, ArgType("int", "cpuinfo_t *")],
    ("io", "start"): [
        ArgType(_RQ, "bufinfo_t *"),
        ArgType(_RQ, "devinfo_t *"),
        ArgType(_RQ, "fileinfo_t *"),
    ],
    ("io", "done"): [
        ArgType(_RQ, "bufinfo_t *"),
        ArgType(_RQ, "devinfo_t *"),
        ArgType(_RQ, "fileinfo_t *"),
    ],
}


def _kernel_btf() -> Btf | None:
    from pydtrace.sema.btf import kernel_types  # only when a probe needs it

    kt = kernel_types()
    return kt.btf if kt is not None else None


def _module_names() -> list[str]:
    from pydtrace.sema.btf import module_names

    return module_names()


def _module_btf(mod: str) -> Btf | None:
    from pydtrace.sema.btf import module_btf

    base = _kernel_btf()
    return module_btf(mod, base) if base is not None else None


def _find(name: str, kind: int, mod: str) -> tuple[Btf, int] | None:
    """Where a type of that kind and name is: in the module's split BTF when
    a module is named, else vmlinux's, else any loaded module's (an sdt or an
    fbt description whose module field is empty)."""
    base = _kernel_btf()
    if base is None:
        return None
    if mod and mod != "vmlinux":
        b = _module_btf(mod)
        tid = b.lookup(name, (kind,)) if b is not None else None
        return (b, tid) if b is not None and tid is not None else None
    tid = base.lookup(name, (kind,))
    if tid is not None:
        return base, tid
    if mod:
        return None
    for m in _module_names():
        b = _module_btf(m)
        tid = b.lookup(name, (kind,)) if b is not None else None
        if b is not None and tid is not None:
            return b, tid
    return None


def _proto(t: T.DType | None) -> T.DType | None:
    """The function type under t (a function, or a pointer to one)."""
    while t is not None:
        rt = T.resolve(t)
        if rt.kind == "func":
            return rt
        if rt.kind != "ptr":
            return None
        t = rt.ref
    return None


def _native(t: T.DType, module: bool = False) -> ArgType:
    return ArgType(str(t), None, t if module else None)


@cache
def fbt_args(mod: str, func: str, name: str) -> tuple[ArgType, ...] | None:
    from pydtrace.sema.btf import KIND_FUNC

    found = _find(func, KIND_FUNC, mod)
    proto = _proto(found[0].dtype(found[1])) if found is not None else None
    if proto is None or found is None:
        return None
    module = found[0].base is not None  # a split blob: a module's
    if name == "entry":
        return tuple(_native(p, module) for p in proto.params or [])
    if name == "return":
        ret = proto.ref
        if ret is None or T.resolve(ret).kind == "void":
            return (_INT,)
        return (_INT, _native(ret, module))
    return None


@cache
def sdt_args(event: str) -> tuple[ArgType, ...] | None:
    from pydtrace.sema.btf import KIND_TYPEDEF

    found = _find(f"btf_trace_{event}", KIND_TYPEDEF, "")
    proto = _proto(found[0].dtype(found[1])) if found is not None else None
    if proto is None or found is None:
        return None
    module = found[0].base is not None  # a split blob: a module's
    params = (proto.params or [])[1:]  # the callback's data
    return tuple(_native(p, module) for p in params[:SDT_MAX_ARGS])


def probe_args(provider: str, mod: str, func: str, name: str) -> list[ArgType] | None:
    """The types of args[] of one probe (fields exact), or None if unknown."""
    if provider == "fbt":
        found = fbt_args(mod, func, name)
    elif provider == "sdt":
        found = sdt_args(name)
    else:
        static = STATIC.get((provider, name))
        found = tuple(static) if static is not None else None
    return list(found) if found is not None else None


_GLOB = frozenset("*?[\\")


def _exact(s: str) -> bool:
    return bool(s) and not (_GLOB & set(s))


def desc_args(provider: str, mod: str, func: str, name: str) -> list[ArgType] | None:
    """The args[] types of the probes a description names, when it names
    them exactly enough to know (the fields each provider's types depend
    on: fbt provider, function and name; the others provider and name);
    else None (args[] is untyped)."""
    if not _exact(provider) or not _exact(name):
        return None
    if provider == "fbt" and not _exact(func):
        return None
    return probe_args(provider, mod, func, name)


def clause_args(descs: list[tuple[str, str, str, str]]) -> list[ArgType] | None:
    """args[] types shared by every description of a clause, else None."""
    found: list[ArgType] | None = None
    for d in descs:
        args = desc_args(*d)
        if args is None or (found is not None and args != found):
            return None
        found = args
    return found
