"""RTL twin emission: Verilog parameters (widths) and runtime register values from the integer model.

The RTL library (sim/rtl/*.sv) is parameterized by widths (compile time) and takes every per-layer
constant (coefficients, shifts, requantizer multipliers) as a runtime value from the descriptor and
parameter tables, because one engine serves all layers. The functions here compute both from quant's
frozen parameter dataclasses: `*_widths(list of params)` gives the widths that cover every layer
(Verilog parameters), `*_ports(params)` the runtime values of one layer.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from quant.intops import bit_length
from quant.nl_exp import ExpParams, SoftmaxParams
from quant.nl_gelu import GeluParams
from quant.nl_layernorm import MEAN_FRAC, LayerNormParams, RsqrtParams
from hlsgen.arch import OP_NAMES, sv_package
from hlsgen.buffers import binary_weight_words
from hlsgen.ops import (AttnAV, AttnQK, ImageLoad, LayerNorm, LinearBinary, LinearInt8, PackageToken, SelectStep,
                        Softmax, report_type)
from hlsgen.schedule import block_of
from quant.paths import RTL_LIB_DIR


class RtlEmitError(ValueError):
    """The twin cannot represent this design (the message says why); the HLS project is still written."""


def clog2(x: int) -> int:
    return max(0, (int(x) - 1).bit_length())


def round_bias(bias, shift: int):
    """The requantizer's bias with the rounding constant 2^(shift-1) folded in (hg_requant's bias_r)."""
    import numpy as np
    return np.asarray(bias, dtype=np.int64) + ((1 << shift) >> 1)


# ---- exp / softmax --------------------------------------------------------------------------------
def exp_widths(ps: list[ExpParams], in_bits: int) -> dict:
    """Verilog parameters of hg_exp covering every ExpParams in ps (inputs d = x - max: in_bits + 1)."""
    return {"DW": in_bits + 1,
            "NB": max(bit_length(p.n_clamp) for p in ps),
            "IMB": max(bit_length(p.inv_mult) for p in ps),
            "PF": max(p.p_frac for p in ps),
            "LF": max(p.l_frac for p in ps),
            "AB": max(bit_length(p.a) for p in ps),
            "ZB": max(bit_length(p.z_max) for p in ps)}


def exp_ports(p: ExpParams) -> dict:
    if not (p.a > 0 and p.b > 0 and p.p_frac >= p.in_frac):
        raise RtlEmitError(f"exp parameters {p} are outside what hg_exp implements (a, b > 0, p_frac >= in_frac)")
    return {"n_clamp": p.n_clamp, "inv_mult": p.inv_mult, "inv_shift": p.inv_shift, "g": p.p_frac - p.in_frac,
            "ln2": p.ln2, "b": p.b, "a": p.a, "c": p.c, "sqs": 2 * p.p_frac - p.l_frac, "lf": p.l_frac,
            "guard": p.guard}


def softmax_widths(ps: list[SoftmaxParams], lanes: int, n_max: int) -> dict:
    """hg_softmax parameters: L lanes, rows up to N_MAX elements, every layer's params in ps."""
    w = exp_widths([p.exp for p in ps], max(p.in_bits for p in ps))
    fe_min = min(p.exp.out_frac for p in ps)
    rm = max(p.recip_bits for p in ps)
    qb = max(p.recip_bits - p.exp.out_frac + 1 for p in ps)
    sw = max(p.exp.out_frac + 1 + clog2(max(p.max_len, 2)) for p in ps)
    if fe_min < 1:
        raise RtlEmitError("softmax exp output needs at least one fraction bit")
    return {**w, "L": lanes, "N_MAX": n_max, "IW": max(p.in_bits for p in ps), "OB": max(p.out_bits for p in ps),
            "RM": rm, "QB": qb, "SW": sw}


def softmax_ports(p: SoftmaxParams) -> dict:
    return {**exp_ports(p.exp), "rbits": p.recip_bits, "obits": p.out_bits}


# ---- GELU -------------------------------------------------------------------------------------------
def gelu_widths(ps: list[GeluParams]) -> dict:
    """hg_gelu parameters: IN_W input width, W = max work_frac, KB/BB/AB coefficient bits, OW output width."""
    if len({p.in_width for p in ps}) != 1:
        raise RtlEmitError(f"GELU instances with input widths {sorted({p.in_width for p in ps})}: the twin has one")
    return {"IN_W": ps[0].in_width, "W": max(p.work_frac for p in ps),
            "KB": max(bit_length(p.k) for p in ps), "BB": max(bit_length(p.b) for p in ps),
            "AB": max(bit_length(p.a) for p in ps) + 1,
            "OW": max(p.in_width - p.in_frac + p.out_frac for p in ps)}


def gelu_ports(p: GeluParams) -> dict:
    if not (p.a < 0 < p.b and p.k > 0):
        raise RtlEmitError(f"GELU parameters {p} are outside what hg_gelu implements (a < 0 < b, k > 0)")
    return {"kk": p.k, "bb": p.b, "aa": p.a, "fi": p.in_frac, "wf": p.work_frac,
            "osh": p.in_frac + p.work_frac + 1 - p.out_frac}


# ---- LayerNorm --------------------------------------------------------------------------------------
def layernorm_widths(ps: list[LayerNormParams], lanes: int) -> dict:
    r = ps[0].rsqrt
    if any(p.rsqrt != r for p in ps):
        raise RtlEmitError("LayerNorms with different rsqrt tables: the twin has one rsqrt ROM")
    if len({p.in_bits for p in ps}) != 1 or len({p.out_bits for p in ps}) != 1:
        raise RtlEmitError("LayerNorms with different input or output widths: the twin has one LayerNorm unit")
    return {"L": lanes, "IB": ps[0].in_bits, "OB": ps[0].out_bits, "DMAX": max(p.dim for p in ps),
            "MMB": max(bit_length(p.mean_mult) for p in ps), "SDB": max(bit_length(p.sqrt_dim) for p in ps),
            "FF": max(p.scale_frac for p in ps), "MAN": r.man_frac, "SEG": r.seg_bits, "RF": r.out_frac,
            "CF": r.coef_frac, "MUF": MEAN_FRAC}


def layernorm_ports(p: LayerNormParams) -> dict:
    r = p.rsqrt
    return {"dim": p.dim, "mean_mult": p.mean_mult, "mean_shift": p.mean_shift, "eps_term": p.dim * p.eps_code,
            "sqrt_dim": p.sqrt_dim, "fsh": r.out_frac + p.sqrt_dim_frac - p.scale_frac,
            "ysh": p.scale_frac - p.out_frac}


def rsqrt_rom_svh(r: RsqrtParams) -> str:
    """Verilog include with the rsqrt coefficient ROM (functions of the segment index) for hg_rsqrt.sv."""
    n = len(r.c0)
    lines = ["// generated by hlsgen.emit_rtl.rsqrt_rom_svh from quant.nl_layernorm.fit_rsqrt(): do not edit",
             f"// man_frac {r.man_frac}, seg_bits {r.seg_bits}, out_frac {r.out_frac}, coef_frac {r.coef_frac}"]
    for name in ("c0", "c1", "c2"):
        vals = getattr(r, name)
        lines.append(f"function automatic logic signed [{r.coef_frac + 2}:0] rom_{name}"
                     f"(input logic [{clog2(n) - 1}:0] i);")
        lines.append("    case (i)")
        for i, v in enumerate(vals):
            sign = "-" if v < 0 else ""
            lines.append(f"        {clog2(n)}'d{i}: rom_{name} = {sign}{r.coef_frac + 3}'sd{abs(int(v))};")
        lines.append(f"        default: rom_{name} = '0;")
        lines.append("    endcase")
        lines.append("endfunction")
    return "\n".join(lines) + "\n"


# =====================================================================================================
# the project's RTL: DIR/rtl/ = library copy + generated top, configuration, schedule and tables
# =====================================================================================================
RTL_LIB = RTL_LIB_DIR
TWIN_AXI_BITS = 256        # the twin's AXI data width (its DMAs, realigner, harness): boards must match
OP = {name: code for code, name in OP_NAMES.items()}   # the shared step op codes (hlsgen.arch)
# descriptor fields, LSB first (hg_ctrl.svh)
DESC_FIELDS = (("op", 4), ("block", 5), ("block_start", 1), ("rows_from_n", 1), ("rows", 9), ("w_off", 32),
               ("K", 13), ("O", 13), ("bbytes", 3), ("npos", 10), ("src", 2), ("mode", 2), ("col", 13),
               ("shift", 6), ("bits", 5), ("pidx", 6), ("head", 5), ("r0", 9), ("av", 1), ("icol", 13),
               ("rows_m1", 1), ("cond", 1), ("orow", 9), ("sub", 3))
MODE_ACT, MODE_RES, MODE_GELU = 0, 1, 2
MODE_POS, MODE_LOGIT, MODE_WIDEH, MODE_ZS = 0, 1, 2, 3
SRC_IMG, SRC_A, SRC_FEATS = 0, 1, 2
SELECT_SUB = {"gelu": 0, "gmean": 1, "tmean": 2, "score": 3, "compact": 4}


UNSUPPORTED = "UNSUPPORTED.txt"      # in DIR/rtl instead of the twin when it cannot represent the design


def no_twin_reason(project) -> str:
    """The error message for a project without rtl/program.json: why (if generate said so), what to do."""
    why = Path(project) / "rtl" / UNSUPPORTED
    if why.is_file():
        return f"{project} has no RTL twin: {why.read_text().strip()}"
    return f"{project} has no RTL twin (rtl/program.json): regenerate it with `hlsgen generate`"


@dataclass
class Desc:
    name: str            # the schedule op (hlsgen.schedule) this descriptor belongs to
    f: dict = field(default_factory=dict)

    def word(self) -> int:
        w, pos = 0, 0
        for key, bits in DESC_FIELDS:
            v = int(self.f.get(key, 31 if key == "block" else 0))
            if not 0 <= v < (1 << bits):
                raise RtlEmitError(f"{self.name}: descriptor field {key} = {v} does not fit {bits} bits")
            w |= v << pos
            pos += bits
        return w


def _sbits(v: int) -> int:
    return bit_length(v) + 1


def program(im, lw, steps) -> list[Desc]:
    """The descriptor table: one descriptor per step of the frame program (hlsgen.schedule.frame_ops,
    worst case: every conditional step present), then the result write and the end."""
    s = im.spec
    sec = {x.name: x for x in lw.sections}
    sel_order = sorted(im.selectors)
    N, H, d, depth = s.num_tokens, s.num_heads, s.head_dim, s.depth
    hid = max(d // 2, 1)
    grow, prow, spare = N, N + 1, (1 << clog2(N + 2)) - 1
    out: list[Desc] = []

    def need(ok: bool, st, what: str) -> None:
        if not ok:
            raise RtlEmitError(f"step {type(st).__name__} ({st.name}): {what}")

    for st in steps:
        b = block_of(st.name)
        blk = im.blocks[b] if b is not None else None
        rows = {"const": {"rows": getattr(st, "rows", 0)}, "n": {"rows_from_n": 1},
                "m": {"rows_from_n": 1, "rows_m1": 1}}[getattr(st, "rows_from", "const")]
        base = {"block": b if b is not None else 31, **rows}
        if isinstance(st, ImageLoad):
            need(st.nbytes == s.num_patches * s.patch_dim + 2 * s.embed_dim, st, "the twin loads the image and one row")
            out.append(Desc(st.name, {"op": OP["pre"], "w_off": sec["patch_embed.cls"].offset}))
        elif isinstance(st, LinearBinary):
            x, lin = sec[st.name], getattr(blk, st.name.rsplit(".", 1)[-1])
            need((x.K, x.O) == (st.K, st.O), st, f"weights are {x.K} x {x.O}, the step {st.K} x {st.O}")
            mode = {"act": MODE_ACT, "int16": MODE_RES, "gelu": MODE_GELU}[st.out]
            out.append(Desc(st.name, {"op": OP["bin"], **base, "w_off": x.offset, "K": st.K, "O": st.O,
                                      "bbytes": x.bias_bytes, "src": {"a": 0, "h": 1}[st.src], "mode": mode,
                                      "shift": lin.rq.shift, "bits": lin.rq.bits, "pidx": b if st.out == "gelu" else 0}))
        elif isinstance(st, LinearInt8):
            x = sec[st.section or st.name]
            need((x.K, x.O) == (st.K, st.O) and 2 * x.pos == st.extra_bytes_per_ch, st,
                 "its weight section does not match its shape")
            f = {"op": OP["i8"], **base, "w_off": x.offset, "K": st.K, "O": st.O, "bbytes": x.bias_bytes}
            if st.dst in ("x_pos", "logits"):
                rq = im.patch.rq if st.dst == "x_pos" else im.head.rq
                f.update(npos=st.extra_bytes_per_ch // 2, src=0 if st.src == "img" else 1,
                         mode=MODE_POS if st.dst == "x_pos" else MODE_LOGIT)
            else:
                sel = im.selectors[b]
                if st.dst == "local":
                    rq = sel.local.rq.channels(st.head * hid, hid)
                    f.update(src=SRC_A, icol=st.icol, mode=MODE_WIDEH, col=st.head * hid)
                elif st.dst == "z":
                    rq = sel.score.rq.channels(st.head, 1)
                    f.update(src=SRC_FEATS, icol=st.icol, mode=MODE_ZS, col=st.head, orow=0)
                else:
                    rq = sel.gate.rq
                    f.update(src=SRC_A, r0=spare, mode=MODE_ZS, col=0, orow=grow)
            f.update(shift=rq.shift, bits=rq.bits)
            out.append(Desc(st.name, f))
        elif isinstance(st, LayerNorm):
            # the twin's LayerNorm always writes A: its int8 engine reads the norm / selector rows from there
            need(st.dim == s.embed_dim and st.dst in ("a", "i8in"), st, "the twin normalises D-wide rows into A")
            out.append(Desc(st.name, {"op": OP["ln"], **base, "block_start": int(st.name.endswith(".ln1")),
                                      "r0": st.r0, "pidx": st.table}))
        elif isinstance(st, (AttnQK, AttnAV)):
            av = isinstance(st, AttnAV)
            need(st.nq == st.nk and st.d == d and st.head < H, st, "the twin attends n queries to n keys, head dim d")
            out.append(Desc(st.name, {"op": OP["att"], **base, "head": st.head, "av": int(av), "pidx": 2 * b + int(av)}))
        elif isinstance(st, Softmax):
            i = sel_order.index(b) if st.use != "attn" else 0
            # attention: the score buffer holds one head (whichever st.head is), rows of n
            need(st.use != "attn" or (st.width == st.rows and st.head < H), st, "the twin's softmax rows are n wide")
            f = {"attn": {"pidx": b},
                 "gate": {"r0": grow, "mode": 2, "K": st.width, "pidx": depth + 2 * i},
                 "pkg": {"r0": prow, "mode": 1, "cond": 1, "pidx": depth + 2 * i + 1}}[st.use]
            out.append(Desc(st.name, {"op": OP["sm"], **base, **f}))
        elif isinstance(st, SelectStep):
            i = st.index
            width = {"gelu": H * hid, "gmean": H * hid, "tmean": s.embed_dim, "score": H, "compact": s.embed_dim}
            need(st.runs and st.width == width[st.sub], st, "the program must be the worst case, rows as wide as "
                 "the twin's vector unit expects")
            pidx = {"gelu": depth + i, "gmean": 2 * i, "tmean": 2 * i + 1, "score": 2 * depth + i, "compact": 0}[st.sub]
            out.append(Desc(st.name, {"op": OP["sel"], **base, "sub": SELECT_SUB[st.sub], "pidx": pidx,
                                      "cond": int(st.sub == "compact")}))
        elif isinstance(st, PackageToken):
            need(st.dim == s.embed_dim and 0 <= st.n_pruned < N, st, "the twin folds pruned D-wide rows")
            out.append(Desc(st.name, {"op": OP["pkg"], **base, "cond": 1}))
        else:
            raise RtlEmitError(f"the twin has no engine for step {type(st).__name__} ({st.name})")
    out.append(Desc("result", {"op": OP["res"]}))
    out.append(Desc("end", {"op": OP["end"]}))
    return out


def _scalar(rq):
    m, b = int(np.ravel(rq.mult)[0]), int(np.ravel(rq.bias)[0])
    if np.size(rq.mult) != 1 or np.size(rq.bias) != 1:
        raise RtlEmitError("a per-tensor requantizer has per-channel constants")
    return m, b + ((1 << rq.shift) >> 1), rq.shift, rq.bits


def _lns(im):
    return ([ln for blk in im.blocks for ln in (blk.ln1, blk.ln2)] + [im.norm]
            + [im.selectors[b].ln for b in sorted(im.selectors)])


def _sels(im):
    return [im.selectors[b] for b in sorted(im.selectors)]


def config(design, im, lw) -> dict:
    """hg_cfg.svh localparams."""
    s, par, k = im.spec, design.parallelism, im.act_bits
    N, D = s.num_tokens, s.embed_dim
    if design.board.memory.axi_width_bits != TWIN_AXI_BITS:
        raise RtlEmitError(f"board '{design.board.name}' has {design.board.memory.axi_width_bits}-bit AXI masters; "
                           f"the twin's DMAs, realigner and harness are {TWIN_AXI_BITS} bits wide")
    if (s.patch_size ** 2) % par.i8_simd:
        raise RtlEmitError("i8_simd must divide patch_size^2 (one channel per int8 step)")
    secs = [x for x in lw.sections if x.kind in ("binary", "int8")]
    bins = [x for x in secs if x.kind == "binary"]
    i8s = [x for x in secs if x.kind == "int8"]
    # a lane word is the HLS engine's super-word of whole SIMD steps on the twin's 256-bit stream (SIMD =
    # 3 x 2^n: 768 bits), read whole, the step picked by a TWB / SIMD-way select
    b_twb, i_twb = binary_weight_words(par.simd, 256)[0], max(256, 8 * par.i8_simd)
    b_rec = max(x.K // 8 + 2 + x.bias_bytes for x in bins)
    i_rec = max(x.K + 2 + x.bias_bytes + 2 * x.pos for x in i8s)
    rqs = [blk.qkv.rq for blk in im.blocks] + [r for blk in im.blocks for r in
                                                (blk.proj.rq, blk.fc1.rq, blk.fc2.rq, blk.qk_rq, blk.av_rq, blk.gelu_rq)]
    rqs += [im.patch.rq, im.head.rq] + [ln.rq for ln in _lns(im)]
    rqs += [r for sel in _sels(im) for r in (sel.local.rq, sel.score.rq, sel.gate.rq, sel.local_rq, sel.pkg_rq)]
    bias_w = max(_sbits(int(np.abs(round_bias(r.bias, r.shift)).max())) for r in rqs)
    bias_w = max(bias_w, max(32 if x.bias_bytes == 4 else 48 for x in secs))
    bsh = [blk_l.rq.shift for blk in im.blocks for blk_l in (blk.qkv, blk.proj, blk.fc1, blk.fc2)]
    ish = [im.patch.rq.shift, im.head.rq.shift] + [r.shift for sel in _sels(im)
                                                    for r in (sel.local.rq, sel.score.rq, sel.gate.rq)]
    gw = gelu_widths([blk.gelu for blk in im.blocks] + [sel.local_gelu for sel in _sels(im)])
    sw = softmax_widths([blk.softmax for blk in im.blocks] + [p for sel in _sels(im)
                                                              for p in (sel.gate_softmax, sel.pkg_softmax)],
                        par.softmax_lanes, N + 1)
    if im.selectors:
        if s.mlp_dim * 2 < 3 * D:
            raise RtlEmitError("the twin's token selector keeps its features in H: it needs mlp_dim >= 1.5 embed_dim")
        zb = max(r.bits for sel in _sels(im) for r in (sel.score.rq, sel.gate.rq, sel.pkg_rq, sel.local.rq))
        if zb > 2 * k:
            raise RtlEmitError(f"selector codes of {zb} bits do not fit the {2 * k}-bit score buffer")
    lnw = layernorm_widths([ln.params for ln in _lns(im)], par.ln_lanes)
    cfg = {"D": D, "M": s.mlp_dim, "HD": s.head_dim, "H": s.num_heads, "N": N, "KB": k, "CLS": s.num_classes,
           "DEPTH": s.depth, "C": s.in_chans, "IMG": s.img_size, "P": s.patch_size, "IMG_BYTES": s.in_chans * s.img_size ** 2,
           **{name.upper(): v for name, v in par.as_dict().items()},     # the design.yaml names, upper case
           "BIAS_W": bias_w, "B_SH_MIN": min(bsh), "B_SH_MAX": max(bsh), "I_SH_MIN": min(ish), "I_SH_MAX": max(ish),
           "B_TWB": b_twb, "B_WPR": max(2, -(-b_rec * 8 // b_twb)), "I_TWB": i_twb, "I_WPR": max(2, -(-i_rec * 8 // i_twb)),
           "SEW": 2 * k, "NP2": 1 << clog2(N + 2), "NLN": len(_lns(im)),
           "SCW": _sbits(s.num_heads * (1 << (2 * k - 1)) * ((1 << k) - 1)) + 1}
    cfg.update({f"G_{kk}" if kk != "IN_W" else "G_IN": v for kk, v in gw.items()})
    cfg.update({f"E_{kk}": v for kk, v in sw.items() if kk not in ("L", "N_MAX", "OB")})
    cfg.update({f"L_{kk}": v for kk, v in lnw.items() if kk in ("MMB", "SDB", "FF", "MAN", "SEG", "RF", "CF", "MUF")})
    return cfg


def _func(name: str, width: int, values: list[int], idx_bits: int = 6) -> str:
    lines = [f"function automatic logic [{width - 1}:0] {name}(input logic [{idx_bits - 1}:0] i);", "    case (i)"]
    for i, v in enumerate(values):
        lines.append(f"        {idx_bits}'d{i}: {name} = {width}'h{int(v) & ((1 << width) - 1):x};")
    lines += [f"        default: {name} = '0;", "    endcase", "endfunction"]
    return "\n".join(lines)


def tables(im, cfg) -> str:
    """hg_tables.svh: per-op constants as ROM functions of the descriptor's pidx."""
    out = ["// generated by hlsgen.emit_rtl: per-op constants (indexed by the descriptor's pidx)"]
    sm = [softmax_ports(blk.softmax) for blk in im.blocks] + [
        softmax_ports(p) for sel in _sels(im) for p in (sel.gate_softmax, sel.pkg_softmax)]
    c = cfg
    for key, fn, w in (("n_clamp", "sm_nc", c["E_NB"]), ("inv_mult", "sm_im", c["E_IMB"]), ("inv_shift", "sm_ish", 6),
                       ("g", "sm_g", 6), ("ln2", "sm_ln2", c["E_PF"] + 1), ("b", "sm_b", c["E_PF"] + 2),
                       ("a", "sm_a", c["E_AB"]), ("c", "sm_c", c["E_LF"] + 3), ("sqs", "sm_sqs", 7), ("lf", "sm_lf", 6),
                       ("guard", "sm_gd", 3), ("rbits", "sm_rb", 6)):
        out.append(_func(fn, w, [p[key] for p in sm]))
    gl = [{**gelu_ports(blk.gelu), "rq": _scalar(blk.gelu_rq)} for blk in im.blocks] + [
        {**gelu_ports(sel.local_gelu), "rq": _scalar(sel.local_rq)} for sel in _sels(im)]
    for key, fn, w in (("kk", "gl_k", c["G_KB"]), ("bb", "gl_b", c["G_BB"]), ("aa", "gl_a", c["G_AB"]),
                       ("fi", "gl_fi", 6), ("wf", "gl_wf", 6), ("osh", "gl_osh", 7)):
        out.append(_func(fn, w, [p[key] for p in gl]))
    out.append(_func("gl_m", 16, [p["rq"][0] for p in gl]))
    out.append(_func("gl_br", c["BIAS_W"], [p["rq"][1] for p in gl]))
    out.append(_func("gl_sh", 6, [p["rq"][2] for p in gl]))
    rq = [_scalar(r) for blk in im.blocks for r in (blk.qk_rq, blk.av_rq)] + [_scalar(sel.pkg_rq) for sel in _sels(im)]
    for i, (fn, w) in enumerate((("rq_m", 16), ("rq_br", c["BIAS_W"]), ("rq_sh", 6), ("rq_bits", 5))):
        out.append(_func(fn, w, [r[i] for r in rq]))
    means = [m for sel in _sels(im) for m in (sel.global_mean, sel.token_mean)]
    out.append(_func("sel_msh", 6, [m.shift for m in means] or [0]))
    out.append(_func("sel_mbits", 5, [m.bits for m in means] or [0]))
    lines = ["function automatic logic [19:0] sel_mm(input logic [5:0] i, input logic [8:0] n);",
             "    case ({i, n})"]
    for j, m in enumerate(means):
        for n, v in enumerate(np.ravel(m.mult)):
            if not 0 <= int(v) < (1 << 19):
                raise RtlEmitError(f"selector mean multiplier {int(v)} exceeds the twin's 19 bits")
            lines.append(f"        15'd{(j << 9) | n}: sel_mm = 20'd{int(v)};")
    lines += ["        default: sel_mm = '0;", "    endcase", "endfunction"]
    out.append("\n".join(lines))
    ln = [{**layernorm_ports(x.params), "rqs": x.rq.shift} for x in _lns(im)]
    for key, fn, w in (("mean_mult", "ln_mm", c["L_MMB"]), ("mean_shift", "ln_ms", 6), ("eps_term", "ln_eps", 32),
                       ("sqrt_dim", "ln_sd", c["L_SDB"]), ("fsh", "ln_fsh", 6), ("ysh", "ln_ysh", 6),
                       ("rqs", "ln_rqs", 6)):
        out.append(_func(fn, w, [p[key] for p in ln]))
    return "\n".join(out) + "\n"


def ln_rom(im, cfg) -> str:
    L, D, bw = cfg["LN_LANES"], cfg["D"], cfg["BIAS_W"]
    lines = ["// generated by hlsgen.emit_rtl: LayerNorm affine constants, word {ln, beat} = {L biases, L mults}",
             "initial begin"]
    i = 0
    for ln in _lns(im):
        mult = np.broadcast_to(np.ravel(ln.rq.mult), (D,)) if np.size(ln.rq.mult) == 1 else np.ravel(ln.rq.mult)
        bias = round_bias(np.broadcast_to(np.ravel(ln.rq.bias), (D,)) if np.size(ln.rq.bias) == 1
                          else np.ravel(ln.rq.bias), ln.rq.shift)
        for b in range(D // L):
            w = 0
            for j in range(L):
                w |= (int(mult[b * L + j]) & 0xFFFF) << (16 * j)
                w |= (int(bias[b * L + j]) & ((1 << bw) - 1)) << (16 * L + bw * j)
            lines.append(f"    rom[{i}] = {L * (16 + bw)}'h{w:x};")
            i += 1
    lines.append("end")
    return "\n".join(lines) + "\n"


def prog_svh(descs: list[Desc]) -> str:
    lines = ["// generated by hlsgen.emit_rtl: the layer schedule, one descriptor per op (layout: hg_ctrl.svh)",
             f"localparam int PROG_LEN = {len(descs)};",
             "function automatic logic [191:0] prog(input logic [9:0] pc);", "    case (pc)"]
    for i, d in enumerate(descs):
        lines.append(f"        10'd{i}: prog = 192'h{d.word():x};   // {d.name}")
    lines += ["        default: prog = '0;", "    endcase", "endfunction"]
    return "\n".join(lines) + "\n"


def _axi_ports(p: str) -> list[str]:
    o, i = "output logic", "input  logic"
    spec = [(o, "AWVALID", 1), (i, "AWREADY", 1), (o, "AWADDR", 64), (o, "AWID", 1), (o, "AWLEN", 8),
            (o, "AWSIZE", 3), (o, "AWBURST", 2), (o, "AWLOCK", 2), (o, "AWCACHE", 4), (o, "AWPROT", 3),
            (o, "AWQOS", 4), (o, "AWREGION", 4), (o, "AWUSER", 1), (o, "WVALID", 1), (i, "WREADY", 1),
            (o, "WDATA", TWIN_AXI_BITS), (o, "WSTRB", TWIN_AXI_BITS // 8), (o, "WLAST", 1), (o, "WID", 1), (o, "WUSER", 1),
            (o, "ARVALID", 1), (i, "ARREADY", 1), (o, "ARADDR", 64), (o, "ARID", 1), (o, "ARLEN", 8),
            (o, "ARSIZE", 3), (o, "ARBURST", 2), (o, "ARLOCK", 2), (o, "ARCACHE", 4), (o, "ARPROT", 3),
            (o, "ARQOS", 4), (o, "ARREGION", 4), (o, "ARUSER", 1), (i, "RVALID", 1), (o, "RREADY", 1),
            (i, "RDATA", TWIN_AXI_BITS), (i, "RLAST", 1), (i, "RID", 1), (i, "RUSER", 1), (i, "RRESP", 2), (i, "BVALID", 1),
            (o, "BREADY", 1), (i, "BRESP", 2), (i, "BID", 1), (i, "BUSER", 1)]
    return [f"    {d} [{w - 1}:0] {p}_{n}," for d, n, w in spec]


def top_sv() -> str:
    ports = ["    input  logic        ap_clk,", "    input  logic        ap_rst_n,",
             "    /* verilator lint_off SYMRSVDWORD */", "    output logic        interrupt,",
             "    /* verilator lint_on SYMRSVDWORD */"]
    for d, n, w in (("input ", "AWVALID", 1), ("output", "AWREADY", 1), ("input ", "AWADDR", 6), ("input ", "WVALID", 1),
                    ("output", "WREADY", 1), ("input ", "WDATA", 32), ("input ", "WSTRB", 4), ("input ", "ARVALID", 1),
                    ("output", "ARREADY", 1), ("input ", "ARADDR", 6), ("output", "RVALID", 1), ("input ", "RREADY", 1),
                    ("output", "RDATA", 32), ("output", "RRESP", 2), ("output", "BVALID", 1), ("input ", "BREADY", 1),
                    ("output", "BRESP", 2)):
        ports.append(f"    {d} logic [{w - 1}:0] s_axi_control_{n},")
    for p in ("m_axi_gmem_in", "m_axi_gmem_w", "m_axi_gmem_out"):
        ports += _axi_ports(p)
    ports[-1] = ports[-1].rstrip(",")
    body = (RTL_LIB / "vit_top_body.svh").read_text()
    return ("// generated by hlsgen.emit_rtl: the RTL twin's top (ports and register map: INTERFACE.md)\n"
            "/* verilator lint_off WIDTHEXPAND */\n/* verilator lint_off WIDTHTRUNC */\n/* verilator lint_off UNUSEDSIGNAL */\n"
            "/* verilator lint_off UNUSEDPARAM */\n"
            "module vit_top (\n" + "\n".join(ports) + "\n);\n" + body +
            "endmodule\n/* verilator lint_on WIDTHEXPAND */\n/* verilator lint_on WIDTHTRUNC */\n"
            "/* verilator lint_on UNUSEDSIGNAL */\n/* verilator lint_on UNUSEDPARAM */\n")


def cfg_svh(cfg: dict) -> str:
    return ("// generated by hlsgen.emit_rtl: sizes, parallelism and widths of this design point\n" +
            "".join(f"localparam int {k} = {int(v)};\n" for k, v in cfg.items()))


LIB_FILES = ("hg_requant.sv", "hg_bin_core.sv", "hg_dsp_core.sv", "hg_exp.sv", "hg_recip.sv", "hg_fifo.sv",
             "hg_softmax.sv", "hg_gelu.sv", "hg_rsqrt.sv", "hg_layernorm.sv", "hg_ram.sv", "hg_rdma.sv",
             "hg_realign.sv", "hg_consts.sv", "hg_wtiles.sv", "hg_mm_seq.sv", "hg_bin_engine.sv", "hg_i8_engine.sv",
             "hg_att_engine.sv", "hg_sm_engine.sv", "hg_ln_engine.sv", "hg_ln_rom.sv", "hg_axil.sv", "hg_wdma.sv",
             "hg_score.sv", "hg_sel_engine.sv", "hg_pkg_engine.sv")
LIB_INCLUDES = ("hg_rsqrt_rom.svh", "hg_ctrl.svh", "hg_datapath.svh", "hg_engines.svh", "vit_top_body.svh")
GENERATED = ("vit_top.sv", "hg_arch.svh", "hg_cfg.svh", "hg_prog.svh", "hg_tables.svh", "hg_ln_rom.svh")
HARNESS = ("harness/tb_top.cpp",)


def read_inputs(path: Path) -> np.ndarray:
    """data/inputs.bin (hlsgen.emit_golden.inputs_bytes) -> int8 codes [images, bytes per image]."""
    raw = Path(path).read_bytes()
    if raw[:8] != b"HLSIMG01":
        raise RtlEmitError(f"{path}: not an hlsgen inputs file")
    n, per = struct.unpack("<II", raw[8:16])
    return np.frombuffer(raw[16:16 + n * per], dtype=np.int8).astype(np.int64).reshape(n, per)


def result_bytes(logits, tokens, depth: int) -> bytes:
    t = list(tokens) + [0] * (depth - len(tokens))
    return np.asarray(logits, dtype=np.int64).astype("<i2").tobytes() + np.asarray(t, dtype=np.int64).astype("<u2").tobytes()


def block_expected(im, codes: np.ndarray, blocks: int = 1) -> bytes:
    """Result buffers of the model truncated to its first `blocks` encoder blocks (the block level)."""
    from dataclasses import replace as dc_replace
    from quant.golden import run_golden
    s = im.spec
    sub = dc_replace(im, blocks=im.blocks[:blocks], selectors={b: v for b, v in im.selectors.items() if b < blocks})
    shape = (s.in_chans, s.img_size, s.img_size)
    out = [b"HLSRES01", struct.pack("<III", len(codes), blocks, 2 * (s.num_classes + s.depth))]
    for c in codes:
        r = run_golden(sub, np.asarray(c).reshape(shape))
        out.append(result_bytes(r.logits, r.tokens_per_block, s.depth))
    return b"".join(out)


def rtl_files(design, im, codes: np.ndarray | None = None, block_images: int = 8, lw=None) -> dict[str, bytes]:
    """Every file of DIR/rtl/ (paths relative to the project root), deterministic. `lw`: the design's
    hlsgen.emit_lower.Lowered when the caller has it already."""
    from hlsgen.emit_lower import lower
    lw = lw if lw is not None else lower(im, design)
    cfg = config(design, im, lw)
    steps = design.schedule("worst").ops
    descs = program(im, lw, steps)
    types = [report_type(st) for st in steps]
    files = {f"rtl/{n}": (RTL_LIB / n).read_bytes() for n in (*LIB_FILES, *LIB_INCLUDES, *HARNESS)}
    files["rtl/vit_top.sv"] = top_sv().encode()
    files["rtl/hg_arch.svh"] = sv_package("generated by hlsgen.emit_rtl from hlsgen/arch.py: do not edit").encode()
    files["rtl/hg_cfg.svh"] = cfg_svh(cfg).encode()
    files["rtl/hg_prog.svh"] = prog_svh(descs).encode()
    files["rtl/hg_tables.svh"] = tables(im, cfg).encode()
    files["rtl/hg_ln_rom.svh"] = ln_rom(im, cfg).encode()
    pred = {r["name"]: r["cycles_worst"] for r in design.predict().per_layer}
    files["rtl/program.json"] = (json.dumps({
        "format": 2, "descriptors": [{"pc": i, "name": d.name, "op": OP_NAMES[d.f["op"]],
                                      **({"type": types[i]} if i < len(types) else {})} for i, d in enumerate(descs)],
        "model_cycles": pred, "config": cfg, "board": {"bytes_per_cycle": design.ctx().bpc,
                                                      "latency_cycles": design.ctx().mem_lat}}, indent=1) + "\n").encode()
    if codes is not None and len(codes):
        files["rtl/block_expected.bin"] = block_expected(im, np.asarray(codes)[:block_images])
    return files


def emit_rtl(design, int_model, out_dir, codes: np.ndarray | None = None) -> list[Path]:
    """Write the RTL twin of `design` for `int_model` into out_dir (normally DIR/rtl of a generated project).

    The block-level expectations need the project's test images: `codes` ([images, bytes] int8), or
    out_dir/../data/inputs.bin when it exists."""
    out = Path(out_dir)
    if codes is None and (out.parent / "data" / "inputs.bin").exists():
        codes = read_inputs(out.parent / "data" / "inputs.bin")
    written = []
    for rel, data in rtl_files(design, int_model, codes).items():
        path = out / rel[len("rtl/"):]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
