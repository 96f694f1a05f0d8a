"""The BTF reader on blobs built here, and on the running kernel's when present."""

from __future__ import annotations

import os
import struct

import pytest

from pydtrace.compiler import Compiler
from pydtrace.errors import DError
from pydtrace.sema import btf as B
from pydtrace.sema import types as T
from pydtrace.sema.btf import Btf, BtfError, BtfTypes


class Builder:
    """Writes a BTF blob: types are appended in order and get ids 1, 2, ..."""

    def __init__(self, first_id: int = 1, str_base: int = 0) -> None:
        self.types: list[bytes] = []
        self.strs = bytearray(b"\0") if str_base == 0 else bytearray()
        self.first_id = first_id
        self.str_base = str_base
        self.seen: dict[str, int] = {}

    def s(self, name: str) -> int:
        """The offset of name in the string section (strings are unique, as in BTF)."""
        if not name:
            return 0
        if name in self.seen:
            return self.seen[name]
        off = self.str_base + len(self.strs)
        self.strs += name.encode() + b"\0"
        self.seen[name] = off
        return off

    def add(self, kind: int, name: str = "", vlen: int = 0, st: int = 0,
            extra: bytes = b"", flag: bool = False) -> int:
        info = (kind << 24) | vlen | (1 << 31 if flag else 0)
        self.types.append(struct.pack("<III", self.s(name), info, st) + extra)
        return self.first_id + len(self.types) - 1

    def int_(self, name: str, size: int, signed: bool = True, boolean: bool = False) -> int:
        enc = (B.INT_SIGNED if signed else 0) | (B.INT_BOOL if boolean else 0)
        return self.add(B.KIND_INT, name, 0, size, struct.pack("<I", (enc << 24) | size * 8))

    def sou(self, kind: int, name: str, size: int,
            members: list[tuple[str, int, int, int]], flag: bool = False) -> int:
        data = b"".join(struct.pack("<III", self.s(n), t, (bits << 24 | off) if flag else off)
                        for n, t, off, bits in members)
        return self.add(kind, name, len(members), size, data, flag)

    def blob(self, hdr_extra: bytes = b"") -> bytes:
        types = b"".join(self.types)
        hdr_len = 24 + len(hdr_extra)
        hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, hdr_len, 0, len(types),
                          len(types), len(self.strs))
        return hdr + hdr_extra + types + bytes(self.strs)


def sample() -> Builder:
    b = Builder()
    i32 = b.int_("int", 4)                                        # 1
    u8 = b.int_("unsigned char", 1, signed=False)                 # 2
    char = b.int_("char", 1)                                      # 3
    b.add(B.KIND_CONST, "", 0, char)                              # 4 const char
    cptr = b.add(B.KIND_PTR, "", 0, 4)                            # 5 const char *
    arr = b.add(B.KIND_ARRAY, "", 0, 0, struct.pack("<III", char, i32, 16))  # 6 char[16]
    fwd = b.add(B.KIND_FWD, "node", 0, 0)                         # 7 struct node (fwd)
    nptr = b.add(B.KIND_PTR, "", 0, fwd)                          # 8 struct node *
    u64 = b.int_("long long unsigned int", 8, signed=False)       # 9
    td = b.add(B.KIND_TYPEDEF, "u64", 0, u64)                     # 10 u64
    b.sou(B.KIND_STRUCT, "node", 48, [                            # 11
        ("id", td, 0, 0), ("name", arr, 64, 0), ("next", nptr, 192, 0),
        ("flags", i32, 256, 3), ("mode", i32, 259, 5), ("", 12, 320, 0)], flag=True)
    b.sou(B.KIND_UNION, "", 8, [("a", u64, 0, 0), ("b", u8, 0, 0)])   # 12 anon union
    b.add(B.KIND_ENUM, "color", 3, 4, struct.pack("<IiIiIi", b.s("RED"), 0, b.s("GREEN"), 7,
                                                  b.s("BLUE"), -1))   # 13
    b.add(B.KIND_ENUM64, "big", 1, 8, struct.pack("<III", b.s("HUGE"), 0, 1), flag=False)  # 14
    proto = b.add(B.KIND_FUNC_PROTO, "", 3, i32,
                  struct.pack("<IIIIII", b.s("fmt"), cptr, b.s("n"), td, 0, 0))  # 15
    b.add(B.KIND_FUNC, "printk", 0, proto)                        # 16
    b.add(B.KIND_FLOAT, "double", 0, 8)                           # 17
    b.add(B.KIND_VAR, "runqueues", 0, i32, struct.pack("<I", 1))  # 18
    b.add(B.KIND_DATASEC, ".data..percpu", 1, 4, struct.pack("<III", 18, 0, 4))  # 19
    b.add(B.KIND_DECL_TAG, "tag", 0, 16, struct.pack("<i", -1))   # 20
    b.add(B.KIND_TYPE_TAG, "user", 0, char)                       # 21
    b.add(B.KIND_VOLATILE, "", 0, 21)                             # 22
    b.int_("_Bool", 1, signed=False, boolean=True)                # 23
    b.add(B.KIND_TYPEDEF, "node_t", 0, 11)                        # 24
    b.add(B.KIND_PTR, "", 0, 0)                                   # 25 void *
    return b


def test_header_and_every_kind_scan() -> None:
    blob = sample().blob()
    bt = Btf(blob)
    assert bt.next_id == 26
    assert [bt.raw(i)[0] for i in (1, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                   20, 21, 22)] == [
        B.KIND_INT, B.KIND_PTR, B.KIND_ARRAY, B.KIND_FWD, B.KIND_TYPEDEF,
        B.KIND_STRUCT, B.KIND_UNION, B.KIND_ENUM, B.KIND_ENUM64, B.KIND_FUNC_PROTO,
        B.KIND_FUNC, B.KIND_FLOAT, B.KIND_VAR, B.KIND_DATASEC, B.KIND_DECL_TAG,
        B.KIND_TYPE_TAG, B.KIND_VOLATILE]
    # a longer header (hdr_len) is honoured
    assert Btf(sample().blob(b"\0" * 8)).next_id == 26


def test_typedef_names_are_the_typedef_records_only() -> None:
    b = sample()
    # an enumerator whose value is a typedef's info word, then a name offset:
    # bytes that look like a typedef record inside another record
    b.add(B.KIND_ENUM, "trap", 1, 4, struct.pack("<Ii", b.s("LOOKS_LIKE"), B.KIND_TYPEDEF << 24))
    bt = Btf(b.blob())
    assert bt.typedef_names() == {"u64", "node_t"}
    assert bt.next_id == 27
    # id_at: a record's start gives its id; any other offset none
    for tid in (1, 10, 26):
        off = bt.offsets[tid - 1]
        assert bt.id_at(off) == tid
        assert bt.id_at(off + 4) is None
    assert bt.id_at(0) is None and bt.id_at(len(b.blob())) is None


def test_conversion_to_d_types() -> None:
    bt = Btf(sample().blob())
    i32, u8, cptr, arr = bt.dtype(1), bt.dtype(2), bt.dtype(5), bt.dtype(6)
    assert (i32.kind, i32.size, i32.signed) == ("int", 4, True)
    assert (u8.size, u8.signed) == (1, False)
    assert str(cptr) == "char *" and cptr.size == 8       # const is dropped
    assert str(arr) == "char [16]" and arr.size == 16
    u64 = bt.dtype(10)
    assert str(u64) == "u64" and T.resolve(u64).size == 8 and not u64.signed
    assert bt.dtype(10) is u64                             # cached
    node = bt.dtype(11)
    assert str(node) == "struct node" and node.size == 48
    members = node.sou.members
    assert [(m.name, str(m.type), m.offset, m.bits) for m in members] == [
        ("id", "u64", 0, 0), ("name", "char [16]", 64, 0), ("next", "struct node *", 192, 0),
        ("flags", "int", 256, 3), ("mode", "int", 259, 5), ("", "union <anon>", 320, 0)]
    assert node.align == 8
    # members of an anonymous union are reachable through it
    m, off = T.member_path(node, "b")
    assert str(m.type) == "unsigned char" and off == 320
    color = bt.dtype(13)
    assert color.kind == "enum" and color.enum.constants == {"RED": 0, "GREEN": 7, "BLUE": -1}
    assert bt.dtype(14).enum.constants == {"HUGE": 1 << 32}
    fn = bt.dtype(16)
    assert fn.kind == "func" and str(fn.ref) == "int" and fn.variadic
    assert [str(p) for p in fn.params] == ["char *", "u64"]
    assert bt.dtype(17).kind == "float" and bt.dtype(17).size == 8
    assert bt.dtype(22) is not None and str(bt.dtype(22)) == "char"   # volatile type_tag char
    assert bt.dtype(23).name == "_Bool" and bt.dtype(23).size == 1
    assert str(bt.dtype(25)) == "void *"


def test_lookups_by_name() -> None:
    src = BtfTypes(data=sample().blob())
    assert src.has_typedef("u64") and src.has_typedef("node_t")
    assert not src.has_typedef("node") and not src.has_typedef("nosuch")
    assert not src.has_typedef("int")                      # an INT, not a typedef
    node = src.tag("struct", "node")
    assert node is not None and node.kind == "struct" and node.size == 48
    assert src.tag("union", "node") is None and src.tag("struct", "color") is None
    assert src.tag("enum", "color") is not None
    assert str(src.function("printk")) == "int (char *, u64, ...)"
    assert src.enum_constant("GREEN") == (7, src.tag("enum", "color"))
    assert src.enum_constant("HUGE")[0] == 1 << 32
    assert src.enum_constant("printk") is None and src.enum_constant("zzz") is None
    assert src.btf is not None and src.btf.param_names("printk") == ["fmt", "n", ""]


def test_split_btf_continues_ids_and_strings() -> None:
    base_b = sample()
    base = Btf(base_b.blob())
    mod = Builder(first_id=base.next_id, str_base=base.str_total)
    mod.add(B.KIND_PTR, "", 0, 11)                         # 26: struct node *
    mod.add(B.KIND_TYPEDEF, "modptr_t", 0, 26)             # 27
    split = Btf(mod.blob(), base)
    assert split.first_id == 26 and split.next_id == 28
    assert str(split.dtype(27)) == "modptr_t"
    assert str(T.resolve(split.dtype(27))) == "struct node *"
    assert split.lookup("u64", (B.KIND_TYPEDEF,)) == 10     # found in the base
    assert split.lookup("modptr_t", (B.KIND_TYPEDEF,)) == 27


@pytest.mark.parametrize("mutate,message", [
    (lambda b: b[:10], "shorter than its header"),
    (lambda b: b"\x00\x00" + b[2:], "bad BTF magic"),
    (lambda b: b[:2] + b"\x02" + b[3:], "unsupported BTF version"),
    (lambda b: b[:12] + struct.pack("<I", 1 << 20) + b[16:], "out of bounds"),
])
def test_malformed_blobs(mutate: object, message: str) -> None:
    blob = mutate(sample().blob())  # type: ignore[operator]
    with pytest.raises(BtfError, match=message):
        assert Btf(blob).offsets is None


def test_unknown_kind_and_truncation_are_errors() -> None:
    b = Builder()
    b.add(25, "weird")
    with pytest.raises(BtfError, match="unknown BTF kind"):
        assert Btf(b.blob()).offsets is None
    b = Builder()
    b.add(B.KIND_STRUCT, "s", 3, 12)                         # claims 3 members, has none
    with pytest.raises(BtfError):
        assert Btf(b.blob()).offsets is None


def test_unreadable_source_gives_no_types() -> None:
    src = BtfTypes(data=b"junk")
    assert src.btf is None and not src.has_typedef("u64") and src.tag("struct", "x") is None


def compile_with(src: str, blob: bytes) -> object:
    return Compiler(kernel=BtfTypes(data=blob)).compile(src, kind="script", label="t.d")


def test_compiler_falls_back_to_btf_types() -> None:
    blob = sample().blob()
    prog = compile_with("BEGIN { n = (struct node *)arg0; trace(n->next->id); "
                        "trace(sizeof (node_t)); trace(offsetof(struct node, next)); "
                        "trace((u64)1); trace(GREEN); trace(n->b); }", blob)
    assert prog.necbs == 1  # type: ignore[attr-defined]
    with pytest.raises(DError) as ei:
        compile_with("BEGIN { trace(((struct node *)arg0)->nosuch); }", blob)
    assert (ei.value.tag, ei.value.message) == ("D_TYPE_MEMBER",
                                                "nosuch is not a member of struct node")
    with pytest.raises(DError) as ei:
        compile_with("BEGIN { trace((struct nosuch *)arg0)->x); }", blob)
    assert ei.value.tag == "D_SYNTAX"
    with pytest.raises(DError) as ei:
        compile_with("BEGIN { trace(((struct nosuch *)arg0)->x); }", blob)
    assert ei.value.tag == "D_OP_INCOMPLETE"


def test_d_definitions_shadow_kernel_types() -> None:
    blob = sample().blob()
    compile_with("struct node { char c; }; BEGIN { trace(sizeof (struct node)); }", blob)
    with pytest.raises(DError) as ei:
        compile_with("BEGIN { u64 = 1; }", blob)       # u64 is a type name here
    assert ei.value.tag == "D_SYNTAX"


VMLINUX = "/sys/kernel/btf/vmlinux"


@pytest.mark.skipif(not os.access(VMLINUX, os.R_OK), reason="no kernel BTF")
def test_the_running_kernels_btf() -> None:
    src = BtfTypes(VMLINUX)
    task = src.tag("struct", "task_struct")
    assert task is not None and task.size > 1000
    comm, _ = T.member_path(task, "comm")
    assert str(comm.type) == "char [16]"
    pid, _ = T.member_path(task, "pid")
    assert str(pid.type) == "pid_t" and T.resolve(pid.type).size == 4
    assert src.has_typedef("u64") and not src.has_typedef("task_struct")
    vfs_read = src.function("vfs_read")
    assert vfs_read is not None and str(vfs_read.params[0]) == "struct file *"
    prog = Compiler(kernel=src).compile(
        "BEGIN { trace(curthread->pid); trace(stringof(curthread->comm)); "
        "trace(((struct file *)arg0)->f_flags); trace(sizeof (struct task_struct)); }",
        kind="script", label="k.d")
    assert prog.necbs == 1
