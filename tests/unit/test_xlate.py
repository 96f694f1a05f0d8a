"""Translators: definitions, xlate<T>(e), translated members and inlines, their
errors, and the code they compile to (run on the host build of the DIF VM)."""

from __future__ import annotations

import ctypes

import pytest
from test_codegen import Runner, difos

from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.lang import ast

try:
    from pydtrace import _difhost
except ImportError:  # pragma: no cover - the host build is optional
    _difhost = None

needs_vm = pytest.mark.skipif(_difhost is None, reason="pydtrace._difhost not built")

DECL = """
struct s {
	int i;
	long l;
	char name[8];
	struct s *next;
};
typedef struct out {
	int a;
	long b;
	char c;
	char nm[8];
	int twice;
	long never;
} out_t;
translator out_t < struct s *P > {
	a = P->i + 1;
	b = P->l;
	c = P->i;
	nm = P->name;
	twice = P->i + P->next->i;
};
"""


class CS(ctypes.Structure):
    pass


CS._fields_ = [("i", ctypes.c_int), ("l", ctypes.c_long), ("name", ctypes.c_char * 8),
               ("next", ctypes.POINTER(CS))]

M64 = (1 << 64) - 1


@pytest.fixture(scope="module")
def mem() -> tuple[CS, CS]:
    a, b = CS(), CS()
    a.i, a.l, a.name, a.next = 300, -(1 << 40), b"first", ctypes.pointer(b)
    b.i, b.l, b.name, b.next = -7, 5, b"second", ctypes.pointer(a)
    return a, b


def run_clause(src: str, arg0: int, globals_: list[int] | None = None) -> tuple[int, Runner]:
    """Run the DIFOs of src's one clause; the last value and its runner."""
    g = list(globals_ or [0] * 16)
    value, runner = 0, None
    for difo in difos(src).difos:
        runner = Runner(difo)
        assert runner.validate() == (0, 0)
        res = runner.run(args=[arg0], globals_=g)
        assert res.flags == 0, f"fault flags {res.flags:#x}"
        g = runner.globals
        value = res.value
    assert runner is not None
    return value, runner


def s64(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def value(expr: str, mem: tuple[CS, CS], prelude: str = "") -> int:
    v, _ = run_clause(DECL + prelude + f"BEGIN {{ p = (struct s *)arg0; trace({expr}); }}",
                      ctypes.addressof(mem[0]))
    return s64(v)


@needs_vm
@pytest.mark.parametrize("expr,want", [
    ("xlate<out_t *>(p)->a", 301),
    ("xlate<out_t>(p).a", 301),
    ("xlate<out_t *>(p)->b", -(1 << 40)),
    ("xlate<out_t *>(p->next)->b", 5),
    # the member's type decides: char c = 300 keeps 44
    ("xlate<out_t *>(p)->c", 44),
    ("xlate<out_t *>(p)->twice", 293),
    ("xlate<out_t *>(p)->a + xlate<out_t *>(p->next)->a * 1000", 301 - 6000),
    ("xlate<out_t *>(xlate<out_t *>(p)->a > 0 ? p->next : p)->a", -6),
    ("xlate<out_t *>((struct s *)arg0)->nm[1]", ord("i")),
    ("sizeof (xlate<out_t *>(p)->nm)", 8),
])
def test_translated_members(expr: str, want: int, mem: tuple[CS, CS]) -> None:
    assert value(expr, mem) == want


@needs_vm
def test_translated_char_array_member_is_the_input_bytes(mem: tuple[CS, CS]) -> None:
    v, runner = run_clause(DECL + "BEGIN { trace(xlate<out_t *>((struct s *)arg0)->nm); }",
                           ctypes.addressof(mem[0]))
    assert runner.string(v) == b"first"


@needs_vm
def test_inline_keeps_a_translated_pointer(mem: tuple[CS, CS]) -> None:
    prelude = "inline out_t *cur = xlate<out_t *>((struct s *)arg0);\n"
    assert value("cur->a * 2 + cur->b", mem, prelude) == 602 - (1 << 40)


@needs_vm
def test_input_is_evaluated_once_per_member_reference(mem: tuple[CS, CS]) -> None:
    """Member-at-a-time: twice = P->i + P->next->i reads P twice, but the
    input expression (n++ here) runs once for each member reference."""
    src = DECL + """BEGIN { n = 0; }
BEGIN { t = xlate<out_t *>((struct s *)(arg0 + 0 * n++))->twice +
    xlate<out_t *>((struct s *)(arg0 + 0 * n++))->a; trace(n); }"""
    prog = difos(src)
    g = [0] * 16
    last = 0
    for difo in prog.difos:
        r = Runner(difo)
        assert r.validate() == (0, 0)
        res = r.run(args=[ctypes.addressof(mem[0])], globals_=g)
        assert res.flags == 0
        g = r.globals
        last = res.value
    assert last == 2


def compile_error(src: str) -> DError:
    with pytest.raises(DError) as info:
        Compiler(kernel=None).compile(src, kind="script", label="t.d")
    return info.value


@pytest.mark.parametrize("body,tag,message", [
    ("trace(xlate<out_t *>(1)->a);", "D_XLATE_NONE",
     'cannot translate from "int" to "out_t *"'),
    ("trace(xlate<struct s *>(p)->i);", "D_XLATE_NONE",
     'cannot translate from "struct s *" to "struct s *"'),
    ("trace(xlate<out_t *>(p)->never);", "D_XLATE_NOCONV",
     "translator does not define conversion for member: never"),
    ("trace(xlate<out_t *>(p));", "D_TRACE_DYN",
     "trace( ) may not be applied to a translated pointer"),
    ("trace(xlate<out_t>(p)->a);", "D_OP_PTR", "operator -> must be applied to a pointer"),
    ("trace(xlate<out_t *>(p).a);", "D_OP_SOU",
     'operator . cannot be applied to type "out_t *"; must be applied to a struct or union'),
    ("trace(1 ? xlate<out_t *>(p) : xlate<out_t *>(p));", "D_OP_DYN",
     "operator ?: operands cannot be of dynamic type"),
    ("trace((xlate<out_t *>(p), 1));", "D_OP_DYN",
     "operator , operands cannot be of dynamic type"),
    ("x = xlate<out_t *>(p);", "D_CG_DYN",
     "expression cannot evaluate to result of a translated pointer"),
    ("trace(xlate<out_t *>(p) + 1);", "D_OP_ARITH",
     "operator + requires operands of arithmetic type"),
])
def test_translation_errors(body: str, tag: str, message: str) -> None:
    e = compile_error(DECL + "BEGIN { p = (struct s *)0; " + body + " }")
    assert (e.tag, e.message) == (tag, message)


@pytest.mark.parametrize("xl,tag,message", [
    ("translator int < struct s *P > { a = 1; };", "D_XLATE_SOU",
     "translator output type must be a struct or union"),
    ("translator struct nope < struct s *P > { a = 1; };", "D_XLATE_SOU",
     "incomplete struct/union/enum struct nope"),
    ("translator out_t < struct s *P > { zz = 1; };", "D_XLATE_MEMB",
     "translator member zz is not a member of out_t"),
    ("translator out_t < struct s *P > { a = P->name; };", "D_XLATE_INCOMPAT",
     'translator member a definition uses incompatible types: "int" = "char [8]"'),
    ("translator out_t < struct s *P > { a = 1; };\n"
     "translator out_t < struct s *Q > { b = 2; };", "D_XLATE_REDECL",
     "translator from struct s * to out_t has already been declared"),
    ("translator out_t < struct s *P > { a = Q->i; };", "D_IDENT_UNDEF",
     "failed to resolve Q: Unknown variable name"),
])
def test_translator_definition_errors(xl: str, tag: str, message: str) -> None:
    decl = DECL[:DECL.index("translator")]
    e = compile_error(decl + xl)
    assert (e.tag, e.message) == (tag, message)


def test_translator_errors_carry_the_member_line() -> None:
    decl = DECL[:DECL.index("translator")]
    e = compile_error(decl + "translator out_t < struct s *P > {\n a = 1;\n zz = 2;\n};")
    assert e.line == decl.count("\n") + 3  # the line of "zz = 2;"


def test_inline_of_a_translation_checks_the_output_type() -> None:
    e = compile_error(DECL + "struct other { int a; };\n"
                      "inline struct other *o = xlate<out_t *>((struct s *)0);")
    assert (e.tag, e.message) == ("D_OP_INCOMPAT", 'inline o definition uses incompatible '
                                  'types: "struct other" = "struct out"')


def test_translator_parameter_is_scoped_to_its_members() -> None:
    e = compile_error(DECL + "BEGIN { trace(P); }")
    assert e.tag == "D_IDENT_UNDEF"


def test_translated_arg_hook(mem: tuple[CS, CS], monkeypatch: pytest.MonkeyPatch) -> None:
    """What args_ref does with a provider's (native, xlate) argument
    description: args[i] becomes xlate<xlate>((native)argi)."""
    from pydtrace.sema import check

    table = {("fake", "", "", "go"): [("int", None), ("struct s *", "out_t *")]}
    original = check.Checker.args_ref

    def args_ref(self: check.Checker, e: ast.Index) -> object:
        t = original(self, e)
        d = self.pdesc.split(":")
        desc = table.get(tuple(d))
        n = e.arg_index  # type: ignore[attr-defined]
        if desc is not None and n < len(desc) and desc[n][1] is not None:
            sub = self.translated_arg(n, desc[n][0], desc[n][1], e.line)
            e.subst = sub  # type: ignore[attr-defined]
            return sub.type
        return t

    monkeypatch.setattr(check.Checker, "args_ref", args_ref)
    src = DECL + "fake:::go { trace(args[1]->a + args[1]->b); }"
    prog = difos(src)
    (difo,) = prog.difos
    if _difhost is None:
        pytest.skip("pydtrace._difhost not built")
    r = Runner(difo)
    assert r.validate() == (0, 0)
    res = r.run(args=[0, ctypes.addressof(mem[0])])
    assert res.flags == 0
    assert s64(res.value) == 301 - (1 << 40)
    with pytest.raises(DError) as info:
        difos(DECL + "fake:::go { trace(args[1]); }")
    assert info.value.tag == "D_TRACE_DYN"


class COut(ctypes.Structure):
    _fields_ = [("a", ctypes.c_int), ("b", ctypes.c_long), ("c", ctypes.c_byte),
                ("nm", ctypes.c_char * 8), ("twice", ctypes.c_int), ("never", ctypes.c_long)]


@needs_vm
@pytest.mark.parametrize("prelude,expr", [
    ("", "xlate<out_t>((struct s *)arg0)"),
    ("inline out_t whole = xlate<out_t>((struct s *)arg0);\n", "whole"),
])
def test_trace_of_a_translated_struct_builds_it(prelude: str, expr: str,
                                               mem: tuple[CS, CS]) -> None:
    """trace(xlate<T>(x)): T built in scratch memory member by member
    (dt_cg_xlate_expand); members the translator does not define are 0."""
    src = DECL + prelude + f"BEGIN {{ trace({expr}); }}"
    (difo,) = difos(src).difos
    assert (difo.rtype.size, difo.rtype.flags) == (ctypes.sizeof(COut), 1)
    addr, _ = run_clause(src, ctypes.addressof(mem[0]))
    o = COut.from_address(addr)
    assert (o.a, o.b, o.c, o.nm, o.twice, o.never) == (301, -(1 << 40), 44, b"first", 293, 0)


def test_a_translated_pointer_is_no_variable_value() -> None:
    """A translated struct is a variable's value (test_codegen_structvar);
    a translated pointer is not, as in dt_cg."""
    e = compile_error(DECL + "BEGIN { x = xlate<out_t *>((struct s *)0); }")
    assert (e.tag, e.message) == (
        "D_CG_DYN", "expression cannot evaluate to result of a translated pointer")
