"""The Fashion-MNIST yardstick: the shipped fmnist checkpoints' accuracy on all 10,000 test images
(golden integer model, fake-quant, float; agreements, tokens per block, the worst-clipping layers)
at 8 and 6 bits with and without token selectors, and the HLS C-simulation bit-exact against the
golden model on the first N test images of each setting (a 1000 FPS ZCU102 design).

    python bench/bench_fmnist.py [--bits 8,6] [--images N] [--csim-images 1000] [--out bench/results/fmnist.json]

Results are merged by setting into --out, so precisions can be measured in separate runs.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hlsgen import api  # noqa: E402
from hlsgen.cmd_demo import SETTINGS, fidelity_table  # noqa: E402
from sim.csim import run_csim  # noqa: E402

CSIM_FPS = 1000.0


def csim_row(bits: int, prune: bool, images: int, tmp: Path) -> dict:
    """The explorer's 1000 FPS design held at `bits` (it would pick 8), the shipped checkpoint's
    selectors, the first `images` test images: C-simulated against the golden model."""
    from hlsgen.shipped_project import shipped_project
    t0 = time.time()
    out, _, design = shipped_project("fmnist", bits, prune, tmp / f"b{bits}{'_sel' if prune else ''}", fps=CSIM_FPS,
                                     images=images, trace_mb=8.0)
    t1 = time.time()
    r = run_csim(out)
    return {"bits": bits, "pruned": prune, "images": r.images, "bit_exact": r.bit_exact, "mismatched": r.mismatched,
            "first_mismatch": r.first_mismatch, "design_fps": round(design.predict().fps, 1),
            "generate_s": round(t1 - t0, 1), "csim_run_s": round(r.run_seconds, 1), "total_s": round(time.time() - t0, 1)}


def _cached(bits: int, prune: bool, images: int | None) -> dict | None:
    from quant.accuracy_key import accuracy_path, default_data, weights_identity
    from quant.paths import CACHE_ROOT
    from quant.spec import PRESETS
    spec = PRESETS["fmnist"]
    path = accuracy_path(CACHE_ROOT / "accuracy", spec, bits, prune, weights_identity("fmnist", None),
                         default_data("fmnist"))
    if not path.is_file():
        return None
    r = json.loads(path.read_text())
    return r if r.get("images") == (images or 10000) and "saturation" in r else None


def _key(r: dict) -> str:
    return f"b{r['bits']}" + ("_prune" if r["pruned"] else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=None, help="test images to evaluate on (default all 10,000)")
    ap.add_argument("--csim-images", type=int, default=1000, help="test images C-simulated per setting (0: none)")
    ap.add_argument("--bits", default="8,6", help="precisions to measure (default 8,6)")
    ap.add_argument("--cached", action="store_true",
                    help="take an evaluation `hlsgen evaluate` cached for these weights (same image count) "
                         "instead of repeating it")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "fmnist.json"))
    args = ap.parse_args(argv)
    wanted = {int(b) for b in args.bits.split(",")}
    settings = [(b, p) for b, p in SETTINGS if b in wanted]
    evals = []
    for bits, prune in settings:
        r = _cached(bits, prune, args.images) if args.cached else None
        r = r or api.evaluate("fmnist", bits, prune, images=args.images)
        evals.append(r)
        print(f"evaluate {bits}-bit{' + selectors' if prune else ''}: golden {r['accuracy']:.4f}, "
              f"{r['images']} images, {r['seconds']:.0f} s", flush=True)
    print(fidelity_table(evals))
    csims = []
    if args.csim_images:
        with tempfile.TemporaryDirectory(prefix="bench-fmnist-") as tmp:
            for bits, prune in settings:
                row = csim_row(bits, prune, args.csim_images, Path(tmp))
                csims.append(row)
                print(f"csim {bits}-bit{' + selectors' if prune else ''}: {'BIT-EXACT' if row['bit_exact'] else 'MISMATCH'} "
                      f"on {row['images']} images ({row['csim_run_s']} s run)", flush=True)
    out = Path(args.out)
    old = json.loads(out.read_text()) if out.is_file() else {"evaluate": {}, "csim": {}}
    for r in evals:
        old["evaluate"][_key(r)] = {k: v for k, v in r.items() if k != "saturation"} | {"saturation_top": r["saturation"]["top"]}
    for c in csims:
        old["csim"][_key(c)] = c
    order = [_key({"bits": b, "pruned": p}) for b, p in SETTINGS]
    merged_evals = [old["evaluate"][k] for k in order if k in old["evaluate"]]
    merged_csims = [old["csim"][k] for k in order if k in old["csim"]]
    md = ["## fmnist: golden integer model on the Fashion-MNIST test split", "", fidelity_table(merged_evals), ""]
    if merged_csims:
        md += ["## HLS C-simulation vs the golden model", "", "| bits | selectors | images | result | run s |",
               "|---|---|---|---|---|"]
        md += [f"| {c['bits']} | {'yes' if c['pruned'] else 'no'} | {c['images']} | "
               f"{'bit-exact' if c['bit_exact'] else 'MISMATCH'} | {c['csim_run_s']} |" for c in merged_csims]
    out.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
    out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0 if all(c["bit_exact"] for c in csims) else 1


if __name__ == "__main__":
    sys.exit(main())
