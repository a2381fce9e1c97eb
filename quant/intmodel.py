"""The integer model: every constant the hardware needs, exported from a calibrated fake-quant ViT.

`export_int_model(model)` turns scales and float weights into integers: binary weights (+-1),
8-bit weights, requantizer multipliers/biases/shifts, nonlinear-unit parameters and the
per-token-count mean multipliers of the token selector. The golden model (quant.golden) runs
an IntModel; the emitters of later stages write the same integers into HLS and RTL.

Requantizer convention (one DSP per lane): out = sat_bits((acc * mult + bias + 2**(shift-1)) >> shift),
mult a signed MULT_BITS integer chosen per layer with the largest shift that fits, so every
real multiplier is represented to about 15 significant bits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from quant.fakequant import ActQuant
from quant import saturation
from quant.intops import INT, exact_matmul, requantize
from quant.nonlinear import (GeluParams, LayerNormParams, SoftmaxParams, fit_gelu, fit_layernorm,
                             fit_softmax)
from quant.spec import ViTSpec

MULT_BITS = 16          # signed requantizer multiplier
MAX_SHIFT = 40
RES_BITS = 16           # residual stream width
LN_OUT_FRAC = 10        # fraction bits of the normalized LayerNorm output
MEAN_SHIFT = 16         # fraction bits of the selector's 1/n table


def _round(x) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(INT)


@dataclass(frozen=True)
class Requant:
    """Per-channel (or scalar, shape [1]) requantizer to a `bits`-wide code."""
    mult: np.ndarray
    bias: np.ndarray
    shift: int
    bits: int
    signed: bool = True

    def __call__(self, acc) -> np.ndarray:
        return requantize(acc, self.mult, self.shift, self.bias, self.bits, self.signed)

    def channels(self, start: int, count: int) -> "Requant":
        """The requantizer of channels [start, start + count) (of a grouped layer)."""
        mult, bias = np.asarray(self.mult).ravel(), np.asarray(self.bias).ravel()
        return Requant(mult[start:start + count] if mult.size > 1 else mult,
                       bias[start:start + count] if bias.size > 1 else bias, self.shift, self.bits, self.signed)


def make_requant(real_mult, real_bias=0.0, *, bits: int, signed: bool = True) -> Requant:
    """Integer requantizer for out = acc * real_mult + real_bias (both in output-code units)."""
    real_mult = np.atleast_1d(np.asarray(real_mult, dtype=np.float64))
    real_bias = np.broadcast_to(np.asarray(real_bias, dtype=np.float64), real_mult.shape)
    peak = float(np.abs(real_mult).max())
    top = (1 << (MULT_BITS - 1)) - 1
    shift = MAX_SHIFT if peak == 0 else min(MAX_SHIFT, math.floor(math.log2(top / peak)))
    if shift < 0:
        raise ValueError(f"requantizer multiplier {peak:g} too large for {MULT_BITS} bits")
    mult = _round(real_mult * 2.0 ** shift)
    bias = _round(real_bias * 2.0 ** shift)
    return Requant(mult, bias, shift, bits, signed)


@dataclass(frozen=True)
class LinearInt:
    """Y = requant(X @ W.T). weight: +-1 (binary) or int8 codes, [out, in]."""
    name: str
    weight: np.ndarray
    rq: Requant
    binary: bool

    def __call__(self, x) -> np.ndarray:
        return self.rq(exact_matmul(x, self.weight.T))


@dataclass(frozen=True)
class GroupedLinearInt:
    """H independent linears: x [..., H, in] -> [..., H, out]; weight [H, out, in]; rq over H*out."""
    name: str
    weight: np.ndarray
    rq: Requant

    def __call__(self, x) -> np.ndarray:
        acc = np.stack([exact_matmul(x[..., h, :], self.weight[h].T) for h in range(self.weight.shape[0])], -2)
        shape = acc.shape
        return self.rq(acc.reshape(*shape[:-2], -1)).reshape(shape)


@dataclass(frozen=True)
class LayerNormInt:
    """Integer LayerNorm core (quant.nonlinear) followed by the per-channel gamma/beta requantizer."""
    params: LayerNormParams
    rq: Requant


@dataclass(frozen=True)
class MeanInt:
    """Mean over a data-dependent count n: sum * mult[n] >> shift (a small ROM indexed by n)."""
    mult: np.ndarray  # [n_max + 1]
    shift: int
    bits: int


@dataclass(frozen=True)
class BlockInt:
    ln1: LayerNormInt
    qkv: LinearInt          # -> k-bit q | k | v (three scales, per-channel requantizer)
    qk_rq: Requant          # Q.K^T accumulator -> softmax input ap_fixed<2k, I>
    softmax: SoftmaxParams  # -> unsigned k-bit probabilities, scale 2^-k
    av_rq: Requant          # A.V accumulator -> k-bit
    proj: LinearInt         # -> int16 residual
    ln2: LayerNormInt
    fc1: LinearInt          # -> GELU input ap_fixed<2k, I>
    gelu: GeluParams
    gelu_rq: Requant        # GELU output -> k-bit
    fc2: LinearInt          # -> int16 residual
    heads: int


@dataclass(frozen=True)
class SelectorInt:
    ln: LayerNormInt               # -> k-bit
    local: GroupedLinearInt        # -> GELU input
    local_gelu: GeluParams
    local_rq: Requant              # GELU out -> k-bit local features
    global_mean: MeanInt           # mean of local features, same scale
    score: GroupedLinearInt        # [local; global] -> per-head logit z, ap_fixed<2k, I>
    token_mean: MeanInt            # mean normalized token -> k-bit
    gate: LinearInt                # -> head-gate softmax input
    gate_softmax: SoftmaxParams    # -> unsigned k-bit head weights
    pkg_rq: Requant                # score -> package softmax input
    pkg_softmax: SoftmaxParams     # -> unsigned k-bit package weights
    prob_bits: int                 # k: package weights have scale 2^-k


@dataclass
class IntModel:
    spec: ViTSpec
    act_bits: int
    in_scale: float        # input pixel code -> value
    res_scale: float       # residual code -> value
    logit_scale: float     # logit code -> value
    patch: LinearInt       # int8 pixels -> int16 residual
    pos: np.ndarray        # [N, D] int16: row 0 is cls + pos[0], rows 1.. are pos[1..]
    blocks: list[BlockInt]
    norm: LayerNormInt
    head: LinearInt
    selectors: dict[int, SelectorInt] = field(default_factory=dict)

    def quantize_input(self, images) -> np.ndarray:
        """Float images [B, C, H, W] -> int8 codes, as the in_q fake-quant point does."""
        x = np.floor(np.asarray(images, dtype=np.float64) / self.in_scale + 0.5)
        saturation.record(x, -128, 127)
        return np.clip(x, -128, 127).astype(INT)


# ---- export ------------------------------------------------------------------------------

def _s(q: ActQuant) -> float:
    return float(q.scale)


def _frac(q: ActQuant) -> int:
    """Fraction bits of a power-of-two quantizer."""
    return -round(math.log2(_s(q)))


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy()


def _binary_linear(name, lin, s_in: float, s_out: np.ndarray | float, bits: int) -> LinearInt:
    w = _np(lin.weight)
    alpha = np.abs(w).mean(axis=1)
    sign = np.where(w >= 0, 1, -1).astype(INT)
    rq = make_requant(s_in * alpha / s_out, _np(lin.bias) / s_out, bits=bits)
    return LinearInt(name, sign, rq, True)


def _int8_codes(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-output-channel symmetric int8, as quant.fakequant.int8_weights."""
    flat = w.reshape(w.shape[0], -1)
    scale = np.maximum(np.abs(flat).max(axis=1), 1e-12) / 127.0
    codes = np.clip(np.floor(flat / scale[:, None] + 0.5), -127, 127).astype(INT)
    return codes, scale


def _int8_linear(name, weight: torch.Tensor, bias: torch.Tensor, s_in: float, s_out: float, bits: int) -> LinearInt:
    codes, sw = _int8_codes(_np(weight))
    rq = make_requant(s_in * sw / s_out, _np(bias) / s_out, bits=bits)
    return LinearInt(name, codes, rq, False)


def _grouped_int8(name, g, s_in: float, s_out: float, bits: int) -> GroupedLinearInt:
    H, o, i = g.weight.shape
    codes, sw = _int8_codes(_np(g.weight).reshape(H * o, i))
    rq = make_requant(s_in * sw / s_out, _np(g.bias).reshape(-1) / s_out, bits=bits)
    return GroupedLinearInt(name, codes.reshape(H, o, i), rq)


def _layernorm(ln: torch.nn.LayerNorm, s_res: float, out: ActQuant) -> LayerNormInt:
    dim = ln.normalized_shape[0]
    eps_code = max(1, round(ln.eps / s_res ** 2))
    params = fit_layernorm(dim, in_bits=RES_BITS, out_frac=LN_OUT_FRAC, eps_code=eps_code)
    s_out = _s(out)
    rq = make_requant(_np(ln.weight) * 2.0 ** -params.out_frac / s_out, _np(ln.bias) / s_out, bits=out.bits)
    return LayerNormInt(params, rq)


def _gelu(in_q: ActQuant, out_q: ActQuant) -> tuple[GeluParams, Requant]:
    params = fit_gelu(in_q.bits, _frac(in_q), _frac(in_q))
    return params, make_requant(2.0 ** -params.out_frac / _s(out_q), bits=out_q.bits)


def _mean(n_max: int, s_in: float, s_out: float, bits: int) -> MeanInt:
    counts = np.arange(n_max + 1, dtype=np.float64)
    counts[0] = 1.0
    return MeanInt(_round(s_in / (counts * s_out) * 2.0 ** MEAN_SHIFT), MEAN_SHIFT, bits)


def _block(blk, s_res: float, k: int, n_max: int) -> BlockInt:
    a, m = blk.attn, blk.mlp
    gelu, gelu_rq = _gelu(m.gelu_in_q, m.gelu_out_q)
    D = blk.norm1.normalized_shape[0]
    s_ln1 = _s(blk.ln1_q)
    s_qkv = np.concatenate([np.full(D, _s(a.q_q)), np.full(D, _s(a.k_q)), np.full(D, _s(a.v_q))])
    qk_real = _s(a.q_q) * _s(a.k_q) * a.scale / _s(a.score_q)
    return BlockInt(
        ln1=_layernorm(blk.norm1, s_res, blk.ln1_q),
        qkv=_binary_linear("qkv", a.qkv, s_ln1, s_qkv, k),
        qk_rq=make_requant(qk_real, bits=a.score_q.bits),
        softmax=fit_softmax(_frac(a.score_q), k, max_len=n_max, in_bits=a.score_q.bits),
        av_rq=make_requant(_s(a.prob_q) * _s(a.v_q) / _s(a.av_q), bits=k),
        proj=_binary_linear("proj", a.proj, _s(a.av_q), s_res, RES_BITS),
        ln2=_layernorm(blk.norm2, s_res, blk.ln2_q),
        fc1=_binary_linear("fc1", m.fc1, _s(blk.ln2_q), _s(m.gelu_in_q), m.gelu_in_q.bits),
        gelu=gelu,
        gelu_rq=gelu_rq,
        fc2=_binary_linear("fc2", m.fc2, _s(m.gelu_out_q), s_res, RES_BITS),
        heads=a.heads,
    )


def _selector(sel, s_res: float, k: int, n_max: int) -> SelectorInt:
    gelu, local_rq = _gelu(sel.local_in_q, sel.local_q)
    s_norm, s_local = _s(sel.norm_q), _s(sel.local_q)
    s_score = _s(sel.z_q) * _s(sel.gate_p_q)   # scale of sum_h g_h z_h
    return SelectorInt(
        ln=_layernorm(sel.norm, s_res, sel.norm_q),
        local=_grouped_int8("local", sel.local, s_norm, _s(sel.local_in_q), sel.local_in_q.bits),
        local_gelu=gelu,
        local_rq=local_rq,
        global_mean=_mean(n_max, s_local, s_local, k),
        score=_grouped_int8("score", sel.score, s_local, _s(sel.z_q), sel.z_q.bits),
        token_mean=_mean(n_max, s_norm, _s(sel.mean_q), k),
        gate=_int8_linear("gate", sel.gate.weight, sel.gate.bias, _s(sel.mean_q), _s(sel.gate_in_q),
                          sel.gate_in_q.bits),
        gate_softmax=fit_softmax(_frac(sel.gate_in_q), k, max_len=max(sel.heads, 2),
                                 in_bits=sel.gate_in_q.bits),
        pkg_rq=make_requant(s_score / _s(sel.pkg_in_q), bits=sel.pkg_in_q.bits),
        pkg_softmax=fit_softmax(_frac(sel.pkg_in_q), k, max_len=n_max, in_bits=sel.pkg_in_q.bits),
        prob_bits=k,
    )


@torch.no_grad()
def export_int_model(model) -> IntModel:
    """Integer constants of a calibrated fake-quant model (model.set_quant + calibrate first)."""
    if model.act_bits is None:
        raise ValueError("export needs a quantized model: call set_quant(bits) and calibrate() first")
    spec, k = model.spec, model.act_bits
    s_in, s_res, s_logit = _s(model.in_q), _s(model.res_q), _s(model.logit_q)
    n_max = spec.num_tokens + 1  # + a package token
    pe = model.patch_embed.proj
    patch = _int8_linear("patch_embed", pe.weight.reshape(pe.weight.shape[0], -1), pe.bias, s_in, s_res, RES_BITS)
    lim = (1 << (RES_BITS - 1)) - 1
    pos = np.clip(_round(_np(model.pos_embed[0]) / s_res), -lim - 1, lim)
    cls = np.clip(_round(_np(model.cls_token[0, 0]) / s_res + pos[0]), -lim - 1, lim)
    pos = np.concatenate([cls[None], pos[1:]])
    return IntModel(
        spec=spec, act_bits=k, in_scale=s_in, res_scale=s_res, logit_scale=s_logit,
        patch=patch, pos=pos,
        blocks=[_block(b, s_res, k, n_max) for b in model.blocks],
        norm=_layernorm(model.norm, s_res, model.norm_q),
        head=_int8_linear("head", model.head.weight, model.head.bias, _s(model.norm_q), s_logit, 16),
        selectors={int(i): _selector(s, s_res, k, n_max) for i, s in model.selectors.items()},
    )
