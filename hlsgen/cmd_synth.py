"""`hlsgen synth DIR`: yosys `synth_xilinx -family xcup` on the RTL twin of a generated project, next to
the resource model's figures and the board's capacity. Per engine the model column is what the twin
should synthesize: the design's resource model plus the glue only the twin has (its one-token-row-per-
word buffers need row-select muxes an HLS design with partitioned arrays does not:
hlsgen.ops_resources.TWIN_ONLY), and for the buffers the twin's own layout (ops_resources.twin_buffer);
the "design model" row is what the explorer sized.

    hlsgen synth DIR [--json] [--jobs N] [--parts softmax,layernorm,...]

Each engine, buffer and infrastructure block of DIR/rtl is synthesized on its own (cached by a hash of
its sources and parameters; a buffer 16 elements at a time, scaled: sim.synth.buffer_group) and the
totals summed; the model's figures are the design's prediction without the board's platform shell (the twin has none). yosys counts are estimates (CARRY4 on xcup,
no Vivado): compare trends and orders of magnitude.
"""
from __future__ import annotations

import json

from hlsgen.cmd_check import project_dir

KEYS = ("lut", "ff", "dsp", "bram36")


def run(args) -> int:
    from sim.synth import synth_project
    project_dir(args.project)
    only = [x.strip() for x in args.parts.split(",") if x.strip()] if args.parts else None
    res = synth_project(args.project, jobs=args.jobs, log=None if args.json else (lambda m: print(m, flush=True)),
                        only=only)
    if args.json:
        print(json.dumps({k: res[k] for k in ("synth", "model", "available", "usable", "parts", "model_with_platform",
                                                     "note")},
                         indent=1))
        return 0
    print(f"\n{'part':16s}" + "".join(f"{k.upper():>20s}" for k in KEYS))
    print(f"{'':16s}" + "".join(f"{'synth / model':>20s}" for _ in KEYS))
    for name, p in res["parts"].items():
        m = p.get("model_twin", p.get("model"))
        cells = [f"{p['synth'][k]:,.0f} / {m[k]:,.0f}" if m else f"{p['synth'][k]:,.0f} / -" for k in KEYS]
        print(f"{name:16s}" + "".join(f"{c:>20s}" for c in cells))
    print(f"{'total':16s}" + "".join(f"{res['synth'][k]:,.0f} / {res['model_twin'][k]:,.0f}".rjust(20) for k in KEYS))
    print(f"{'design model':16s}" + "".join(f"{res['model'][k]:,.0f}".rjust(20) for k in KEYS))
    print(f"{'device':16s}" + "".join(f"{res['available'][k]:,.0f}".rjust(20) for k in KEYS))
    print(f"{'usable (budget)':16s}" + "".join(f"{res['usable'][k]:,.0f}".rjust(20) for k in KEYS))
    print(f"\nsynth {args.project}: {res['seconds']:.0f}s. {res['note']}.")
    return 0


def register(sub) -> None:
    p = sub.add_parser("synth", help="yosys synthesis of the RTL twin vs the resource model")
    p.add_argument("project", help="project directory written by `hlsgen generate`")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object (synth, model, available = the device, usable, parts)")
    p.add_argument("--jobs", type=int, default=2, help="parallel yosys processes (default 2)")
    p.add_argument("--parts", default=None,
                   help="only these comma-separated rows (e.g. softmax,layernorm,infrastructure); default: all")
    p.set_defaults(func=run)
