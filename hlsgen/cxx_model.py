"""The C++ facts `hlsgen check` reasons about, independent of libclang: functions with their loops,
array accesses, calls, multiplies and pragmas; structs, constants, enumerators and typedefs
(hlsgen.cxx_ast fills them in from libclang's AST).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Pragma:
    kind: str                  # PIPELINE, UNROLL, ARRAY_PARTITION, DATAFLOW, ...
    words: list[str]           # bare words (complete, cyclic, m_axi, ...)
    args: dict                 # key -> token list
    file: str
    line: int
    offset: int
    text: str


@dataclass
class Loop:
    file: str
    line: int
    label: str
    var: str
    start: list[str]
    bound: list[str]           # tokens of the bound (i < bound)
    body: tuple                # (file, start offset, end offset)
    parent: "Loop | None" = None
    guards: tuple = ()         # conditions enclosing the loop (in its function)
    pragmas: list = field(default_factory=list)
    counted: bool = False      # holds an HLSGEN_TRIP
    counter_line: int = 0      # the HLSGEN_TRIP's line (what C simulation reports)

    def pragma(self, kind: str) -> Pragma | None:
        return next((p for p in self.pragmas if p.kind == kind), None)

    @property
    def pipelined(self) -> bool:
        p = self.pragma("PIPELINE")
        return p is not None and "off" not in p.words

    @property
    def unrolled(self) -> bool:
        p = self.pragma("UNROLL")
        return p is not None and "factor" not in p.args


@dataclass(frozen=True)
class Guard:
    """One enclosing condition: the branch `taken` of the condition `tokens` (None: opaque, e.g. a
    switch or the right operand of && / ||). `site` tells branches of the same condition apart."""
    site: tuple
    tokens: tuple | None
    taken: bool


@dataclass
class Access:
    array: str
    indices: list              # token lists
    write: bool
    loop: Loop | None
    guards: tuple              # enclosing conditions (Guard) inside the function
    file: str
    line: int

    @property
    def cond(self) -> int:
        return len(self.guards)


@dataclass
class Call:
    callee: str
    targs: list                # template argument token lists
    args: list                 # argument token lists
    loop: Loop | None
    guards: tuple
    file: str
    line: int
    obj: str = ""              # obj.method(...): the object

    @property
    def cond(self) -> int:
        return len(self.guards)


@dataclass
class Param:
    name: str
    type_tokens: list[str]
    dims: list                 # array dimension token lists ([] for a scalar / pointer)
    pointer: bool
    stream: bool


@dataclass
class ArrayDecl:
    name: str
    type_tokens: list[str]
    dims: list
    static: bool
    loop: Loop | None
    file: str
    line: int


@dataclass
class Mul:
    a: list                    # operand token lists
    b: list
    loop: "Loop | None"
    file: str
    line: int
    types: tuple = ((), ())    # operand type token lists (as written; dependent in templates)
    target: str = ""           # the variable its declaration initializes (BIND_OP variable=)
    guards: tuple = ()         # enclosing conditions (Guard)


@dataclass
class Function:
    name: str
    file: str
    line: int
    tparams: list              # (name, is a type), in order
    params: list               # Param
    body: tuple                # (file, start, end)
    loops: list = field(default_factory=list)
    accesses: list = field(default_factory=list)
    calls: list = field(default_factory=list)
    consts: dict = field(default_factory=dict)      # local const name -> (tokens, loop)
    scalars: dict = field(default_factory=dict)     # local scalar name -> its type's tokens
    typedefs: dict = field(default_factory=dict)    # local typedef name -> tokens
    arrays: dict = field(default_factory=dict)      # local array name -> ArrayDecl
    muls: list = field(default_factory=list)        # multiplications (Mul)
    streams: dict = field(default_factory=dict)     # local hls::stream name -> (line, type tokens)
    pragmas: list = field(default_factory=list)     # function-scope pragmas
    statements: list = field(default_factory=list)  # top-level body statements: (cursor kind, line)
    engine: str = ""

    def pragma(self, kind: str) -> list:
        return [p for p in self.pragmas if p.kind == kind]


@dataclass
class StructDef:
    name: str
    tparams: list
    consts: dict               # name -> tokens
    typedefs: dict             # name -> tokens
    fields: dict = field(default_factory=dict)      # data member name -> type tokens


@dataclass
class Unit:
    functions: dict            # name -> [Function]
    structs: dict              # name -> StructDef
    consts: dict               # namespace constant name -> tokens
    enums: dict                # name -> int
    typedefs: dict             # name -> tokens
    pragmas: list
    files: list[str]
    arrays: dict = field(default_factory=dict)      # namespace-scope array (ROM tables) -> ArrayDecl

    def function(self, name: str) -> Function | None:
        fs = self.functions.get(name)
        return fs[0] if fs else None


NAME_ARGS = ("variable", "port", "bundle", "offset", "instances", "type", "mode", "storage_type", "name")
BARE_WORDS = ("complete", "cyclic", "block", "m_axi", "s_axilite", "axis", "ap_none", "off", "function", "operation",
              "inter", "intra", "false", "true", "raw", "war", "waw", "pointer", "array")


def parse_pragma(text: str, file: str, line: int, offset: int) -> Pragma | None:
    toks = re.findall(r"[A-Za-z_]\w*|::|\d+|\S", text)
    if len(toks) < 2 or toks[0].upper() != "HLS":
        return None
    kind, rest = toks[1].upper(), toks[2:]
    words, args, i = [], {}, 0
    while i < len(rest):
        if i + 1 < len(rest) and rest[i + 1] == "=" and re.match(r"^[A-Za-z_]\w*$", rest[i]):
            key, j = rest[i].lower(), i + 2
            val = []
            while j < len(rest):
                if val and key in NAME_ARGS:
                    break
                if j + 1 < len(rest) and rest[j + 1] == "=" and re.match(r"^[A-Za-z_]\w*$", rest[j]):
                    break
                if val and rest[j].lower() in BARE_WORDS and (not val or val[-1] != "::"):
                    break
                val.append(rest[j])
                j += 1
            args[key] = val
            i = j
        else:
            words.append(rest[i].lower())
            i += 1
    return Pragma(kind, words, args, file, line, offset, text.strip())
