"""The structural resource count of `hlsgen check`: what the C++ builds, read from the C++.

DSP48E2: every multiply Vitis would build, counted per unrolled copy (loops inside a pipelined loop,
and loops with UNROLL, multiply their body), from the top function down its call graph:
  - a multiply with an operand known at compile time (an index times a constant, a lane offset)
    is shifts and adds, no DSP;
  - otherwise ceil(wide / 27) x ceil(narrow / 18) DSPs for operands of `wide` x `narrow` bits (the
    DSP48E2's 27 x 18 multiplier), none when the narrow operand has at most SMALL_MUL_BITS bits
    (fabric); one DSP where the operand widths cannot be read (a function's return value);
  - so `mul2`'s packed 27 x 9 product is one DSP for two products, as the model counts it;
  - a product bound to fabric (BIND_OP variable=v op=mul impl=fabric) is LUTs.
Memories: every array that is not all registers (all dimensions completely partitioned), per bank
(a completely partitioned dimension gives one bank per index, cyclic/block factor f gives f banks),
priced by the model's own `mem_cost` (RAMB36/RAMB18 aspect ratios, LUTRAM for shallow banks);
every hls::stream FIFO (width x depth); every m_axi adapter's burst FIFO, burst length x outstanding
words of the port's width (the INTERFACE pragma).
"""
from __future__ import annotations

from dataclasses import dataclass

from hlsgen.check import Checker, _inside_pipeline
from hlsgen.check_values import Ctx
from hlsgen.ops_resources import mem_cost

SMALL_MUL_BITS = 4       # a multiply with an operand this narrow goes to LUTs
UNKNOWN_BITS = 18        # an operand whose width cannot be read: assume one DSP's worth


@dataclass
class Memory:
    name: str                 # function:array (or ::table, a stream, an m_axi port)
    file: str
    line: int
    kind: str                 # "array", "stream", "m_axi"
    banks: int
    width: int                # bits per bank word
    depth: int                # words per bank
    bram36: float
    lut: int

    def as_dict(self) -> dict:
        return {"name": self.name, "file": self.file, "line": self.line, "kind": self.kind, "banks": self.banks,
                "width": self.width, "depth": self.depth, "bram36": self.bram36, "lut": self.lut}


def memory_cost(name, file, line, kind, banks, width, depth, board) -> Memory:
    c = mem_cost(width, depth, board)
    return Memory(name, file, line, kind, banks, width, depth, float(c["bram36"]) * banks, int(c["lut"]) * banks)


def array_memories(chk: Checker, board) -> list[Memory]:
    out = []
    for info in chk.roots.values():
        if info.root not in chk.used or info.bits is None or not info.dims or any(d is None for d in info.dims) or info.maxi:
            continue
        dims = list(info.dims)
        banks, complete = 1, set()
        for d, (kind, factor) in info.parts.items():
            for i in (range(len(dims)) if d == 0 else [d - 1]):
                if i >= len(dims):
                    continue
                n = dims[i] if kind == "complete" else min(dims[i], factor or 1)
                if kind == "complete" or n == dims[i]:
                    complete.add(i)
                banks *= n
                dims[i] = -(-dims[i] // n)
        if len(complete) == len(dims):
            continue                                   # registers
        depth = 1
        for x in dims:
            depth *= x
        out.append(memory_cost(info.root, *info.where, "array", banks, info.bits, depth, board))
    return out


def stream_memories(chk: Checker, board) -> list[Memory]:
    return [memory_cost(f"stream {name}", file, line, "stream", 1, bits or 1, depth, board)
            for (file, line, _), (name, bits, depth) in sorted(chk.streams.items()) if depth > 2]


def maxi_memories(chk: Checker, board) -> list[Memory]:
    """Each m_axi port's read (or write) burst FIFO: burst length x outstanding words."""
    top = chk.u.function(chk.top)
    if top is None:
        return []
    widths = {p.name: chk.bits_of([t for t in p.type_tokens if t != "*"], Ctx(top, {}, {}, {}, False))
              for p in top.params}
    out = []
    for p in top.pragma("INTERFACE"):
        if p.words[:1] != ["m_axi"]:
            continue
        port = (p.args.get("port") or [""])[0]
        width = widths.get(port) or 32
        par = next((q for q in top.params if q.name == port), None)
        ways = [w for w in ("read", "write") if f"max_{w}_burst_length" in p.args]
        if not ways:                       # Vitis defaults: a const pointer is only read
            ways = ["read"] if par is not None and "const" in par.type_tokens else ["read", "write"]
        for way in ways:
            burst = chk.int_of(p.args.get(f"max_{way}_burst_length", ["16"]), None) or 16
            outstanding = chk.int_of(p.args.get(f"num_{way}_outstanding", ["16"]), None) or 16
            out.append(memory_cost(f"m_axi {port} {way}", p.file, p.line, "m_axi", 1, width, burst * outstanding, board))
    return out


# ---- DSPs ----------------------------------------------------------------------------------------------
def unroll_factor(chk: Checker, loop, ctx: Ctx) -> int:
    """Copies of a loop body: the trip counts of the enclosing loops that are unrolled."""
    n, lp = 1, loop
    while lp is not None:
        if not lp.pipelined and (lp.unrolled or ctx.pipeline or _inside_pipeline(lp)):
            trip = chk.eval(lp.bound, ctx)
            start = chk.eval(lp.start or ["0"], ctx)
            if trip is not None and start is not None:
                span = trip.const - start.const if trip.terms == start.terms else None
                n *= max(span, 0) if span is not None else 1
        lp = lp.parent
    return n


def operand_bits(chk: Checker, tokens: list, types: tuple, ctx: Ctx) -> int | None:
    fn = ctx.fn
    if types and "dependent" not in types:
        b = chk.bits_of(list(types), ctx)
        if b is not None:
            return b
    toks = [t for t in tokens if t not in ("(", ")")] if tokens[:1] == ["("] else tokens
    if not toks:
        return None
    name = toks[0]
    if len(toks) > 1 and toks[1] == "[" and name in ctx.arrays:
        return ctx.arrays[name].bits
    if len(toks) == 1:
        if name in fn.scalars:
            return chk.bits_of(fn.scalars[name], ctx)
        par = next((p for p in fn.params if p.name == name), None)
        if par is not None:
            return chk.bits_of(par.type_tokens, ctx)
    if toks[0] in ("ap_int", "ap_uint") and ">" in toks:          # a cast: ap_int<W>(x)
        return chk.bits_of(toks[:toks.index(">") + 1], ctx)
    return None


def dsp_of_product(a: int | None, b: int | None) -> int:
    a = UNKNOWN_BITS if a is None else a
    b = UNKNOWN_BITS if b is None else b
    wide, narrow = max(a, b), min(a, b)
    if narrow <= SMALL_MUL_BITS:
        return 0
    return -(-wide // 27) * -(-narrow // 18)


def count_dsp(chk: Checker, ctx: Ctx, copies: int, engine: str, out: dict, depth: int = 0) -> None:
    fn = ctx.fn
    engine = fn.engine or engine
    fabric = {(p.args.get("variable") or [""])[0] for p in fn.pragma("BIND_OP")
              if (p.args.get("impl") or [""])[0].lower() == "fabric"}
    for m in fn.muls:
        if m.target and m.target in fabric:
            continue                                     # BIND_OP impl=fabric: a LUT multiplier
        scope = chk.scope_for(m.loop, None, ctx)
        if chk.dead(m.guards, ctx, scope):
            continue
        va, vb = chk.eval(m.a, ctx, scope=scope), chk.eval(m.b, ctx, scope=scope)
        if va is None or vb is None or not va.runtime or not vb.runtime:
            continue                                     # a constant factor: shifts and adds
        n = dsp_of_product(operand_bits(chk, m.a, m.types[0], ctx), operand_bits(chk, m.b, m.types[1], ctx))
        if n:
            k = copies * unroll_factor(chk, m.loop, ctx)
            out[engine or fn.name] = out.get(engine or fn.name, 0) + n * k
    if depth > 24:
        return
    for call in fn.calls:
        sub = chk.callee_ctx(call, ctx)
        if sub is None or chk.dead(call.guards, ctx, chk.scope_for(call.loop, None, ctx)):
            continue
        chk.declare_arrays_light(sub)
        count_dsp(chk, sub, copies * unroll_factor(chk, call.loop, ctx), engine, out, depth + 1)


def structural(chk: Checker, board) -> dict:
    """{"dsp": N, "bram36": B, "dsp_by_engine": {...}, "memories": [Memory dicts]} of the checked C++."""
    top = chk.u.function(chk.top)
    dsp: dict = {}
    if top is not None:
        count_dsp(chk, Ctx(top, {}, chk.unit_arrays(), {}, False), 1, "", dsp)
    mems = array_memories(chk, board) + stream_memories(chk, board) + maxi_memories(chk, board)
    return {"dsp": int(sum(dsp.values())), "bram36": float(sum(m.bram36 for m in mems)),
            "dsp_by_engine": dict(sorted(dsp.items())), "memories": [m.as_dict() for m in mems]}
