"""What an expression of the emitted C++ evaluates to, for `hlsgen check`: types, struct members,
compile-time values and bit widths, under a function's template bindings (Ctx). The analysis
context types (Ctx, TypeRef, ArrayInfo) live here too, so hlsgen.check depends on this module and
not the other way round.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from hlsgen.cxx_eval import Affine, EvalError, const, evaluate, sym
from hlsgen.cxx_model import Function, Unit


@dataclass(frozen=True)
class TypeRef:
    name: str
    args: tuple = ()          # (param, value) pairs of a class template
    tokens: tuple = ()        # a type that is not a project struct (ap_int<9>): its tokens


@dataclass
class ArrayInfo:
    """An array as the code uses it: its root declaration, dims, element bits, partitioning."""
    root: str                  # function:name of the declaration
    dims: list                 # ints (or None)
    bits: int | None
    parts: dict                # dim (1-based) -> ("complete" | "cyclic" | "block", factor)
    pointer: bool = False
    maxi: bool = False
    where: tuple = ("", 0)     # (file, line) of the declaration


@dataclass
class Ctx:
    fn: Function
    binding: dict              # template param -> int | TypeRef
    arrays: dict               # name -> ArrayInfo (params bound to the caller's arrays)
    scalars: dict              # param name -> Affine
    pipeline: bool             # called from inside a pipelined loop: every loop unrolled
    names: dict = field(default_factory=dict)   # template param -> config names its value came from


class ValueResolver:
    """What an expression of the emitted C++ evaluates to: types, struct members, compile-time values.

    A mixin of hlsgen.check.Checker, kept apart from the rules; it reads only `self.u` (the Unit)."""
    u: Unit                   # set by the host class

    # ---- names ------------------------------------------------------------------------------------
    def type_of(self, tokens: list[str], ctx: Ctx | None) -> TypeRef | None:
        toks = [t for t in tokens if t not in ("typename", "const", "struct", "class")]
        if not toks:
            return None
        if len(toks) >= 2 and toks[1] == "<":                          # a class template: geom<...>
            name, args = toks[0], _split_args(toks[2:-1])
            sd = self.u.structs.get(name)
            if sd is None or len(args) != len(sd.tparams):
                return None
            vals = []
            for a in args:
                v = self.value(a, ctx)
                if v is None:
                    return None
                vals.append(v)
            return TypeRef(name, tuple(zip(sd.tparams, vals)))
        parts = [t for t in toks if t != "::"]
        head = parts[0]
        ref = None
        if ctx is not None and head in ctx.binding and isinstance(ctx.binding[head], TypeRef):
            ref = ctx.binding[head]
        elif ctx is not None and ctx.fn is not None and head in ctx.fn.typedefs:
            ref = self.type_of(ctx.fn.typedefs[head], ctx)
        elif head in self.u.structs:
            ref = TypeRef(head)
        elif head in self.u.typedefs:
            ref = self.type_of(self.u.typedefs[head], None)
        if ref is None:
            return None
        for member in parts[1:]:
            sd = self.u.structs.get(ref.name)
            if sd is None or member not in sd.typedefs:
                return None
            ref = self.type_of(sd.typedefs[member], Ctx(None, dict(ref.args), {}, {}, False))  # type: ignore[arg-type]
            if ref is None:
                return None
        return ref

    def member_value(self, struct: str, name: str) -> int | None:
        """A compile-time constant of a project struct (vit_cfg::MEM_LAT), or None."""
        v = self.member(TypeRef(struct), name)
        return v.const if v is not None and v.is_const else None

    def member(self, ref: TypeRef, name: str, guard=()) -> Affine | None:
        sd = self.u.structs.get(ref.name)
        if sd is None or name not in sd.consts:
            return None
        v = self.eval(sd.consts[name], Ctx(None, dict(ref.args), {}, {}, False), guard)  # type: ignore[arg-type]
        return Affine(v.const, v.terms, v.names | {name}) if v is not None else None

    def resolver(self, ctx: Ctx | None, scope: dict | None, guard=()):
        def resolve(name: str) -> Affine:
            if "::" in name:
                head, last = name.rsplit("::", 1)
                ref = self.type_of(head.split("::") if "::" not in head else re.split(r"(::)", head), ctx)
                if ref is not None:
                    v = self.member(ref, last, guard)
                    if v is not None:
                        return v
                if last in self.u.enums:
                    return const(self.u.enums[last])
                return sym(name, True)                 # an unresolved compile-time name
            if scope is not None and name in scope:
                return scope[name]
            if ctx is not None:
                if ctx.fn is not None and name in ctx.fn.consts and name not in guard:
                    toks, _ = ctx.fn.consts[name]
                    v = self.eval(toks, ctx, guard + (name,), scope)
                    return v if v is not None else sym(name, False)
                if name in ctx.scalars:
                    return ctx.scalars[name]
                if name in ctx.binding and not isinstance(ctx.binding[name], TypeRef):
                    return const(ctx.binding[name], ctx.names.get(name, ()))
            if name in self.u.consts and name not in guard:
                v = self.eval(self.u.consts[name], None, guard + (name,))
                if v is not None:
                    return v
            if name in self.u.enums:
                return const(self.u.enums[name])
            return sym(name, False)
        return resolve

    def eval(self, tokens, ctx: Ctx | None, guard=(), scope=None) -> Affine | None:
        try:
            return evaluate(tokens, self.resolver(ctx, scope, guard))
        except (EvalError, RecursionError, IndexError):
            return None

    def value(self, tokens, ctx) -> int | TypeRef | None:
        ref = self.type_of(tokens, ctx)
        if ref is not None:
            return ref
        v = self.eval(tokens, ctx)
        return v.const if v is not None and v.is_const else None

    def int_of(self, tokens, ctx) -> int | None:
        v = self.eval(tokens, ctx)
        return v.const if v is not None and v.is_const else None

    def bits_of(self, tokens, ctx) -> int | None:
        toks = [t for t in tokens if t not in ("const", "static", "typename", "volatile")]
        text = "".join(toks)
        m = re.match(r"^(ap_u?int)<(.*)>$", text)
        if m:
            return self.int_of(re.findall(r"[A-Za-z_]\w*|\d+|::|\S", m.group(2)), ctx)
        simple = {"bool": 1, "char": 8, "short": 16, "int": 32, "long": 64, "longlong": 64, "unsignedlonglong": 64,
                  "unsigned": 32, "unsignedint": 32}
        if text in simple:
            return simple[text]
        if len(toks) >= 3 and toks[-2] == "::":                       # X::word_t, C::axi_t ...
            ref = self.type_of(toks[:-2], ctx)
            if ref is not None:
                sd = self.u.structs.get(ref.name)
                if sd and toks[-1] in sd.typedefs:
                    return self.bits_of(sd.typedefs[toks[-1]], Ctx(None, dict(ref.args), {}, {}, False))  # type: ignore
        if text in self.u.typedefs:
            return self.bits_of(self.u.typedefs[text], ctx)
        if ctx is not None and ctx.fn is not None and text in ctx.fn.typedefs:
            return self.bits_of(ctx.fn.typedefs[text], ctx)
        ref = self.type_of(toks, ctx)
        if ref is not None and ref.tokens:
            return self.bits_of(list(ref.tokens), None)
        sd = self.u.structs.get(ref.name) if ref is not None else None
        if sd is not None and sd.fields:                              # a struct: the sum of its members
            inner = Ctx(None, dict(ref.args), {}, {}, False)  # type: ignore[arg-type]
            widths = [self.bits_of(t, inner) for t in sd.fields.values()]
            return None if None in widths else sum(widths)
        return None

    def stream_bits(self, type_toks: list[str], ctx) -> int | None:
        """hls::stream<T>: the bits of T."""
        if "stream" not in type_toks:
            return None
        toks = []
        for t in type_toks[type_toks.index("stream") + 1:]:
            toks += [">", ">"] if t == ">>" else [t]
        depth, inner = 0, []
        for t in toks:
            depth += {"<": 1, ">": -1}.get(t, 0)
            if depth == 0:
                break
            inner.append(t)
        return self.bits_of(inner[1:], ctx)

    def concrete(self, toks: list, ctx: Ctx) -> list:
        """A type's tokens with the caller's compile-time values substituted (ap_int<C::K_BITS + 1> -> ap_int<9>)."""
        if "<" not in toks or toks[0] not in ("ap_int", "ap_uint"):
            return toks
        w = self.int_of(toks[toks.index("<") + 1:-1], ctx)
        return [toks[0], "<", str(w), ">"] if w is not None else toks


def _split_args(tokens: list[str]) -> list[list[str]]:
    out, cur, depth = [], [], 0
    for t in tokens:
        if t in ("<", "(", "["):
            depth += 1
        elif t in (">", ")", "]"):
            depth -= 1
        if t == "," and depth == 0:
            out.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        out.append(cur)
    return out
