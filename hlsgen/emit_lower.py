"""Lowering: an IntModel on a DesignPoint -> everything the HLS project (and an RTL twin) needs.

`lower(im, design)` returns a `Lowered`: the weight blob and its section layout, the trace-layer
table (the golden model's trace keys in execution order, with their storage types), the static
configuration of every kernel (sizes, widths; rendered as C++ config structs) and the constant
tables (per-block parameter structs, LayerNorm affine ROMs, selector tables) as C initializers.
Templates only lay these out; no number is computed in a template.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlsgen.design import DesignPoint
from hlsgen.emit_blob import Blob, Section
from hlsgen.schedule import trace_keys
from hlsgen.emit_params import (EmitError, bitlen, check_rq_range, cinit, gelu_cfg, gelu_fields, ln_cfg, ln_fields,
                                rq_fields, rsqrt_fields, signed_bits, softmax_cfg, softmax_fields)
from quant.intmodel import IntModel, LayerNormInt, Requant

# trace storage type per layer kind: b int8, B uint8, h int16, i int32
_DTYPE = {"ln1": "b", "qkv": "b", "attn_qk": "h", "softmax": "B", "attn_av": "b", "proj": "h", "residual1": "h",
          "ln2": "b", "fc1": "h", "gelu": "b", "fc2": "h", "residual2": "h", "patch_embed": "h", "selector": "h",
          "selector.scores": "i", "norm": "b", "head": "h"}
OUT_ACT, OUT_RES, OUT_GELU = 0, 1, 2


@dataclass(frozen=True)
class TraceLayer:
    id: int
    name: str      # the golden trace key (plus blocks.{b}.selector.scores)
    dtype: str     # numpy-style code of its stored values: b, B, h, i

    @property
    def nbytes(self) -> int:
        return {"b": 1, "B": 1, "h": 2, "i": 4}[self.dtype]


@dataclass
class Lowered:
    design: DesignPoint
    im: IntModel
    blob: bytes
    sections: list[Section]
    layers: list[TraceLayer]
    cfg: dict[str, dict]                 # config struct name -> {constant: value}
    consts: dict[str, int]               # top-level integer constants
    tables: list[tuple[str, str, str]] = field(default_factory=list)   # (C declaration, initializer, comment)
    sel_blocks: list[int] = field(default_factory=list)

    @property
    def layer_ids(self) -> dict[str, int]:
        return {l.name: l.id for l in self.layers}


def trace_layers(steps) -> list[TraceLayer]:
    """The golden trace keys the steps write (hlsgen.schedule.trace_keys), in execution order."""
    out = []
    for i, n in enumerate(trace_keys(steps)):
        kind = n.split(".", 2)[-1] if n.startswith("blocks.") else n
        out.append(TraceLayer(i, n, _DTYPE[kind]))
    return out


def _roundup(a: int, b: int) -> int:
    return -(-a // b) * b


def _ln_entry(ln: LayerNormInt, D: int, name: str) -> tuple[list, list, list, int, int]:
    rq = ln.rq
    mult = np.broadcast_to(np.asarray(rq.mult, dtype=np.int64).ravel(), (D,)) if np.size(rq.mult) == 1 else rq.mult
    bias = np.broadcast_to(np.asarray(rq.bias, dtype=np.int64).ravel(), (D,)) if np.size(rq.bias) == 1 else rq.bias
    check_rq_range(rq, name)
    return ln_fields(ln.params), [int(v) for v in mult], [int(v) for v in bias], int(rq.shift), int(rq.bits)


def lower(im: IntModel, design: DesignPoint) -> Lowered:
    s, par, k = im.spec, design.parallelism, im.act_bits
    if design.act_bits != k:
        raise EmitError(f"design has {design.act_bits}-bit activations but the model {k}-bit")
    if {**s.to_dict(), "name": ""} != {**design.spec.to_dict(), "name": ""}:
        raise EmitError(f"model shape {s.name} does not match the design's {design.spec.name}")
    N, D, H, M, depth = s.num_tokens, s.embed_dim, s.num_heads, s.mlp_dim, s.depth
    HD, HID = s.head_dim, max(s.head_dim // 2, 1)
    sel_blocks = sorted(im.selectors)
    word = design.board.memory.axi_width_bits // 8
    if design.board.memory.axi_width_bits % 64:
        raise EmitError(f"board AXI width {design.board.memory.axi_width_bits} bits: the kernels need a multiple of 64")
    layers = trace_layers(design.schedule("worst").ops)
    ids = {l.name: l.id for l in layers}

    # ---- weight blob, in execution order ----
    blob = Blob(word)
    cls = blob.add_int16_row("patch_embed.cls", im.pos[0])
    patch = blob.add_int8("patch_embed", im.patch.weight, im.patch.rq, pos=im.pos[1:].T)
    bin_rows, sel_local, sel_score, sel_gate = [], [], [], []
    for b, blk in enumerate(im.blocks):
        if b in im.selectors:
            sel = im.selectors[b]
            sel_local.append([blob.add_int8(f"blocks.{b}.selector.local.{h}", sel.local.weight[h],
                                            sel.local.rq.channels(h * HID, HID)) for h in range(H)])
            sel_score.append([blob.add_int8(f"blocks.{b}.selector.score.{h}", sel.score.weight[h],
                                            sel.score.rq.channels(h, 1)) for h in range(H)])
            sel_gate.append(blob.add_int8(f"blocks.{b}.selector.gate", sel.gate.weight, sel.gate.rq))
        row = []
        for name, lin in (("qkv", blk.qkv), ("proj", blk.proj), ("fc1", blk.fc1), ("fc2", blk.fc2)):
            row.append((blob.add_binary(f"blocks.{b}.{name}", lin.weight, lin.rq), lin.rq))
        bin_rows.append(row)
    head = blob.add_int8("head", im.head.weight, im.head.rq)
    data = blob.finish()

    # ---- activation buffer layout: A/O (D) | QKV (3D) or H (M) ----
    A_OFF, QKV_OFF = 0, D
    act_cols = D + max(3 * D, M)

    def bin_entry(b, i):
        sec, rq = bin_rows[b][i]
        name = ("qkv", "proj", "fc1", "fc2")[i]
        in_off = {"qkv": A_OFF, "proj": A_OFF, "fc1": A_OFF, "fc2": QKV_OFF}[name]
        out_off = {"qkv": QKV_OFF, "proj": 0, "fc1": QKV_OFF, "fc2": 0}[name]
        mode = {"qkv": OUT_ACT, "proj": OUT_RES, "fc1": OUT_GELU, "fc2": OUT_RES}[name]
        tap2 = {"qkv": -1, "proj": ids[f"blocks.{b}.residual1"], "fc1": ids[f"blocks.{b}.gelu"],
                "fc2": ids[f"blocks.{b}.residual2"]}[name]
        return [sec.offset, sec.K, sec.O, in_off, out_off, mode, rq.shift, rq.bits, sec.bias_bytes,
                ids[f"blocks.{b}.{name}"], tap2]

    def i8_entry(sec: Section, rq, in_off=0):
        return [sec.offset, sec.K, sec.O, in_off, rq.shift, rq.bits, sec.bias_bytes, sec.pos]

    # ---- LayerNorm tables: ln1/ln2 of each block, norm, then one per selector ----
    lns = [(f"blocks.{b}.ln{j}", getattr(blk, f"ln{j}")) for b, blk in enumerate(im.blocks) for j in (1, 2)]
    lns.append(("norm", im.norm))
    lns += [(f"blocks.{b}.selector.ln", im.selectors[b].ln) for b in sel_blocks]
    ln_rows = [_ln_entry(ln, D, name) for name, ln in lns]
    rsqrts = {ln.params.rsqrt for _, ln in lns}
    if len(rsqrts) != 1:
        raise EmitError("every LayerNorm must use the same rsqrt unit")

    # ---- unit configurations ----
    gelus = [blk.gelu for blk in im.blocks] + [im.selectors[b].local_gelu for b in sel_blocks]
    sms = [blk.softmax for blk in im.blocks] + [p for b in sel_blocks for p in
                                                (im.selectors[b].gate_softmax, im.selectors[b].pkg_softmax)]
    gcfg, scfg, lcfg = gelu_cfg(gelus), softmax_cfg(sms), ln_cfg([ln.params for _, ln in lns])
    scfg["LANES"], lcfg["LANES"] = par.softmax_lanes, par.ln_lanes
    if gcfg["IN_W"] != 2 * k or scfg["IN_W"] > 2 * k or scfg["OUT_BITS"] != k or lcfg["DIM"] != D:
        raise EmitError("nonlinear unit widths do not match the activation precision")
    i8_uses = [(patch.K, 0), (head.K, 0), (2 * HID, 0), (D, 0)] + [(HD, h * HD) for h in range(H)]
    i8_simd = par.i8_simd
    means = [m for b in sel_blocks for m in (im.selectors[b].global_mean, im.selectors[b].token_mean)]
    cfg = {
        "gelu_cfg": gcfg, "sm_cfg": scfg, "ln_cfg": lcfg,
        "vit_cfg": {
            "AXI_W": word * 8, "N_MAX": N, "D": D, "HD": HD, "HEADS": H, "HID": HID, "M": M, "K_BITS": k,
            "W_BITS": 2 * k, "ACT_COLS": act_cols, "A_OFF": A_OFF, "O_OFF": A_OFF, "QKV_OFF": QKV_OFF,
            "PE": par.pe, "SIMD": par.simd, "BK_MAX": max(D, M), "BO_MAX": max(3 * D, M),
            "BIN_ACC_W": signed_bits(max(D, M) << (k - 1)), "BIN_PS_W": signed_bits(par.simd << (k - 1)),
            "ATT_PE": par.att_pe, "ATT_SIMD": par.att_simd,
            "QK_ACC_W": signed_bits(HD << (2 * k - 2)), "AV_ACC_W": signed_bits(N * ((1 << k) - 1) << (k - 1)),
            "I8_PE": par.i8_pe, "I8_SIMD": i8_simd, "I8_ROWS": N,
            "I8_COLS": max(off + _roundup(K, i8_simd) for K, off in i8_uses),
            "I8_KMAX": _roundup(max(K for K, _ in i8_uses), i8_simd),
            "I8_OMAX": max(D, s.num_classes, H, HID),
            "I8_ACC_W": signed_bits(max(K for K, _ in i8_uses) * 128 * 127),
            "I8O_SIZE": max(N * HID, s.num_classes, H, N),
            "SEL_SC_W": signed_bits(H * (1 << (2 * k - 1)) * ((1 << k) - 1)),
            "SEL_TSUM_W": signed_bits(N << (k - 1)), "SEL_GSUM_W": signed_bits(N << (k - 1)),
            "SEL_TMEAN_W": max([bitlen(int(np.max(m.mult))) for m in means[1::2]], default=1),
            "SEL_GMEAN_W": max([bitlen(int(np.max(m.mult))) for m in means[0::2]], default=1),
            "SEL_PKG_W": signed_bits(N * ((1 << k) - 1) << 15),
        },
    }
    short = {"ln1": "T_LN1", "qkv": "T_QKV", "attn_qk": "T_QK", "softmax": "T_SM", "attn_av": "T_AV", "proj": "T_PROJ",
             "residual1": "T_RES1", "ln2": "T_LN2", "fc1": "T_FC1", "gelu": "T_GELU", "fc2": "T_FC2",
             "residual2": "T_RES2"}
    block_taps = {short[l.name.split(".", 2)[-1]]: l.id - ids["blocks.0.ln1"] for l in layers
                  if l.name.startswith("blocks.0.") and l.name.split(".", 2)[-1] in short}
    consts = {**block_taps, "DEPTH": depth, "CLASSES": s.num_classes, "NUM_PATCHES": s.num_patches, "IMG": s.img_size,
              "IN_CHANS": s.in_chans, "PATCH": s.patch_size, "GRID": s.grid, "PATCH_DIM": s.patch_dim,
              "NUM_LN": len(lns), "NORM_LN": 2 * depth, "NSEL": len(sel_blocks), "NUM_LAYERS": len(layers),
              "PATCH_CLS_OFF": cls.offset, "TAP_PATCH": ids["patch_embed"], "TAP_NORM": ids["norm"],
              "TAP_HEAD": ids["head"]}
    tables = [
        ("static const i8_layer_t PATCH_L", cinit(i8_entry(patch, im.patch.rq)), "patch embedding (int8, pos add)"),
        ("static const i8_layer_t HEAD_L", cinit(i8_entry(head, im.head.rq)), "classifier head (int8)"),
        ("static const int TAP_BLOCK[DEPTH]", cinit([ids[f"blocks.{b}.ln1"] for b in range(depth)]),
         "trace id of each block's ln1 (the block's layers follow in the order of T_BLOCK)"),
        ("static const bin_layer_t BIN_L[DEPTH][4]", cinit([[bin_entry(b, i) for i in range(4)] for b in range(depth)]),
         "binary layers of each block: qkv, proj, fc1, fc2"),
        ("static const rq_t QK_RQ[DEPTH]", cinit([rq_fields(blk.qk_rq) for blk in im.blocks]), "Q.K^T requantizer"),
        ("static const softmax_t SM_P[DEPTH]", cinit([softmax_fields(blk.softmax) for blk in im.blocks]),
         "attention softmax"),
        ("static const rq_t AV_RQ[DEPTH]", cinit([rq_fields(blk.av_rq) for blk in im.blocks]), "A.V requantizer"),
        ("static const gelu_t GELU_P[DEPTH]", cinit([gelu_fields(blk.gelu) for blk in im.blocks]), "GELU after fc1"),
        ("static const rq_t GELU_RQ[DEPTH]", cinit([rq_fields(blk.gelu_rq) for blk in im.blocks]),
         "GELU output requantizer"),
        ("static const rsqrt_t RSQRT", cinit(rsqrt_fields(rsqrts.pop())), "reciprocal square root ROM"),
        ("static const ln_t LN_P[NUM_LN]", cinit([r[0] for r in ln_rows]),
         "LayerNorms: ln1, ln2 of each block, norm, then the selectors'"),
        ("static const long long LN_MULT[NUM_LN][C::D]", cinit([r[1] for r in ln_rows]), "LayerNorm affine multipliers"),
        ("static const long long LN_BIAS[NUM_LN][C::D]", cinit([r[2] for r in ln_rows]), "LayerNorm affine biases"),
        ("static const int LN_SHIFT[NUM_LN]", cinit([r[3] for r in ln_rows]), "LayerNorm affine shifts"),
        ("static const int LN_BITS[NUM_LN]", cinit([r[4] for r in ln_rows]), "LayerNorm output widths"),
        ("static const int SEL_AT[DEPTH]", cinit([sel_blocks.index(b) if b in sel_blocks else -1 for b in range(depth)]),
         "token selector before each block (-1: none)"),
    ]
    if sel_blocks:
        sels = []
        for i, b in enumerate(sel_blocks):
            sel = im.selectors[b]
            sels.append([2 * depth + 1 + i, gelu_fields(sel.local_gelu), rq_fields(sel.local_rq),
                         sel.global_mean.shift, sel.global_mean.bits, sel.token_mean.shift, sel.token_mean.bits,
                         softmax_fields(sel.gate_softmax), softmax_fields(sel.pkg_softmax), rq_fields(sel.pkg_rq),
                         sel.prob_bits, ids[f"blocks.{b}.selector.scores"], ids[f"blocks.{b}.selector"]])
        tables += [
            ("static const sel_t SEL_P[NSEL]", cinit(sels), "token selectors"),
            ("static const i8_layer_t SEL_LOCAL[NSEL][C::HEADS]",
             cinit([[i8_entry(sec, im.selectors[b].local.rq, h * HD) for h, sec in enumerate(secs)]
                    for b, secs in zip(sel_blocks, sel_local)]), "selector local MLPs (per head)"),
            ("static const i8_layer_t SEL_SCORE[NSEL][C::HEADS]",
             cinit([[i8_entry(sec, im.selectors[b].score.rq) for sec in secs] for b, secs in zip(sel_blocks, sel_score)]),
             "selector score linears (per head)"),
            ("static const i8_layer_t SEL_GATE[NSEL]",
             cinit([i8_entry(sec, im.selectors[b].gate.rq) for b, sec in zip(sel_blocks, sel_gate)]), "head gates"),
            ("static const long long SEL_GMEAN[NSEL][C::N_MAX + 2]",
             cinit([[int(v) for v in im.selectors[b].global_mean.mult] for b in sel_blocks]), "1/n ROM, global mean"),
            ("static const long long SEL_TMEAN[NSEL][C::N_MAX + 2]",
             cinit([[int(v) for v in im.selectors[b].token_mean.mult] for b in sel_blocks]), "1/n ROM, token mean"),
        ]
        for b in sel_blocks:
            if len(im.selectors[b].global_mean.mult) != N + 2 or len(im.selectors[b].token_mean.mult) != N + 2:
                raise EmitError("selector mean tables must have N + 2 entries")
    return Lowered(design, im, data, list(blob.sections), layers, cfg, consts, tables, sel_blocks)
