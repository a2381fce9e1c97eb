"""The on-chip activation buffers of the accelerator and the engines' access widths to them: one
table that the HLS emitter renders as banked arrays (hls_templates/hlsgen_buffers.h) and the
resource model prices.

A buffer of rows x cols values of `bits` bits is NB banks of words of W lanes (W = the greatest
common divisor of the access widths, SPAN = W * NB their least common multiple, cols padded to a
multiple of SPAN): every engine reads or writes whole groups of its lanes at a compile-time bank, and
a group never straddles two spans since every width divides SPAN. With power-of-two lanes W is the
narrowest access and SPAN the widest; a binary engine of 3 x 2^n SIMD lanes beside power-of-two
writers gives a span of 3 x 2^m. Lane counts may be numpy arrays (the explorer).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlsgen.arch import MULT_BITS, REQ_BIAS_BYTES, REQ_MULT_BYTES, ROW_FIFO_SLACK, cdiv


@dataclass(frozen=True)
class Access:
    engine: str
    lanes: object          # int or int array
    what: str              # read, write or read-modify-write, and why


@dataclass(frozen=True)
class Buffer:
    name: str
    bits: int
    rows: int
    cols: int
    accesses: tuple

    @property
    def W(self):
        return _reduce(np.gcd, [a.lanes for a in self.accesses])

    @property
    def span(self):
        return _reduce(np.lcm, [a.lanes for a in self.accesses])

    @property
    def NB(self):
        return self.span // self.W

    @property
    def cols_padded(self):
        return cdiv(self.cols, self.span) * self.span

    @property
    def depth(self):
        """Words per bank."""
        return self.rows * (self.cols_padded // self.span)

    @property
    def word_bits(self):
        return self.W * self.bits

    def misfits(self) -> list[str]:
        """Accesses the banking cannot serve at a compile-time bank: a width that is not a multiple of
        the word or does not divide the span (its groups would straddle two spans). Ints only."""
        return [f"{self.name}: {a.engine} {a.what} of {a.lanes} lanes (word {self.W} lanes, span {self.span})"
                for a in self.accesses if a.lanes % self.W or self.span % a.lanes]


def _reduce(fn, vals):
    out = vals[0]
    for v in vals[1:]:
        out = fn(out, v)
    return out if isinstance(out, np.ndarray) else int(out)


def binary_weight_words(simd, axi_bits: int) -> tuple:
    """How the binary engine reads its weight records (AXI words in WSTEP banks): (LW, WSTEP, SPW):
    one read of WSTEP banks gives a super-word of LW = lcm(SIMD, AXI) bits that holds SPW input steps
    of SIMD weight bits, the step picked by an SPW:1 select. Power-of-two SIMD: WSTEP = SIMD / AXI
    words per step, or SPW = AXI / SIMD steps per word; SIMD = 3 x 2^n reads 3 words for SPW steps."""
    lw = np.lcm(np.asarray(simd), axi_bits)
    out = (lw, lw // axi_bits, lw // np.asarray(simd))
    return out if np.ndim(lw) else tuple(int(v) for v in out)


def binary_record_words(K: int, rec_bytes: int, simd, axi_bits: int):
    """Words per weight record in the binary engine's buffer: the record itself, or more when the last
    super-word read reaches past it (SIMD = 3 x 2^n: K bits end inside a super-word)."""
    lw, wstep, _ = binary_weight_words(simd, axi_bits)
    return np.maximum(cdiv(rec_bytes, axi_bits // 8), cdiv(K, lw) * wstep)


def buffers(spec, k: int, par, selectors: bool, patch: int | None = None, s_bits: int | None = None,
            z_bits: int | None = None) -> dict[str, Buffer]:
    """name -> Buffer for a model, activation bits and parallelism (ints or arrays). s_bits / z_bits: the
    score buffer's and a selector's logit codes (a selector's may be wider than 2k; default 2k)."""
    N, D, H, M = spec.num_tokens, spec.embed_dim, spec.num_heads, spec.mlp_dim
    hid = max(spec.head_dim // 2, 1)
    loc = H * hid
    p = par
    P = spec.patch_size if patch is None else patch
    one = np.ones_like(np.asarray(p["pe"]))
    sel = selectors

    def acc(*items):
        return tuple(Access(e, np.asarray(l) * one if isinstance(l, np.ndarray) else l, w) for e, l, w in items)

    x = [("binary", p["pe"], "proj / fc2 residual read-modify-write"), ("int8", p["i8_pe"], "patch embedding write"),
         ("layernorm", p["ln_lanes"], "row read")]
    if sel:
        x += [("select", p["select_lanes"], "compaction copy"), ("package", p["att_pe"], "pruned-token read")]
    i8 = [("int8", p["i8_simd"], "input read"), ("image", P, "patch-row segment write"),
          ("layernorm", p["ln_lanes"], "norm / selector LayerNorm write")]
    if sel:
        i8 += [("select", p["gelu_lanes"], "local features write"), ("select", p["select_lanes"], "mean read / write")]
    s = [("attention", p["att_pe"], "Q.K^T write"), ("softmax", p["softmax_lanes"], "row read")]
    pr = [("softmax", p["softmax_lanes"], "row write"), ("attention", p["att_simd"], "P.V read")]
    if sel:
        s += [("int8", p["i8_pe"], "head-gate logits write"), ("select", 1, "package-softmax input write")]
        pr += [("select", p["select_lanes"], "head-gate read"), ("package", 1, "package weight read")]
    out = {
        "X": Buffer("X", 16, N, D, acc(*x)),
        "A": Buffer("A", k, N, D, acc(("layernorm", p["ln_lanes"], "write"), ("attention", p["att_pe"], "P.V write"),
                                    ("binary", p["simd"], "qkv / proj / fc1 input read"))),
        "QKV": Buffer("QKV", k, N, 3 * D, acc(("binary", p["pe"], "qkv write"), ("attention", p["att_simd"], "Q, K read"),
                                            ("attention", p["att_pe"], "V tile read"))),
        "H": Buffer("H", k, N, M, acc(("binary", p["gelu_lanes"], "GELU write"), ("binary", p["simd"], "fc2 input read"))),
        "S": Buffer("S", s_bits or 2 * k, N, max(N, H), acc(*s)),
        "P": Buffer("P", k, N, max(N, H), acc(*pr)),
    }
    i8_rows = max(spec.num_patches, N + 1 if sel else 1)      # + the selector's token-mean row (row N)
    i8_cols = max(spec.patch_dim, D)
    out["I8IN"] = Buffer("I8IN", 8, i8_rows, i8_cols, acc(*i8))
    if sel:   # a selector's local features sit right of the LayerNorm output, at a multiple of the span
        out["I8IN"] = Buffer("I8IN", 8, i8_rows, np.maximum(i8_cols, feat_offset(out) + loc), acc(*i8))
    out["LOGITS"] = Buffer("LOGITS", 16, 1, spec.num_classes, acc(("int8", p["i8_pe"], "head write"),
                                                                  ("result", 1, "logit read")))
    small = {"LOCAL": (16, N, loc, [("int8", p["i8_pe"], "local linear write"),
                                    ("select", p["gelu_lanes"], "GELU pass read")]),
             "Z": (z_bits or 2 * k, N, H, [("int8", 1, "score write"), ("select", p["select_lanes"], "score read")]),
             "GLOB": (8, 1, loc, [("select", p["select_lanes"], "global mean write"), ("int8", p["i8_simd"], "read")]),
             "PKG": (16, 1, D, [("package", p["att_pe"], "write"), ("select", p["select_lanes"], "compaction read")])}
    for name, (bits, rows, cols, items) in small.items():
        if not sel:      # no selector: a one-word placeholder the engines' signatures need
            rows, cols, items = 1, 1, [("none", 1, "unused")]
        out[name] = Buffer(name, bits, rows, cols, acc(*items))
    return out


def feat_offset(bufs: dict) -> int:
    """The first I8IN column of a selector's local features: D rounded up to the I8IN span."""
    D = bufs["X"].cols
    return cdiv(D, bufs["I8IN"].span) * bufs["I8IN"].span


def row_fifo_depths(spec, softmax_lanes, ln_lanes) -> dict:
    """Depths of the softmax and LayerNorm row FIFOs (the C++'s SM_FIFO / LN_FIFO): two rows of the
    widest row (softmax: attention or head gate) plus ROW_FIFO_SLACK, so a row's values never wait on
    its statistics for lack of room (which would deadlock the row pipeline)."""
    sm_row = cdiv(max(spec.num_tokens, spec.num_heads), softmax_lanes)
    return {"SM_FIFO": 2 * sm_row + ROW_FIFO_SLACK, "LN_FIFO": 2 * spec.embed_dim // ln_lanes + ROW_FIFO_SLACK}


# the softmax's exp FIFO carries OF + 1 bits per lane: the probability fraction bits of quant.golden's
# softmax (out_frac 16) and a guard bit
SM_EXP_BITS = 17


def engine_buffers(spec, k: int, par, axi_bits: int) -> dict[str, tuple]:
    """name -> (banks, word bits, words per bank) of the engines' own memories, laid out as the HLS
    kernels declare them: the binary and int8 weight-record double buffers (AXI words, PE x WSTEP
    banks), the int8 pos-embed double buffer, the attention engine's stationary tile (PE x SIMD banks of
    k-bit values), the softmax and LayerNorm row FIFOs and the LayerNorm affine ROMs (lanes banks)."""
    N, D, M = spec.num_tokens, spec.embed_dim, spec.mlp_dim
    p, wb = par, axi_bits // 8
    kmax = max(D, M)
    bin_wpr = binary_record_words(kmax, kmax // 8 + REQ_MULT_BYTES + REQ_BIAS_BYTES, p["simd"], axi_bits)
    bin_step = binary_weight_words(p["simd"], axi_bits)[1]
    i8_wpr = cdiv(max(spec.patch_dim, D) + REQ_MULT_BYTES + REQ_BIAS_BYTES, wb)
    i8_step = np.maximum(1, np.asarray(p["i8_simd"]) // wb)
    att = cdiv(max(N, spec.head_dim), p["att_simd"]) * p["att_simd"]
    sm, ln = p["softmax_lanes"], p["ln_lanes"]
    fifo = row_fifo_depths(spec, sm, ln)
    ln_rows = (2 * spec.depth + 1) * D // ln
    return {"binary weights": (p["pe"] * bin_step, axi_bits, 2 * cdiv(bin_wpr, bin_step)),
            "int8 weights": (p["i8_pe"] * i8_step, axi_bits, 2 * cdiv(i8_wpr, i8_step)),
            "int8 pos-embed": (p["i8_pe"], 16, 2 * spec.num_patches),
            "attention tile": (p["att_pe"] * p["att_simd"], k, 2 * att // p["att_simd"]),
            "softmax score FIFO": (1, 2 * k * sm, fifo["SM_FIFO"]),
            "softmax exp FIFO": (1, SM_EXP_BITS * sm, fifo["SM_FIFO"]),
            "LayerNorm row FIFO": (1, 16 * ln, fifo["LN_FIFO"]),
            "LayerNorm multipliers": (ln, MULT_BITS, ln_rows),
            "LayerNorm biases": (ln, 8 * REQ_BIAS_BYTES, ln_rows)}
