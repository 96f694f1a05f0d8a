"""The D type model and the checker: layouts, typing, folding, declarations, macros."""

from __future__ import annotations

import ctypes
import shutil

import pytest

from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.lang import ast
from pydtrace.lang.parser import parse
from pydtrace.sema import types as T
from pydtrace.sema.check import Checker, Scope
from pydtrace.sema.decl import TypeEnv
from pydtrace.sema.fold import fold
from pydtrace.sema.lower import lower_clause
from pydtrace.sema.macros import Macros


def checked(src: str, args: list[str] | None = None,
            defaultargs: bool = False) -> tuple[Checker, list[ast.Expr]]:
    """Declarations of src, then the statements of its one BEGIN clause, checked."""
    env = TypeEnv()
    checker = Checker(Scope(), env, Macros(["t.d", *(args or [])], {"target": 42},
                                           defaultargs))
    prog = parse(src, lambda n: env.is_typename(n))
    stmts: list[ast.Expr] = []
    for item in prog.items:
        if isinstance(item, ast.Clause):
            checker.check_clause(item)
            stmts += [s for s in item.stmts if isinstance(s, ast.Expr)]
        else:
            checker.declare(item)
    return checker, stmts


def value(src: str, **kw: object) -> int:
    """The folded constant of `trace(expr)` after the declarations in src."""
    _, stmts = checked(src, **kw)  # type: ignore[arg-type]
    call = stmts[-1]
    assert isinstance(call, ast.Call)
    c = fold(call.args[0])
    assert c is not None, "not folded"
    return c


def type_of(src: str) -> str:
    _, stmts = checked(src)
    call = stmts[-1]
    assert isinstance(call, ast.Call)
    return str(call.args[0].type)


# -- layouts agree with the C compiler (ctypes uses the platform ABI) -----------

class CPair(ctypes.Structure):
    _fields_ = [("a", ctypes.c_int), ("b", ctypes.c_char), ("c", ctypes.c_long),
                ("d", ctypes.c_short)]


class CUnion(ctypes.Union):
    _fields_ = [("c", ctypes.c_char * 3), ("s", ctypes.c_short), ("l", ctypes.c_long)]


class CNested(ctypes.Structure):
    _fields_ = [("x", ctypes.c_char), ("p", CPair), ("arr", ctypes.c_short * 3),
                ("y", ctypes.c_char)]


LAYOUTS = """
struct pair { int a; char b; long c; short d; };
struct bits { unsigned int a : 1; unsigned int b : 3; int c : 12; char d;
              unsigned int e : 7; unsigned char f; };
union un { char c[3]; short s; long l; };
struct nested { char x; struct pair p; short arr[3]; char y; };
"""


@pytest.mark.parametrize("name,ctype", [
    ("struct pair", CPair), ("union un", CUnion),
    ("struct nested", CNested)])
def test_struct_layouts_match_c(name: str, ctype: type) -> None:
    checker, _ = checked(LAYOUTS)
    kind, tag = name.split()
    t = checker.env.tags[(kind, tag)]
    assert t.size == ctypes.sizeof(ctype)
    assert t.align == ctypes.alignment(ctype)
    for fname, *_ in ctype._fields_:  # type: ignore[attr-defined]
        found = T.member_path(t, fname)
        assert found is not None
        member, off = found
        cfield = getattr(ctype, fname)
        if member.bits:
            assert member.bits == cfield.size >> 16
            # ctypes: offset of the storage unit, bit position within it
            assert off == cfield.offset * 8 + (cfield.size & 0xFFFF)
        else:
            assert off == cfield.offset * 8


@pytest.mark.parametrize("expr,size", [
    ("sizeof (char)", 1), ("sizeof (short)", 2), ("sizeof (int)", 4), ("sizeof (long)", 8),
    ("sizeof (long long)", 8), ("sizeof (void *)", 8), ("sizeof (char [3][5])", 15),
    ("sizeof (int *[4])", 32), ("sizeof (int (*)[4])", 8), ("sizeof (uint16_t)", 2),
    ("sizeof (size_t)", 8), ("sizeof (_Bool)", 1), ("sizeof (double)", 8),
    ("sizeof (string)", 256), ("sizeof (1)", 4), ("sizeof (1L)", 8), ("sizeof ('a')", 4),
    ("sizeof (struct pair)", 24), ("sizeof (union un)", 8),
    ("offsetof(struct pair, c)", 8), ("offsetof(struct nested, arr)", 32),
    ("sizeof (((struct nested *)0)->arr)", 6), ("sizeof (*(struct pair *)0)", 24),
])
def test_sizeof_and_offsetof_fold(expr: str, size: int) -> None:
    assert value(LAYOUTS + f"BEGIN {{ trace({expr}); }}") == size


@pytest.mark.parametrize("expr,typename", [
    ("(char)1 + (char)1", "char"), ("1 + 1u", "unsigned int"), ("1 + 1L", "long"),
    ("1u + 1L", "long"), ("1L + 1UL", "unsigned long"), ("(short)1 << 40", "short"),
    ("1 < 2", "int"), ("(int *)0 + 1", "int *"), ("1 + (char *)0", "char *"),
    ("(int *)0 - (int *)0", "ptrdiff_t"), ("sizeof (int)", "size_t"),
    ("*(long *)0", "long"), ("&((struct pair *)0)->c", "long *"),
    ("((struct nested *)0)->p.d", "short"), ("((struct nested *)0)->arr[1]", "short"),
    ("stringof((char *)0)", "string"), ("(void *)0 == 0", "int"),
    ("1 ? (char *)0 : 0", "char *"), ("-'a'", "int"), ("\"s\" == \"t\"", "int"),
    ("(1, \"s\")", "string"), ("RED", "enum color"), ("RED + 1", "int"),
])
def test_expression_types(expr: str, typename: str) -> None:
    src = LAYOUTS + "enum color { RED, GREEN };\n" + f"BEGIN {{ trace({expr}); }}"
    assert type_of(src) == typename


@pytest.mark.parametrize("expr,result", [
    ("1 + 2 * 3", 7), ("-7 / 2", -3), ("-7 % 2", -1), ("(char)300", 44),
    ("(unsigned char)-1", 255), ("1 << 4 >> 2", 4), ("5 > 3 && 2 > 1", 1),
    ("0 ^^ 1", 1), ("~0", -1), ("TEN * 2", 20), ("BLUE", 6), ("TWENTY - TEN", 10),
])
def test_constant_folding(expr: str, result: int) -> None:
    src = ("enum color { RED, GREEN = 5, BLUE };\ninline int TEN = 10;\n"
           "inline int TWENTY = TEN * 2;\n"
           f"BEGIN {{ trace({expr}); }}")
    _, stmts = checked(src)
    arg = stmts[-1].args[0]  # type: ignore[attr-defined]
    assert fold(arg) == result


def test_enum_values_and_redeclaration() -> None:
    checker, _ = checked("enum e { A = -2, B, C = 10, D, E = B };")
    assert {k: v[0] for k, v in checker.env.enum_consts.items()} == {
        "A": -2, "B": -1, "C": 10, "D": 11, "E": -1}
    with pytest.raises(DError) as ei:
        checked("enum e { A = 0x80000000 };")
    assert ei.value.tag == "D_DECL_ENOFLOW"


def test_typedefs_keep_their_names_and_resolve() -> None:
    checker, _ = checked("typedef unsigned short u16_t; typedef u16_t *u16p_t;"
                         "typedef struct pt { int x, y; } pt_t;")
    u16 = checker.env.typedefs["u16_t"]
    assert str(u16) == "u16_t" and T.resolve(u16) is T.USHORT
    assert str(T.resolve(checker.env.typedefs["u16p_t"])) == "u16_t *"
    assert checker.env.typedefs["pt_t"].size == 8


def test_declared_globals_and_locals_have_their_types() -> None:
    checker, _ = checked("long g; this char *l; BEGIN { g = 1; this->l = (char *)0; }")
    assert str(checker.scope.globals["g"].type) == "long"
    assert str(checker.scope.locals["l"].type) == "char *"
    with pytest.raises(DError) as ei:
        checked("long g; BEGIN { g = \"s\"; }")
    assert ei.value.tag == "D_OP_INCOMPAT"


def test_increments_and_compound_assignments_declare_int64_scalars() -> None:
    # as illumos's dt_cook_op1/op2: ++, -- and op= instantiate new variables
    checker, _ = checked("BEGIN { i++; --j; k += 2; self->t |= 1; this->c--; trace(i); }")
    for name in ("i", "j", "k"):
        assert str(checker.scope.globals[name].type) == "int64_t"
    assert str(checker.scope.tlocals["t"].type) == "int64_t"
    assert str(checker.scope.locals["c"].type) == "int64_t"
    assert type_of("BEGIN { i++; trace(i); }") == "int64_t"
    # a mere reference still needs a declaration or an assignment first
    with pytest.raises(DError) as ei:
        checked("BEGIN { trace(nosuch); }")
    assert ei.value.tag == "D_IDENT_UNDEF"


@pytest.mark.parametrize("args,expr,expect", [
    (["41"], "$1 + 1", 42), (["0x10"], "$1", 16), (["010"], "$1", 8),
    ([], "$target", 42),
])
def test_macro_integers(args: list[str], expr: str, expect: int) -> None:
    assert value(f"BEGIN {{ trace({expr}); }}", args=args) == expect


def test_macro_strings_identifiers_and_defaults() -> None:
    _, stmts = checked('BEGIN { trace($$1); }', args=["hello"])
    sub = stmts[0].args[0].subst  # type: ignore[attr-defined]
    assert isinstance(sub, ast.StrLit) and sub.value == "hello"
    with pytest.raises(DError) as ei:
        checked("BEGIN { trace($1); }", args=["nosuchvar"])
    assert (ei.value.tag, ei.value.message) == (
        "D_IDENT_UNDEF", "failed to resolve nosuchvar: Unknown variable name")
    with pytest.raises(DError) as ei:
        checked("BEGIN { trace($2); }", args=["1"])
    assert (ei.value.tag, ei.value.message) == ("D_MACRO_UNDEF",
                                                "macro argument $2 is not defined")
    assert value("BEGIN { trace($3); }", defaultargs=True) == 0


def test_macros_in_probe_descriptions_and_unused_arguments() -> None:
    c = Compiler(macro_args=["t.d", "read", "entry"])
    c.dump = lambda name, tree: seen.append(tree) if name == "check" else None
    seen: list[object] = []
    prog = c.compile("syscall::$1:$2 { }", kind="script", label="t.d")
    assert prog.necbs == 1
    tree = seen[0]
    assert isinstance(tree, ast.Program)
    d = tree.clauses[0].descs[0]
    assert (d.provider, d.function, d.name) == ("syscall", "read", "entry")
    with pytest.raises(DError) as ei:
        Compiler(macro_args=["t.d", "1", "2"]).compile("BEGIN { trace($1); }",
                                                       kind="script", label="t.d")
    assert (ei.value.tag, ei.value.message) == ("D_MACRO_UNUSED",
                                                "macro argument $2 is not referenced")


def test_if_else_lowers_to_predicated_clauses() -> None:
    prog = parse("BEGIN /p/ { a = 1; if (x) { b = 2; } else { c = 3; } d = 4; }")
    out = lower_clause(prog.clauses[0], iter(range(1, 100)))  # type: ignore[arg-type]

    def pred(c: ast.Clause) -> str | None:
        return c.predicate.name if isinstance(c.predicate, ast.ScopedVar) else None

    assert [(pred(c), len(c.stmts)) for c in out] == [
        (None, 1),          # this->%cond1 = !!p
        ("%cond1", 1),      # a = 1
        (None, 2),          # this->%cond2 = cond1 && !!x; this->%cond3 = cond1 && !cond2
        ("%cond2", 1),      # b = 2
        ("%cond3", 1),      # c = 3
        ("%cond1", 1)]      # d = 4
    plain = parse("BEGIN { a = 1; }").clauses[0]
    assert lower_clause(plain, iter(range(1, 9))) == [plain]  # type: ignore[arg-type]


def test_if_compiles_to_more_ecbs() -> None:
    prog = Compiler().compile("BEGIN { if (pid) { trace(1); } else { trace(2); } }",
                              kind="probe", label="p")
    assert prog.necbs == 3


@pytest.mark.parametrize("src,tag,message", [
    ("struct s { int a; }; BEGIN { trace(((struct s *)0)->b); }", "D_TYPE_MEMBER",
     "b is not a member of struct s"),
    ("BEGIN { trace(((int *)0)->x); }", "D_OP_SOU",
     'operator -> cannot be applied to pointer to type "int"; must be applied to a '
     "struct or union pointer"),
    ("BEGIN { trace(pid.x); }", "D_OP_SOU",
     'operator . cannot be applied to type "int"; must be applied to a struct or union'),
    ("BEGIN { trace(pid->x); }", "D_OP_PTR", "operator -> must be applied to a pointer"),
    ("BEGIN { trace(*(void *)0); }", "D_DEREF_VOID", "cannot dereference pointer to void"),
    ("BEGIN { trace(*1); }", "D_DEREF_NONPTR", "cannot dereference non-pointer type"),
    ("BEGIN { trace(&1); }", "D_ADDROF_LVAL", "unacceptable operand for unary & operator"),
    ("BEGIN { trace(sizeof (void)); }", "D_SIZEOF_TYPE",
     "cannot apply sizeof to an operand of unknown size"),
    ("BEGIN { trace((int)\"s\"); }", "D_CAST_INVAL",
     'invalid cast expression: "string" to "int"'),
    ("BEGIN { trace((char *)0 + (char *)0); }", "D_OP_INCOMPAT",
     'operands have incompatible types: "char *" + "char *"'),
    ("BEGIN { trace((char *)0 == (int *)0); }", "D_OP_INCOMPAT",
     'operands have incompatible types: "char *" == "int *"'),
    ("BEGIN { trace(1 ? \"s\" : 1); }", "D_OP_INCOMPAT",
     "operator ?: operands must have compatible types"),
    ("int x; int x[2];", "D_DECL_IDRED", "identifier redeclared: x"),
    ("int pid;", "D_DECL_IDRED", "identifier redeclared: pid"),
    ("long char c;", "D_DECL_CHARATTR",
     "invalid type declaration: short and long may not be used with char type"),
    ("unsigned unsigned x;", "D_DECL_COMBO",
     "the attribute 'unsigned' may only be used at most once in a declaration"),
    ("struct s { char c : 9; };", "D_DECL_BFSIZE", "bit-field too big for type: c"),
    ("int a[0];", "D_DECL_ARRSUB", "positive integral constant expression or tuple "
     "signature expected as array declaration subscript"),
    ("inline int I = \"s\";", "D_OP_INCOMPAT",
     'inline I definition uses incompatible types: "int" = "string"'),
    ("BEGIN { trace(strlen(\"x\", 1)); }", "D_PROTO_LEN",
     "strlen( ) prototype mismatch: 2 args passed, 1 expected"),
    ("BEGIN { trace(msgsize(0)); }", "D_VAR_UNSUP", "msgsize( ) has no meaning on Linux"),
    ("BEGIN { @a = 1; }", "D_AGG_FUNC",
     "@a must be assigned the result of an aggregating function"),
])
def test_type_errors(src: str, tag: str, message: str) -> None:
    with pytest.raises(DError) as ei:
        checked(src)
    assert (ei.value.tag, ei.value.message) == (tag, message)


def test_layout_of_forward_then_defined_struct() -> None:
    checker, _ = checked("struct later; struct holder { struct later *p; };"
                         "struct later { long a, b; };"
                         "BEGIN { trace(sizeof (*((struct holder *)0)->p)); }")
    assert checker.env.tags[("struct", "later")].size == 16


def test_failed_compile_keeps_types_uncommitted() -> None:
    c = Compiler(kernel=None)
    with pytest.raises(DError):
        c.compile("typedef int mine_t; BEGIN { trace(nope); }", kind="probe", label="p")
    assert "mine_t" not in c.types.typedefs
    c.compile("typedef int mine_t; BEGIN { trace((mine_t)1); }", kind="probe", label="p")
    assert "mine_t" in c.types.typedefs
    # later programs of the same consumer see the type
    c.compile("BEGIN { trace(sizeof (mine_t)); }", kind="probe", label="p")


GCC_BITS = """
#include <stdio.h>
#include <stddef.h>
struct bits { unsigned int a : 1; unsigned int b : 3; int c : 12; char d;
              unsigned long e : 40; unsigned char f; unsigned short g : 9, : 0;
              unsigned char h : 2; };
int main(void) {
    printf("%zu %zu %zu %zu\\n", sizeof(struct bits), _Alignof(struct bits),
           offsetof(struct bits, d), offsetof(struct bits, f));
    return 0;
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
def test_bitfield_layout_matches_gcc(tmp_path: object) -> None:
    import pathlib
    import subprocess

    d = pathlib.Path(str(tmp_path))
    (d / "b.c").write_text(GCC_BITS)
    subprocess.run(["gcc", "-o", str(d / "b"), str(d / "b.c")], check=True)
    want = [int(x) for x in subprocess.run([str(d / "b")], capture_output=True, text=True,
                                           check=True).stdout.split()]
    start = GCC_BITS.index("struct bits {")
    decl = GCC_BITS[start:GCC_BITS.index("};", start) + 2]
    checker, _ = checked(decl)
    t = checker.env.tags[("struct", "bits")]
    got = [t.size, t.align, T.member_path(t, "d")[1] // 8, T.member_path(t, "f")[1] // 8]
    assert got == want
