"""Code generation: checked AST expressions -> DIF IR (dtrace-internals.md 1.12).

One DIFO per predicate and per action expression.  Registers %r1..%r7 come
from a free list; running out is libdtrace's "Insufficient registers"
error, never a miscompile.  Every branch is forward.
"""

from __future__ import annotations

from pydtrace.abi import lib
from pydtrace.dif.ir import DifoIR, DifType, Instr, Label, VarRef
from pydtrace.errors import DError, library_error
from pydtrace.lang import ast
from pydtrace.sema import types as T
from pydtrace.sema.check import Var

CTF_K_INTEGER = 1
CTF_K_FLOAT = 2
CTF_K_POINTER = 3
CTF_K_ARRAY = 4
CTF_K_STRUCT = 6
CTF_K_UNION = 7
MASK64 = (1 << 64) - 1
_LOADS = {
    (1, True): "ldsb",
    (2, True): "ldsh",
    (4, True): "ldsw",
    (8, True): "ldx",
    (1, False): "ldub",
    (2, False): "lduh",
    (4, False): "lduw",
    (8, False): "ldx",
}

_ARITH = {"+": "add", "-": "sub", "*": "mul", "&": "and", "|": "or", "^": "xor", "<<": "sll"}
_BRANCH = {
    "==": ("be", "be"),
    "!=": ("bne", "bne"),
    "<": ("bl", "blu"),
    "<=": ("ble", "bleu"),
    ">": ("bg", "bgu"),
    ">=": ("bge", "bgeu"),
}
_SCOPE = {
    "builtin": lib.DIFV_SCOPE_GLOBAL,
    "global": lib.DIFV_SCOPE_GLOBAL,
    "local": lib.DIFV_SCOPE_LOCAL,
    "thread": lib.DIFV_SCOPE_THREAD,
}
# scalar load/store and associative load/store opcodes by scope (1.8)
_LDS = {"builtin": "ldgs", "global": "ldgs", "local": "ldls", "thread": "ldts"}
_STS = {"global": "stgs", "local": "stls", "thread": "stts"}
_LDAA = {"global": "ldgaa", "thread": "ldtaa"}
_STAA = {"global": "stgaa", "thread": "sttaa"}


def diftype(t: T.DType, strsize: int) -> DifType:
    if t.is_string:
        return DifType(lib.DIF_TYPE_KIND_STRING, 0, lib.DIF_TF_BYREF, strsize)
    if t.is_int:
        return DifType(lib.DIF_TYPE_KIND_CTF, CTF_K_INTEGER, 0, t.size)
    rt = T.resolve(t)
    if rt.kind == "ptr":
        return DifType(lib.DIF_TYPE_KIND_CTF, CTF_K_POINTER, 0, 8)
    # floating point: by value up to 8 bytes, long double by reference
    # (dt_node_type_assign sets DT_NF_REF for floats wider than uint64_t)
    if rt.kind == "float":
        return DifType(
            lib.DIF_TYPE_KIND_CTF, CTF_K_FLOAT, lib.DIF_TF_BYREF if rt.size > 8 else 0, rt.size
        )
    # arrays, structs and unions are by reference (DT_NF_REF): a record or
    # a key holds their bytes, as libdtrace's dt_node_diftype() says
    if rt.kind == "array" and rt.size:
        return DifType(lib.DIF_TYPE_KIND_CTF, CTF_K_ARRAY, lib.DIF_TF_BYREF, rt.size)
    if rt.sou is not None and rt.size:
        return DifType(
            lib.DIF_TYPE_KIND_CTF,
            CTF_K_STRUCT if rt.kind == "struct" else CTF_K_UNION,
            lib.DIF_TF_BYREF,
            rt.size,
        )
    if rt.kind == "array":
        return DifType(lib.DIF_TYPE_KIND_CTF, CTF_K_POINTER, 0, 8)
    return DifType(lib.DIF_TYPE_KIND_CTF, 0, 0, 0)


VOID_RTYPE = DifType(lib.DIF_TYPE_KIND_CTF, 0, 0, 0)


class Regs:
    def __init__(self) -> None:
        self.free = list(range(1, lib.DIF_DIR_NREGS))

    def alloc(self) -> int:
        if not self.free:
            raise library_error("EDT_NOREG")
        return self.free.pop(0)

    def release(self, r: int) -> None:
        self.free.append(r)
        self.free.sort()


class DifoGen:
    """Generates one DIFO."""

    def __init__(self, strsize: int) -> None:
        self.strsize = strsize
        self.ir = DifoIR()
        self.regs = Regs()
        self.vars: dict[tuple[int, int], VarRef] = {}
        # translator parameters bound while a member expression is generated
        # (id of the parameter's Var -> the register holding the input)
        self.xlargs: dict[int, int] = {}

    def emit(self, op: str, *args: object) -> None:
        self.ir.instrs.append(Instr(op, args))

    def place(self, label: Label) -> None:
        self.emit("label", label)

    def use_var(self, var: Var, flag: int) -> None:
        scope = _SCOPE[var.scope]
        key = (scope, var.id)
        ref = self.vars.get(key)
        if ref is None:
            kind = lib.DIFV_KIND_SCALAR if var.keys is None else lib.DIFV_KIND_ARRAY
            ref = VarRef(var.name, var.id, kind, scope, 0, diftype(var.type, self.strsize))
            self.vars[key] = ref
            self.ir.vars.append(ref)
        ref.flags |= flag

    def finish(self, reg: int, rtype: DifType) -> DifoIR:
        self.emit("ret", reg)
        self.ir.rtype = rtype
        return self.ir

    # -- expressions ------------------------------------------------------------

    def expr(self, e: ast.Expr) -> int:
        const = getattr(e, "const", None)
        if const is not None:
            r = self.regs.alloc()
            self.emit("setx", int(const) & MASK64, r)
            return r
        sub = getattr(e, "subst", None)
        if sub is not None:
            return self.expr(sub)
        return getattr(self, "g_" + type(e).__name__)(e)  # type: ignore[no-any-return]

    # -- memory (dtrace-internals 1.6) -------------------------------------------------

    def _value_at(self, r: int, t: T.DType, e: ast.Expr) -> int:
        """r holds the address of an object of type t: load its value into r.

        Arrays and structs are by reference: their value is the address."""
        rt = T.resolve(t)
        if rt.kind in ("array", "struct", "union", "func") or rt.is_string:
            return r
        if rt.kind == "float" and rt.size > 8:
            return r  # long double: by reference
        bits = getattr(e, "bitfield", 0)
        if bits:
            return self._bitfield(r, rt, getattr(e, "offset", 0) % 8, bits)
        size = 8 if rt.kind == "ptr" else rt.size
        self.emit(_LOADS[(size, rt.signed if rt.is_int else False)], r, r)
        return r

    def _bitfield(self, r: int, t: T.DType, shift: int, bits: int) -> int:
        """Load a bit-field of bits bits starting shift bits into the byte at r."""
        nbytes = -(-(shift + bits) // 8)
        size = 1 if nbytes <= 1 else 2 if nbytes <= 2 else 4 if nbytes <= 4 else 8
        self.emit(_LOADS[(size, False)], r, r)
        k = self.regs.alloc()
        self.emit("setx", 64 - shift - bits, k)
        self.emit("sll", r, k, r)
        self.emit("setx", 64 - bits, k)
        self.emit("sra" if t.signed else "srl", r, k, r)
        self.regs.release(k)
        return r

    def address(self, e: ast.Expr) -> int:
        """A register holding the address of lvalue e."""
        sub = getattr(e, "subst", None)
        if sub is not None:
            return self.address(sub)
        if isinstance(e, ast.Unary) and e.op == "*":
            return self.expr(e.operand)
        if isinstance(e, ast.Index) and getattr(e, "var", None) is not None:
            # a by-reference associative array element: ld?aa gives the
            # address of its data (faulted in when absent)
            return self.expr(e)
        if isinstance(e, ast.Index):
            base = self.expr(e.operand)
            return self._scaled_add(base, e.keys[0], e.type, "add", getattr(e, "bound", 0))
        if isinstance(e, ast.Ident | ast.ScopedVar) and getattr(e, "var", None) is not None:
            # a D struct variable (by reference): its value is its address
            return self.expr(e)
        if isinstance(e, ast.Member):
            base = self.expr(e.operand) if e.op == "->" else self.address(e.operand)
            off = getattr(e, "offset", 0) // 8
            if off:
                k = self.regs.alloc()
                self.emit("setx", off, k)
                self.emit("add", base, k, base)
                self.regs.release(k)
            return base
        raise AssertionError(f"not an lvalue: {e!r}")

    def _scaled_add(
        self, base: int, index: ast.Expr, elem: T.DType, op: str, bound: int = 0
    ) -> int:
        """base op index * sizeof (elem).  With a bound (an element of a D
        scalar array variable, index not constant), an index outside [0,
        bound) makes the address 0, so the load or store that uses it
        faults with an invalid address instead of reaching memory next to
        the array."""
        i = self.expr(index)
        if bound:
            k = self.regs.alloc()
            ok = Label()
            self.emit("setx", bound, k)
            self.emit("cmp", i, k)
            self.regs.release(k)
            self.emit("blu", ok)
            self.emit("mov", 0, i)
            self.emit("mov", 0, base)
            self.place(ok)
        size = T.resolve(elem).size if not T.resolve(elem).is_string else self.strsize
        if size != 1:
            k = self.regs.alloc()
            self.emit("setx", size, k)
            self.emit("mul", i, k, i)
            self.regs.release(k)
        self.emit(op, base, i, base)
        self.regs.release(i)
        return base

    def g_Member(self, e: ast.Member) -> int:
        xlm = getattr(e, "xlmember", None)
        if xlm is not None:
            return self._xlate_member(*xlm)
        return self._value_at(self.address(e), e.type, e)

    def _xlate_member(self, xl: ast.Xlate, body: ast.Expr, param: Var) -> int:
        """A translated member (dt_cg_node DT_TOK_PTR/DOT): the input once
        into a register bound to the translator's parameter, then the
        member's expression, cast to the member's type."""
        r = self.expr(xl.operand)
        self.xlargs[id(param)] = r
        try:
            v = self.expr(body)
        finally:
            del self.xlargs[id(param)]
        self.regs.release(r)
        return v

    def g_Xlate(self, e: ast.Xlate) -> int:
        if T.resolve(e.xlout).kind == "ptr":  # type: ignore[attr-defined]
            raise DError(
                "D_CG_DYN", "expression cannot evaluate to result of a translated pointer", e.line
            )
        if not getattr(e, "expand", False):
            raise DError(
                "D_VAR_UNSUP", "translated structs used as a whole are not supported yet", e.line
            )
        return self._xlate_expand(e)

    def _xlate_expand(self, e: ast.Xlate) -> int:
        """xlate<T>(x) as a whole (dt_cg_xlate_expand): a zeroed scratch T,
        each translated member stored at its offset (by-reference members
        copied with bcopy, strings up to their NUL as string elements are);
        the value is its address.  Assigned to a variable, the variable's
        store then copies it (dt_cg_asgn_op)."""
        xl = e.xlator  # type: ignore[attr-defined]
        out = T.resolve(xl.out)
        r = self.regs.alloc()
        self.emit("setx", out.size, r)
        self.emit("allocs", r, r)
        inp = self.expr(e.operand)
        self.xlargs[id(xl.param)] = inp
        try:
            for name, body in xl.members.items():
                found = T.member_path(out, name)
                assert found is not None
                m, off = found
                mt = T.resolve(m.type)
                byref = mt.kind in ("array", "struct", "union") and mt.size > 0
                if m.bits or not (
                    mt.is_string
                    or byref
                    or (mt.is_int or mt.kind == "ptr") and mt.size in (1, 2, 4, 8)
                ):
                    continue  # floats, bit-fields: left zero
                v = self.expr(body)
                a = self.regs.alloc()
                self.emit("setx", off // 8, a)
                self.emit("add", r, a, a)
                if mt.is_string:
                    self._strcopy(v, a, mt.size or self.strsize)
                elif byref:
                    n = self.regs.alloc()
                    self.emit("setx", mt.size, n)
                    self.emit("flushts")
                    for reg in (v, a, n):
                        self.emit("pushtv", 0, 0, reg)
                    self.emit("call", lib.DIF_SUBR_BCOPY, n)
                    self.regs.release(n)
                else:
                    self.emit({1: "stb", 2: "sth", 4: "stw", 8: "stx"}[mt.size], v, a)
                self.regs.release(a)
                self.regs.release(v)
        finally:
            del self.xlargs[id(xl.param)]
        self.regs.release(inp)
        return r

    def g_Index(self, e: ast.Index) -> int:
        var = getattr(e, "var", None)
        if var is not None:
            return self._assoc_load(e, var)
        n = getattr(e, "arg_index", None)
        if n is not None:
            r = self.regs.alloc()
            self.emit("setx", n, r)
            self.emit("ldga", lib.DIF_VAR_ARGS, r, r)
            # typed arguments narrower than 8 bytes: the cast rule (1.12)
            self.convert(r, T.TYPEDEFS["int64_t"], e.type)
            return r
        return self._value_at(self.address(e), e.type, e)

    # -- tuples, associative arrays and subroutines (1.9, 1.10, 1.12) ------------

    def _push_tuple(self, args: list[ast.Expr], params: list[T.DType | None]) -> None:
        """Evaluate args, then flushts and push each, cast to its parameter
        type (by reference for strings, with the string size in a register)."""
        if len(args) > lib.DIF_DTR_NREGS:
            raise library_error("EDT_NOTUPREG")
        regs = [self.expr(a) for a in args]
        self.emit("flushts")
        for a, r, p in zip(args, regs, params, strict=True):
            t: T.DType = a.type
            if p is not None:
                rt, rp = T.resolve(t), T.resolve(p)
                if not (rt.is_int and rp.is_int and rt.size == rp.size and rt.signed == rp.signed):
                    self.convert(r, t, p)
                if rp.is_string:
                    t = p
            dt = diftype(t, self.strsize)
            if dt.flags & lib.DIF_TF_BYREF:
                size = 0
                if dt.size:
                    size = self.regs.alloc()
                    self.emit("setx", dt.size, size)
                self.emit("pushtr", dt.kind, size, r)
                if size:
                    self.regs.release(size)
            else:
                self.emit("pushtv", 0, 0, r)
            self.regs.release(r)

    def _assoc_op(self, var: Var, load: bool) -> str:
        return (_LDAA if load else _STAA)[var.scope]

    def _assoc_load(self, e: ast.Index, var: Var) -> int:
        """ld?aa after the key pushes; a by-reference element is faulted in
        (created zeroed) when absent, so its address is usable (1.12)."""
        assert var.keys is not None
        self._push_tuple(e.keys, list(var.keys))
        r = self.regs.alloc()
        self.use_var(var, lib.DIFV_F_REF)
        self.emit(self._assoc_op(var, True), var.id, r)
        dt = diftype(var.type, self.strsize)
        if dt.flags & lib.DIF_TF_BYREF:
            done = Label()
            self.use_var(var, lib.DIFV_F_MOD)
            self.emit("tst", r)
            self.emit("bne", done)
            self.emit("setx", dt.size, r)
            self.emit("allocs", r, r)
            self.emit(self._assoc_op(var, False), var.id, r)
            self.emit(self._assoc_op(var, True), var.id, r)
            self.place(done)
        return r

    def g_Call(self, e: ast.Call) -> int:
        proto = getattr(e, "subr", None)
        if proto is None:
            # an action the compiler's action list does not handle
            # (dt_compile_fun's default case)
            raise DError("D_UNKNOWN", f"tracing function {e.name}( ) is not yet supported")
        self._push_tuple(e.args, list(proto.params[: len(e.args)]))
        r = self.regs.alloc()
        self.emit("call", proto.subr, r)
        return r

    def g_IntLit(self, e: ast.IntLit) -> int:
        r = self.regs.alloc()
        self.emit("setx", e.value, r)
        return r

    def g_StrLit(self, e: ast.StrLit) -> int:
        r = self.regs.alloc()
        self.emit("sets", e.value, r)
        return r

    def _load(self, var: Var) -> int:
        r = self.regs.alloc()
        self.use_var(var, lib.DIFV_F_REF)
        self.emit(_LDS[var.scope], var.id, r)
        return r

    def _store(self, var: Var, r: int) -> None:
        self.use_var(var, lib.DIFV_F_MOD)
        self.emit(_STS[var.scope], var.id, r)

    def g_Ident(self, e: ast.Ident) -> int:
        var: Var = e.var  # type: ignore[attr-defined]
        if var.scope == "xlarg":
            r = self.regs.alloc()
            self.emit("mov", self.xlargs[id(var)], r)
            return r
        return self._load(var)

    def g_ScopedVar(self, e: ast.ScopedVar) -> int:
        var: Var = e.var  # type: ignore[attr-defined]
        r = self._load(var)
        if getattr(e, "faultin", False):
            # a store into a thread-local array: ldts gives 0 while the
            # thread has no storage; create it zeroed, as dt_cg_array_op
            # does for by-reference associative array elements (1.12)
            dt = diftype(var.type, self.strsize)
            assert dt.flags & lib.DIF_TF_BYREF
            done = Label()
            self.emit("tst", r)
            self.emit("bne", done)
            self.emit("setx", dt.size, r)
            self.emit("allocs", r, r)
            self._store(var, r)
            self.emit(_LDS[var.scope], var.id, r)
            self.place(done)
        return r

    def g_Unary(self, e: ast.Unary) -> int:
        if e.op == "*":
            return self._value_at(self.address(e), e.type, e)
        if e.op == "&":
            return self.address(e.operand)
        r = self.expr(e.operand)
        if e.op == "stringof":
            return r  # a retyping: the value is the address
        if e.op == "-":
            self.emit("sub", 0, r, r)
        elif e.op == "~":
            self.emit("not", r, r)
        elif e.op == "!":
            self._bool(r, negate=True)
        return r

    def _bool(self, r: int, negate: bool = False) -> None:
        """r = (r != 0), or (r == 0) when negate."""
        if not negate:
            skip = Label()
            self.emit("tst", r)
            self.emit("be", skip)
            self.emit("setx", 1, r)
            self.place(skip)
            return
        true, post = Label(), Label()
        self.emit("tst", r)
        self.emit("be", true)
        self.emit("mov", 0, r)
        self.emit("ba", post)
        self.place(true)
        self.emit("setx", 1, r)
        self.place(post)

    def _cond_to_value(self, branch: str, r: int) -> None:
        true, post = Label(), Label()
        self.emit(branch, true)
        self.emit("mov", 0, r)
        self.emit("ba", post)
        self.place(true)
        self.emit("setx", 1, r)
        self.place(post)

    def g_Binary(self, e: ast.Binary) -> int:
        op = e.op
        if op in ("&&", "||"):
            return self._logical(e)
        if op == ",":
            self.regs.release(self.expr(e.left))
            return self.expr(e.right)
        lk, rk = T.resolve(e.left.type).kind, T.resolve(e.right.type).kind
        if op in ("+", "-") and (lk in ("ptr", "array") or rk in ("ptr", "array")):
            return self._pointer_arith(e, lk, rk)
        a = self.expr(e.left)
        b = self.expr(e.right)
        lt: T.DType = e.left.type
        rt: T.DType = e.right.type
        if op in _BRANCH:
            if lt.is_string or rt.is_string:
                self.emit("scmp", a, b)
                signed = True
            else:
                self.emit("cmp", a, b)
                signed = lt.is_int and rt.is_int and T.promote(lt, rt).signed
            self.regs.release(b)
            self._cond_to_value(_BRANCH[op][0 if signed else 1], a)
            return a
        if op == "^^":
            self._bool(a)
            self._bool(b)
            self.emit("xor", a, b, a)
        elif op in _ARITH:
            self.emit(_ARITH[op], a, b, a)
        elif op == ">>":
            self.emit("sra" if lt.signed else "srl", a, b, a)
        elif op == "/":
            self.emit("sdiv" if e.type.signed else "udiv", a, b, a)
        elif op == "%":
            self.emit("srem" if e.type.signed else "urem", a, b, a)
        else:
            raise AssertionError(op)
        self.regs.release(b)
        return a

    def _pointer_arith(self, e: ast.Binary, lk: str, rk: str) -> int:
        ptrs = ("ptr", "array")
        if lk in ptrs and rk in ptrs:
            a = self.expr(e.left)
            b = self.expr(e.right)
            self.emit("sub", a, b, a)
            self.regs.release(b)
            ref = T.resolve(e.left.type).ref
            size = T.resolve(ref).size if ref is not None else 1
            if size > 1:
                k = self.regs.alloc()
                self.emit("setx", size, k)
                self.emit("sdiv", a, k, a)
                self.regs.release(k)
            return a
        ptr, idx = (e.left, e.right) if lk in ptrs else (e.right, e.left)
        ref = T.resolve(ptr.type).ref
        assert ref is not None
        return self._scaled_add(self.expr(ptr), idx, ref, "add" if e.op == "+" else "sub")

    def _logical(self, e: ast.Binary) -> int:
        a = self.expr(e.left)
        post = Label()
        if e.op == "&&":
            false = Label()
            self.emit("tst", a)
            self.emit("be", false)
            b = self.expr(e.right)
            self.emit("tst", b)
            self.regs.release(b)
            self.emit("be", false)
            self.emit("setx", 1, a)
            self.emit("ba", post)
            self.place(false)
            self.emit("mov", 0, a)
        else:
            true = Label()
            self.emit("tst", a)
            self.emit("bne", true)
            b = self.expr(e.right)
            self.emit("tst", b)
            self.regs.release(b)
            self.emit("bne", true)
            self.emit("mov", 0, a)
            self.emit("ba", post)
            self.place(true)
            self.emit("setx", 1, a)
        self.place(post)
        return a

    def g_Ternary(self, e: ast.Ternary) -> int:
        c = self.expr(e.cond)
        false, post = Label(), Label()
        self.emit("tst", c)
        self.emit("be", false)
        a = self.expr(e.then)
        self.emit("mov", a, c)
        self.regs.release(a)
        self.emit("ba", post)
        self.place(false)
        b = self.expr(e.other)
        self.emit("mov", b, c)
        self.regs.release(b)
        self.place(post)
        return c

    def g_Cast(self, e: ast.Cast) -> int:
        r = self.expr(e.operand)
        self.convert(r, e.operand.type, e.type)
        return r

    def convert(self, r: int, src: T.DType, dst: T.DType) -> None:
        """Give r, a value of type src, the value C's conversion to dst gives.

        Registers may hold untruncated 64-bit results, so a narrowing (or
        same-size) cast truncates to dst and re-extends by dst's sign; a
        widening cast first extends from src by src's sign.  This is C's
        rule, not the older libdtrace quirk that sign-extended
        (long)(unsigned int)x.
        """
        if not (src.is_int and dst.is_int):
            return
        if dst.size <= src.size:
            if dst.size < 8:
                self._extend(r, dst.size, dst.signed)
            return
        self._extend(r, src.size, src.signed)
        if src.signed and not dst.signed and dst.size < 8:
            self._extend(r, dst.size, False)

    def _extend(self, r: int, size: int, signed: bool) -> None:
        """Keep the low size bytes of r, sign- or zero-extended."""
        t = self.regs.alloc()
        self.emit("setx", 64 - 8 * size, t)
        self.emit("sll", r, t, r)
        self.emit("sra" if signed else "srl", r, t, r)
        self.regs.release(t)

    def _copy_assign(self, e: ast.Assign) -> int:
        """A string or struct copied into an element or member of a D
        variable (dt_cg_store's copys; the kernel checks that the
        destination is the variable's data).  A struct: copys of its size.
        A string: its bytes up to the NUL, at most strsize - 1 of them
        (strlen() is bounded by strsize), then a NUL, so the element holds
        the string as a string variable would; the bytes after the NUL keep
        what they held."""
        t = T.resolve(e.target.type)
        assert e.value is not None
        a = self.address(e.target)
        r = self.expr(e.value)
        if not t.is_string:
            n = self.regs.alloc()
            self.emit("setx", t.size, n)
            self.emit("copys", r, n, a)
            self.regs.release(n)
            self.regs.release(a)
            return r
        self._strcopy(r, a, t.size or self.strsize)
        self.regs.release(a)
        return r

    def _strcopy(self, r: int, a: int, size: int) -> None:
        """The string at r into the size bytes at a (a string element or
        member): its bytes up to the NUL, at most size - 1 of them, then a
        NUL (copys, which the kernel allows only where DIF may store).
        Advances a past the bytes copied."""
        n = self.regs.alloc()
        k = self.regs.alloc()
        self.emit("flushts")
        self.emit("setx", self.strsize, k)
        self.emit("pushtr", lib.DIF_TYPE_STRING, k, r)
        self.emit("call", lib.DIF_SUBR_STRLEN, n)
        ok = Label()
        self.emit("setx", size - 1, k)
        self.emit("cmp", n, k)
        self.emit("bleu", ok)
        self.emit("mov", k, n)
        self.place(ok)
        self.emit("copys", r, n, a)
        self.emit("add", a, n, a)
        self.emit("stb", 0, a)
        self.regs.release(k)
        self.regs.release(n)

    def _memory_assign(self, e: ast.Assign) -> int:
        """A store through a pointer: the address, the value (loaded and
        combined for ++, -- and op=), then st[bhwx]."""
        if getattr(e, "copy", False):
            return self._copy_assign(e)
        t = T.resolve(e.target.type)
        size = 8 if t.kind == "ptr" else t.size
        st = {1: "stb", 2: "sth", 4: "stw", 8: "stx"}[size]
        a = self.address(e.target)
        if e.op == "=":
            assert e.value is not None
            r = self.expr(e.value)
            self.emit(st, r, a)
            self.regs.release(a)
            return r
        r = self.regs.alloc()
        self.emit("mov", a, r)
        r = self._value_at(r, e.target.type, e.target)
        step = _step(t)
        if e.op in ("++", "--"):
            k = self.regs.alloc()
            self.emit("setx", step, k)
            op = "add" if e.op == "++" else "sub"
            if e.prefix:
                self.emit(op, r, k, r)
                self.emit(st, r, a)
            else:
                self.emit(op, r, k, k)
                self.emit(st, k, a)
            self.regs.release(k)
            self.regs.release(a)
            return r
        assert e.value is not None
        v = self.expr(e.value)
        binop = e.op[:-1]
        if binop in ("+", "-") and step != 1 and t.kind == "ptr":
            k = self.regs.alloc()
            self.emit("setx", step, k)
            self.emit("mul", v, k, v)
            self.regs.release(k)
        signed = T.promote(t, e.value.type).signed
        if binop in _ARITH:
            self.emit(_ARITH[binop], r, v, r)
        elif binop == ">>":
            self.emit("sra" if t.signed else "srl", r, v, r)
        elif binop == "/":
            self.emit("sdiv" if signed else "udiv", r, v, r)
        elif binop == "%":
            self.emit("srem" if signed else "urem", r, v, r)
        self.regs.release(v)
        self.emit(st, r, a)
        self.regs.release(a)
        return r

    def g_Assign(self, e: ast.Assign) -> int:
        if getattr(e, "memory", False):
            return self._memory_assign(e)
        target = e.target
        var: Var = target.var  # type: ignore[attr-defined]
        assoc = var.keys is not None
        keys: list[ast.Expr] = target.keys if assoc else []  # type: ignore[attr-defined]

        def store(r: int) -> None:
            # an associative store reuses the tuple the load or the key
            # pushes left on the tuple stack (consumed, not popped)
            if assoc:
                self.use_var(var, lib.DIFV_F_MOD)
                self.emit(self._assoc_op(var, False), var.id, r)
            else:
                self._store(var, r)

        def load() -> int:
            return self._assoc_load(target, var) if assoc else self._load(var)  # type: ignore[arg-type]

        if e.op == "=":
            assert e.value is not None
            r = self.expr(e.value)
            if assoc:
                self._push_tuple(keys, list(var.keys or []))
            store(r)
            return r
        if e.op in ("++", "--"):
            r = load()
            t = self.regs.alloc()
            self.emit("setx", _step(var.type), t)
            op = "add" if e.op == "++" else "sub"
            if e.prefix:
                self.emit(op, r, t, r)
                store(r)
            else:
                self.emit(op, r, t, t)
                store(t)
            self.regs.release(t)
            return r
        assert e.value is not None
        if assoc:
            # the value first: a call or array reference in it would
            # flush the tuple the load leaves for the store
            v = self.expr(e.value)
            r = load()
        else:
            r = load()
            v = self.expr(e.value)
        binop = e.op[:-1]
        if binop in ("+", "-") and _step(var.type) != 1:
            k = self.regs.alloc()
            self.emit("setx", _step(var.type), k)
            self.emit("mul", v, k, v)
            self.regs.release(k)
        vt: T.DType = e.value.type
        signed = T.promote(var.type, vt).signed
        if binop in _ARITH:
            self.emit(_ARITH[binop], r, v, r)
        elif binop == ">>":
            self.emit("sra" if var.type.signed else "srl", r, v, r)
        elif binop == "/":
            self.emit("sdiv" if signed else "udiv", r, v, r)
        elif binop == "%":
            self.emit("srem" if signed else "urem", r, v, r)
        self.regs.release(v)
        store(r)
        return r


def _step(t: T.DType) -> int:
    """What ++ adds: 1, or the pointee size for a pointer."""
    rt = T.resolve(t)
    if rt.kind == "ptr" and rt.ref is not None:
        return max(T.resolve(rt.ref).size, 1)
    return 1


def expr_difo(e: ast.Expr, strsize: int, rtype: DifType | None = None) -> DifoIR:
    """A DIFO computing e; rtype defaults to e's own type."""
    gen = DifoGen(strsize)
    r = gen.expr(e)
    return gen.finish(r, rtype if rtype is not None else diftype(e.type, strsize))


def zero_difo() -> DifoIR:
    """`ret %r0` typed as a 64-bit integer, as libdtrace gives an argument-less
    printf: the 8-byte record keeps the ECB recording (a void result would
    make the whole clause record nothing, so the printf would never print)."""
    gen = DifoGen(0)
    return gen.finish(0, diftype(T.LONG, 0))


def const_difo(value: int) -> DifoIR:
    """`setx value, %r1; ret %r1`: the aggregation variable id and other
    constant action arguments (dt_action_difconst)."""
    gen = DifoGen(0)
    r = gen.regs.alloc()
    gen.emit("setx", value & MASK64, r)
    return gen.finish(r, diftype(T.LONG, 0))


def tracemem_difos(call: ast.Call, strsize: int) -> list[tuple[DifoIR, int]]:
    """The actions of a checked tracemem(addr, size[, dsize]) call, as
    (DIFO, DTRACEACT_*) pairs in order (dt_action_tracemem): with a dynamic
    size, first a TRACEMEM_DYNSIZE action whose DIFO computes it as a 64-bit
    integer; then the TRACEMEM action, whose DIFO computes the address and
    is typed by reference with the constant size, so the kernel copies that
    many bytes from the address into the record."""
    out: list[tuple[DifoIR, int]] = []
    if len(call.args) > 2:
        out.append(
            (
                expr_difo(call.args[2], strsize, diftype(T.LONG, strsize)),
                int(lib.DTRACEACT_TRACEMEM_DYNSIZE),
            )
        )
    addr = call.args[0]
    base = diftype(addr.type, strsize)
    size: int = call.size  # type: ignore[attr-defined]
    rtype = DifType(base.kind, base.ckind, base.flags | lib.DIF_TF_BYREF, size)
    out.append((expr_difo(addr, strsize, rtype), int(lib.DTRACEACT_TRACEMEM)))
    return out
