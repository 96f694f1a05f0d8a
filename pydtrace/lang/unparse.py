"""AST -> D source text (fully parenthesized), for dumps and round-trip tests.

unparse(parse(text)) is a program that parses to the same tree shape; the
output is canonical, so printing it again gives the same text.
"""

from __future__ import annotations

from pydtrace.lang import ast

_ESC = {
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\\": "\\\\",
    '"': '\\"',
    "\0": "\\0",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
}


def string(value: str) -> str:
    out = []
    for c in value:
        if c in _ESC:
            out.append(_ESC[c])
        elif ord(c) < 0x20 or ord(c) >= 0x7F:
            out.append(f"\\{ord(c) & 0xFF:03o}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def expr(e: ast.Expr | None) -> str:
    if e is None:
        return ""
    if isinstance(e, ast.IntLit):
        return e.text or str(e.value)
    if isinstance(e, ast.StrLit):
        return string(e.value)
    if isinstance(e, ast.Ident):
        return e.name
    if isinstance(e, ast.ScopedVar):
        return f"{e.scope}->{e.name}"
    if isinstance(e, ast.Macro):
        return e.name
    if isinstance(e, ast.Symbol):
        return f"{e.module}`{e.name}"
    if isinstance(e, ast.Agg):
        keys = f"[{', '.join(expr(k) for k in e.keys)}]" if e.keys is not None else ""
        return f"@{e.name}{keys}"
    if isinstance(e, ast.Unary):
        if e.op == "stringof":
            return f"stringof({expr(e.operand)})"
        return f"{e.op}({expr(e.operand)})"
    if isinstance(e, ast.Binary):
        return f"({expr(e.left)} {e.op} {expr(e.right)})"
    if isinstance(e, ast.Ternary):
        return f"({expr(e.cond)} ? {expr(e.then)} : {expr(e.other)})"
    if isinstance(e, ast.Cast):
        return f"(({typename(e.typename)})({expr(e.operand)}))"
    if isinstance(e, ast.Call):
        return f"{e.name}({', '.join(expr(a) for a in e.args)})"
    if isinstance(e, ast.Assign):
        if e.value is None:
            return f"({e.op}{expr(e.target)})" if e.prefix else f"({expr(e.target)}{e.op})"
        return f"({expr(e.target)} {e.op} {expr(e.value)})"
    if isinstance(e, ast.Member):
        return f"{expr(e.operand)}{e.op}{e.name}"
    if isinstance(e, ast.Index):
        return f"{expr(e.operand)}[{', '.join(expr(k) for k in e.keys)}]"
    if isinstance(e, ast.Sizeof):
        op = e.operand
        return f"sizeof ({typename(op) if isinstance(op, ast.TypeName) else expr(op)})"
    if isinstance(e, ast.Offsetof):
        return f"offsetof({typename(e.typename)}, {e.member})"
    if isinstance(e, ast.Xlate):
        return f"xlate<{typename(e.typename)}>({expr(e.operand)})"
    raise TypeError(f"cannot print {type(e).__name__}")


def specs(s: ast.DeclSpecs) -> str:
    words = list(s.storage) + list(s.qualifiers)
    if s.sou is None:
        words += s.words or ["int"]
    elif isinstance(s.sou, ast.StructSpec):
        words.append(sou(s.sou))
    else:
        words.append(enum(s.sou))
    return " ".join(words)


def sou(s: ast.StructSpec) -> str:
    head = f"{s.kind} {s.name}" if s.name else s.kind
    if s.members is None:
        return head
    body = []
    for m in s.members:
        d = declarator(m.declarator) if m.declarator is not None else ""
        bits = f" : {expr(m.bits)}" if m.bits is not None else ""
        body.append(f"{specs(m.specs)} {d}{bits};")
    return head + " { " + " ".join(body) + " }"


def enum(e: ast.EnumSpec) -> str:
    head = f"enum {e.name}" if e.name else "enum"
    if e.enumerators is None:
        return head
    items = [n if v is None else f"{n} = {expr(v)}" for n, v, _ in e.enumerators]
    return head + " { " + ", ".join(items) + " }"


def declarator(d: ast.Declarator | None) -> str:
    """C declarator text; derivations nest as the parser built them."""
    if d is None:
        return ""
    if d.kind == "name":
        return d.name or ""
    inner = declarator(d.inner)
    if d.kind == "ptr":
        return f"(*{inner})" if inner else "(*)"
    if d.kind == "array":
        if isinstance(d.dim, list):
            dim = ", ".join(param(p) for p in d.dim)
        else:
            dim = expr(d.dim)
        return f"{inner}[{dim}]"
    params = [param(p) for p in d.params or []]
    if d.variadic:
        params.append("...")
    return f"{inner}({', '.join(params)})"


def param(p: ast.ParamDecl) -> str:
    d = declarator(p.declarator)
    return f"{specs(p.specs)} {d}".strip()


def typename(t: ast.TypeName) -> str:
    d = declarator(t.declarator)
    return f"{specs(t.specs)} {d}".strip()


def stmt(s: ast.Stmt, indent: str) -> list[str]:
    if isinstance(s, ast.If):
        out = [f"{indent}if ({expr(s.cond)}) {{"]
        for x in s.then:
            out += stmt(x, indent + "\t")
        if s.other is not None:
            out.append(f"{indent}}} else {{")
            for x in s.other:
                out += stmt(x, indent + "\t")
        out.append(f"{indent}}}")
        return out
    return [f"{indent}{expr(s)};"]


def item(i: ast.Node) -> str:
    if isinstance(i, ast.Pragma):
        return "#" + " ".join(i.words)
    if isinstance(i, ast.Decl):
        names = ", ".join(declarator(d) for d in i.declarators)
        return f"{specs(i.specs)} {names};" if names else f"{specs(i.specs)};"
    if isinstance(i, ast.InlineDecl):
        return f"inline {specs(i.specs)} {declarator(i.declarator)} = {expr(i.value)};"
    if isinstance(i, ast.Translator):
        members = " ".join(f"{m} = {expr(e)};" for m, e, _ in i.members)
        return f"translator {typename(i.output)} < {typename(i.input)} {i.param} > {{ {members} }};"
    if isinstance(i, ast.Clause):
        lines = [",\n".join(d.text for d in i.descs)]
        if i.predicate is not None:
            lines.append(f"/{expr(i.predicate)}/")
        lines.append("{")
        for s in i.stmts:
            lines += stmt(s, "\t")
        lines.append("}")
        return "\n".join(lines)
    raise TypeError(f"cannot print {type(i).__name__}")


def unparse(program: ast.Program) -> str:
    return "\n".join(item(i) for i in program.items) + "\n"
