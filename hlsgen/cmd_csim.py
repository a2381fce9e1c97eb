"""`hlsgen csim DIR [--images N] [--json]`: C-simulate a generated project with g++ (no Vivado),
bit-exact against the golden model. With --json, one JSON object: bit_exact, images, first_mismatch
and the cycles the C++ takes per op type and in total (loop trips counted in the simulation, II and
depth from `hlsgen check`), next to the cycle model at the same token counts.

Exit codes: 0 bit-exact on every image, 1 a mismatch (or an unusable project)."""
from __future__ import annotations

import json
from pathlib import Path

from hlsgen.cmd_check import project_dir
from quant.errors import UserError


class CsimMismatch(UserError):
    """The simulation ran and disagreed with the golden model."""


def csim_cycles(project: Path, res) -> dict:
    """The cycle comparison of a profiled run (sim.csim_cycles) with the project's check report."""
    from hlsgen.check_project import check_dir
    from hlsgen.cmd_check import load_project_design
    from sim.aptypes import aptypes_include_dir
    from sim.csim_cycles import cycles_report
    design = load_project_design(project)
    report = check_dir(project, design, aptypes_include_dir())
    cycles = cycles_report(res.profile or "", report, design)
    clock = design.clock_mhz * 1e6
    fps = {"csim": round(clock * res.images / cycles["total"]["csim"], 3) if cycles["total"]["csim"] else None,
           "model": round(clock * res.images / cycles["total"]["model"], 3) if cycles["total"]["model"] else None}
    return {"cycles": cycles, "fps": fps}


def run(args) -> int:
    from sim.csim import run_csim
    if args.images is not None and args.images < 1:
        raise UserError(f"--images must be >= 1, got {args.images}")
    project = project_dir(args.project)
    res = run_csim(project, max_images=args.images, jobs=args.jobs,
                   echo=(lambda line: print(line, flush=True)) if args.verbose and not args.json else None,
                   exact_acc=args.exact_acc, profile=args.json)
    if args.json:
        out = {"bit_exact": res.bit_exact, "images": res.images, "first_mismatch": res.first_mismatch,
               **csim_cycles(project, res)}
        print(json.dumps(out, indent=1))
        return 0 if res.bit_exact else 1
    build = "cached build" if res.build_cached else f"compiled in {res.build_seconds:.1f} s"
    if not args.verbose:
        for line in res.output.splitlines():
            if line.startswith(("image ", "first mismatch", "bit-exact")):
                print(line)
    print(f"csim {args.project}: {res.images} image(s), {build}, ran in {res.run_seconds:.1f} s")
    if not res.bit_exact:
        raise CsimMismatch(f"{res.mismatched} of {res.images} image(s) differ from the golden model; "
                           f"first: {res.first_mismatch}")
    print("result: BIT-EXACT")
    return 0


def register(sub) -> None:
    p = sub.add_parser("csim", help="compile a generated project with g++ and run its testbench (bit-exact check)")
    p.add_argument("project", help="project directory written by `hlsgen generate`")
    p.add_argument("--images", type=int, default=None, help="run only the first N test images")
    p.add_argument("--jobs", type=int, default=None, help="parallel compiler processes")
    p.add_argument("--exact-acc", action="store_true",
                   help="simulate the MAC accumulators with the exact-width ap_int types of synthesis (slower)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: bit-exactness and the cycles the C++ takes per op type vs the model")
    p.add_argument("-v", "--verbose", action="store_true", help="print the testbench output as it runs")
    p.set_defaults(func=run)
