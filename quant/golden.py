"""The integer golden model: what the accelerator computes, bit for bit.

Per-op functions (the contract C-simulation and RTL are checked against):

  linear_binary / linear_int8(x, layer)   X @ W.T then the per-channel requantizer
  layernorm(x, ln)                        integer LayerNorm core + gamma/beta requantizer
  attn_qk(q, k, rq)                       per head Q.K^T, requantized to the softmax input format
  softmax(scores, params)                 row softmax -> unsigned k-bit probabilities
  attn_av(p, v, rq)                       per head A.V, requantized to k-bit
  gelu(x, params, rq)                     polynomial GELU, requantized to k-bit
  residual_add(a, b)                      int16 saturating add
  token_select(x, sel)                    HeatViT selector: keep mask, scores, new token list

All take and return numpy int64 codes; shapes are [tokens, channels] for one image.
`run_golden(im, pixels)` runs a whole image and returns logits codes plus a trace of every
layer's output (for first-mismatch reports), and the token count of each block.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from quant.intmodel import (RES_BITS, BlockInt, IntModel, LayerNormInt, LinearInt, MeanInt, Requant,
                            SelectorInt)
from quant import saturation
from quant.ragged import same_length
from quant.intops import INT, as_int, exact_matmul, round_shift, saturate
from quant.nonlinear import gelu_int, layernorm_int, softmax_int


def linear_binary(x, layer: LinearInt) -> np.ndarray:
    assert layer.binary
    return layer(x)


def linear_int8(x, layer: LinearInt) -> np.ndarray:
    assert not layer.binary
    return layer(x)


def layernorm(x, ln: LayerNormInt) -> np.ndarray:
    return ln.rq(layernorm_int(as_int(x), ln.params))


def attn_qk(q, k, rq: Requant) -> np.ndarray:
    """q, k [H, N, d] -> scores [H, N, N]."""
    return rq(exact_matmul(q, np.swapaxes(k, -1, -2)))


def softmax(scores, params) -> np.ndarray:
    return softmax_int(scores, params)


def attn_av(p, v, rq: Requant) -> np.ndarray:
    """p [H, N, N] (unsigned), v [H, N, d] -> [H, N, d]."""
    return rq(exact_matmul(p, v))


def gelu(x, params, rq: Requant) -> np.ndarray:
    return rq(gelu_int(as_int(x), params))


def residual_add(a, b) -> np.ndarray:
    return saturate(as_int(a) + as_int(b), RES_BITS)


def mean_tokens(x, n: int, mean: MeanInt) -> np.ndarray:
    """Mean over the token axis (0) of x, for a data-dependent count n: a ROM of 1/n."""
    return saturate(round_shift(as_int(x).sum(0) * mean.mult[n], mean.shift), mean.bits)


def split_heads(x, heads: int) -> np.ndarray:
    """[..., N, H*d] -> [..., H, N, d]"""
    *lead, n, c = x.shape
    return np.swapaxes(x.reshape(*lead, n, heads, c // heads), -3, -2)


def merge_heads(x) -> np.ndarray:
    """[..., H, N, d] -> [..., N, H*d]"""
    *lead, h, n, d = x.shape
    return np.swapaxes(x, -3, -2).reshape(*lead, n, h * d)


def _op(t: dict, name: str, fn, *args) -> np.ndarray:
    """fn(*args), traced as t[name]; its saturations count for `name` (quant.saturation)."""
    with saturation.layer(name):
        y = t[name] = fn(*args)
    return y


def encoder_block(x, blk: BlockInt, trace: dict | None = None, prefix: str = "") -> np.ndarray:
    """x [N, D] (or a batch [B, N, D]: every op works on the last axes, row by row)."""
    D = x.shape[-1]
    t = trace if trace is not None else {}
    a = _op(t, prefix + "ln1", layernorm, x, blk.ln1)
    qkv = _op(t, prefix + "qkv", linear_binary, a, blk.qkv)
    q, k, v = (split_heads(qkv[..., i * D:(i + 1) * D], blk.heads) for i in range(3))
    s = _op(t, prefix + "attn_qk", attn_qk, q, k, blk.qk_rq)
    p = _op(t, prefix + "softmax", softmax, s, blk.softmax)
    o = _op(t, prefix + "attn_av", lambda: merge_heads(attn_av(p, v, blk.av_rq)))
    y = _op(t, prefix + "proj", linear_binary, o, blk.proj)
    x = _op(t, prefix + "residual1", residual_add, x, y)
    a = _op(t, prefix + "ln2", layernorm, x, blk.ln2)
    h = _op(t, prefix + "fc1", linear_binary, a, blk.fc1)
    g = _op(t, prefix + "gelu", gelu, h, blk.gelu, blk.gelu_rq)
    y = _op(t, prefix + "fc2", linear_binary, g, blk.fc2)
    return _op(t, prefix + "residual2", residual_add, x, y)


@dataclass
class Selection:
    scores: np.ndarray   # [n] integer score of each non-class token (scale: z * 2^-k)
    keep: np.ndarray     # [n] bool
    tokens: np.ndarray   # the new token list: cls, kept tokens in order, package token if any pruned


def selector_scores(x, sel: SelectorInt) -> np.ndarray:
    """Scores of the non-class tokens x [n, D]; keep iff score > 0."""
    n, D = x.shape
    H = sel.score.weight.shape[0]
    y = layernorm(x, sel.ln)                                              # [n, D] k-bit
    yh = y.reshape(n, H, D // H)
    local = gelu(sel.local(yh), sel.local_gelu, sel.local_rq)            # [n, H, h]
    glob = mean_tokens(local, n, sel.global_mean)                         # [H, h]
    feats = np.concatenate([local, np.broadcast_to(glob, local.shape)], axis=-1)
    z = sel.score(feats)[..., 0]                                          # [n, H]
    mean_tok = mean_tokens(y, n, sel.token_mean)                          # [D]
    g = softmax_int(sel.gate(mean_tok[None])[0], sel.gate_softmax)        # [H] unsigned k-bit
    return (z * g[None, :]).sum(-1)


def token_select(x, sel: SelectorInt) -> Selection:
    """x: all tokens [N, D] (row 0 = class token, never pruned)."""
    scores = selector_scores(x[1:], sel)
    keep = scores > 0
    if keep.all():
        return Selection(scores, keep, as_int(x))
    w = softmax_int(sel.pkg_rq(scores[~keep]), sel.pkg_softmax)          # [m] unsigned k-bit
    pkg = saturate(round_shift((w[:, None] * x[1:][~keep]).sum(0), sel.prob_bits), RES_BITS)
    tokens = np.concatenate([x[:1], x[1:][keep], pkg[None]])
    return Selection(scores, keep, tokens)


def patch_embed(pixels, im: IntModel) -> np.ndarray:
    """int8 image codes [C, H, W] -> int16 token list [N, D] (class token first); or [B, C, H, W]
    -> [B, N, D]."""
    s = im.spec
    c, g, p = s.in_chans, s.grid, s.patch_size
    *lead, _, _, _ = pixels.shape
    patches = pixels.reshape(*lead, c, g, p, g, p)
    patches = np.moveaxis(patches, (-4, -2, -5, -3, -1), (-5, -4, -3, -2, -1)).reshape(*lead, g * g, c * p * p)
    x = residual_add(linear_int8(patches, im.patch), im.pos[1:])
    return np.concatenate([np.broadcast_to(im.pos[:1], (*lead, 1, x.shape[-1])), x], axis=-2)


@dataclass
class GoldenResult:
    logits: np.ndarray                       # [classes] int16 codes (times im.logit_scale)
    tokens_per_block: list[int]              # tokens each block ran on
    trace: dict[str, np.ndarray] = field(default_factory=dict)


def run_golden(im: IntModel, pixels, keep_trace: bool = False) -> GoldenResult:
    """One image: int8 pixel codes [C, H, W] -> logits codes."""
    pixels = as_int(pixels)
    trace: dict | None = {} if keep_trace else None
    x = patch_embed(pixels, im)
    if trace is not None:
        trace["patch_embed"] = x
    counts = []
    for i, blk in enumerate(im.blocks):
        if i in im.selectors:
            sel = token_select(x, im.selectors[i])
            x = sel.tokens
            if trace is not None:
                trace[f"blocks.{i}.selector"] = x
        counts.append(x.shape[0])
        x = encoder_block(x, blk, trace, f"blocks.{i}.")
    a = layernorm(x[:1], im.norm)
    logits = linear_int8(a, im.head)[0]
    if trace is not None:
        trace["norm"], trace["head"] = a, logits
    return GoldenResult(logits, counts, trace or {})


GOLDEN_CHUNK = 128   # images run through a block together (numpy per call overhead vs memory)


def run_golden_batch(im: IntModel, images) -> tuple[np.ndarray, list[list[int]]]:
    """Float images [B, C, H, W] -> (logit codes [B, classes], token counts per image): run_golden's
    arithmetic on chunks of images at once (images with the same token count share each op)."""
    from quant.progress import progress
    with saturation.layer("input"):
        codes = as_int(im.quantize_input(images))
    logits, counts = [], []
    bar = progress(range(len(codes)), desc="golden model")
    for start in range(0, len(codes), GOLDEN_CHUNK):
        lg, ct = _golden_chunk(im, codes[start:start + GOLDEN_CHUNK])
        logits.append(lg)
        counts += ct
        if hasattr(bar, "update"):
            bar.update(len(lg))
    if hasattr(bar, "close"):
        bar.close()
    classes = im.spec.num_classes
    return (np.concatenate(logits) if logits else np.zeros((0, classes), dtype=INT)), counts


def _golden_chunk(im: IntModel, codes) -> tuple[np.ndarray, list[list[int]]]:
    with saturation.layer("patch_embed"):
        tokens = list(patch_embed(codes, im))         # one [N, D] token list per image
    counts: list[list[int]] = [[] for _ in tokens]
    for i, blk in enumerate(im.blocks):
        if i in im.selectors:
            with saturation.layer(f"blocks.{i}.selector"):
                tokens = [token_select(x, im.selectors[i]).tokens for x in tokens]
        for j, x in enumerate(tokens):
            counts[j].append(x.shape[0])
        for idx in same_length(tokens):
            out = encoder_block(np.stack([tokens[j] for j in idx]), blk, prefix=f"blocks.{i}.")
            for j, y in zip(idx, out):
                tokens[j] = y
    cls = np.stack([x[:1] for x in tokens])
    t: dict = {}
    return _op(t, "head", linear_int8, _op(t, "norm", layernorm, cls, im.norm), im.head)[:, 0], counts


__all__ = ["linear_binary", "linear_int8", "layernorm", "attn_qk", "softmax", "attn_av", "gelu",
           "residual_add", "token_select", "mean_tokens", "encoder_block", "patch_embed",
           "run_golden", "run_golden_batch", "GoldenResult", "Selection", "INT"]
