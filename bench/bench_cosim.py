"""RTL twin co-simulation figures: bit-exactness, simulated vs modelled cycles per op type, build and
run times, simulation speed (cycles per second of the compiled Verilator harness).

    python bench/bench_cosim.py [--images N] [--deit-model] [--out bench/results/cosim.json]

Generates (into .cache/bench_cosim/) the digits project of the explorer's default design and the
deit_tiny one (seeded weights), then runs: digits block + model levels on N images, the digits model
with its token selectors, the digits model at two more parallelisms (the explorer's designs for 1000
FPS at 8 bits and 10000 FPS at 6 bits), the deit_tiny block level (and, with --deit-model, the whole deit_tiny
model: ~6 M cycles).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hlsgen.cmd_generate import generate  # noqa: E402
from sim.cosim import run_top_level  # noqa: E402


def project(name: str, model: str, images: int, prune: bool = False) -> Path:
    """Regenerated every run (the simulation builds are cached by source hash, so this costs seconds)."""
    return generate(model=model, out=REPO / ".cache" / "bench_cosim" / name, images=images, force=True,
                    prune=prune).out


def project_at(name: str, fps: str, bits: str, images: int) -> Path:
    """The digits design the explorer picks for `fps` at `bits` (other parallelisms than the default)."""
    import contextlib
    import io

    from hlsgen.cli import main as hlsgen_main
    out = REPO / ".cache" / "bench_cosim" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        assert hlsgen_main(["explore", "--model", "digits", "--fps", fps, "--bits", bits,
                            "-o", str(out.parent / f"{name}.yaml")]) == 0
    return generate(design_path=str(out.parent / f"{name}.yaml"), out=out, images=images, force=True).out


def show(name: str, lv) -> dict:
    print(f"{name:20s} {lv.level:6s} {'BIT-EXACT' if lv.bit_exact else 'MISMATCH'} images {lv.images} "
          f"cycles {lv.sim_cycles:,} model {lv.model_cycles:,} ratio {lv.cycle_ratio:.4f} "
          f"build {lv.build_s:.1f}s run {lv.run_s:.1f}s speed {lv.cycles_per_s:,} cycles/s")
    for op, r in lv.per_op.items():
        print(f"{'':27s}{op:14s} sim {r['sim']:>10,} model {r['model']:>10,} ratio {r['ratio']}")
    return {"project": name, **lv.as_dict()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--deit-model", action="store_true", help="also the whole deit_tiny model (minutes)")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "cosim.json"))
    args = ap.parse_args(argv)
    t0 = time.time()
    rows = []
    digits = project("digits", "digits", max(args.images, 8))
    rows.append(show("digits", run_top_level(digits, "block", images=args.images)))
    rows.append(show("digits", run_top_level(digits, "model", images=args.images)))
    sel = project("digits_sel", "digits", max(args.images, 8), prune=True)
    rows.append(show("digits_sel", run_top_level(sel, "model", images=args.images)))
    for name, fps, bits in (("digits_1000fps_8bit", "1000", "8"), ("digits_10000fps_6bit", "10000", "6")):
        rows.append(show(name, run_top_level(project_at(name, fps, bits, args.images), "model", images=args.images)))
    deit = project("deit_tiny", "deit_tiny", 1)
    rows.append(show("deit_tiny", run_top_level(deit, "block", images=1)))
    if args.deit_model:
        rows.append(show("deit_tiny", run_top_level(deit, "model", images=1)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"runs": rows, "seconds": round(time.time() - t0, 1)}, indent=1) + "\n")
    print(f"done in {time.time() - t0:.0f}s -> {args.out}")
    return 0 if all(r["bit_exact"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
