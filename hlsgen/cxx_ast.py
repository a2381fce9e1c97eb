"""The emitted HLS C++ as `hlsgen check` reads it: libclang's AST of src/vit_top.cpp (with every
header it includes) in the synthesis view (-DHLSGEN_CHECK), reduced to what the rules need
(the data model of hlsgen.cxx_model).

For every function defined in the project's sources: its template and call parameters, the loops
(nesting, induction variable, bounds, the pragmas inside each body), the array accesses (indices
as token lists, read or write, under a condition or not), the calls (template arguments, argument
tokens), local constants and arrays. Pragmas are read as Vitis reads them: `#pragma HLS ...` lines
and the project's HLSGEN_PRAGMA(...) macro, each attached to the innermost loop body or function
body that holds it. Also the names a constant expression may use: struct constants and typedefs,
class templates (geom<...>), namespace constants, enumerators, namespace typedefs.
"""
from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

from hlsgen.cxx_model import (Access, ArrayDecl, Call, Function, Guard, Loop, Mul, Param, Pragma, StructDef, Unit,
                               parse_pragma)
from quant.errors import UserError

LIBCLANG_HINT = "pip install libclang==18.1.1"


class CheckSetupError(UserError):
    pass


def _cindex():
    try:
        import clang.cindex as ci
    except ImportError:
        raise CheckSetupError(f"hlsgen check needs libclang: {LIBCLANG_HINT}") from None
    return ci


@functools.lru_cache(maxsize=1)
def system_includes() -> tuple[str, ...]:
    """g++'s include search path (libclang from PyPI ships no C++ standard library headers)."""
    try:
        out = subprocess.run(["g++", "-xc++", "-E", "-v", "-"], input="", capture_output=True, text=True).stderr
    except FileNotFoundError:
        return ()
    m = re.search(r"#include <\.\.\.> search starts here:\n(.*?)End of search list", out, re.S)
    return tuple(m.group(1).split()) if m else ()


def _initializer(toks: list[str], name: str) -> list[str] | None:
    """The initializer of declarator `name` in `const int a = x, name = y;` (the tokens of y)."""
    for i in range(len(toks) - 1):
        if toks[i] == name and toks[i + 1] == "=":
            out, depth = [], 0
            for t in toks[i + 2:]:
                if t in ("(", "[", "{", "<"):
                    depth += 1
                elif t in (")", "]", "}", ">"):
                    depth -= 1
                if depth <= 0 and t in (",", ";"):
                    break
                out.append(t)
            return out
    return None


def _array_dims(toks: list[str], name: str) -> tuple[list[str], list]:
    """(element type tokens, dimension token lists) of the array declaration `T name[a][b]...`."""
    i = toks.index(name)
    dims, depth, cur = [], 0, []
    for tk in toks[i + 1:]:
        if tk == "[":
            depth += 1
            if depth == 1:
                cur = []
                continue
        if tk == "]":
            depth -= 1
            if depth == 0:
                dims.append(cur)
                continue
        if depth:
            cur.append(tk)
        elif tk in ("=", ";"):
            break
    return toks[:i], dims


def _types(cursors) -> tuple:
    """The operand types of a multiply, tokenized (implicit conversions looked through)."""
    out = []
    for c in cursors:
        cur = c
        while cur.kind.name in ("UNEXPOSED_EXPR", "PAREN_EXPR") and len(list(cur.get_children())) == 1:
            cur = next(cur.get_children())
        out.append(tuple(re.findall(r"[A-Za-z_]\w*|\d+|::|\S", cur.type.spelling)))
    return tuple(out)


def _tokens(cursor) -> list[str]:
    return [t.spelling for t in cursor.get_tokens()]


def _split_top(tokens: list[str], sep: str) -> list[list[str]]:
    out, cur, depth = [], [], 0
    for t in tokens:
        if t in ("(", "[", "{"):
            depth += 1
        elif t in (")", "]", "}"):
            depth -= 1
        if t == sep and depth == 0:
            out.append(cur)
            cur = []
        else:
            cur.append(t)
    out.append(cur)
    return out


def _template_args(tokens: list[str]) -> list[list[str]]:
    """The template argument lists of `name<...>` at the start of a callee's tokens."""
    if len(tokens) < 2 or tokens[1] != "<":
        return []
    depth, cur, out = 0, [], []
    for t in tokens[1:]:
        if t == "<":
            depth += 1
            if depth == 1:
                continue
        elif t in (">", ">>"):
            depth -= 1 if t == ">" else 2
            if depth <= 0:
                out.append(cur)
                if depth < 0:          # '>>' closing two levels: the inner one was part of cur
                    cur.append(">")
                return [a for a in out if a]
        if t == "," and depth == 1:
            out.append(cur)
            cur = []
            continue
        cur.append(t)
    return out


class _Builder:
    def __init__(self, ci, src_dir: Path):
        self.ci, self.K = ci, ci.CursorKind
        self.src = str(src_dir.resolve())
        self.unit = Unit({}, {}, {}, {}, {}, [], [])
        self.mine: dict = {}               # file name -> inside the project (resolving paths is slow)
        self.target = ""                   # the variable whose initializer is being read

    def in_project(self, cursor) -> bool:
        f = cursor.location.file
        if f is None:
            return False
        name = f.name
        if name not in self.mine:
            self.mine[name] = str(Path(name).resolve()).startswith(self.src)
        return self.mine[name]

    def loc(self, cursor) -> tuple[str, int]:
        return Path(cursor.location.file.name).name, cursor.location.line

    def extent(self, cursor) -> tuple:
        e = cursor.extent
        return (Path(e.start.file.name).name, e.start.offset, e.end.offset)

    # -- declarations ----------------------------------------------------------------------------
    def top(self, tu):
        for c in tu.cursor.get_children():
            self.decl(c, prefix="")

    def decl(self, c, prefix: str):
        K = self.K
        if not self.in_project(c):
            return
        if c.kind == K.NAMESPACE:
            for ch in c.get_children():
                self.decl(ch, prefix)
        elif c.kind in (K.STRUCT_DECL, K.CLASS_TEMPLATE, K.CLASS_DECL) and c.spelling:
            sd = StructDef(c.spelling, [], {}, {})
            for ch in c.get_children():
                if ch.kind in (K.TEMPLATE_TYPE_PARAMETER, K.TEMPLATE_NON_TYPE_PARAMETER):
                    sd.tparams.append(ch.spelling)
                elif ch.kind == K.VAR_DECL:
                    init = _initializer(_tokens(ch), ch.spelling)
                    if init is not None:
                        sd.consts[ch.spelling] = init
                elif ch.kind == K.TYPEDEF_DECL:
                    toks = _tokens(ch)
                    sd.typedefs[ch.spelling] = toks[1:-1] if toks and toks[0] == "typedef" else toks
                elif ch.kind == K.FIELD_DECL:       # (the type's spelling: `int a, b;` gives b no tokens of its own)
                    sd.fields[ch.spelling] = re.findall(r"[A-Za-z_]\w*|\d+|::|\S", ch.type.spelling)
            self.unit.structs[c.spelling] = sd
        elif c.kind == K.VAR_DECL and c.type.kind in (self.ci.TypeKind.CONSTANTARRAY,
                                                      self.ci.TypeKind.DEPENDENTSIZEDARRAY):
            toks = _tokens(c)
            if c.spelling in toks:
                file, line = self.loc(c)
                type_toks, dims = _array_dims(toks, c.spelling)
                self.unit.arrays[c.spelling] = ArrayDecl(c.spelling, type_toks, dims, True, None, file, line)
        elif c.kind == K.VAR_DECL:
            init = _initializer(_tokens(c), c.spelling)
            if init is not None and c.type.is_const_qualified():
                self.unit.consts[c.spelling] = init
        elif c.kind == K.ENUM_DECL:
            for ch in c.get_children():
                if ch.kind == K.ENUM_CONSTANT_DECL:
                    self.unit.enums[ch.spelling] = ch.enum_value
        elif c.kind == K.TYPEDEF_DECL:
            toks = _tokens(c)
            self.unit.typedefs[c.spelling] = toks[1:-1] if toks and toks[0] == "typedef" else toks
        elif c.kind in (K.FUNCTION_DECL, K.FUNCTION_TEMPLATE) and c.is_definition():
            self.function(c)

    def function(self, c):
        K = self.K
        file, line = self.loc(c)
        tparams, params, body = [], [], None
        for ch in c.get_children():
            if ch.kind in (K.TEMPLATE_TYPE_PARAMETER, K.TEMPLATE_NON_TYPE_PARAMETER):
                tparams.append((ch.spelling, ch.kind == K.TEMPLATE_TYPE_PARAMETER))
            elif ch.kind == K.PARM_DECL:
                params.append(self.param(ch))
            elif ch.kind == K.COMPOUND_STMT:
                body = ch
        if body is None:
            return
        fn = Function(c.spelling, file, line, tparams, params, self.extent(body))
        self.fn = fn
        for st in body.get_children():
            self.statement_top(st)
            self.stmt(st, None, ())
        self.unit.functions.setdefault(c.spelling, []).append(fn)

    def param(self, p) -> Param:
        toks = _tokens(p)
        dims, pointer = [], False
        if p.spelling in toks:
            after = toks[toks.index(p.spelling) + 1:]
            before = toks[:toks.index(p.spelling)]
            pointer = "*" in before
            depth, cur = 0, []
            for t in after:
                if t == "[":
                    depth += 1
                    if depth == 1:
                        cur = []
                        continue
                if t == "]":
                    depth -= 1
                    if depth == 0:
                        dims.append(cur)
                        continue
                if depth:
                    cur.append(t)
        else:
            before = toks
        return Param(p.spelling, before, dims, pointer, "stream" in before)

    def statement_top(self, st):
        """A top-level statement of the body: (kind, line) for the DATAFLOW-canonical check."""
        self.fn.statements.append((st.kind.name, st.location.line))

    # -- statements --------------------------------------------------------------------------------
    def stmt(self, c, loop: Loop | None, cond: tuple):
        K = self.K
        fn = self.fn
        if c.kind in (K.FOR_STMT, K.WHILE_STMT, K.DO_STMT):
            lp = self.loop(c, loop)
            lp.guards = cond
            children = list(c.get_children())
            for ch in children[:-1]:
                self.stmt(ch, loop, cond)
            self.stmt(children[-1], lp, cond)
            return
        if c.kind in (K.IF_STMT, K.CONDITIONAL_OPERATOR):
            children = list(c.get_children())
            site = self.loc(c) + (c.location.column,)
            test = tuple(_tokens(children[0]))
            self.stmt(children[0], loop, cond)
            for i, ch in enumerate(children[1:3]):
                self.stmt(ch, loop, cond + (Guard(site, test, i == 0),))
            return
        if c.kind == K.SWITCH_STMT or (c.kind == K.BINARY_OPERATOR and self._op(c) in ("&&", "||")):
            children = list(c.get_children())
            site = self.loc(c) + (c.location.column,)
            self.stmt(children[0], loop, cond)
            for ch in children[1:]:
                self.stmt(ch, loop, cond + (Guard(site, None, True),))
            return
        if c.kind in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR) and self._op(c) in ("*", "*="):
            kids = list(c.get_children())
            file, line = self.loc(c)
            fn.muls.append(Mul(_tokens(kids[0]), _tokens(kids[1]), loop, file, line, _types(kids[:2]), self.target, cond))
        if c.kind == K.TYPEDEF_DECL:
            toks = _tokens(c)
            fn.typedefs[c.spelling] = toks[1:-1] if toks and toks[0] == "typedef" else toks
            return
        if c.kind == K.VAR_DECL:
            self.var(c, loop)
            outer, self.target = self.target, c.spelling       # a multiply in the initializer assigns it
            for ch in c.get_children():
                self.stmt(ch, loop, cond)
            self.target = outer
            return
        if c.kind == K.ARRAY_SUBSCRIPT_EXPR:
            self.access(c, loop, cond)
            return
        if c.kind == K.CALL_EXPR:
            self.call(c, loop, cond)
        if c.kind == K.MACRO_INSTANTIATION:
            return
        for ch in c.get_children():
            self.stmt(ch, loop, cond)

    def _op(self, c) -> str:
        toks = _tokens(c)
        kids = list(c.get_children())
        if len(kids) == 2:
            n = len(_tokens(kids[0]))
            return toks[n] if n < len(toks) else ""
        return ""

    def loop(self, c, parent) -> Loop:
        file, line = self.loc(c)
        toks = _tokens(c)
        label = ""
        head = []
        if toks and toks[0] == "for":
            depth = 0
            for t in toks[1:]:
                if t == "(":
                    depth += 1
                    if depth == 1:
                        continue
                if t == ")":
                    depth -= 1
                    if depth == 0:
                        break
                head.append(t)
        parts = _split_top(head, ";") if head else [[], [], []]
        init, cond = (parts + [[], []])[:2]
        var, start = "", []
        if "=" in init:
            var = init[init.index("=") - 1]
            start = init[init.index("=") + 1:]
        bound = []
        for op in ("<", "<=", "!="):
            if op in cond:
                bound = cond[cond.index(op) + 1:]
                if op == "<=":
                    bound = ["("] + bound + [")", "+", "1"]
                break
        body = list(c.get_children())[-1]
        lp = Loop(file, line, label, var, start, bound, self.extent(body), parent)
        self.fn.loops.append(lp)
        return lp

    def var(self, c, loop):
        K = self.K
        toks = _tokens(c)
        t = c.type
        if re.match(r"(const )?(hls::)?stream<", t.spelling):
            # (a later declarator of `hls::stream<T> a, b;` spans only `b`: the type's spelling has T)
            self.fn.streams[c.spelling] = (c.location.line, re.findall(r"[A-Za-z_]\w*|\d+|::|>>|\S", t.spelling))
            return
        if t.kind in (self.ci.TypeKind.CONSTANTARRAY, self.ci.TypeKind.DEPENDENTSIZEDARRAY,
                      self.ci.TypeKind.INCOMPLETEARRAY) or ("[" in toks and c.spelling in toks and
                                                           toks.index("[") == toks.index(c.spelling) + 1):
            type_toks, dims = _array_dims(toks, c.spelling)
            file, line = self.loc(c)
            self.fn.arrays[c.spelling] = ArrayDecl(c.spelling, type_toks, dims, "static" in type_toks, loop, file, line)
            return
        if c.spelling in toks:
            # a later declarator of `T a = x, b = y;` spans only `b = y`: it has the previous one's type
            own = toks[:toks.index(c.spelling)]
            self.prev_type = own or getattr(self, "prev_type", [])
            self.fn.scalars[c.spelling] = self.prev_type
        init = _initializer(toks, c.spelling)
        # the type, not the tokens: a later declarator of `const int a = x, b = y;` spans only `b = y`
        if init is not None and c.type.is_const_qualified():
            self.fn.consts[c.spelling] = (init, loop)
        del K

    def access(self, c, loop, cond):
        K = self.K
        idx = []
        cur = c
        while cur.kind == K.ARRAY_SUBSCRIPT_EXPR:
            kids = list(cur.get_children())
            idx.insert(0, _tokens(kids[1]))
            for k in kids[1:]:
                self.stmt(k, loop, cond)
            cur = kids[0]
            while cur.kind in (K.UNEXPOSED_EXPR, K.PAREN_EXPR) and len(list(cur.get_children())) == 1:
                cur = list(cur.get_children())[0]
        if cur.kind != K.DECL_REF_EXPR and cur.kind != K.MEMBER_REF_EXPR:
            self.stmt(cur, loop, cond)
            return
        file, line = self.loc(c)
        self.fn.accesses.append(Access(cur.spelling, idx, self._is_write(c), loop, cond, file, line))

    def _is_write(self, c) -> bool:
        """The subscript expression is assigned to, incremented, or a member function is called on it."""
        ext = c.extent
        src = Path(ext.end.file.name).read_text() if ext.end.file else ""
        rest = src[ext.end.offset:ext.end.offset + 40].lstrip()
        m = re.match(r"^(\+\+|--|[-+*/%&|^]?=(?!=)|<<=|>>=|\.\s*(load|range)\s*\(|\.range\([^)]*\)\s*=(?!=))", rest)
        if m:
            return True
        before = src[max(0, ext.start.offset - 3):ext.start.offset]
        return before.endswith("++") or before.endswith("--")

    def call(self, c, loop, cond):
        kids = list(c.get_children())
        if not kids:
            return
        file, line = self.loc(c)
        star = [k for k in kids if _tokens(k) == ["*"]]
        if c.spelling == "operator*" or (len(kids) == 3 and star):   # a * b on ap_int types (dependent in templates)
            ops = [k for k in kids if k not in star and k.spelling != "operator*"]
            if len(ops) == 2:
                self.fn.muls.append(Mul(_tokens(ops[0]), _tokens(ops[1]), loop, file, line, _types(ops), self.target, cond))
                for k in ops:
                    self.stmt(k, loop, cond)
                return
        callee_toks = _tokens(kids[0])
        if not callee_toks:
            return
        args = [_tokens(k) for k in kids[1:]]
        if len(callee_toks) >= 3 and callee_toks[1] in (".", "->"):      # obj.method(...)
            name, obj = callee_toks[-1], callee_toks[0]
        else:
            name, obj = (c.spelling or callee_toks[0]).split("::")[-1], ""
        self.fn.calls.append(Call(name, _template_args(callee_toks) if not obj else [], args, loop, cond, file, line,
                                  obj))


def parse_project(src_dir: Path, aptypes: Path) -> Unit:
    """The project's top source (src/vit_top.cpp, with every header it includes) in the check view."""
    ci = _cindex()
    top = src_dir / "vit_top.cpp"
    args = ["-x", "c++", "-std=c++14", "-DHLSGEN_CHECK", f"-I{aptypes}", f"-I{src_dir}"]
    for inc in system_includes():
        args += ["-isystem", inc]
    index = ci.Index.create()
    tu = index.parse(str(top), args=args, options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    errors = [d for d in tu.diagnostics if d.severity >= 3 and d.location.file
              and str(Path(d.location.file.name).resolve()).startswith(str(src_dir.resolve()))]
    if errors:
        d = errors[0]
        raise CheckSetupError(f"{Path(d.location.file.name).name}:{d.location.line}: the C++ does not parse: {d.spelling}")
    b = _Builder(ci, src_dir)
    b.top(tu)
    unit = b.unit
    files = sorted({f.name for f in src_dir.glob("*.h")} | {"vit_top.cpp"})
    unit.files = files
    # pragmas: the HLSGEN_PRAGMA macro and plain `#pragma HLS` lines, each at its file offset
    for c in tu.cursor.get_children():
        if c.kind == ci.CursorKind.MACRO_INSTANTIATION and b.in_project(c):
            file, line = b.loc(c)
            toks = _tokens(c)
            if c.spelling == "HLSGEN_PRAGMA" and len(toks) > 3:
                p = parse_pragma(" ".join(toks[2:-1]), file, line, c.extent.start.offset)
                if p:
                    unit.pragmas.append(p)
            elif c.spelling in ("HLSGEN_TRIP", "HLSGEN_ENGINE", "HLSGEN_REGION"):
                unit.pragmas.append(Pragma(c.spelling, [], {"args": toks[2:-1]}, file, line, c.extent.start.offset,
                                           " ".join(toks)))
    for name in files:
        text = (src_dir / name).read_text()
        for m in re.finditer(r"^[ \t]*#[ \t]*pragma[ \t]+(HLS[^\n]*)$", text, re.M):
            line = text.count("\n", 0, m.start()) + 1
            p = parse_pragma(m.group(1), name, line, m.start())
            if p:
                unit.pragmas.append(p)
    _attach(unit)
    return unit


def _attach(unit: Unit) -> None:
    """Each pragma (and counter macro) to the innermost loop body, else function body, holding it."""
    scopes = []
    for fns in unit.functions.values():
        for fn in fns:
            for lp in fn.loops:
                scopes.append((lp.body, lp, fn))
            scopes.append((fn.body, None, fn))
    for p in unit.pragmas:
        best = None
        for (file, start, end), lp, fn in scopes:
            if file == p.file and start <= p.offset < end and (best is None or end - start < best[0]):
                best = (end - start, lp, fn)
        if best is None:
            continue
        _, lp, fn = best
        if p.kind == "HLSGEN_TRIP" and lp is not None:
            lp.counted = True
            lp.counter_line = p.line
        elif p.kind == "HLSGEN_ENGINE":
            fn.engine = (p.args.get("args") or [""])[0]
        elif lp is not None:
            lp.pragmas.append(p)
        else:
            fn.pragmas.append(p)
