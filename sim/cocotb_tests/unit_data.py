"""Stimulus + golden builders for the unit testbenches, from a project's integer model constants.

Each builder returns (toplevel, source files, Verilog parameters, testbench module, data) for
sim.cosim.run_cocotb; the golden values come from quant's per-op functions. Used by
`hlsgen cosim DIR --level unit` (the units with the project's own parameters).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from quant.golden import layernorm
from quant.intops import requantize
from quant.nl_exp import softmax_int
from quant.nl_gelu import gelu_codes, gelu_int
from sim.cocotb_tests.tbutil import pack
from hlsgen.emit_rtl import (gelu_ports, gelu_widths, layernorm_ports, layernorm_widths, round_bias, softmax_ports,
                          softmax_widths)

STREAM = "sim.cocotb_tests.tb_stream"


def _m(v, bits):
    return int(v) & ((1 << bits) - 1)


def requant_unit(rq, acc_w: int, rng, n: int = 4096):
    """One channel of a layer's requantizer over n accumulator codes (every code when acc_w <= 12)."""
    if acc_w <= 12:
        accs = np.arange(-(1 << (acc_w - 1)), 1 << (acc_w - 1))
    else:
        lim = 1 << (acc_w - 1)
        accs = np.concatenate([[-lim, lim - 1, 0, -1, 1], rng.integers(-lim, lim, n)])
    mult, bias = int(np.ravel(rq.mult)[0]), int(np.ravel(rq.bias)[0])
    exp = requantize(accs, mult, rq.shift, bias, rq.bits, rq.signed)
    br = int(round_bias(bias, rq.shift))
    beats = [{"acc": _m(a, acc_w), "mult": _m(mult, 16), "bias_r": _m(br, 48), "shift": rq.shift, "bits": rq.bits,
              "out_signed": int(rq.signed)} for a in accs]
    want = [{"out": int(e) & 0xFFFF} for e in exp]
    return ("hg_requant", ["hg_requant.sv"], {"ACC_W": acc_w, "OUT_W": 16}, STREAM,
            {"beats": beats, "outputs": ["out"], "want": want, "widths": {"out": 16}, "signed": {}})


def softmax_unit(params, lanes: int, n: int, rng, rows: int = 12):
    W = softmax_widths([params], lanes, n + 1)
    ports = softmax_ports(params)
    ports["c"] = _m(ports["c"], W["LF"] + 3)
    lim = 1 << (params.in_bits - 1)
    x = rng.integers(-lim // 8, lim // 8, (rows, n))
    x[0], x[1] = lim - 1, -lim
    y = softmax_int(x, params)
    beats, want = [], []
    for xr, yr in zip(x, y):
        for s in range(0, n, lanes):
            m = min(lanes, n - s)
            beats.append({"in_x": pack(list(xr[s:s + m]) + [0] * (lanes - m), W["IW"]), "in_mask": (1 << m) - 1,
                          "in_last": int(s + lanes >= n), **ports})
            want.append({"out_p": [int(v) for v in yr[s:s + m]] + [0] * (lanes - m)})
    return ("hg_softmax", ["hg_softmax.sv", "hg_exp.sv", "hg_fifo.sv", "hg_recip.sv"], W, STREAM,
            {"beats": beats, "outputs": ["out_p"], "want": want, "widths": {}, "signed": {},
             "lanes": {"out_p": [W["OB"], lanes]}, "ready": "in_ready", "reset": True, "drain": 120})


def gelu_unit(params, rng, n: int = 4000):
    W = gelu_widths([params])
    x = gelu_codes(params)
    if params.in_width > 12:
        x = np.concatenate([x[:200], x[-200:], rng.choice(x, n)])
    ports = gelu_ports(params)
    ports["aa"] = _m(ports["aa"], W["AB"])
    beats = [{"x": _m(v, params.in_width), **ports} for v in x]
    want = [{"out": int(v)} for v in gelu_int(x, params)]
    return ("hg_gelu", ["hg_gelu.sv"], W, STREAM, {"beats": beats, "outputs": ["out"], "want": want,
                                                   "widths": {"out": W["OW"]}, "signed": {"out": True}})


def layernorm_unit(ln, lanes: int, k: int, rng, rows: int = 16):
    p, rq = ln.params, ln.rq
    D = p.dim
    W = {**layernorm_widths([p], lanes), "KQ": k, "MULT_W": 16, "BIAS_W": 32}
    x = (rng.standard_normal((rows, D)) * rng.uniform(5, 20000, (rows, 1))).clip(-32768, 32767).astype(np.int64)
    x[0] = 0
    y = layernorm(x, ln)
    mult = np.broadcast_to(np.ravel(rq.mult), (D,)) if np.size(rq.mult) == 1 else np.ravel(rq.mult)
    bias = round_bias(np.broadcast_to(np.ravel(rq.bias), (D,)) if np.size(rq.bias) == 1 else np.ravel(rq.bias),
                      rq.shift)
    ports = {**layernorm_ports(p), "rq_shift": rq.shift, "rq_bits": k}
    nb = D // lanes
    beats = [{"in_x": pack(x[r, b * lanes:(b + 1) * lanes], 16), "in_last": int(b == nb - 1), **ports}
             for r in range(rows) for b in range(nb)]
    want = [{"out_y": [int(v) for v in y[r, b * lanes:(b + 1) * lanes]]} for r in range(rows) for b in range(nb)]
    roms = [{"addr": "coef_idx", "data": {"coef_mult": [pack(mult[b * lanes:(b + 1) * lanes], 16) for b in range(nb)],
                                          "coef_bias": [pack(bias[b * lanes:(b + 1) * lanes], 32) for b in range(nb)]}}]
    return ("hg_layernorm", ["hg_layernorm.sv", "hg_rsqrt.sv", "hg_fifo.sv", "hg_requant.sv"], W, STREAM,
            {"beats": beats, "outputs": ["out_y"], "want": want, "widths": {}, "signed": {"out_y": True},
             "lanes": {"out_y": [k, lanes]}, "ready": "in_ready", "reset": True, "roms": roms, "drain": 120})


def matmul_unit(kind: str, pe: int, simd: int, aw: int, bw: int, x: np.ndarray, w: np.ndarray):
    top = "hg_bin_core" if kind == "binary" else "hg_dsp_core"
    acc_w = aw + bw + int(np.ceil(np.log2(max(2, x.shape[1])))) + 2
    params = {"PE": pe, "SIMD": simd, "ACC_W": acc_w, "TAG_W": 16,
              **({"KW": aw} if kind == "binary" else {"AW": aw, "BW": bw})}
    data = {"kind": kind, "PE": pe, "SIMD": simd, "AW": aw, "BW": bw, "ACC_W": acc_w, "x": x.tolist(), "w": w.tolist()}
    return top, [top + ".sv"], params, "sim.cocotb_tests.tb_matmul", data


def project_units(design, im, seed: int = 0) -> dict:
    """name -> builder output for the units of a design, with block 0's constants."""
    rng = np.random.default_rng(seed)
    par, k, s = design.parallelism, im.act_bits, im.spec
    blk = im.blocks[0]
    K = s.embed_dim
    x = rng.integers(-(1 << (k - 1)), 1 << (k - 1), (4, K))
    wb = rng.choice([-1, 1], (2 * par.pe, K))
    units = {
        "requantizer (qkv)": requant_unit(blk.qkv.rq, k + (K - 1).bit_length() + 1, rng),
        "binary engine lanes": matmul_unit("binary", par.pe, par.simd, k, 1, x, wb),
        "attention lanes (A.V)": matmul_unit("dsp", par.att_pe, par.att_simd, k + 1, k,
                                             rng.integers(0, 1 << k, (4, 2 * par.att_simd)),
                                             rng.integers(-(1 << (k - 1)), 1 << (k - 1), (2 * par.att_pe, 2 * par.att_simd))),
        "softmax": softmax_unit(blk.softmax, par.softmax_lanes, s.num_tokens, rng),
        "gelu": gelu_unit(blk.gelu, rng),
        "layernorm": layernorm_unit(blk.ln1, par.ln_lanes, k, rng),
    }
    return units


def run_unit_level(project: str | Path) -> Level:
    """The unit testbenches (cocotb) with the project's own parameters (block 0's constants)."""
    from hlsgen.design import load_design
    from sim.cosim import Level, _project, rtl_sources, run_cocotb
    project = Path(project)
    _project(project)
    im = load_int_model(project)
    design = load_design(project / "design.yaml")
    t_build = t_run = 0.0
    exact, first, details, beats = True, None, [], 0
    for name, (top, files, params, module, data) in project_units(design, im).items():
        r = run_cocotb(top, rtl_sources(*files), module, parameters=params, data=data)
        t_build += r.build_s
        t_run += r.run_s
        beats += len(data.get("beats", [])) or len(data.get("x", []))
        details.append({"unit": name, "bit_exact": r.ok, "checked": r.outputs.get("checked")})
        if not r.ok and first is None:
            first = f"{name}: " + ("; ".join(r.failures) or "no result")
        exact &= r.ok
    return Level("unit", exact, 0, beats, None, None, round(t_build, 2), round(t_run, 2), first, {}, None, details,
                 compared="every output of each unit testbench against its golden per-op function")


def load_int_model(project: Path):
    """The IntModel of a project is not stored in it; the unit level rebuilds block 0's constants from
    the shipped/seeded model exactly as `hlsgen generate` did (design.yaml names the model)."""
    from hlsgen.cmd_generate import prepare
    from hlsgen.design import load_design
    from quant.intmodel import export_int_model
    design = load_design(project / "design.yaml")
    return export_int_model(prepare(design, design.spec.name, None, 1).quant)
