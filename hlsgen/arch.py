"""The micro-architecture's shared constants and the arithmetic every model formula uses.

One table (`SHARED`) names the numbers that the cycle model, the HLS C++ and the RTL twin must
agree on: pipeline depths, the per-step overhead, the layout of the weight records, the step op
codes. Python reads them from this module; `cpp_header()` renders them into the project's
src/hlsgen_arch.h and `sv_package()` into rtl/hg_arch.svh, so no rendering keeps its own copy.

Parallelism values in a `Ctx` may be numpy arrays: the explorer evaluates thousands of engine
configurations with the same formulas the reports and the simulation comparisons use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

# ---- pipeline constants (cycles); each is an assumption the RTL/HLS must honour ------------------
OP_OVERHEAD = 8     # per step: descriptor fetch, engine start/done handshake, address setup
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
DSP_CHAIN = 4       # DSP48E2 cascade length of the DSP engines (PCIN adds; WP486's guard bits allow 7 at 8 bits)
ROW_FIFO_SLACK = 64  # row FIFO slots beyond two rows: the row statistics (divider, rsqrt chains) run deeper than their LATENCY targets
TILE_HANDOFF = 3    # a load's done register, bank-full flag and next start: between one tile load and the next / its compute
CTRL_CYCLES = 5     # of OP_OVERHEAD, the twin's handshake: fetch, gap exit, start, registered start and done
WEIGHT_PORTS = 1    # m_axi ports the weight stream uses (gmem_w in the HLS top and the twin), whatever the board offers
MAXI_BURST = 64     # HLS m_axi read adapters (image, weights): max_read_burst_length
MAXI_OUTSTANDING = 8  # and num_read_outstanding: a 512-word read FIFO each
MAXI_WRITE_BURST = 2  # the result port: max_write_burst_length = num_write_outstanding

# ---- weight records in the blob (hlsgen.emit_blob) -------------------------------------------------
REQ_MULT_BYTES = 2      # requantizer multiplier, int16, after each channel's weights
REQ_BIAS_BYTES = 4      # requantizer bias when every bias of the layer fits int32 (else REQ_BIAS_WIDE_BYTES)
REQ_BIAS_WIDE_BYTES = 6  # the 48-bit DSP48E2 post-adder
REQ_CONST_BYTES = REQ_MULT_BYTES + REQ_BIAS_BYTES  # what the cycle model streams per channel besides weights
MULT_BITS = 16          # requantizer multiplier width (signed)
BIAS_LIMIT_BITS = 48    # requantizer bias width limit (the DSP48E2 post-adder)

# ---- the HLS program table: one step_t (hls_templates/hlsgen_step.h, 32-bit fields) per step ---------
STEP_FIELDS = ("op", "block", "rows_from", "rows", "K", "O", "w_word", "rec_bytes", "a_bytes", "npos", "bias_bytes",
               "tiles", "tile_bytes", "last_bytes", "tile_items", "last_items",
               "mode", "src", "icol", "ocol", "r0", "head", "shift", "bits", "pidx", "cond", "tap", "tap2")
STEP_BITS = 32 * len(STEP_FIELDS)      # a PROG entry: what the ROM of the program stores per step

# ---- step op codes: the descriptor table of both renderings (HLS PROG[], twin prog()) ---------------
OP_END, OP_PRE, OP_I8, OP_LN, OP_BIN, OP_ATT, OP_SM, OP_RES, OP_SEL, OP_PKG = range(10)

SHARED = {
    "OP_OVERHEAD": "cycles a step costs beyond its engine's work (descriptor fetch, start/done handshake)",
    "ROW_FIFO_SLACK": "softmax / LayerNorm row FIFO slots beyond two rows (the statistics' real depth; no deadlock)",
    "TILE_HANDOFF": "cycles between a tile load finishing and the next load or its compute starting",
    "CTRL_CYCLES": "of OP_OVERHEAD, the cycles of the controller's own states; the rest is an explicit gap",
    "BUF_READ": "on-chip buffer read latency",
    "WRITE": "result register before a buffer write",
    "REQ_DEPTH": "requantizer pipeline depth",
    "DSP_MUL": "DSP multiply pipeline depth",
    "UNPACK": "split of two packed DSP products",
    "ACC": "accumulator register",
    "RESADD_DEPTH": "residual adder stage",
    "POSADD_DEPTH": "pos-embed adder stage",
    "GELU_DEPTH": "GELU lane pipeline depth",
    "EXP_DEPTH": "exp pipeline depth",
    "RECIP_DEPTH": "row-sum reciprocal pipeline depth",
    "RSQRT_DEPTH": "reciprocal square root pipeline depth",
    "DSP_CHAIN": "DSP cascade length of the DSP engines",
    "REQ_MULT_BYTES": "bytes of a channel's requantizer multiplier in a weight record",
    "REQ_BIAS_BYTES": "bytes of a channel's requantizer bias (int32 layers)",
    "REQ_BIAS_WIDE_BYTES": "bytes of a channel's requantizer bias (48-bit layers)",
    "MULT_BITS": "requantizer multiplier width",
    "BIAS_LIMIT_BITS": "requantizer bias width limit",
    "OP_END": "step op code: end of the program",
    "OP_PRE": "step op code: image and class-token row load",
    "OP_I8": "step op code: int8 engine",
    "OP_LN": "step op code: LayerNorm engine",
    "OP_BIN": "step op code: binary engine",
    "OP_ATT": "step op code: attention engine (Q.K^T or P.V)",
    "OP_SM": "step op code: softmax engine",
    "OP_RES": "step op code: result write",
    "OP_SEL": "step op code: token-selector vector unit",
    "OP_PKG": "step op code: package token",
}
OP_NAMES = {OP_END: "end", OP_PRE: "pre", OP_I8: "i8", OP_LN: "ln", OP_BIN: "bin", OP_ATT: "att", OP_SM: "sm",
            OP_RES: "res", OP_SEL: "sel", OP_PKG: "pkg"}


def constants() -> dict[str, int]:
    """The shared table: name -> value."""
    return {name: int(globals()[name]) for name in SHARED}


def cpp_header(banner: str) -> str:
    """src/hlsgen_arch.h: the shared constants as C++ constants (namespace hlsgen)."""
    lines = [f"// {banner}", "// The micro-architecture constants shared by the cycle model, this C++ and the RTL twin",
             "// (hlsgen/arch.py SHARED).", "#ifndef HLSGEN_ARCH_H", "#define HLSGEN_ARCH_H", "",
             "namespace hlsgen {", ""]
    lines += [f"const int {n} = {v};   // {SHARED[n]}" for n, v in constants().items()]
    return "\n".join(lines + ["", "}  // namespace hlsgen", "", "#endif", ""])


def sv_package(banner: str) -> str:
    """rtl/hg_arch.svh: the shared constants as SystemVerilog localparams."""
    lines = [f"// {banner}", "// The micro-architecture constants shared by the cycle model, the HLS C++ and this twin",
             "// (hlsgen/arch.py SHARED)."]
    lines += [f"localparam int {n} = {v};   // {SHARED[n]}" for n, v in constants().items()]
    return "\n".join(lines) + "\n"


# ---- arithmetic of the formulas ------------------------------------------------------------------
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
    computing tile t and loading tile t+1, then the last tile computes. Every load hands its bank
    over in TILE_HANDOFF cycles (exposed once when compute-bound, per tile when memory-bound)."""
    l_last = (l if l_last is None else l_last) + TILE_HANDOFF
    l = l + TILE_HANDOFF
    many = l + (tiles - 2) * np.maximum(c, l) + np.maximum(c, l_last) + c
    return np.where(tiles >= 2, many, l_last + c)


def last_tile(n, lanes):
    """Items in the last tile when n items are split into tiles of `lanes`."""
    return n - (cdiv(n, lanes) - 1) * lanes


def dsp_chain(simd):
    return np.minimum(simd, DSP_CHAIN)


@dataclass
class Ctx:
    """What a cycle or resource formula may read: activation bits, parallelism (ints or arrays), DDR rate."""
    k: int                     # activation bits at matmul inputs
    par: Mapping[str, Any]     # parallelism fields (see design.Parallelism)
    bpc: float                 # sustained DDR bytes per accelerator cycle
    mem_lat: int               # DDR latency per DMA request, in accelerator cycles

    def stream(self, nbytes):
        """Cycles to stream nbytes from DDR as one DMA request."""
        return np.ceil(np.asarray(nbytes) / self.bpc).astype(np.int64) + self.mem_lat
