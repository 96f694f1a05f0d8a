"""D compiler errors: the registry of DTrace error tags and their rendering.

Every compile error is a DError carrying a D_* tag (libdtrace dt_errtags.h),
the message without tag or line, and the line.  render_compile_error()
produces exactly the text dtrace(1) prints (libdtrace dt_set_errmsg() +
cmd/dtrace dfatal()).
"""

from __future__ import annotations

from collections.abc import Callable

# libdtrace's dt_errtags.h, in order (the order is not an ABI, but keeping it
# makes comparison with libdtrace easy).
TAGS: tuple[str, ...] = (
    "D_UNKNOWN",
    "D_SYNTAX",
    "D_EMPTY",
    "D_TYPE_ERR",
    "D_TYPE_MEMBER",
    "D_ASRELO",
    "D_CG_EXPR",
    "D_CG_DYN",
    "D_ATTR_MIN",
    "D_ID_OFLOW",
    "D_PDESC_ZERO",
    "D_PDESC_INVAL",
    "D_PRED_SCALAR",
    "D_FUNC_IDENT",
    "D_FUNC_UNDEF",
    "D_FUNC_IDKIND",
    "D_OFFSETOF_TYPE",
    "D_OFFSETOF_BITFIELD",
    "D_SIZEOF_TYPE",
    "D_SIZEOF_BITFIELD",
    "D_STRINGOF_TYPE",
    "D_OP_IDENT",
    "D_OP_INT",
    "D_OP_SCALAR",
    "D_OP_ARITH",
    "D_OP_WRITE",
    "D_OP_LVAL",
    "D_OP_INCOMPAT",
    "D_OP_VFPTR",
    "D_OP_ARRFUN",
    "D_OP_PTR",
    "D_OP_SOU",
    "D_OP_INCOMPLETE",
    "D_OP_DYN",
    "D_OP_ACT",
    "D_AGG_REDEF",
    "D_AGG_FUNC",
    "D_AGG_MDIM",
    "D_ARR_BADREF",
    "D_ARR_LOCAL",
    "D_DIV_ZERO",
    "D_DEREF_NONPTR",
    "D_DEREF_VOID",
    "D_DEREF_FUNC",
    "D_ADDROF_LVAL",
    "D_ADDROF_VAR",
    "D_ADDROF_BITFIELD",
    "D_XLATE_REDECL",
    "D_XLATE_NOCONV",
    "D_XLATE_NONE",
    "D_XLATE_SOU",
    "D_XLATE_INCOMPAT",
    "D_XLATE_MEMB",
    "D_CAST_INVAL",
    "D_PRAGERR",
    "D_PRAGCTL_INVAL",
    "D_PRAGMA_INVAL",
    "D_PRAGMA_UNUSED",
    "D_PRAGMA_MALFORM",
    "D_PRAGMA_OPTSET",
    "D_PRAGMA_SCOPE",
    "D_PRAGMA_DEPEND",
    "D_MACRO_UNDEF",
    "D_MACRO_OFLOW",
    "D_MACRO_UNUSED",
    "D_INT_OFLOW",
    "D_INT_DIGIT",
    "D_STR_NL",
    "D_CHR_NL",
    "D_CHR_NULL",
    "D_CHR_OFLOW",
    "D_IDENT_BADREF",
    "D_IDENT_UNDEF",
    "D_IDENT_AMBIG",
    "D_SYM_BADREF",
    "D_SYM_NOTYPES",
    "D_SYM_MODEL",
    "D_VAR_UNDEF",
    "D_VAR_UNSUP",
    "D_PROTO_LEN",
    "D_PROTO_ARG",
    "D_ARGS_MULTI",
    "D_ARGS_XLATOR",
    "D_ARGS_NONE",
    "D_ARGS_TYPE",
    "D_ARGS_IDX",
    "D_REGS_IDX",
    "D_KEY_TYPE",
    "D_PRINTF_DYN_PROTO",
    "D_PRINTF_DYN_TYPE",
    "D_PRINTF_AGG_CONV",
    "D_PRINTF_ARG_PROTO",
    "D_PRINTF_ARG_TYPE",
    "D_PRINTF_ARG_EXTRA",
    "D_PRINTF_ARG_FMT",
    "D_PRINTF_FMT_EMPTY",
    "D_DECL_CHARATTR",
    "D_DECL_VOIDATTR",
    "D_DECL_SIGNINT",
    "D_DECL_LONGINT",
    "D_DECL_IDENT",
    "D_DECL_CLASS",
    "D_DECL_BADCLASS",
    "D_DECL_PARMCLASS",
    "D_DECL_COMBO",
    "D_DECL_ARRSUB",
    "D_DECL_ARRNULL",
    "D_DECL_ARRBIG",
    "D_DECL_IDRED",
    "D_DECL_TYPERED",
    "D_DECL_MNAME",
    "D_DECL_SCOPE",
    "D_DECL_BFCONST",
    "D_DECL_BFSIZE",
    "D_DECL_BFTYPE",
    "D_DECL_ENCONST",
    "D_DECL_ENOFLOW",
    "D_DECL_USELESS",
    "D_DECL_LOCASSC",
    "D_DECL_VOIDOBJ",
    "D_DECL_DYNOBJ",
    "D_DECL_INCOMPLETE",
    "D_DECL_PROTO_VARARGS",
    "D_DECL_PROTO_TYPE",
    "D_DECL_PROTO_VOID",
    "D_DECL_PROTO_NAME",
    "D_DECL_PROTO_FORM",
    "D_COMM_COMM",
    "D_COMM_DREC",
    "D_SPEC_SPEC",
    "D_SPEC_COMM",
    "D_SPEC_DREC",
    "D_AGG_COMM",
    "D_AGG_SPEC",
    "D_AGG_NULL",
    "D_AGG_SCALAR",
    "D_ACT_SPEC",
    "D_EXIT_SPEC",
    "D_DREC_COMM",
    "D_PRINTA_PROTO",
    "D_PRINTA_AGGARG",
    "D_PRINTA_AGGBAD",
    "D_PRINTA_AGGKEY",
    "D_PRINTA_AGGPROTO",
    "D_TRACE_VOID",
    "D_TRACE_DYN",
    "D_TRACEMEM_ADDR",
    "D_TRACEMEM_SIZE",
    "D_TRACEMEM_ARGS",
    "D_TRACEMEM_DYNSIZE",
    "D_STACK_PROTO",
    "D_STACK_SIZE",
    "D_USTACK_FRAMES",
    "D_USTACK_STRSIZE",
    "D_USTACK_PROTO",
    "D_LQUANT_BASETYPE",
    "D_LQUANT_BASEVAL",
    "D_LQUANT_LIMTYPE",
    "D_LQUANT_LIMVAL",
    "D_LQUANT_MISMATCH",
    "D_LQUANT_STEPTYPE",
    "D_LQUANT_STEPVAL",
    "D_LQUANT_STEPLARGE",
    "D_LQUANT_STEPSMALL",
    "D_PROC_OFF",
    "D_PROC_ALIGN",
    "D_PROC_NAME",
    "D_PROC_GRAB",
    "D_PROC_DYN",
    "D_PROC_LIB",
    "D_PROC_FUNC",
    "D_PROC_CREATEFAIL",
    "D_PROC_NODEV",
    "D_PROC_BADPID",
    "D_PROC_BADPROV",
    "D_PROC_USDT",
    "D_CLEAR_PROTO",
    "D_CLEAR_AGGARG",
    "D_CLEAR_AGGBAD",
    "D_NORMALIZE_PROTO",
    "D_NORMALIZE_SCALAR",
    "D_NORMALIZE_AGGARG",
    "D_NORMALIZE_AGGBAD",
    "D_TRUNC_PROTO",
    "D_TRUNC_SCALAR",
    "D_TRUNC_AGGARG",
    "D_TRUNC_AGGBAD",
    "D_PROV_BADNAME",
    "D_PROV_INCOMPAT",
    "D_PROV_PRDUP",
    "D_PROV_PRARGLEN",
    "D_PROV_PRXLATOR",
    "D_FREOPEN_INVALID",
    "D_LQUANT_MATCHBASE",
    "D_LQUANT_MATCHLIM",
    "D_LQUANT_MATCHSTEP",
    "D_LLQUANT_FACTORTYPE",
    "D_LLQUANT_FACTORVAL",
    "D_LLQUANT_FACTORMATCH",
    "D_LLQUANT_FACTORSMALL",
    "D_LLQUANT_MAGRANGE",
    "D_LLQUANT_FACTORNSTEPS",
    "D_LLQUANT_FACTOREVEN",
    "D_LLQUANT_MAGTOOBIG",
    "D_LLQUANT_LOWTYPE",
    "D_LLQUANT_LOWVAL",
    "D_LLQUANT_LOWMATCH",
    "D_LLQUANT_HIGHTYPE",
    "D_LLQUANT_HIGHVAL",
    "D_LLQUANT_HIGHMATCH",
    "D_LLQUANT_NSTEPTYPE",
    "D_LLQUANT_NSTEPVAL",
    "D_LLQUANT_NSTEPMATCH",
    "D_TRACE_AGG",
    # Oracle Linux DTrace's: a constant index outside a D array's bounds
    "D_ARR_BOUNDS",
)

# Library errors (libdtrace EDT_*): not compiler diagnostics, so dtrace prints
# them without "[TAG] ", line or region; the message is dtrace_errmsg()'s.
LIBRARY_ERRORS: dict[str, str] = {
    "EDT_NOREG": "Insufficient registers to generate code",
    "EDT_NOTUPREG": "Insufficient tuple registers to generate code",
    "EDT_BADOPTNAME": "Invalid option name",
    "EDT_BADOPTVAL": "Invalid value for specified option",
    "EDT_DIFSIZE": "DIF program exceeds maximum program size",
    "EDT_CPPFORK": "Failed to fork preprocessor",
    "EDT_CPPERR": "Preprocessor failed to process input program",
}

_TAGSET = frozenset(TAGS)


class DError(Exception):
    """A D compile error.

    tag: a D_* tag from TAGS, or an EDT_* library error from LIBRARY_ERRORS.
    message: the text without tag, line or region ("syntax error near ...").
    line: the source line, or None.
    region: "predicate" / "action list" when the error came from checking a
    clause (dtrace prints "in REGION: " for probe specifiers), else None.
    errors: every error the compile found, in order, this one first (the
    one dtrace(1) reports); [self] unless the checker went on past it.
    """

    def __init__(
        self, tag: str, message: str, line: int | None = None, region: str | None = None
    ) -> None:
        if tag not in _TAGSET and tag not in LIBRARY_ERRORS:
            raise ValueError(f"unknown error tag {tag!r}")
        super().__init__(message)
        self.tag = tag
        self.message = message
        self.line = line
        self.region = region
        # every error of the compile this one is the first of (see ErrorList)
        self.errors: list[DError] = [self]

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"DError({self.tag!r}, {self.message!r}, line={self.line!r})"


class ErrorList:
    """The errors of one compile, collected where checking can go on safely
    (per declaration, clause and statement): DTrace stops at the first and
    reports it; pydtrace reports the same first one and keeps the rest in
    DError.errors.  Errors after the first may follow from it."""

    def __init__(self) -> None:
        self.errors: list[DError] = []

    def __bool__(self) -> bool:
        return bool(self.errors)

    def run(self, fn: Callable[..., object], *args: object) -> None:
        """fn(*args), collecting a DError (and those it carries).  Any other
        exception propagates, unless an error was already collected: a check
        after an error may trip over what the error left half done, and then
        collecting stops and the errors so far are raised."""
        try:
            fn(*args)
        except DError as e:
            self.errors.extend(e.errors)
        except Exception:
            if not self.errors:
                raise
            raise self.first() from None

    def first(self) -> DError:
        """The first error, carrying them all in .errors."""
        first = self.errors[0]
        first.errors = list(self.errors)
        return first

    def raise_first(self) -> None:
        """Raise the first error, if there is one."""
        if self.errors:
            raise self.first()


def library_error(tag: str) -> DError:
    """A DError for a libdtrace EDT_* error, with dtrace_errmsg()'s text."""
    return DError(tag, LIBRARY_ERRORS[tag])


def errmsg(err: DError, *, kind: str, errtags: bool) -> str:
    """libdtrace's dt_errmsg for err (dt_set_errmsg), as dtrace_errmsg() returns it."""
    if err.tag in LIBRARY_ERRORS:
        return err.message
    out = f"[{err.tag}] " if errtags else ""
    # lineno is only passed for programs read from a file (pcb_fileptr)
    if kind == "script" and err.line:
        out += f"line {err.line}: "
    elif err.region is not None:
        out += f"in {err.region}: "
    return out + err.message


def render_compile_error(
    err: DError, *, progname: str, kind: str, label: str, errtags: bool
) -> str:
    """dtrace(1)'s text for a failed compile, without the trailing newline."""
    if kind == "script":
        head = f"failed to compile script {label}"
    else:
        head = f"invalid probe specifier {label}"
    return f"{progname}: {head}: {errmsg(err, kind=kind, errtags=errtags)}"
