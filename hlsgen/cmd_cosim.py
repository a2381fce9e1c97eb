"""`hlsgen cosim DIR`: simulate the RTL twin of a generated project (cocotb / Verilator), bit-exact
against the golden model, with simulated cycles next to the cycle model's.

    hlsgen cosim DIR [--level unit|block|model|all] [--images N] [--json] [--rtl PATH] [--cocotb]

Levels: `unit` runs the unit testbenches (cocotb) with the project's own constants; `block` the model
truncated to its first encoder block, `model` the whole model on N test images, both at the port level
(AXI4 masters + AXI4-Lite control of INTERFACE.md) through a compiled Verilator harness. Builds are
cached by a hash of their sources. `--rtl PATH` runs the block/model levels against other Verilog with
the same top-level ports (e.g. what Vitis HLS exports from src/); it is only checked against the twin
here (no Vivado). Exit status 1 on any mismatch.
"""
from __future__ import annotations

import json
import sys

from hlsgen.cmd_check import project_dir
from quant.errors import UserError

LEVELS = ("unit", "block", "model")


class CosimMismatch(UserError):
    """The simulation ran and disagreed with the golden model."""


def _fmt(lv) -> list[str]:
    ratio = f"{lv.cycle_ratio:.4f}" if lv.cycle_ratio is not None else "-"
    model = f"{lv.model_cycles:,}" if lv.model_cycles is not None else "-"
    sim = f"{lv.sim_cycles:,}" if lv.sim_cycles is not None else "-"
    what = "cycles" if lv.level != "unit" else "beats"
    speed = f", {lv.cycles_per_s:,.0f} cycles/s" if lv.cycles_per_s else ""
    mean = "mean " if lv.images > 1 and lv.level != "unit" else ""
    rng = (f" (range {lv.cycles_range[0]:,}-{lv.cycles_range[1]:,})"
           if lv.cycles_range and lv.images > 1 else "")
    lines = [f"{lv.level:6s} {'BIT-EXACT' if lv.bit_exact else 'MISMATCH '}  images {lv.images}  sim {mean}{what} "
             f"{sim}{rng}  model {mean}{model}  ratio {ratio}  build {lv.build_s:.1f}s run {lv.run_s:.1f}s{speed}"]
    if lv.compared:
        lines.append(f"       compared: {lv.compared}")
    if lv.first_mismatch:
        lines.append(f"       first mismatch: {lv.first_mismatch}")
    if lv.per_op:
        lines.append("       cycles per op type" + (" (image 0)" if lv.images > 1 else "") + ":")
    for op, r in lv.per_op.items():
        lines.append(f"       {op:14s} sim {r['sim']:>10,}  model {r['model']:>10,}  ratio "
                     f"{r['ratio'] if r['ratio'] is not None else '-'}")
    if lv.level == "unit":
        for d in lv.details:
            lines.append(f"       {d['unit']:24s} {'bit-exact' if d['bit_exact'] else 'MISMATCH'} ({d['checked']} outputs)")
    return lines


def _progress(level: str):
    def show(done: int, total: int) -> None:
        if total > 1:
            print(f"  {level}: {done}/{total} images simulated", file=sys.stderr, flush=True)
    return show


def run(args) -> int:
    from sim.cocotb_tests.unit_data import run_unit_level
    from sim.cosim import run_top_level
    if args.images is not None and args.images < 1:
        raise UserError(f"--images must be >= 1, got {args.images}")
    project_dir(args.project)
    levels = LEVELS if args.level == "all" else (args.level,)
    if args.rtl and "unit" in levels and args.level != "all":
        raise UserError("--rtl applies to the block and model levels (the units are the twin's own)")
    out = []
    for level in levels:
        if level == "unit":
            if args.rtl:
                continue
            lv = run_unit_level(args.project)
        else:
            lv = run_top_level(args.project, level, args.images, rtl=args.rtl, use_cocotb=args.cocotb,
                               progress=_progress(level))
        out.append(lv)
        if not args.json:
            print("\n".join(_fmt(lv)), flush=True)
    if args.json:
        print(json.dumps({"project": str(args.project), "rtl": str(args.rtl) if args.rtl else "twin",
                          "levels": [lv.as_dict() for lv in out]}, indent=1))
    bad = [lv for lv in out if not lv.bit_exact]
    if bad:
        if args.json:
            print(f"hlsgen cosim: {bad[0].level}: {bad[0].first_mismatch}", file=sys.stderr)
            return 1
        raise CosimMismatch(f"{bad[0].level} level differs from the golden model: {bad[0].first_mismatch}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("cosim", help="simulate the RTL twin (cocotb / Verilator): bit-exact + cycles vs model")
    p.add_argument("project", help="project directory written by `hlsgen generate`")
    p.add_argument("--level", choices=(*LEVELS, "all"), default="block", help="what to simulate (default: block)")
    p.add_argument("--images", type=int, default=None,
                   help="test images (default: 1 at the block level, every image at the model level)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rtl", default=None, help="simulate this Verilog (vit_top ports) instead of the twin")
    p.add_argument("--cocotb", action="store_true",
                   help="drive the top with the port-level cocotb testbench (Python AXI models, slower) "
                        "instead of the compiled C++ harness")
    p.set_defaults(func=run)
