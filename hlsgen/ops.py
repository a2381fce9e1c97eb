"""The op contract and the cycle model of the reference accelerator: the steps of one frame.

A step is one engine run, the unit that all three renderings share: the cycle model costs it
(`parts(ctx)`), the HLS emitter renders it into the top's step table (src/vit_params.h PROG) and
the RTL emitter into the twin's descriptor table (rtl/hg_prog.svh). Every step is a frozen dataclass
that knows its shapes, the engine it runs on, the op type it reports under (`golden`, a name in
quant's golden model), the golden trace keys it produces (`traces()`), its cycles, its bound
("compute" or "memory") and the resources of its engine (engines are shared and counted once).
The schedule (hlsgen.schedule.frame_ops) is the one place that orders the steps of a frame.

Fields that say where data comes from and goes to (`src`, `dst`, `rows_from`, `head`, ...) are
the step's channels: the emitters route data by them and the resource model sizes the buffers
by the widths of the engines that access them.

Micro-architecture (layer-sequential, one frame at a time; every step runs to completion):
  * weights stream from DDR in output-channel tiles into a double buffer: tile t+1 loads while tile
    t computes; the first tile of every step is exposed (no cross-step prefetch). Each tile is one
    DMA request (latency + bytes / sustained rate); a ragged last tile streams only its channels.
  * a tiled matmul Y[rows x O] = X[rows x K] . W[K x O] on an engine with PE output lanes and SIMD
    input lanes runs, per tile of PE output channels, one II=1 pipelined loop over
    rows x ceil(K/SIMD) (the tile loop is flattened into it, so the pipeline fills once per step).
  * DSP engines (int8, attention) pack two k-bit products per DSP48E2 (the two weights of a PE pair
    share the activation, Xilinx WP486) and sum SIMD products in DSP cascade chains of 4, then in a
    LUT adder tree over the chain sums.
  * the requantizer of each output lane (one DSP: acc*mult + bias, rounding shift, clamp) and the
    epilogues (residual add, pos-embed add, GELU) sit in the engine's output path: they add
    pipeline depth, and GELU adds a stall when it has fewer lanes than the results arrive.
  * attention runs head by head (qk(h), softmax(h), av(h), then h+1): the score buffer holds one
    head; each head's step pays the step overhead and pipeline depth.
  * softmax and LayerNorm are row-pipelined dataflow units: softmax has 3 stages (max; exp+sum;
    reciprocal-multiply), LayerNorm 2 (sum/sum of squares; normalise+affine), each stage takes
    ceil(width/lanes) cycles per row, and consecutive rows overlap across stages.
No cycle formula depends on the activation bits (the explorer costs cycles once for all precisions).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from hlsgen import ops_resources
from hlsgen.arch import (ACC, BUF_READ, DSP_MUL, GELU_DEPTH, OP_ATT, OP_BIN, OP_I8, OP_LN, OP_OVERHEAD, OP_PKG,
                         OP_PRE, OP_SEL, OP_SM, POSADD_DEPTH, RECIP_DEPTH, REQ_CONST_BYTES, REQ_DEPTH, RESADD_DEPTH,
                         RSQRT_DEPTH, TILE_HANDOFF, UNPACK, WRITE, Ctx, cdiv, clog2, dsp_chain, last_tile, pipeline)
from hlsgen.arch import EXP_DEPTH

ROWS_FROM = ("const", "n", "m")   # rows: fixed, the block's token count n, or a selector's scored tokens n - 1


@dataclass(frozen=True)
class Part:
    """Cycles a step spends on one engine; memory_bound when weight loads outlast compute."""
    engine: str
    cycles: Any
    memory_bound: Any = False


@dataclass(frozen=True)
class Op:
    name: str                              # the golden trace key of the op this step belongs to
    golden: ClassVar[str] = ""             # op type (the golden function that defines its numerics)
    engine: ClassVar[str] = ""
    code: ClassVar[int] = -1               # step op code (hlsgen.arch OP_*)

    def parts(self, ctx: Ctx) -> list[Part]:
        raise NotImplementedError

    def weight_bytes(self) -> int:
        """Bytes this step streams from DDR per frame (unpadded)."""
        return 0

    def traces(self) -> tuple[str, ...]:
        """The golden trace keys this step writes (in order)."""
        return (self.name,)

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
        return ops_resources.engine_resources(self.engine, design.ctx(), design.dims(), board or design.board)


def op_bound(parts: list[Part]) -> str:
    mem = sum(int(p.cycles) for p in parts if bool(p.memory_bound))
    comp = sum(int(p.cycles) for p in parts if not bool(p.memory_bound))
    return "memory" if mem > comp else "compute"


@dataclass(frozen=True)
class Requantize(Op):
    """Per-output-channel requantizer: saturate(round((acc*mult + bias) / 2^shift)), one DSP48E2 per
    lane (27x18 multiply, post-adder bias, rounding folded into the bias) + a clamp in LUTs. It sits in
    the output path of every matmul engine with one lane per PE (`host` names the engine), so its
    REQ_DEPTH cycles are inside the host step's depth and its resources inside the host engine's; it
    is not a step of its own; every matmul step's `requantizer()` returns its instance."""
    host: str
    channels: int
    out: str
    golden: ClassVar[str] = "requantize"
    engine: ClassVar[str] = "requantize"

    def parts(self, ctx):
        return [Part(self.host, 0)]

    def resources(self, design, board=None) -> dict:
        lanes = {"binary": "pe", "int8": "i8_pe", "attention": "att_pe"}[self.host]
        return ops_resources.requant_resources(design.ctx().par[lanes])


# ---- tiled matmuls ----------------------------------------------------------------------------------
def binary_depth(simd):
    # buffer read, gate-and-add tree (one level per stage), accumulate, 2*S+ - Sum(x), requantize, write
    return BUF_READ + clog2(simd) + ACC + 1 + REQ_DEPTH + WRITE


def dsp_engine_depth(simd):
    # buffer read, packed multiply, cascade of up to 4 DSPs (one stage each), unpack, LUT adder tree
    # over the SIMD/4 chain sums, accumulate, requantize, write
    chain = dsp_chain(simd)
    return BUF_READ + DSP_MUL + (chain - 1) + UNPACK + clog2(cdiv(simd, chain)) + ACC + REQ_DEPTH + WRITE


def loop_depths(par) -> dict:
    """The pipeline depth (iteration latency) of every engine loop: the model's depth terms and the
    HLS C++'s LATENCY constraints (rendered into vit_params.h), one table."""
    sm, ln = par["softmax_lanes"], par["ln_lanes"]
    return {"BIN_DEPTH": binary_depth(par["simd"]) + RESADD_DEPTH + GELU_DEPTH,   # one loop serves every epilogue
            "I8_DEPTH": dsp_engine_depth(par["i8_simd"]) + POSADD_DEPTH,
            "ATT_DEPTH": dsp_engine_depth(par["att_simd"]),
            "SM_DEPTH_MAX": BUF_READ + clog2(sm),                                 # row max
            "SM_DEPTH_EXP": clog2(sm) + EXP_DEPTH + RECIP_DEPTH,                  # exp, row sum, reciprocal
            "SM_DEPTH_NORM": 2 + WRITE,                                           # normalising multiply
            "LN_DEPTH_STATS": BUF_READ + clog2(ln) + 3 + RSQRT_DEPTH,             # sums, mean, variance, rsqrt, b
            "LN_DEPTH_NORM": 2 + REQ_DEPTH + WRITE,                               # normalise, affine requantizer
            "VEC_DEPTH": BUF_READ + 2 + WRITE,
            "GELU_PASS_DEPTH": BUF_READ + GELU_DEPTH + WRITE,
            "FILL_DEPTH": BUF_READ + WRITE,                                       # buffer-to-buffer tile copy
            "IO_DEPTH": 2}


def binary_tiles(ctx: Ctx, rows, K, O):
    """(tiles, compute per tile, load per tile, load of the last tile) of the binary engine.
    Tile = PE channels x K bits (+ requantizer constants), stored contiguously in DDR."""
    pe, simd = ctx.par["pe"], ctx.par["simd"]
    per_ch = cdiv(K, 8) + REQ_CONST_BYTES
    return (cdiv(O, pe), rows * cdiv(K, simd), ctx.stream(np.minimum(pe, O) * per_ch),
            ctx.stream(last_tile(O, pe) * per_ch))


BINARY_OUT = {"act": "qkv", "int16": "x", "gelu": "h"}   # output mode -> the buffer it writes


@dataclass(frozen=True)
class LinearBinary(Op):
    """Binary-weight matmul on the LUT engine (PE x SIMD gate-and-add lanes) + requantizer, with a
    fused epilogue by `out`: 'act' k-bit codes (qkv), 'int16' + residual add into x (proj, fc2: the
    residual sum is trace `tap2`), 'gelu' GELU lanes + requantizer (fc1: the GELU output is `tap2`).
    GELU (gelu_lanes lanes) takes the PE results of each (token, tile) step; with fewer lanes than
    PE / ceil(K/SIMD) the engine stalls for ceil(PE/gelu_lanes) cycles per step."""
    rows: int
    K: int
    O: int
    out: str = "act"
    src: str = "a"                 # input buffer: 'a' (LayerNorm / attention output) or 'h' (GELU output)
    rows_from: str = "n"
    tap2: str = ""
    golden: ClassVar[str] = "linear_binary"
    engine: ClassVar[str] = "binary"
    code: ClassVar[int] = OP_BIN

    def parts(self, ctx):
        T, c, l, l_last = binary_tiles(ctx, self.rows, self.K, self.O)
        extra = RESADD_DEPTH if self.out == "int16" else 0
        base = pipeline(T, c, l, l_last)
        out = [Part("binary", OP_OVERHEAD + base + binary_depth(ctx.par["simd"]) + extra, l > c)]
        if self.out == "gelu":
            c_gelu = self.rows * np.maximum(cdiv(self.K, ctx.par["simd"]), cdiv(ctx.par["pe"], ctx.par["gelu_lanes"]))
            out.append(Part("gelu", pipeline(T, c_gelu, l, l_last) - base + GELU_DEPTH))
        return out

    def traces(self):
        return (self.name, self.tap2) if self.tap2 else (self.name,)

    def weight_bytes(self):
        return self.O * (cdiv(self.K, 8) + REQ_CONST_BYTES)

    def requantizer(self):
        return Requantize(f"{self.name}.requantize", "binary", self.O, self.out)


I8_SRC = ("img", "i8in", "feats")          # image patches, LayerNorm output, selector [local; global] features
I8_DST = ("x_pos", "logits", "local", "z", "gate")


@dataclass(frozen=True)
class LinearInt8(Op):
    """int8-weight matmul on the DSP engine (two products per DSP48E2 sharing the activation) +
    requantizer. `extra_bytes_per_ch`: constants streamed per output channel besides weights
    (patch embedding: the int16 pos-embed column, added to the output). `src` / `dst` name where
    rows come from and results go (I8_SRC, I8_DST); `icol`: first input column (a selector's
    per-head local linear reads head `icol / head_dim`); `head`: which head a per-head linear serves."""
    rows: int
    K: int
    O: int
    extra_bytes_per_ch: int = 0
    src: str = "i8in"
    dst: str = "logits"
    icol: int = 0
    head: int = 0
    rows_from: str = "const"
    section: str = ""              # weight-blob section (default: the step name)
    golden: ClassVar[str] = "linear_int8"
    engine: ClassVar[str] = "int8"
    code: ClassVar[int] = OP_I8

    def parts(self, ctx):
        pe, simd = ctx.par["i8_pe"], ctx.par["i8_simd"]
        T, c = cdiv(self.O, pe), self.rows * cdiv(self.K, simd)
        per_ch = self.K + REQ_CONST_BYTES + self.extra_bytes_per_ch
        l, l_last = ctx.stream(np.minimum(pe, self.O) * per_ch), ctx.stream(last_tile(self.O, pe) * per_ch)
        depth = dsp_engine_depth(simd) + (POSADD_DEPTH if self.extra_bytes_per_ch else 0)
        return [Part("int8", OP_OVERHEAD + pipeline(T, c, l, l_last) + depth, l > c)]

    def traces(self):
        return (self.name,) if self.dst in ("x_pos", "logits") else ()

    def weight_bytes(self):
        return self.O * (self.K + REQ_CONST_BYTES + self.extra_bytes_per_ch)

    def requantizer(self):
        return Requantize(f"{self.name}.requantize", "int8", self.O, "int16")


@dataclass(frozen=True)
class ImageLoad(Op):
    """The image (one int8 code per pixel) and the class-token row (int16, cls + pos[0]) streamed from
    DDR before the patch embedding: one DMA request of `nbytes`."""
    nbytes: int
    golden: ClassVar[str] = "linear_int8"
    engine: ClassVar[str] = "int8"
    code: ClassVar[int] = OP_PRE

    def parts(self, ctx):
        return [Part("int8", ctx.stream(self.nbytes) + TILE_HANDOFF, True)]

    def traces(self):
        return ()

    def weight_bytes(self):
        return self.nbytes


# ---- attention --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttnQK(Op):
    """One head's S = Q.K^T on the attention engine (k-bit x k-bit, packed DSPs), requantized to 2k
    bits. PE over keys, SIMD over the head dim; the stationary tile (PE keys x d) loads SIMD
    elements per cycle while the previous tile computes."""
    nq: int
    nk: int
    d: int
    head: int = 0
    rows_from: str = "n"
    golden: ClassVar[str] = "attn_qk"
    engine: ClassVar[str] = "attention"
    code: ClassVar[int] = OP_ATT

    def parts(self, ctx):
        pe, simd = ctx.par["att_pe"], ctx.par["att_simd"]
        steps = cdiv(self.d, simd)
        load, load_last = np.minimum(pe, self.nk) * steps, last_tile(self.nk, pe) * steps
        cyc = (OP_OVERHEAD + pipeline(cdiv(self.nk, pe), self.nq * steps, load, load_last)
               + dsp_engine_depth(simd))
        return [Part("attention", cyc)]

    def requantizer(self):
        return Requantize(f"{self.name}.requantize", "attention", self.nk, "wide")


@dataclass(frozen=True)
class AttnAV(Op):
    """One head's O = P.V on the attention engine, requantized to k bits. PE over the head dim, SIMD
    over keys; the stationary tile (PE channels x nk tokens) loads one token row per cycle."""
    nq: int
    nk: int
    d: int
    head: int = 0
    rows_from: str = "n"
    golden: ClassVar[str] = "attn_av"
    engine: ClassVar[str] = "attention"
    code: ClassVar[int] = OP_ATT

    def parts(self, ctx):
        pe, simd = ctx.par["att_pe"], ctx.par["att_simd"]
        cyc = (OP_OVERHEAD + pipeline(cdiv(self.d, pe), self.nq * cdiv(self.nk, simd), self.nk)
               + dsp_engine_depth(simd))
        return [Part("attention", cyc)]

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


SOFTMAX_USE = ("attn", "gate", "pkg")   # a head's scores; a selector's head gate; its package weights


@dataclass(frozen=True)
class Softmax(Op):
    """Row softmax of 2k-bit scores (max, range-reduced polynomial exp, sum, one reciprocal per row,
    multiply) to k-bit probabilities: one head's rows (use 'attn'), or one row of a token
    selector ('gate': the head gate over H logits; 'pkg': the package weights over the pruned
    tokens, `width` of them, run only when something was pruned)."""
    rows: int
    width: int
    head: int = 0
    use: str = "attn"
    rows_from: str = "n"
    golden: ClassVar[str] = "softmax"
    engine: ClassVar[str] = "softmax"
    code: ClassVar[int] = OP_SM

    def parts(self, ctx):
        if self.width == 0:      # a package softmax with nothing pruned does not run
            return [Part("softmax", 0)]
        return [Part("softmax", softmax_pass(ctx, self.rows, self.width))]

    def traces(self):
        return (self.name,) if self.use == "attn" else ()


LN_DST = ("a", "i8in")


@dataclass(frozen=True)
class LayerNorm(Op):
    """Integer LayerNorm of int16 rows (mean, variance, reciprocal sqrt, per-channel affine
    requantizer) to k-bit activations: rows [r0, r0 + rows) of x into `dst` ('a' for the blocks,
    'i8in' for the final norm and a token selector's input); `table`: which LayerNorm's constants."""
    rows: int
    dim: int
    table: int = 0
    r0: int = 0
    dst: str = "a"
    rows_from: str = "n"
    golden: ClassVar[str] = "layernorm"
    engine: ClassVar[str] = "layernorm"
    code: ClassVar[int] = OP_LN

    def parts(self, ctx):
        return [Part("layernorm", layernorm_pass(ctx, self.rows, self.dim))]

    def traces(self):
        return () if self.r0 else (self.name,)


# ---- token selector ----------------------------------------------------------------------------------
def vector_pass(ctx: Ctx, rows, width):
    """Token-selector vector unit: select_lanes int16/int32 lanes (means, score sums, compares,
    token compaction), one row of `width` per ceil(width/L) cycles."""
    return OP_OVERHEAD + rows * cdiv(width, ctx.par["select_lanes"]) + BUF_READ + 2 + WRITE


def gelu_pass(ctx: Ctx, elements):
    """Stand-alone GELU pass over a buffer (token selector MLPs): gelu_lanes elements per cycle."""
    return OP_OVERHEAD + cdiv(elements, ctx.par["gelu_lanes"]) + BUF_READ + GELU_DEPTH + WRITE


SELECT_SUBS = ("gelu", "gmean", "tmean", "score", "compact")


@dataclass(frozen=True)
class SelectStep(Op):
    """A step of a HeatViT token selector on its vector unit (select_lanes lanes) or, for 'gelu',
    the GELU lanes: 'gelu' GELU + requantizer over the local features (rows x width), 'gmean' their
    mean over tokens, 'tmean' the token mean of the LayerNorm output, 'score' the gated score sum
    and keep compare (writes the selector's scores), 'compact' class + kept + package tokens into
    x (run only when something was pruned; writes the new token list)."""
    sub: str
    rows: int
    width: int
    index: int = 0                 # which selector of the model (its constant tables)
    runs: bool = True
    rows_from: str = "m"
    golden: ClassVar[str] = "token_select"
    engine: ClassVar[str] = "select"
    code: ClassVar[int] = OP_SEL

    def parts(self, ctx):
        if not self.runs:
            return [Part(self.part_engine, 0)]
        if self.sub == "gelu":
            return [Part("gelu", gelu_pass(ctx, self.rows * self.width))]
        return [Part("select", vector_pass(ctx, self.rows, self.width))]

    @property
    def part_engine(self) -> str:
        return "gelu" if self.sub == "gelu" else "select"

    def traces(self):
        return {"score": (f"{self.name}.scores",), "compact": (self.name,)}.get(self.sub, ())


@dataclass(frozen=True)
class PackageToken(Op):
    """A selector's package token = weighted sum of the pruned tokens ([1 x n_pruned] . [n_pruned x D]),
    on the attention engine's datapath: PE channels per tile, the pruned tokens' rows stream through."""
    n_pruned: int
    dim: int
    golden: ClassVar[str] = "token_select"
    engine: ClassVar[str] = "attention"
    code: ClassVar[int] = OP_PKG

    def parts(self, ctx):
        if self.n_pruned == 0:
            return [Part("attention", 0)]
        pe, simd = ctx.par["att_pe"], ctx.par["att_simd"]
        cyc = (OP_OVERHEAD + pipeline(cdiv(self.dim, pe), cdiv(self.n_pruned, simd), self.n_pruned)
               + dsp_engine_depth(simd))
        return [Part("attention", cyc)]

    def traces(self):
        return ()


def token_select_steps(name: str, n_in: int, n_pruned: int, dim: int, heads: int, index: int = 0,
                       ln_table: int = 0) -> list[Op]:
    """The steps of the HeatViT token selector before a block (golden `token_select`), on n_in
    tokens; the class token is not scored, every other token (an earlier package token included) is
    (h = d/2):
      LayerNorm (n_in-1 rows) -> per head local linear d->h (int8 engine) -> GELU pass ->
      global mean of the local features over tokens (vector unit) -> per head score linear
      [local; global] 2h->1 (int8) -> token mean of the LN output (vector) -> head gate D->H (int8)
      + softmax over H (softmax unit) -> score = gated sum over heads + keep compare (vector).
      If any token is pruned: softmax over the n_pruned scores (softmax unit, one row) ->
      package token (attention engine) -> compaction of class + kept + package tokens (vector, n_in rows).
    n_pruned is data dependent: the worst-case schedule takes every scored token as pruned."""
    d = dim // heads
    h, n = max(d // 2, 1), n_in - 1
    local = heads * h
    pr = n_pruned > 0
    out: list[Op] = [LayerNorm(name, n, dim, ln_table, r0=1, dst="i8in", rows_from="m")]
    out += [LinearInt8(name, n, d, h, src="i8in", dst="local", icol=hd * d, head=hd, rows_from="m",
                       section=f"{name}.local.{hd}") for hd in range(heads)]
    out += [SelectStep(name, "gelu", n, local, index), SelectStep(name, "gmean", n, local, index)]
    out += [LinearInt8(name, n, 2 * h, 1, src="feats", dst="z", icol=hd * h, head=hd, rows_from="m",
                       section=f"{name}.score.{hd}") for hd in range(heads)]
    out += [SelectStep(name, "tmean", n, dim, index),
            LinearInt8(name, 1, dim, heads, src="i8in", dst="gate", section=f"{name}.gate"),
            Softmax(name, 1, heads, use="gate", rows_from="const"),
            SelectStep(name, "score", n, heads, index),
            Softmax(name, 1, n_pruned, use="pkg", rows_from="const"),
            PackageToken(name, n_pruned, dim),
            SelectStep(name, "compact", n_in, dim, index, runs=pr, rows_from="n")]
    return out


GOLDEN_NAMES = ("linear_binary", "linear_int8", "attn_qk", "attn_av", "softmax", "gelu", "layernorm",
                "requantize", "residual_add", "token_select")
OP_TYPES = (LinearBinary, LinearInt8, ImageLoad, AttnQK, AttnAV, Softmax, LayerNorm, Requantize, SelectStep,
            PackageToken)
# op types a step reports under (per-op-type cycle comparisons): a selector's steps all report as
# token_select, whatever engine runs them; GELU and residual adds are fused into the binary engine.
REPORT_TYPES = ("linear_binary", "linear_int8", "attn_qk", "attn_av", "softmax", "layernorm", "token_select")


def report_type(step: Op) -> str:
    return "token_select" if ".selector" in step.name else step.golden
