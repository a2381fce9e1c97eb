"""Resource model of the reference accelerator: LUT, FF, DSP, BRAM36 (and URAM) per engine, per
on-chip buffer, plus fixed infrastructure and the board's platform shell.

Engines are shared by every op that runs on them, so each is counted once. Every formula takes the
parallelism from a `Ctx` (ints or numpy arrays, like the cycle formulas). The per-lane constants are
assumptions written beside each formula; the ones measured so far come from yosys `synth_xilinx
-family xcup` (DESIGN.md): the binary gate-and-add tree costs 12.8 LUT/lane at 8-bit activations
and 6.8 at 4 bits. Unit constants are fitted on bench/calibration/units.json (fit.py); the engine glue
(ENGINE_GLUE) on whole engines of the RTL twin, bench/calibration/engines.json (fit_engines.py), so
that every engine is within 25% of synthesis (LUT, FF, DSP) at the recorded parallelisms.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlsgen.arch import MAXI_BURST, MAXI_OUTSTANDING, MAXI_WRITE_BURST, STEP_BITS, Ctx, cdiv, clog2, dsp_chain
from hlsgen.buffers import binary_weight_words, buffers, engine_buffers

KEYS = ("lut", "ff", "dsp", "bram36", "uram")


@dataclass(frozen=True)
class Dims:
    """The model shapes the hardware is sized for (worst-case token count n_max)."""
    D: int
    M: int
    H: int
    d: int
    n_max: int
    patches: int
    patch_dim: int
    classes: int
    selectors: bool
    layers: int = 12       # encoder blocks (2 LayerNorms each, + the final one)
    spec: object = None    # the ViTSpec (the buffer layouts of hlsgen.buffers need all of it)
    steps: int = 0         # steps of the program (the HLS top's PROG table)

    @classmethod
    def of(cls, spec, selectors=()) -> "Dims":
        from hlsgen.schedule import build_schedule       # (hlsgen.schedule imports hlsgen.ops, which imports this)
        # a selector never makes more than N tokens (class + kept + one package <= N)
        steps = len(build_schedule(spec, tuple(selectors), "worst").ops)
        return cls(spec.embed_dim, spec.mlp_dim, spec.num_heads, spec.head_dim, spec.num_tokens, spec.num_patches,
                   spec.patch_dim, spec.num_classes, bool(selectors), spec.depth, spec, steps)


def res(lut=0, ff=0, dsp=0, bram36=0, uram=0) -> dict:
    return {"lut": lut, "ff": ff, "dsp": dsp, "bram36": bram36, "uram": uram}


def radd(*items: dict) -> dict:
    return {k: sum(r[k] for r in items) for k in KEYS}


# ---- memories ---------------------------------------------------------------------------------------
# (width, depth, cost in BRAM36) of the simple-dual-port aspect ratios: RAMB36E2 and RAMB18E2 (= 0.5)
_BRAM_SHAPES = ((72, 512, 1), (36, 1024, 1), (18, 2048, 1), (9, 4096, 1), (4, 8192, 1), (2, 16384, 1),
                (1, 32768, 1), (36, 512, .5), (18, 1024, .5), (9, 2048, .5), (4, 4096, .5), (2, 8192, .5),
                (1, 16384, .5))


def mem_cost(width, depth, board=None) -> dict:
    """One simple-dual-port memory of `width` bits x `depth` words.
    Block RAM: the cheapest aspect ratio of RAMB36E2 / RAMB18E2 (= 0.5), as Vivado maps it.
    Distributed RAM (only for depth <= 64): RAM32M16 / RAM64M8, 8 LUTs per 448 bits (14 x 32 or
    7 x 64). With a board, a shallow memory takes whichever is the smaller fraction of the board's
    usable LUTs / BRAM36 (ties -> LUTRAM); without one, LUTRAM whenever depth <= 64."""
    width = np.asarray(width, dtype=np.int64)
    depth = np.asarray(depth, dtype=np.int64)
    bram = None
    for w, d, c in _BRAM_SHAPES:
        cost = cdiv(width, w) * cdiv(depth, d) * c
        bram = cost if bram is None else np.minimum(bram, cost)
    lutram = np.where(depth <= 32, cdiv(width, 14) * 8, cdiv(width, 7) * 8)
    shallow = depth <= 64
    if board is not None:
        shallow = shallow & (lutram / max(board.usable_amount("lut"), 1)
                             <= bram / max(board.usable_amount("bram36"), 1))
    empty = (width == 0) | (depth == 0)
    return res(lut=np.where(shallow & ~empty, lutram, 0), bram36=np.where(shallow | empty, 0.0, bram))


def uram_cost(width, depth):
    """URAM288: 72 bits x 4096 words; narrower words are packed into 72-bit words."""
    width, depth = np.asarray(width), np.asarray(depth)
    wide = np.maximum(width, 72)
    return cdiv(wide, 72) * cdiv(cdiv(width * depth, wide), 4096)


def local_memory(name: str, ctx: Ctx, dims: Dims, board=None) -> dict:
    """One of the engines' own memories (hlsgen.buffers.engine_buffers: the HLS kernels' layout)."""
    axi = board.memory.axi_width_bits if board is not None else 256
    banks, width, depth = engine_buffers(dims.spec, ctx.k, ctx.par, axi)[name]
    return {key: v * banks for key, v in mem_cost(width, depth, board).items()}


# ---- per-lane building blocks ----------------------------------------------------------------------
def binary_lut_per_lane(k):
    """Gate-and-add tree, LUTs per input lane: 12.8 at 8 bits, 6.8 at 4 bits (yosys xcup, 64 lanes),
    linear in between and beyond: 1.5 k + 0.8."""
    return 1.5 * k + 0.8


def requant_resources(lanes) -> dict:
    """Requantizer lanes: 1 DSP48E2 each (acc*mult + bias), then the per-layer barrel shift, rounding
    and clamp in fabric, and a post-adder yosys leaves in fabric: 258 LUT / 190 FF per lane, the mean
    of yosys xcup on the RTL twin's hg_requant (bench/calibration/units.json: 205-322 LUT, 174-208 FF;
    fit.py). Was 40 LUT / 112 FF before the engine-level calibration (fit_engines.py)."""
    return res(lut=258 * lanes, ff=190 * lanes, dsp=lanes)


# ---- engine glue (calibrated on engine-level synthesis, bench/calibration/engines.json) ----------------
# The engine formulas below count the datapath the unit-level fits measured (bench/calibration/units.json).
# Synthesizing whole engines (sim/synth.py synth_project: yosys synth_xilinx -family xcup on the RTL
# twin, digits D=64 M=128 n=17 k=8 at several parallelisms) adds the glue around them:
#   fixed:   loop sequencer, op registers, tag pipelines, DMA address arithmetic (64-bit multiplies:
#            1 DSP in the binary engine, 2 in the int8 engine), the weight-record loader (hg_wtiles write
#            steering + two requantizer-constant extractors at a variable byte offset, ~700 LUT each),
#            the int8 engine's input modes (image patches, selector features);
#   units:   per PE (int8: the PE slice of the weight word, a TWB/SIMD-way mux, which the binary engine
#            now counts itself, step_select_lut: refitted 820 -> 756 LUT per PE; double-buffered
#            requantizer constants; output tags), per MAC lane (attention: PE x SIMD; the tile RAM write
#            steering, the packed-product split) or per lane (softmax, LayerNorm: lane pipelines and
#            FIFO steering beyond the unit-level fits);
#   row:     the twin keeps ONE TOKEN ROW PER BUFFER WORD (D, 3D or M elements), so operand reads pick
#            SIMD elements out of a row: a (row bits / word bits)-way mux per word bit ~ row bits / 4 LUT
#            for a word-aligned read (LUT6 + MUXF7/F8 select 4 inputs per LUT; ROW_SELECT_LUT, assumed,
#            since every calibration design has the same rows). Binary engine: A and H rows and the X
#            residual row ((D + M) k + 16 D bits); attention: the Q, K, V thirds of a QKV row and the
#            score row (3 D k + 2 k n); int8 engine: A and H rows ((D + M) 8).
#            An HLS design with cyclically partitioned buffers does not need these muxes: TWIN ONLY.
#   lanes:   int8 engine only, per SIMD lane. The twin's int8 engine still picks each lane's element
#            out of the whole row and scatters each PE result over the whole row (its selector modes use
#            offsets that are not lane aligned; the binary and attention engines were changed to aligned
#            words and replicated write data, which removed the same muxes there): measured at digits
#            ~460 LUT per lane and ~2400 per PE. The model keeps these per-lane / per-PE constants at
#            their digits values instead of scaling them with the row width (D, M): at DeiT widths the
#            twin's int8 engine as written would cost ~12x more per lane, an aligned one (as the HLS
#            design and the other twin engines) no more than here. The per-PE and per-lane int8 glue
#            is this unaligned pick and scatter: TWIN ONLY.
# TWIN ONLY terms are not part of the design the explorer sizes (the HLS design has no such muxes); they
# are the twin's overhead, added back (twin_overhead) wherever the model is compared with synthesis of
# the twin (sim/synth.py, bench/calibration/fit_engines.py, tests/test_resource_calibration.py).
# Attention DSP: the twin packs two products per DSP48E2 as the HLS mul2 does (its low field is 2k + 2
# bits, so the pair fits the 27-bit port); until it did (a field of 2k + 3 bits: 28) yosys split every
# pair over two DSPs, PE x SIMD + PE in all, and the model carried the difference as twin-only glue.
# Constants: (fixed, per unit, per lane, per row bit), fitted by least squares on engines.json with
# bench/calibration/fit_engines.py (designs p1, p2, p4; h8 held out).
ROW_SELECT_LUT = 0.25
ENGINE_GLUE = {
    # engine: {resource: (fixed, per unit, per lane, per row bit)}; zeros where the model was within 25%
    "binary": {"lut": (2107, 756, 0, ROW_SELECT_LUT), "ff": (148, 332, 0, 0), "dsp": (0, 0, 0, 0)},
    "int8": {"lut": (2842, 3084, 454, ROW_SELECT_LUT), "ff": (78, 765, 128, 0), "dsp": (2, 0, 0, 0)},
    "attention": {"lut": (530, 44, 0, ROW_SELECT_LUT), "ff": (-205, 54, 0, 0), "dsp": (0, 0, 0, 0)},
    "softmax": {"lut": (827, 64, 0, 0), "ff": (244, 0, 0, 0), "dsp": (0, 0, 0, 0)},
    "layernorm": {"lut": (1577, 0, 0, 0), "ff": (0, 0, 0, 0), "dsp": (0, 0, 0, 0)},   # fixed only: fit_engines.py
}


def glue_features(engine: str, key: str, ctx: Ctx, dims: Dims):
    """(units, lanes, row bits) of an engine's glue for one resource (see above)."""
    p, k = ctx.par, ctx.k
    D, M, n = dims.D, dims.M, dims.n_max
    if engine == "binary":
        return p["pe"], 0, (D + M) * k + 16 * D
    if engine == "int8":
        return p["i8_pe"], p["i8_simd"], (D + M) * 8
    if engine == "attention":
        pe, simd = p["att_pe"], p["att_simd"]
        return ((pe // 2) * simd if key == "dsp" else pe * simd), 0, 3 * D * k + 2 * k * n
    if engine == "softmax":
        return p["softmax_lanes"], 0, 0
    if engine == "layernorm":
        return p["ln_lanes"], 0, 0
    return 0, 0, 0


# which ENGINE_GLUE columns (0 fixed, 1 per unit, 2 per lane, 3 per row bit) only the twin has (see above);
# and per resource: the DSPs of the twin's int8 DMA address multiplies (the HLS steps carry the tile sizes)
TWIN_ONLY = {"binary": (3,), "int8": (1, 2, 3), "attention": (3,)}
TWIN_ONLY_BY_KEY = {("int8", "dsp"): (0,)}


def engine_glue(engine: str, ctx: Ctx, dims: Dims, twin: bool = False) -> dict:
    """The glue of `engine` in the design (twin=False) or in the RTL twin as synthesized (twin=True)."""
    consts = ENGINE_GLUE.get(engine)
    if consts is None:
        return res()
    out = {}
    for key, coef in consts.items():
        skip = () if twin else TWIN_ONLY.get(engine, ()) + TWIN_ONLY_BY_KEY.get((engine, key), ())
        feats = (1, *glue_features(engine, key, ctx, dims))
        out[key] = sum(c * f for i, (c, f) in enumerate(zip(coef, feats)) if i not in skip)
    return res(**out)


def twin_buffer(ew: int, ne: int, depth: int) -> dict:
    """One of the RTL twin's activation buffers (sim/rtl/hg_ram.sv: one token row of `ne` elements of
    `ew` bits per word, a write enable per element) as yosys maps it: shallow (<= 64 words) each element
    is its own distributed RAM plus its read register (the enable stops LUTRAMs being shared), deep the
    elements share block RAMs through byte enables (a RAMB36 has 8 nine-bit lanes at 512 words, half
    as many at each doubling of depth; an element takes whole lanes); one LUT per element gates its
    write enable."""
    if depth <= 64:
        per = 8 * cdiv(ew, 14 if depth <= 32 else 7)
        return res(lut=ne * (per + 1), ff=ne * ew)
    lanes = max(1, 8 // (1 << clog2(cdiv(depth, 512))))
    per_element = cdiv(ew, 9)
    if per_element > lanes:         # an element wider than a RAMB36 word: its own column of them
        return res(lut=ne, bram36=float(ne * cdiv(ew, 9 * lanes)))
    return res(lut=ne, bram36=float(cdiv(ne, lanes // per_element)))


def twin_overhead(engine: str, ctx: Ctx, dims: Dims, board=None) -> dict:
    """What the RTL twin's engine costs beyond the design's: its row-per-word buffers' muxes, and its own
    memories laid out its way (twin_memory_delta)."""
    full, design = engine_glue(engine, ctx, dims, twin=True), engine_glue(engine, ctx, dims)
    delta = twin_memory_delta(engine, ctx, dims, board)
    return {k: full[k] - design[k] + delta[k] for k in full}


# the engines' own memories (hlsgen.buffers.engine_buffers), by engine
ENGINE_MEMORIES = {"binary": ("binary weights",), "int8": ("int8 weights", "int8 pos-embed"),
                   "attention": ("attention tile",), "softmax": ("softmax score FIFO", "softmax exp FIFO"),
                   "layernorm": ("LayerNorm row FIFO", "LayerNorm multipliers", "LayerNorm biases")}


def engine_memories(engine: str, ctx: Ctx, dims: Dims, board=None) -> dict:
    return radd(res(), *[local_memory(m, ctx, dims, board) for m in ENGINE_MEMORIES.get(engine, ())])


def twin_memory_delta(engine: str, ctx: Ctx, dims: Dims, board=None) -> dict:
    """The RTL twin's own memories minus the HLS kernels' (engine_memories): the twin keeps weight and
    operand words PE x SIMD lanes wide (not AXI words), one FIFO row per lane group and one LayerNorm
    ROM word of L (multiplier, bias) pairs; the calibration records measured that layout."""
    p, k, n = ctx.par, ctx.k, dims.n_max
    if engine == "binary":
        w = mem_cost(p["pe"] * p["simd"], cdiv(max(dims.D, dims.M), p["simd"]), board)
        twin = radd(w, w)
    elif engine == "int8":
        w = mem_cost(p["i8_pe"] * p["i8_simd"] * 8, cdiv(max(dims.patch_dim, dims.D), p["i8_simd"]), board)
        pos = mem_cost(p["i8_pe"] * 16, n, board)
        twin = radd(w, w, pos, pos)
    elif engine == "attention":
        b = mem_cost(p["att_pe"] * p["att_simd"] * k, cdiv(max(dims.d, n), p["att_simd"]), board)
        twin = radd(b, b)
    elif engine == "softmax":
        L = p["softmax_lanes"]
        f = mem_cost(L * max(2 * k, 16), 2 * cdiv(n, L), board)
        twin = radd(f, f)
    elif engine == "layernorm":
        L = p["ln_lanes"]
        twin = radd(mem_cost(L * 16, 2 * cdiv(dims.D, L), board),
                    mem_cost(L * (16 + 32), (2 * dims.layers + 1) * cdiv(dims.D, L), board))
    else:
        return res()
    hls = engine_memories(engine, ctx, dims, board)
    return {key: twin[key] - hls[key] for key in KEYS}


# ---- engines ------------------------------------------------------------------------------------------
def step_select_lut(simd, board=None):
    """Per PE: the SPW:1 select of a step's SIMD weight bits out of the LW-bit super-word the binary
    engine reads (hlsgen.buffers.binary_weight_words; the twin's lane word is the same LW bits): a LUT6
    selects 4 inputs, so ~SPW / 4 LUT per bit (a 2:1 select: half a LUT), none when SPW = 1. At digits
    widths this is 64 LUT per PE whatever the SIMD (LW = 256); before it was counted it sat in the fitted
    per-PE glue."""
    axi = board.memory.axi_width_bits if board is not None else 256
    spw = binary_weight_words(simd, axi)[2]
    return np.where(spw > 1, np.asarray(simd) * spw / 4, 0)


def binary_engine(ctx: Ctx, dims: Dims, board=None) -> dict:
    """PE x SIMD gate-and-add lanes: per PE a SIMD-input adder tree over the activations whose weight
    is +1 (the gate folds into the first adder level), y = 2*S+ - Sum(x) with one shared Sum(x) tree
    per token. Accumulator width k + ceil(log2 K) + 1. Requantizer + residual adder per PE.
    Weights: the double buffer of weight records (AXI words; hlsgen.buffers.engine_buffers)."""
    pe, simd, k = ctx.par["pe"], ctx.par["simd"], ctx.k
    kmax = max(dims.D, dims.M)
    acc = k + clog2(kmax) + 1
    lpl = binary_lut_per_lane(k)
    lut = (pe * simd * lpl + simd * lpl          # PE trees + the shared Sum(x) tree
           + pe * step_select_lut(simd, board)     # the input step out of the weight super-word
           + pe * 2 * acc                          # accumulator + (2 S+ - Sum x) subtractor per PE
           + pe * 18 + 300)                        # residual saturating adder per PE; control
    ff = (pe * simd * (k + 2)                      # adder-tree pipeline registers (~k+2 bits per lane)
          + pe * simd + simd * k                   # weight word and activation broadcast registers
          + pe * (acc + 16) + 400)                 # accumulators, residual adder output; control
    return radd(res(lut=lut, ff=ff), requant_resources(pe), engine_memories("binary", ctx, dims, board),
                engine_glue("binary", ctx, dims))


def gelu_unit(ctx: Ctx, dims: Dims, board=None) -> dict:
    """gelu_lanes lanes of the I-BERT erf polynomial: |x| clamp (LUT), square, *a + 1, *x, requantize
    (4 DSP per lane); a PE x 2k-bit register bank hands fc1 results over to the lanes."""
    g, k, pe = ctx.par["gelu_lanes"], ctx.k, ctx.par["pe"]
    # calibrated on yosys xcup synthesis of hg_gelu (bench/calibration): the per-layer shifts of the
    # polynomial (three barrel shifters over 2k + W bits) dominate: ~126 k LUT, 22 k + 41 FF per lane
    # hg_gelu: 4-5 DSP per lane (units.json; 5 at the 16-bit widths of the generated designs) + the
    # GELU output requantizer per lane (hg_bin_engine), counted since the engine-level calibration
    return radd(res(lut=g * (126 * k) + 100, ff=g * (22 * k + 41) + pe * 2 * k, dsp=5 * g), requant_resources(g))


def dsp_mac_array(pe, simd, k, acc) -> dict:
    """PE x SIMD k-bit MACs on DSP48E2 (k <= 8), two products per DSP: the weights of a PE pair
    packed in the 27-bit A port, the shared activation on B (Xilinx WP486): ceil(PE/2)*SIMD DSPs.
    Products are summed along cascade chains of DSP_CHAIN DSPs (PCIN, no LUTs); per chain the two
    packed sums are split (~2k+3 LUT, sign correction); per PE a LUT adder tree over the
    ceil(SIMD/chain) chain sums (one LUT per bit per adder), an accumulator and its register."""
    chains = cdiv(simd, dsp_chain(simd))
    w = 2 * k + clog2(simd) + 1
    lut = cdiv(pe, 2) * chains * (2 * k + 3) + pe * (chains - 1) * w + pe * acc
    ff = cdiv(pe, 2) * chains * 2 * w + pe * (chains - 1) * w + pe * acc
    return res(lut=lut, ff=ff, dsp=cdiv(pe, 2) * simd)


def int8_engine(ctx: Ctx, dims: Dims, board=None) -> dict:
    """int8 MAC array (dsp_mac_array, k = 8), requantizer and pos-embed adder per PE; the weight-record
    and pos-embed double buffers (hlsgen.buffers.engine_buffers)."""
    pe, simd = ctx.par["i8_pe"], ctx.par["i8_simd"]
    kmax = max(dims.patch_dim, dims.D)
    return radd(dsp_mac_array(pe, simd, 8, 16 + clog2(kmax) + 1), res(lut=pe * 18 + 300, ff=pe * 16 + 400),
                requant_resources(pe), engine_memories("int8", ctx, dims, board), engine_glue("int8", ctx, dims))


def attention_engine(ctx: Ctx, dims: Dims, board=None) -> dict:
    """k-bit x k-bit MAC array (dsp_mac_array) and requantizer per PE, shared by Q.K^T and P.V; the
    stationary operand's double buffer (hlsgen.buffers.engine_buffers)."""
    pe, simd, k = ctx.par["att_pe"], ctx.par["att_simd"], ctx.k
    acc = 2 * k + clog2(max(dims.n_max, dims.d)) + 1
    return radd(dsp_mac_array(pe, simd, k, acc), res(lut=300, ff=400), requant_resources(pe),
                engine_memories("attention", ctx, dims, board), engine_glue("attention", ctx, dims))


def softmax_unit(ctx: Ctx, dims: Dims, board=None) -> dict:
    """L lanes: max tree, exp (range-reduction multiply + 2 polynomial DSPs), sum tree, normalise
    multiply: 4 DSP/lane; one pipelined reciprocal (2 DSP, ~500 LUT). Two row FIFOs between the
    three stages, L x max(2k, 16) bits wide, two rows deep."""
    L, k = ctx.par["softmax_lanes"], ctx.k
    # calibrated on yosys xcup synthesis of hg_softmax (bench/calibration): per lane the exp's range
    # reduction and polynomial with per-layer shifts, the normalising multiply; one exact pipelined
    # reciprocal (restoring division) per unit
    return radd(res(lut=L * (84 * k + 519) + 840, ff=L * (15 * k + 241) + 260, dsp=7 * L),
                engine_memories("softmax", ctx, dims, board), engine_glue("softmax", ctx, dims))


def layernorm_unit(ctx: Ctx, dims: Dims, board=None) -> dict:
    """L lanes: squarer (DSP), sum and sum-of-squares trees; normalise (x - mean) * rstd (DSP) and
    per-channel affine requantizer (DSP): 3 DSP/lane; mean/variance, the centring correction (the row
    mean's fraction: d^2, dim d^2, d f) and a pipelined reciprocal sqrt (9 DSP, ~600 LUT). A row FIFO
    (L x 16 bits, two rows) between the stages."""
    L = ctx.par["ln_lanes"]
    # the per-channel affine constants of every LayerNorm (int16 multiplier + 32-bit bias per channel,
    # L banks) stay on chip: 2 per block + the final one (engine-level synthesis: 2 BRAM36 for digits at
    # L = 1, hg_ln_rom; counted since the engine-level calibration)

    # calibrated on yosys xcup synthesis of hg_layernorm (bench/calibration): per lane the square,
    # the normalise multiply (+ the row's correction b: yosys keeps that add in LUTs) and per-row barrel
    # shift and the affine requantizer; per unit the statistics, the leading-one normaliser and the
    # piecewise-quadratic rsqrt. DSPs: 3 L + 9 in the engines (bench/calibration/engines.json, exact at
    # L = 1-8); the unit alone, with dim a port rather than a constant, takes 3 more (units.json)
    return radd(res(lut=L * 632 + 1370, ff=L * 348 + 587, dsp=3 * L + 9), engine_memories("layernorm", ctx, dims, board),
                engine_glue("layernorm", ctx, dims))


def select_unit(ctx: Ctx, dims: Dims, board=None) -> dict:
    """Token-selector vector unit (only with selectors): select_lanes int32 accumulate/compare/copy
    lanes, one DSP each for the gated score sum; score (32-bit) and keep-mask buffers of n tokens."""
    if not dims.selectors:
        return res()
    L = ctx.par["select_lanes"]
    return radd(res(lut=L * 90 + 400, ff=L * 100 + 300, dsp=L + 2), mem_cost(32, dims.n_max, board),
                mem_cost(1, dims.n_max, board))


ENGINES = {"binary": binary_engine, "gelu": gelu_unit, "int8": int8_engine, "attention": attention_engine,
           "softmax": softmax_unit, "layernorm": layernorm_unit, "select": select_unit}


def engine_resources(engine: str, ctx: Ctx, dims: Dims, board=None) -> dict:
    return ENGINES[engine](ctx, dims, board)


# ---- on-chip activation buffers ---------------------------------------------------------------------
def buffer_resources(ctx: Ctx, dims: Dims, board) -> dict:
    """Block RAM for every activation buffer as the HLS C++ declares it (hlsgen.buffers: NB banks of
    W-lane words); on boards with URAM the largest buffers move to URAM while the usable URAM lasts
    (greedy, largest first: the order of the model's shapes, whatever the lanes)."""
    bufs = buffers(dims.spec, ctx.k, ctx.par, dims.selectors)
    uram_left = board.usable_amount("uram") - board.platform["uram"]
    total = res()
    for b in sorted(bufs.values(), key=lambda b: -b.rows * int(np.max(b.cols)) * b.bits):
        width, depth, banks = b.word_bits, b.depth, b.NB
        cost = {key: v * banks for key, v in mem_cost(width, depth, board).items()}
        if board.resources["uram"] > 0:
            u = uram_cost(width, depth) * banks
            use = (u <= uram_left) & (cost["bram36"] > 0)
            uram_left = np.where(use, uram_left - u, uram_left)
            cost = {kk: np.where(use, 0, v) for kk, v in cost.items()}
            cost["uram"] = np.where(use, u, 0)
        total = radd(total, cost)
    return total


def infrastructure(board, steps: int = 0) -> dict:
    """Fixed: AXI4-Lite control, per weight port a read DMA with a byte realigner (weight records start
    at any byte: a w-bit two-word funnel shifter), the image read DMA and the result write DMA.
    Calibrated on yosys xcup synthesis of the twin's hg_axil / hg_rdma / hg_realign / hg_wdma at w = 256
    (bench/calibration/engines_digits.json: 8,572 LUT, 1,919 FF in all; the realigner alone 7,798 LUT =
    30.5 per data bit); was 1500 + 1500 + 2 w LUT, 4,000 + 4 w FF per port before. The m_axi adapters'
    FIFOs as the HLS top declares them: burst length x outstanding words for the image and each weight
    read port, and the result write port's; the ROM of the program (one STEP_BITS entry per step)."""
    m = board.memory
    w = m.axi_width_bits
    read = mem_cost(w, MAXI_BURST * MAXI_OUTSTANDING, board)
    program = mem_cost(STEP_BITS, steps, board)
    write = mem_cost(w, MAXI_WRITE_BURST * MAXI_WRITE_BURST, board)
    return radd(res(lut=160 + 310 + m.axi_ports * (300 + 30.5 * w), ff=280 + 270 + 400 + m.axi_ports * (400 + 2.25 * w)),
                *([read] * (1 + m.axi_ports)), write, program)


def accelerator_resources(ctx: Ctx, dims: Dims, board) -> dict:
    """name -> resources for every engine, 'buffers', 'infrastructure', 'platform', and 'total'."""
    out = {name: fn(ctx, dims, board) for name, fn in ENGINES.items()}
    out["buffers"] = buffer_resources(ctx, dims, board)
    out["infrastructure"] = infrastructure(board, dims.steps)
    out["platform"] = res(**board.platform)
    out["total"] = radd(*out.values())
    return out
