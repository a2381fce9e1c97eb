"""The HLS rendering of a design: the steps of the frame (hlsgen.schedule.frame_ops, worst case) as
the top's step table PROG, the configuration struct every kernel template reads (sizes, lanes,
widths, pipeline depths, buffer geometries from hlsgen.buffers) and the constant tables.

`hls_params(lw)` returns what hls_templates/vit_params.h.j2 lays out: config structs, named
constants and tables (C declaration, initializer, comment). No number is computed in a template.
"""
from __future__ import annotations

import numpy as np

from hlsgen.arch import REQ_MULT_BYTES, STEP_FIELDS, cdiv
from hlsgen.buffers import binary_record_words, binary_weight_words, buffers, feat_offset, row_fifo_depths
from hlsgen.design import is_simd_lanes
from hlsgen.emit_lower import Lowered, layernorms, ln_affine
from hlsgen.emit_params import (GELU_NAMES, LN_NAMES, SOFTMAX_NAMES, EmitError, bitlen, cfg_struct, cinit,
                                fixed_fields, gelu_cfg, gelu_fields, ln_cfg, rq_fields, rsqrt_fields, signed_bits,
                                softmax_cfg, softmax_fields)
from hlsgen.ops import (AttnAV, AttnQK, ImageLoad, LayerNorm, LinearBinary, LinearInt8, PackageToken, SelectStep,
                        Softmax, loop_depths)
from hlsgen.schedule import block_of

ROWS_FROM = {"const": 0, "n": 1, "m": 2}
BIN_MODE = {"act": 0, "int16": 1, "gelu": 2}
I8_MODE = {"x_pos": 0, "logits": 1, "local": 2, "z": 3, "gate": 4}
SM_MODE = {"attn": 0, "gate": 1, "pkg": 2}
SEL_MODE = {"gelu": 0, "gmean": 1, "tmean": 2, "score": 3, "compact": 4}
GEOMETRIES = ("X", "A", "QKV", "H", "S", "P", "I8IN", "LOGITS", "LOCAL", "Z", "GLOB", "PKG")


def weight_fields(K: int, O: int, npos: int, bias_bytes: int, binary: bool, lanes: int, wb: int) -> dict:
    """The step fields of a matmul's weight records (hlsgen/emit_blob.py layout), with the stream's tile
    sizes precomputed so that the DMA and the realigner need no multiplier."""
    a = (cdiv(K, 8) if binary else K) + REQ_MULT_BYTES + bias_bytes
    rec = a + 2 * npos
    last = O - (cdiv(O, lanes) - 1) * lanes
    items = cdiv(a, wb) + npos
    return {"K": K, "O": O, "a_bytes": a, "rec_bytes": rec, "npos": npos, "bias_bytes": bias_bytes,
            "tiles": cdiv(O, lanes), "tile_bytes": lanes * rec, "last_bytes": last * rec,
            "tile_items": lanes * items, "last_items": last * items}


def step_entry(st, lw: Lowered, wb: int) -> dict:
    """One PROG entry (hls_templates/hlsgen_step.h step_t) of a step."""
    im, s = lw.im, lw.im.spec
    ids = lw.layer_ids
    par = lw.design.parallelism
    b = block_of(st.name)
    sel_i = lw.sel_blocks.index(b) if ".selector" in st.name else 0
    hid = max(s.head_dim // 2, 1)
    e = {f: 0 for f in STEP_FIELDS}
    e.update(op=st.code, block=-1 if b is None else b, tap=-1, tap2=-1)
    if hasattr(st, "rows_from"):
        e["rows_from"] = ROWS_FROM[st.rows_from]
        e["rows"] = st.rows if st.rows_from == "const" and hasattr(st, "rows") else 0
    check_shape(st, s)

    def weights(section: str, K: int, O: int, rq, npos_bytes: int, binary: bool):
        sec = lw.section(section)
        if (sec.K, sec.O, 2 * sec.pos) != (K, O, npos_bytes):
            raise EmitError(f"{st.name}: weight section {section} is {sec.K} x {sec.O}, the step {K} x {O}")
        e.update(weight_fields(K, O, sec.pos, sec.bias_bytes, binary, par.pe if binary else par.i8_pe, wb),
                 w_word=sec.offset // wb, shift=rq.shift, bits=rq.bits)

    if isinstance(st, ImageLoad):
        pass
    elif isinstance(st, LinearBinary):
        lin = getattr(im.blocks[b], st.name.rsplit(".", 1)[-1])
        weights(st.name, st.K, st.O, lin.rq, 0, True)
        e.update(mode=BIN_MODE[st.out], src={"a": 0, "h": 1}[st.src], pidx=b, tap=ids[st.name],
                 tap2=ids[st.tap2] if st.tap2 else -1)
    elif isinstance(st, LinearInt8):
        if st.dst in ("x_pos", "logits"):
            rq = im.patch.rq if st.dst == "x_pos" else im.head.rq
            e["tap"] = ids[st.name]
        else:
            sel = im.selectors[b]
            rq = {"local": lambda: sel.local.rq.channels(st.head * hid, hid),
                  "z": lambda: sel.score.rq.channels(st.head, 1), "gate": lambda: sel.gate.rq}[st.dst]()
        weights(st.section or st.name, st.K, st.O, rq, st.extra_bytes_per_ch, False)
        e.update(mode=I8_MODE[st.dst], src=1 if st.src == "feats" else 0, icol=st.icol, head=st.head,
                 ocol=st.head * hid if st.dst == "local" else 0, r0=s.num_tokens if st.dst == "gate" else 0)
    elif isinstance(st, LayerNorm):
        e.update(r0=st.r0, mode={"a": 0, "i8in": 1}[st.dst], pidx=st.table, tap=ids[st.name] if st.r0 == 0 else -1)
    elif isinstance(st, (AttnQK, AttnAV)):
        av = isinstance(st, AttnAV)
        e.update(mode=int(av), head=st.head, pidx=2 * b + int(av), tap=ids[st.name])
    elif isinstance(st, Softmax):
        depth = s.depth
        e.update(mode=SM_MODE[st.use], head=st.head, K=st.width if st.use == "gate" else 0,
                 r0=1 if st.use == "pkg" else 0, cond=int(st.use == "pkg"),
                 pidx={"attn": b, "gate": depth + 2 * sel_i, "pkg": depth + 2 * sel_i + 1}[st.use],
                 tap=ids[st.name] if st.use == "attn" else -1)
    elif isinstance(st, SelectStep):
        tap = {"score": f"{st.name}.scores", "compact": st.name}.get(st.sub)
        e.update(mode=SEL_MODE[st.sub], pidx=st.index, cond=int(st.sub == "compact"), tap=ids[tap] if tap else -1)
    elif isinstance(st, PackageToken):
        e.update(pidx=sel_i, cond=1)
    else:
        raise EmitError(f"the HLS top has no engine for step {type(st).__name__} ({st.name})")
    return e


def check_shape(st, s) -> None:
    """The C++ derives a step's shape itself (rows from the live token count, widths from vit_cfg): the
    program is the worst case (no token pruned), so every shape field must be what the C++ computes."""
    N, D, H = s.num_tokens, s.embed_dim, s.num_heads
    rows = {"n": N, "m": N - 1}
    want: dict = {}
    if hasattr(st, "rows_from") and st.rows_from in rows:
        want["nq" if isinstance(st, (AttnQK, AttnAV)) else "rows"] = rows[st.rows_from]
    if isinstance(st, ImageLoad):
        want["nbytes"] = s.in_chans * s.img_size ** 2 + 2 * D
    elif isinstance(st, (AttnQK, AttnAV)):
        want.update(nk=st.nq, d=s.head_dim)
    elif isinstance(st, LayerNorm):
        want["dim"] = D
    elif isinstance(st, PackageToken):
        want.update(dim=D, n_pruned=N - 1)
    elif isinstance(st, SelectStep):
        loc = H * max(s.head_dim // 2, 1)
        want.update(width={"gelu": loc, "gmean": loc, "tmean": D, "score": H, "compact": D}[st.sub], runs=True)
    for name, value in want.items():
        if getattr(st, name) != value:
            raise EmitError(f"{st.name}: the HLS top computes {name} = {value}, the step says {getattr(st, name)}")


def _pow2(name: str, v: int) -> None:
    if v & (v - 1):
        raise EmitError(f"{name} = {v}: the HLS engines need a power of two")


def hls_params(lw: Lowered) -> tuple[list, dict, list]:
    """(config structs [(name, C++ text)], named constants, tables [(declaration, initializer, comment)])."""
    d, im = lw.design, lw.im
    s, par, k = im.spec, d.parallelism, im.act_bits
    N, D, H, M, depth = s.num_tokens, s.embed_dim, s.num_heads, s.mlp_dim, s.depth
    HD, HID = s.head_dim, max(s.head_dim // 2, 1)
    wb = d.board.memory.axi_width_bits // 8
    for f, v in par.as_dict().items():
        if f == "simd":
            if not is_simd_lanes(v):
                raise EmitError(f"simd = {v}: the binary engine needs a power of two or 3 x a power of two (>= 6)")
        else:
            _pow2(f, v)
    _pow2("patch_size", s.patch_size)
    if wb % s.patch_size:
        raise EmitError(f"patch_size {s.patch_size} must divide the {wb}-byte AXI word (one pixel-row segment per cycle)")
    sels = [im.selectors[b] for b in lw.sel_blocks]
    steps = d.schedule("worst").ops
    # the score buffer also holds a selector's head-gate logits and package inputs, Z its per-head logits
    s_bits = max([2 * k] + [r.bits for sel in sels for r in (sel.gate.rq, sel.pkg_rq)])
    z_bits = max([2 * k] + [sel.score.rq.bits for sel in sels])
    bufs = buffers(s, k, par.as_dict(), bool(sels), s_bits=s_bits, z_bits=z_bits)
    misfits = [m for b in bufs.values() for m in b.misfits()]
    if misfits:
        raise EmitError("buffer banking: " + "; ".join(misfits))
    if bufs["X"].W * 16 > d.board.memory.axi_width_bits:
        raise EmitError("the class-token row loader writes X lanes from one AXI word: X's narrowest access is too wide")

    # ---- nonlinear units: widths maximised over instances, coefficients fixed where all agree ----
    lns = layernorms(im)
    gelus = [blk.gelu for blk in im.blocks] + [sel.local_gelu for sel in sels]
    sms = [blk.softmax for blk in im.blocks] + [p for sel in sels for p in (sel.gate_softmax, sel.pkg_softmax)]
    gcfg = {**gelu_cfg(gelus), **fixed_fields(GELU_NAMES, [gelu_fields(g) for g in gelus])}
    scfg = {**softmax_cfg(sms), **fixed_fields(SOFTMAX_NAMES, [softmax_fields(p) for p in sms])}
    lcfg = {**ln_cfg([ln.params for _, ln in lns]), **fixed_fields(LN_NAMES, [ln_affine(ln, D, n)[0] for n, ln in lns])}
    if gcfg["IN_W"] != 2 * k or scfg["IN_W"] > 2 * k or scfg["OUT_BITS"] != k or lcfg["DIM"] != D:
        raise EmitError("nonlinear unit widths do not match the activation precision")
    rsqrts = {ln.params.rsqrt for _, ln in lns}
    if len(rsqrts) != 1:
        raise EmitError("every LayerNorm must use the same rsqrt unit")

    # ---- sizes and widths ----
    ln_rows = [ln_affine(ln, D, name) for name, ln in lns]
    secs = [lw.section(n) for n in dict.fromkeys(getattr(st, "section", "") or st.name for st in steps
                                                 if isinstance(st, (LinearBinary, LinearInt8)))]
    bins = [x for x in secs if x.kind == "binary"]
    bin_lw, bin_wstep, bin_spw = binary_weight_words(par.simd, wb * 8)
    bin_wpr = max(int(binary_record_words(x.K, x.K // 8 + REQ_MULT_BYTES + x.bias_bytes, par.simd, wb * 8))
                  for x in bins)
    i8s = [x for x in secs if x.kind == "int8"]
    i8_k = max(x.K for x in i8s)
    means = [m for sel in sels for m in (sel.global_mean, sel.token_mean)]
    cls = lw.section("patch_embed.cls")
    vit = {
        "AXI_W": wb * 8, "N_MAX": N, "NKP": cdiv(N, par.att_simd) * par.att_simd,
        "ATT_WBUF": cdiv(max(N, HD), par.att_simd) * par.att_simd, "NP": int(bufs["S"].cols_padded),
        "D": D, "HD": HD, "HEADS": H, "HID": HID, "LOC": H * HID, "M": M, "K_BITS": k, "W_BITS": 2 * k,
        "S_BITS": s_bits, "Z_BITS": z_bits,
        "DEPTH": depth, "CLASSES": s.num_classes, "PATCH": s.patch_size, "IMG": s.img_size, "GRID": s.grid,
        "IMG_BYTES": s.in_chans * s.img_size ** 2, "IMG_WORDS": cdiv(s.in_chans * s.img_size ** 2, wb),
        "FEAT_OFF": feat_offset(bufs) if sels else 0, "SPARE_ROW": N, "CLS_WORD": cls.offset // wb,
        "CLS_WORDS": cdiv(2 * D, wb), "RESULT_WORDS": cdiv(2 * (s.num_classes + depth), wb), "NUM_LN": len(lns),
        "TAP_PATCH": lw.layer_ids["patch_embed"],
        **{f.upper(): v for f, v in par.as_dict().items()},
        "BIN_ACC_W": signed_bits(max(D, M) << (k - 1)), "BIN_PS_W": signed_bits(par.simd << (k - 1)),
        "I8_ACC_W": signed_bits(i8_k * 128 * 128), "QK_ACC_W": signed_bits(HD << (2 * k - 2)),
        "AV_ACC_W": signed_bits(N * ((1 << k) - 1) << (k - 1)),
        "SEL_SC_W": signed_bits(H * (1 << (2 * k - 1)) * ((1 << k) - 1)), "SEL_SUM_W": signed_bits(N << (k - 1)),
        "LN_BIAS_W": signed_bits(max(abs(int(b)) for r in ln_rows for b in r[2])),
        "SEL_MEAN_W": max([bitlen(int(np.max(m.mult))) for m in means], default=1),
        "SEL_PKG_W": signed_bits(N * ((1 << k) - 1) << 15),
        "BIN_WPR": bin_wpr, "BIN_LW": bin_lw, "BIN_WSTEP": bin_wstep, "BIN_SPW": bin_spw,
        "BIN_WPB": cdiv(bin_wpr, bin_wstep),
        "I8_WPR": max(cdiv(x.K + REQ_MULT_BYTES + x.bias_bytes, wb) for x in i8s),
        "I8_SPW": max(1, wb // par.i8_simd), "I8_WSTEP": max(1, par.i8_simd // wb),
        "I8_NPOS": max(max(x.pos for x in i8s), 1), "BK_MAX": max(D, M), "BO_MAX": max(3 * D, M),
        "I8_ROWS": int(bufs["I8IN"].rows), "I8_KMAX": i8_k, "I8_OMAX": max(x.O for x in i8s),
        **{name: int(v) for name, v in loop_depths(par.as_dict()).items()},
        "MEM_LAT": int(d.ctx().mem_lat),       # DDR latency (cycles): the depth of the m_axi loops
        **{k: int(v) for k, v in row_fifo_depths(d.spec, par.softmax_lanes, par.ln_lanes).items()},
    }
    vit["ATT_ACC_W"] = max(vit["QK_ACC_W"], vit["AV_ACC_W"])
    geoms = [(f"G{n}", f"geom<{bufs[n].bits}, {int(bufs[n].W)}, {int(bufs[n].NB)}, {int(bufs[n].rows)}, "
                       f"{int(bufs[n].cols_padded)}>") for n in GEOMETRIES]
    structs = [("gelu_cfg", cfg_struct("gelu_cfg", gcfg)), ("sm_cfg", cfg_struct("sm_cfg", scfg)),
               ("ln_cfg", cfg_struct("ln_cfg", lcfg)),
               ("vit_cfg", cfg_struct("vit_cfg", vit, (("GELU", "gelu_cfg"), ("SM", "sm_cfg"), ("LN", "ln_cfg"),
                                                        ("axi_t", f"ap_uint<{wb * 8}>"), *geoms)))]

    # ---- the program and the constant tables ----
    prog = [step_entry(st, lw, wb) for st in steps]
    nsel = max(1, len(sels))
    sel_rows = [[gelu_fields(sel.local_gelu), rq_fields(sel.local_rq), sel.global_mean.shift, sel.global_mean.bits,
                 sel.token_mean.shift, sel.token_mean.bits, softmax_fields(sel.gate_softmax),
                 softmax_fields(sel.pkg_softmax), rq_fields(sel.pkg_rq), sel.prob_bits,
                 lw.layer_ids[f"blocks.{b}.selector.scores"], lw.layer_ids[f"blocks.{b}.selector"]]
                for b, sel in zip(lw.sel_blocks, sels)]
    if not sels:     # no selector: one unused entry keeps the tables declarable
        sel_rows = [[gelu_fields(gelus[0]), [0, 0, 0, 8], 0, 8, 0, 8, softmax_fields(sms[0]), softmax_fields(sms[0]),
                     [0, 0, 0, 8], k, -1, -1]]
    for sel in sels:
        for mean in (sel.global_mean, sel.token_mean):
            if len(mean.mult) != N + 2:
                raise EmitError("selector mean tables must have N + 2 entries")
    means_of = (lambda which: [[int(v) for v in getattr(sel, which).mult] for sel in sels] or [[0] * (N + 2)])
    tables = [
        ("static const step_t PROG[PROG_LEN]", cinit([[e[f] for f in STEP_FIELDS] for e in prog]),
         "the program: one step per engine run (hlsgen.schedule.frame_ops, worst case)"),
        ("static const softmax_t SM_P[DEPTH + 2 * NSEL_TABLE]", cinit([softmax_fields(p) for p in sms]
                                                                     + [softmax_fields(sms[0])] * (2 * nsel - 2 * len(sels))),
         "softmax of each block, then each selector's head gate and package softmax"),
        ("static const rq_t ATT_RQ[2 * DEPTH]", cinit([rq_fields(r) for blk in im.blocks for r in (blk.qk_rq, blk.av_rq)]),
         "Q.K^T and P.V requantizers of each block"),
        ("static const gelu_t GELU_P[DEPTH]", cinit([gelu_fields(blk.gelu) for blk in im.blocks]), "GELU after fc1"),
        ("static const rq_t GELU_RQ[DEPTH]", cinit([rq_fields(blk.gelu_rq) for blk in im.blocks]),
         "GELU output requantizer"),
        ("static const rsqrt_t RSQRT", cinit(rsqrt_fields(rsqrts.pop())), "reciprocal square root ROM"),
        ("static const ln_t LN_P[C::NUM_LN]", cinit([r[0] for r in ln_rows]),
         "LayerNorms: ln1, ln2 of each block, norm, then the selectors'"),
        ("static const mult_t LN_MULT[C::NUM_LN][C::D]", cinit([r[1] for r in ln_rows]), "LayerNorm affine multipliers"),
        ("static const ap_int<C::LN_BIAS_W> LN_BIAS[C::NUM_LN][C::D]", cinit([r[2] for r in ln_rows]),
         "LayerNorm affine biases"),
        ("static const int LN_SHIFT[C::NUM_LN]", cinit([r[3] for r in ln_rows]), "LayerNorm affine shifts"),
        ("static const int LN_BITS[C::NUM_LN]", cinit([r[4] for r in ln_rows]), "LayerNorm output widths"),
        ("static const sel_t SEL_P[NSEL_TABLE]", cinit(sel_rows), "token selectors"),
        ("static const ap_uint<C::SEL_MEAN_W> SEL_GMEAN_ROM[NSEL_TABLE][C::N_MAX + 2]", cinit(means_of("global_mean")),
         "1/n ROM, global mean"),
        ("static const ap_uint<C::SEL_MEAN_W> SEL_TMEAN_ROM[NSEL_TABLE][C::N_MAX + 2]", cinit(means_of("token_mean")),
         "1/n ROM, token mean"),
    ]
    consts = {"PROG_LEN": len(prog), "DEPTH": depth, "NSEL": len(sels), "NSEL_TABLE": nsel}
    return structs, consts, tables
