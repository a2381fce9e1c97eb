"""Compile-time evaluation of C++ expressions for `hlsgen check`, on the tokens libclang gives.

An expression evaluates to an `Affine`: an integer constant plus integer multiples of symbols.
A symbol is a loop counter, a runtime variable or an opaque subexpression (a product of two
variables, a division of a variable...); each symbol knows whether it is *static* (a function of
unrolled loop counters and compile-time constants only) or *runtime*. Names resolve through an
`Env`: template bindings (C -> vit_cfg, G -> geom<16, 1, 8, 197, 192>), struct constants and
typedefs, namespace constants, enumerators and local constants.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sym:
    name: str
    static: bool          # unrolled counter or compile-time expression


@dataclass
class Affine:
    const: int = 0
    terms: dict = field(default_factory=dict)     # Sym -> int coefficient
    names: frozenset = frozenset()                 # config names (C::X, G::Y ...) the value depends on

    @property
    def is_const(self) -> bool:
        return not self.terms

    @property
    def runtime(self) -> bool:
        return any(not s.static for s in self.terms)

    def value(self) -> int:
        if self.terms:
            raise ValueError("not a constant")
        return self.const


def const(v: int, names=frozenset()) -> Affine:
    return Affine(int(v), {}, frozenset(names))


def sym(name: str, static: bool, names=frozenset()) -> Affine:
    return Affine(0, {Sym(name, static): 1}, frozenset(names))


def add(a: Affine, b: Affine, sign: int = 1) -> Affine:
    terms = dict(a.terms)
    for s, c in b.terms.items():
        terms[s] = terms.get(s, 0) + sign * c
        if terms[s] == 0:
            del terms[s]
    return Affine(a.const + sign * b.const, terms, a.names | b.names)


def scale(a: Affine, k: int) -> Affine:
    if k == 0:
        return const(0, a.names)
    return Affine(a.const * k, {s: c * k for s, c in a.terms.items()}, a.names)


def opaque(text: str, *parts: Affine) -> Affine:
    """A subexpression the evaluator cannot decompose: static when every part is."""
    names = frozenset().union(*(p.names for p in parts))
    return sym(text, all(not p.runtime for p in parts), names)


class EvalError(ValueError):
    pass


# ---- a Pratt parser over token spellings -------------------------------------------------------
_BIN = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7, ">=": 7,
        "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10}
_INT = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*$")
_CAST = {"int", "long", "unsigned", "short", "char", "bool", "signed"}


class Parser:
    """Evaluates a token list; `resolve(qualified name) -> Affine` supplies names."""

    def __init__(self, tokens: list[str], resolve):
        self.t, self.i, self.resolve = [t for t in tokens if t], 0, resolve

    def peek(self, k: int = 0) -> str | None:
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise EvalError("unexpected end of expression")
        self.i += 1
        return tok

    def parse(self) -> Affine:
        v = self.expr(0)
        if self.peek() is not None:
            raise EvalError(f"unexpected token {self.peek()!r}")
        return v

    def expr(self, prec: int) -> Affine:
        left = self.unary()
        while True:
            op = self.peek()
            if op == "?" and prec == 0:
                self.take()
                a = self.expr(0)
                if self.take() != ":":
                    raise EvalError("expected ':'")
                b = self.expr(0)
                if left.is_const:
                    left = a if left.const else b
                else:
                    left = opaque("?:", left, a, b)
                continue
            if op not in _BIN or _BIN[op] <= prec:
                return left
            self.take()
            right = self.expr(_BIN[op])
            left = self.binary(op, left, right)

    def binary(self, op: str, a: Affine, b: Affine) -> Affine:
        if op == "+":
            return add(a, b)
        if op == "-":
            return add(a, b, -1)
        if op == "*":
            if a.is_const:
                return scale(b, a.const) if a.const else const(0, a.names | b.names)
            if b.is_const:
                return scale(a, b.const) if b.const else const(0, a.names | b.names)
            return opaque("*", a, b)
        if a.is_const and b.is_const:
            x, y = a.const, b.const
            fold = {"/": lambda: int(x / y) if y else 0, "%": lambda: (abs(x) % abs(y)) * (1 if x >= 0 else -1) if y else 0,
                    "<<": lambda: x << y, ">>": lambda: x >> y, "&": lambda: x & y, "|": lambda: x | y,
                    "^": lambda: x ^ y, "&&": lambda: int(bool(x and y)), "||": lambda: int(bool(x or y)),
                    "==": lambda: int(x == y), "!=": lambda: int(x != y), "<": lambda: int(x < y),
                    ">": lambda: int(x > y), "<=": lambda: int(x <= y), ">=": lambda: int(x >= y)}[op]
            return const(fold(), a.names | b.names)
        return opaque(op, a, b)

    def unary(self) -> Affine:
        tok = self.peek()
        if tok in ("-", "+", "!", "~"):
            self.take()
            v = self.unary()
            if tok == "-":
                return scale(v, -1)
            if tok == "+":
                return v
            return const(int(not v.const) if tok == "!" else ~v.const, v.names) if v.is_const else opaque(tok, v)
        return self.postfix(self.primary())

    def postfix(self, v: Affine) -> Affine:
        while self.peek() in ("[", ".", "->", "(", "++", "--"):
            tok = self.take()
            if tok == "[":
                idx = self.expr(0)
                self.take()
                v = opaque("[]", v, idx)
            elif tok in (".", "->"):
                name = self.take()
                v = opaque(f".{name}", v)
            elif tok == "(":
                args = self.args()
                v = opaque("()", v, *args)
            else:
                v = opaque(tok, v)
        return v

    def args(self) -> list[Affine]:
        out = []
        if self.peek() == ")":
            self.take()
            return out
        while True:
            out.append(self.expr(0))
            tok = self.take()
            if tok == ")":
                return out
            if tok != ",":
                raise EvalError("expected ',' in call")

    def primary(self) -> Affine:
        tok = self.take()
        if _INT.match(tok):
            return const(int(re.sub(r"[uUlL]+$", "", tok), 0))
        if tok in ("true", "false"):
            return const(int(tok == "true"))
        if tok == "(":
            if self.peek() in _CAST:           # a C cast: (int)x, (long long)x
                while self.peek() != ")":
                    self.take()
                self.take()
                return self.unary()
            v = self.expr(0)
            if self.take() != ")":
                raise EvalError("expected ')'")
            return v
        if tok in _CAST:                        # functional cast int(x)
            while self.peek() in _CAST:
                self.take()
            if self.peek() == "(":
                self.take()
                return self.args()[0]
            raise EvalError(f"unexpected {tok!r}")
        if tok == "typename":
            tok = self.take()
        if not re.match(r"^[A-Za-z_]\w*$", tok):
            raise EvalError(f"unexpected token {tok!r}")
        name = tok
        while self.peek() == "::":
            self.take()
            name += "::" + self.take()
        if self.peek() == "<" and name.split("::")[-1] in ("ap_int", "ap_uint"):   # ap_int<W>(x): a cast
            depth = 0
            while True:
                t = self.take()
                depth += {"<": 1, ">": -1, ">>": -2}.get(t, 0)
                if depth <= 0:
                    break
            if self.peek() == "(":
                self.take()
                return self.args()[0]
        if self.peek() == "(" and name in _BUILTINS:
            self.take()
            return _BUILTINS[name](self.args())
        return self.resolve(name)


def _fold2(fn):
    def run(args):
        a, b = args
        if a.is_const and b.is_const:
            return const(fn(a.const, b.const), a.names | b.names)
        return opaque(fn.__name__, a, b)
    return run


def _cmin(a, b):
    return min(a, b)


def _cmax(a, b):
    return max(a, b)


def _cdiv(a, b):
    return -(-a // b)


def _clog2_1(args):
    (a,) = args
    return const(max(0, (a.const - 1).bit_length()), a.names) if a.is_const else opaque("clog2", a)


_BUILTINS = {"cmin": _fold2(_cmin), "cmax": _fold2(_cmax), "cdiv": _fold2(_cdiv), "clog2": _clog2_1}


def evaluate(tokens: list[str], resolve) -> Affine:
    return Parser(list(tokens), resolve).parse()
