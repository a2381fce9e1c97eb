"""The op contract and the cycle model of the reference accelerator (one place, one formula per op).

Every hardware op of a schedule is a frozen dataclass that knows its shapes, the engine it runs on,
the golden integer function that defines its numerics (`golden`, a name in quant's golden model),
`cycles(design)`, `bound(design)` ("compute" or "memory") and `resources(design, board)` (the
resources of its engine; engines are shared by all ops that use them and counted once).

Micro-architecture (layer-sequential, one frame at a time; every op runs to completion):
  * weights stream from DDR in output-channel tiles into a double buffer: tile t+1 loads while tile
    t computes; the first tile of every op is exposed (no cross-op prefetch). Each tile is one DMA
    request (latency + bytes / sustained rate); a ragged last tile streams only its channels.
  * a tiled matmul Y[rows x O] = X[rows x K] . W[K x O] on an engine with PE output lanes and SIMD
    input lanes runs, per tile of PE output channels, one II=1 pipelined loop over
    rows x ceil(K/SIMD) (the tile loop is flattened into it, so the pipeline fills once per op).
  * DSP engines (int8, attention) pack two k-bit products per DSP48E2 (the two weights of a PE pair
    share the activation, Xilinx WP486) and sum SIMD products in DSP cascade chains of 4, then in a
    LUT adder tree over the chain sums.
  * the requantizer of each output lane (one DSP: acc*mult + bias, rounding shift, clamp) and the
    epilogues (residual add, pos-embed add, GELU) sit in the engine's output path: they add
    pipeline depth, and GELU adds a stall when it has fewer lanes than the results arrive.
  * the three attention ops run head by head (qk(h), softmax(h), av(h), then h+1): the score buffer
    holds one head; each head pass pays the op overhead and pipeline depth.
  * softmax and LayerNorm are row-pipelined dataflow units: softmax has 3 stages (max; exp+sum;
    reciprocal-multiply), LayerNorm 2 (sum/sum of squares; normalise+affine), each stage takes
    ceil(width/lanes) cycles per row, and consecutive rows overlap across stages.

Parallelism values in a `Ctx` may be numpy arrays: the explorer evaluates thousands of engine
configurations with the same formulas the reports and the simulation comparisons use. No cycle
formula depends on the activation bits (the explorer costs cycles once for all precisions).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Mapping

import numpy as np

# ---- pipeline constants (cycles); each is an assumption the RTL/HLS must honour ------------------
OP_OVERHEAD = 8     # per op (per head pass for attention): ap_start/ap_done handshake, address setup
BUF_READ = 2        # on-chip buffer read latency (BRAM with output register)
WRITE = 1           # result register before the buffer write
REQ_DEPTH = 4       # requantizer: DSP48E2 A/B reg, M reg, P reg (acc*mult+bias), rounding shift+clamp reg
DSP_MUL = 3         # DSP engines: packed multiply A/B, M, P registers
UNPACK = 1          # DSP engines: split the two packed products (WP486 sign correction)
ACC = 1             # accumulator register
RESADD_DEPTH = 1    # residual add: one saturating int16 adder stage after the requantizer
POSADD_DEPTH = 1    # patch embedding: pos-embed add stage
GELU_DEPTH = 8      # |x| clamp, square (DSP), *a+1 (DSP), *x (DSP), requantize (DSP), 2 cycles each
EXP_DEPTH = 8       # range reduction (DSP), shift, polynomial (2 DSP)
RECIP_DEPTH = 12    # reciprocal of the row sum (normalise, table seed, one Newton step), pipelined
RSQRT_DEPTH = 12    # reciprocal square root of the variance (normalise, table seed, Newton), pipelined
REQ_CONST_BYTES = 6  # per output channel: 16-bit multiplier + 32-bit bias streamed with the weights


def cdiv(a, b):
    """ceil(a / b) for non-negative ints or int arrays."""
    return -(-a // b)


def clog2(x):
    """ceil(log2(x)) for x >= 1 (0 for x == 1), ints or int arrays."""
    x = np.asarray(x, dtype=np.int64)
    out = np.zeros_like(x)
    v = x - 1
    while np.any(v > 0):
        out += (v > 0)
        v = v >> 1
    return out if out.ndim else int(out)


def pipeline(tiles, c, l, l_last=None):
    """Cycles of `tiles` tiles, per-tile compute c, per-tile load l (the last, ragged tile loads in
    l_last), double buffered: the first load is exposed, then each step takes the longer of
    computing tile t and loading tile t+1, then the last tile computes."""
    l_last = l if l_last is None else l_last
    many = l + (tiles - 2) * np.maximum(c, l) + np.maximum(c, l_last) + c
    return np.where(tiles >= 2, many, l_last + c)


def last_tile(n, lanes):
    """Items in the last tile when n items are split into tiles of `lanes`."""
    return n - (cdiv(n, lanes) - 1) * lanes


@dataclass
class Ctx:
    """What a cycle formula may read: activation bits, parallelism (ints or arrays), DDR rate."""
    k: int                     # activation bits at matmul inputs
    par: Mapping[str, Any]     # parallelism fields (see design.Parallelism)
    bpc: float                 # sustained DDR bytes per accelerator cycle
    mem_lat: int               # DDR latency per DMA request, in accelerator cycles

    def stream(self, nbytes):
        """Cycles to stream nbytes from DDR as one DMA request."""
        return np.ceil(np.asarray(nbytes) / self.bpc).astype(np.int64) + self.mem_lat


@dataclass(frozen=True)
class Part:
    """Cycles an op spends on one engine; memory_bound when weight loads outlast compute."""
    engine: str
    cycles: Any
    memory_bound: Any = False


@dataclass(frozen=True)
class Op:
    name: str
    golden: ClassVar[str] = ""
    engine: ClassVar[str] = ""

    def parts(self, ctx: Ctx) -> list[Part]:
        raise NotImplementedError

    def weight_bytes(self) -> int:
        """Bytes this op streams from DDR per frame (unpadded)."""
        return 0

    def shapes(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}

    def signature(self) -> tuple:
        """Identity of the computation, without the name: equal signatures have equal cycles."""
        return (type(self).__name__,) + tuple(self.shapes().values())

    # -- the contract on a design point ----------------------------------------------------------
    def cycles(self, design) -> int:
        return int(sum(np.asarray(p.cycles) for p in self.parts(design.ctx())))

    def bound(self, design) -> str:
        return op_bound(self.parts(design.ctx()))

    def resources(self, design, board=None) -> dict:
        from hlsgen.ops_resources import engine_resources
        return engine_resources(self.engine, design.ctx(), design.dims(), board or design.board)


def op_bound(parts: list[Part]) -> str:
    mem = sum(int(p.cycles) for p in parts if bool(p.memory_bound))
    comp = sum(int(p.cycles) for p in parts if not bool(p.memory_bound))
    return "memory" if mem > comp else "compute"


@dataclass(frozen=True)
class Requantize(Op):
    """Per-output-channel requantizer: saturate(round((acc*mult + bias) / 2^shift)), one DSP48E2 per
    lane (27x18 multiply, post-adder bias, rounding folded into the bias) + a clamp in LUTs. It sits in
    the output path of every matmul engine with one lane per PE (`host` names the engine), so its
    REQ_DEPTH cycles are inside the host op's depth and its resources inside the host engine's; it
    is not a separate schedule entry; every matmul op's `requantizer()` returns its instance."""
    host: str
    channels: int
    out: str
    golden: ClassVar[str] = "requantize"
    engine: ClassVar[str] = "requantize"

    def parts(self, ctx):
        return [Part(self.host, 0)]

    def resources(self, design, board=None) -> dict:
        from hlsgen.ops_resources import requant_resources
        lanes = {"binary": "pe", "int8": "i8_pe", "attention": "att_pe"}[self.host]
        return requant_resources(design.ctx().par[lanes])


# ---- tiled matmuls ----------------------------------------------------------------------------------
def binary_depth(simd):
    # buffer read, gate-and-add tree (one level per stage), accumulate, 2*S+ - Sum(x), requantize, write
    return BUF_READ + clog2(simd) + ACC + 1 + REQ_DEPTH + WRITE


DSP_CHAIN = 4   # DSP48E2 cascade length of the DSP engines (PCIN adds; WP486's guard bits allow 7 at 8 bits)


def dsp_chain(simd):
    return np.minimum(simd, DSP_CHAIN)


def dsp_engine_depth(simd):
    # buffer read, packed multiply, cascade of up to 4 DSPs (one stage each), unpack, LUT adder tree
    # over the SIMD/4 chain sums, accumulate, requantize, write
    chain = dsp_chain(simd)
    return BUF_READ + DSP_MUL + (chain - 1) + UNPACK + clog2(cdiv(simd, chain)) + ACC + REQ_DEPTH + WRITE


def binary_tiles(ctx: Ctx, rows, K, O):
    """(tiles, compute per tile, load per tile, load of the last tile) of the binary engine.
    Tile = PE channels x K bits (+ requantizer constants), stored contiguously in DDR."""
    pe, simd = ctx.par["pe"], ctx.par["simd"]
    per_ch = cdiv(K, 8) + REQ_CONST_BYTES
    return (cdiv(O, pe), rows * cdiv(K, simd), ctx.stream(np.minimum(pe, O) * per_ch),
            ctx.stream(last_tile(O, pe) * per_ch))


@dataclass(frozen=True)
class LinearBinary(Op):
    """Binary-weight matmul on the LUT engine (PE x SIMD gate-and-add lanes) + requantizer.
    out: 'act' (k-bit), 'wide' (2k-bit, to the fused GELU) or 'int16' (to the residual add)."""
    rows: int
    K: int
    O: int
    out: str = "act"
    golden: ClassVar[str] = "linear_binary"
    engine: ClassVar[str] = "binary"

    def parts(self, ctx):
        T, c, l, l_last = binary_tiles(ctx, self.rows, self.K, self.O)
        extra = RESADD_DEPTH if self.out == "int16" else 0
        cyc = OP_OVERHEAD + pipeline(T, c, l, l_last) + binary_depth(ctx.par["simd"]) + extra
        return [Part("binary", cyc, l > c)]

    def weight_bytes(self):
        return self.O * (cdiv(self.K, 8) + REQ_CONST_BYTES)

    def requantizer(self):
        return Requantize(f"{self.name}.requantize", "binary", self.O, self.out)


@dataclass(frozen=True)
class LinearInt8(Op):
    """int8-weight matmul on the DSP engine (two products per DSP48E2 sharing the activation) +
    requantizer. `extra_bytes_per_ch`: constants streamed per output channel besides weights
    (patch embedding: the int16 pos-embed column); `preload_bytes`: streamed before the first tile
    (patch embedding: the image and the class-token row); `reps`: independent matmuls run back to
    back (token selector: one per head)."""
    rows: int
    K: int
    O: int
    reps: int = 1
    extra_bytes_per_ch: int = 0
    preload_bytes: int = 0
    golden: ClassVar[str] = "linear_int8"
    engine: ClassVar[str] = "int8"

    def parts(self, ctx):
        pe, simd = ctx.par["i8_pe"], ctx.par["i8_simd"]
        T, c = cdiv(self.O, pe), self.rows * cdiv(self.K, simd)
        per_ch = self.K + REQ_CONST_BYTES + self.extra_bytes_per_ch
        l, l_last = ctx.stream(np.minimum(pe, self.O) * per_ch), ctx.stream(last_tile(self.O, pe) * per_ch)
        depth = dsp_engine_depth(simd) + (POSADD_DEPTH if self.extra_bytes_per_ch else 0)
        out = [Part("int8", self.reps * (OP_OVERHEAD + pipeline(T, c, l, l_last) + depth), l > c)]
        if self.preload_bytes:
            out.append(Part("int8", ctx.stream(self.preload_bytes), True))
        return out

    def weight_bytes(self):
        return self.reps * self.O * (self.K + REQ_CONST_BYTES + self.extra_bytes_per_ch) + self.preload_bytes

    def requantizer(self):
        return Requantize(f"{self.name}.requantize", "int8", self.O, "int16")


# ---- attention --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttnQK(Op):
    """Per head S = Q.K^T on the attention engine (k-bit x k-bit, packed DSPs), requantized to 2k
    bits. PE over keys, SIMD over the head dim; the stationary tile (PE keys x d) loads SIMD
    elements per cycle while the previous tile computes."""
    heads: int
    nq: int
    nk: int
    d: int
    golden: ClassVar[str] = "attn_qk"
    engine: ClassVar[str] = "attention"

    def parts(self, ctx):
        pe, simd = ctx.par["att_pe"], ctx.par["att_simd"]
        steps = cdiv(self.d, simd)
        load, load_last = np.minimum(pe, self.nk) * steps, last_tile(self.nk, pe) * steps
        per_head = (OP_OVERHEAD + pipeline(cdiv(self.nk, pe), self.nq * steps, load, load_last)
                    + dsp_engine_depth(simd))
        return [Part("attention", self.heads * per_head)]

    def requantizer(self):
        return Requantize(f"{self.name}.requantize", "attention", self.nk, "wide")


@dataclass(frozen=True)
class AttnAV(Op):
    """Per head O = P.V on the attention engine, requantized to k bits. PE over the head dim, SIMD
    over keys; the stationary tile (PE channels x nk tokens) loads one token row per cycle."""
    heads: int
    nq: int
    nk: int
    d: int
    golden: ClassVar[str] = "attn_av"
    engine: ClassVar[str] = "attention"

    def parts(self, ctx):
        pe, simd = ctx.par["att_pe"], ctx.par["att_simd"]
        per_head = (OP_OVERHEAD + pipeline(cdiv(self.d, pe), self.nq * cdiv(self.nk, simd), self.nk)
                    + dsp_engine_depth(simd))
        return [Part("attention", self.heads * per_head)]

    def requantizer(self):
        return Requantize(f"{self.name}.requantize", "attention", self.d, "act")


# ---- nonlinear units --------------------------------------------------------------------------------
def softmax_pass(ctx: Ctx, rows, width):
    """One head (or one row set): 3-stage row pipeline, ceil(width/L) cycles per stage per row."""
    L = ctx.par["softmax_lanes"]
    depth = BUF_READ + 2 * clog2(L) + EXP_DEPTH + RECIP_DEPTH + 2 + WRITE
    return OP_OVERHEAD + (rows + 2) * cdiv(width, L) + depth


def layernorm_pass(ctx: Ctx, rows, dim):
    """2-stage row pipeline (statistics; normalise + per-channel affine requantizer)."""
    L = ctx.par["ln_lanes"]
    depth = BUF_READ + clog2(L) + 2 + RSQRT_DEPTH + 2 + REQ_DEPTH + WRITE
    return OP_OVERHEAD + (rows + 1) * cdiv(dim, L) + depth


@dataclass(frozen=True)
class Softmax(Op):
    """Row softmax of 2k-bit scores (max, range-reduced polynomial exp, sum, one reciprocal per row,
    multiply) to k-bit probabilities, head by head."""
    heads: int
    nq: int
    nk: int
    golden: ClassVar[str] = "softmax"
    engine: ClassVar[str] = "softmax"

    def parts(self, ctx):
        return [Part("softmax", self.heads * softmax_pass(ctx, self.nq, self.nk))]


@dataclass(frozen=True)
class LayerNorm(Op):
    """Integer LayerNorm of int16 rows (mean, variance, reciprocal sqrt, per-channel affine
    requantizer) to k-bit activations."""
    rows: int
    dim: int
    golden: ClassVar[str] = "layernorm"
    engine: ClassVar[str] = "layernorm"

    def parts(self, ctx):
        return [Part("layernorm", layernorm_pass(ctx, self.rows, self.dim))]


@dataclass(frozen=True)
class Gelu(Op):
    """GELU fused in the output path of fc1 (shapes are fc1's): gelu_lanes lanes take the PE
    results of each (token, tile) step; with fewer lanes than PE / ceil(K/SIMD) the engine stalls
    for ceil(PE/gelu_lanes) cycles per step. Cycles = that stall + the GELU pipeline depth."""
    rows: int
    K: int
    O: int
    golden: ClassVar[str] = "gelu"
    engine: ClassVar[str] = "gelu"

    def parts(self, ctx):
        T, c, l, l_last = binary_tiles(ctx, self.rows, self.K, self.O)
        c_gelu = self.rows * np.maximum(cdiv(self.K, ctx.par["simd"]), cdiv(ctx.par["pe"], ctx.par["gelu_lanes"]))
        stall = pipeline(T, c_gelu, l, l_last) - pipeline(T, c, l, l_last)
        return [Part("gelu", stall + GELU_DEPTH)]


def gelu_pass(ctx: Ctx, elements):
    """Stand-alone GELU pass over a buffer (token selector MLPs): gelu_lanes elements per cycle."""
    return OP_OVERHEAD + cdiv(elements, ctx.par["gelu_lanes"]) + BUF_READ + GELU_DEPTH + WRITE


@dataclass(frozen=True)
class ResidualAdd(Op):
    """int16 saturating residual add, fused in the output path of proj / fc2 (PE adders): its cost
    is the adder stage, already counted in the linear op's depth, so 0 cycles here."""
    rows: int
    dim: int
    golden: ClassVar[str] = "residual_add"
    engine: ClassVar[str] = "binary"

    def parts(self, ctx):
        return [Part("binary", 0)]


# ---- token selector ----------------------------------------------------------------------------------
def vector_pass(ctx: Ctx, rows, width):
    """Token-selector vector unit: select_lanes int16/int32 lanes (means, score sums, compares,
    token compaction), one row of `width` per ceil(width/L) cycles."""
    return OP_OVERHEAD + rows * cdiv(width, ctx.par["select_lanes"]) + BUF_READ + 2 + WRITE


@dataclass(frozen=True)
class TokenSelect(Op):
    """HeatViT token selector before a block (golden `token_select`), on n_in tokens; the class
    token is not scored, every other token (an earlier package token included) is. Runs on the
    shared engines, step by step (h = d/2):
      LayerNorm (n_in-1 rows) -> per head local linear d->h (int8 engine) -> GELU pass ->
      global mean of the local features over tokens (vector unit) -> per head score linear
      [local; global] 2h->1 (int8) -> token mean of the LN output (vector) -> head gate D->H (int8)
      + softmax over H (softmax unit) -> score = gated sum over heads + keep compare (vector).
      If any token is pruned: softmax over the n_pruned scores (softmax unit, one row) ->
      package token = weighted sum of the pruned tokens (attention engine, [1 x n_pruned] .
      [n_pruned x D]) -> compaction of class + kept + package tokens (vector, n_in rows).
    n_pruned is data dependent: the worst-case schedule takes every scored token as pruned."""
    n_in: int
    n_pruned: int
    dim: int
    heads: int
    golden: ClassVar[str] = "token_select"
    engine: ClassVar[str] = "select"

    def _linears(self):
        d = self.dim // self.heads
        h, n = max(d // 2, 1), self.n_in - 1
        return [LinearInt8("local", n, d, h, reps=self.heads), LinearInt8("score", n, 2 * h, 1, reps=self.heads),
                LinearInt8("gate", 1, self.dim, self.heads)]

    def parts(self, ctx):
        D, H, n = self.dim, self.heads, self.n_in - 1
        local = H * max(D // H // 2, 1)
        out = [Part("layernorm", layernorm_pass(ctx, n, D))]
        for lin in self._linears():
            out += lin.parts(ctx)
        out += [Part("gelu", gelu_pass(ctx, n * local)),
                Part("softmax", softmax_pass(ctx, 1, H)),                       # head-gate softmax
                Part("select", vector_pass(ctx, n, local) + vector_pass(ctx, n, D)   # global mean, token mean
                     + vector_pass(ctx, n, H))]                                   # gated score sum + keep
        if self.n_pruned > 0:
            pe, simd = ctx.par["att_pe"], ctx.par["att_simd"]
            pkg = (OP_OVERHEAD + pipeline(cdiv(D, pe), cdiv(self.n_pruned, simd), self.n_pruned)
                   + dsp_engine_depth(simd))
            out += [Part("softmax", softmax_pass(ctx, 1, self.n_pruned)), Part("attention", pkg),
                    Part("select", vector_pass(ctx, self.n_in, D))]              # compaction
        return out

    def weight_bytes(self):
        return sum(m.weight_bytes() for m in self._linears())


GOLDEN_NAMES = ("linear_binary", "linear_int8", "attn_qk", "attn_av", "softmax", "gelu", "layernorm",
                "requantize", "residual_add", "token_select")
OP_TYPES = (LinearBinary, LinearInt8, AttnQK, AttnAV, Softmax, LayerNorm, Gelu, Requantize, ResidualAdd,
            TokenSelect)
