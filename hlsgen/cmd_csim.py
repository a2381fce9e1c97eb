"""`hlsgen csim DIR`: C-simulate a generated project with g++ (no Vivado), bit-exact against the golden model.

Exit codes: 0 bit-exact on every image, 1 a mismatch (or an unusable project)."""
from __future__ import annotations

from quant.errors import UserError


class CsimMismatch(UserError):
    """The simulation ran and disagreed with the golden model."""


def run(args) -> int:
    from sim.csim import run_csim
    if args.images is not None and args.images < 1:
        raise UserError(f"--images must be >= 1, got {args.images}")
    res = run_csim(args.project, max_images=args.images, jobs=args.jobs,
                   echo=(lambda line: print(line, flush=True)) if args.verbose else None, exact_acc=args.exact_acc)
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
    p.add_argument("-v", "--verbose", action="store_true", help="print the testbench output as it runs")
    p.set_defaults(func=run)
