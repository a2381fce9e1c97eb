"""Engine-level synthesis of the RTL twin at several parallelisms -> bench/calibration/engines.json.

    python bench/calibration/synth_engines.py [--work DIR] [--out engines.json]

For each design below (the digits model, D=64 M=128 n=17, 8-bit) a project is generated (`hlsgen
generate --design`, plus its RTL twin), and every engine part of it is synthesized on its own with
yosys `synth_xilinx -family xcup` (sim/synth.py project_parts / synth, as `synth_project` does; jobs
= 1, ~20-60 s per engine). Buffers and infrastructure do not depend on the parallelism and are not
repeated here (bench/calibration/engines_digits.json has them). fit_engines.py fits the engine-glue
constants of hlsgen/ops_resources.py from the output; "held_out" designs are only checked.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

ENGINES = ("binary", "int8", "attention", "softmax", "layernorm")
KEYS = ("lut", "ff", "dsp", "bram36", "lutram")
BASE = dict(pe=1, simd=2, gelu_lanes=1, att_pe=1, att_simd=1, i8_pe=1, i8_simd=1, softmax_lanes=1, ln_lanes=1,
            select_lanes=1)
DESIGNS = {   # name -> (parallelism, held out)
    "p1": (BASE, False),
    "p2": (dict(BASE, pe=2, simd=4, att_simd=2, i8_simd=2, softmax_lanes=2, ln_lanes=2), False),
    "p4": (dict(BASE, pe=4, simd=8, gelu_lanes=2, att_pe=2, att_simd=4, i8_pe=2, i8_simd=4, softmax_lanes=4,
                ln_lanes=4), False),
    "h8": (dict(BASE, pe=2, simd=16, gelu_lanes=2, att_pe=2, att_simd=2, i8_pe=2, i8_simd=1, softmax_lanes=8,
                ln_lanes=8), True),
}


def design_dict(par: dict) -> dict:
    return {"hlsgen_design": 1, "model": "digits", "board": "zcu102", "part": "xczu9eg-ffvb1156-2-e",
            "clock_mhz": 200, "act_bits": 8, "parallelism": dict(par), "selectors": []}


def project(work: Path, name: str, par: dict) -> Path:
    from hlsgen.cmd_generate import generate
    from hlsgen.emit_rtl import emit_rtl
    out = work / name
    yml = work / f"{name}.yaml"
    yml.write_text(yaml.safe_dump(design_dict(par), sort_keys=False))
    g = generate(model="digits", design_path=str(yml), out=out, images=1, force=True)
    if not (out / "rtl" / "program.json").exists():        # until `hlsgen generate` writes rtl/ itself
        emit_rtl(g.design, g.project.lowered.im, out / "rtl")
    return out


def synth_engines(proj: Path, log=print) -> dict:
    from sim.synth import project_parts, synth
    rtl = proj / "rtl"
    parts = project_parts(json.loads((rtl / "program.json").read_text())["config"])
    out = {}
    for e in ENGINES:
        top, files, params = parts[e]
        r = synth(top, [rtl / f for f in files], params, include=rtl)
        out[e] = {k: r[k] for k in KEYS}
        log(f"  {proj.name} {e}: {r['lut']} LUT {r['ff']} FF {r['dsp']} DSP {r['bram36']} BRAM36 "
            f"({'cached' if r['cached'] else '%.0fs' % r['seconds']})")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=str(REPO / "build" / "calibration"))
    ap.add_argument("--out", default=str(HERE / "engines.json"))
    args = ap.parse_args(argv)
    from sim.synth import yosys_version
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    records = []
    for name, (par, held) in DESIGNS.items():
        t0 = time.time()
        proj = project(work, name, par)
        records.append({"name": name, "held_out": held, "design": design_dict(par), "synth": synth_engines(proj),
                        "seconds": round(time.time() - t0, 1)})
    Path(args.out).write_text(json.dumps({
        "tool": yosys_version(), "flow": "synth_xilinx -family xcup -noiopad -flatten, one engine per run",
        "model": "digits (D=64, M=128, n=17, H=4, 8-bit activations)", "records": records}, indent=1) + "\n")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
