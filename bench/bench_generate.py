"""Project generation and C-simulation time for DeiT-Tiny and DeiT-Base (one 224x224 image each).

For each model (default design: `hlsgen generate` defaults, 30 FPS on the ZCU102; and the 6-bit
variant of the same parallelism), measures: generate (explore, model preparation, golden model and
emission, write), project size, csim build (g++, cold: the build cache is bypassed by a fresh cache
folder) and run, and a second csim (cached build). Writes bench/results/generate.json and .md and
prints the table. Exit code 1 if a csim is not bit-exact.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim.aptypes as aptypes  # noqa: E402
from hlsgen import emit  # noqa: E402
from hlsgen.board import resolve_board  # noqa: E402
from hlsgen.cmd_generate import explore_design, generate  # noqa: E402
from hlsgen.design import save_design  # noqa: E402
from quant.spec import PRESETS  # noqa: E402
from sim.csim import run_csim  # noqa: E402

OUT = ROOT / "bench" / "results"
CASES = (("deit_tiny", 8), ("deit_tiny", 6), ("deit_base", 8))


def bench_case(model: str, bits: int, tmp: Path) -> dict:
    design, _ = explore_design(PRESETS[model], resolve_board("zcu102"), 30.0)
    path = tmp / f"{model}_{bits}.yaml"
    save_design(replace(design, act_bits=bits), path)
    t0 = time.perf_counter()
    g = generate(design_path=str(path), out=tmp / f"{model}_{bits}", images=1)
    t_gen = time.perf_counter() - t0
    # cold build: a private cache folder, so nothing compiled earlier is reused
    saved = aptypes.CACHE_DIR
    aptypes.CACHE_DIR = tmp / f"cache_{model}_{bits}"
    try:
        first = run_csim(g.out)
        second = run_csim(g.out)
    finally:
        aptypes.CACHE_DIR = saved
    files = g.project.files
    d = g.design
    return {
        "model": model, "act_bits": bits, "parallelism": d.parallelism.as_dict(),
        "predicted_fps": round(d.predict().fps, 2),
        "generate_s": round(t_gen, 2), "generate_steps_s": {k: round(v, 2) for k, v in g.seconds.items()},
        "project_mb": round(sum(len(v) for v in files.values()) / 1e6, 2),
        "weights_mb": round(len(files["data/weights.bin"]) / 1e6, 2),
        "golden_mb": round(len(files["data/golden.bin"]) / 1e6, 2),
        "trace_layers_full": g.project.golden.full_layers, "trace_layers_checksum": g.project.golden.hashed_layers,
        "csim_build_s": round(first.build_seconds, 2), "csim_run_s": round(first.run_seconds, 2),
        "csim_cached_build_s": round(second.build_seconds, 2), "csim_cached": second.build_cached,
        "csim_second_run_s": round(second.run_seconds, 2),
        "bit_exact": first.bit_exact and second.bit_exact, "images": first.images,
    }


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, bits in CASES:
            print(f"{model} {bits}-bit ...", file=sys.stderr, flush=True)
            rows.append(bench_case(model, bits, Path(tmp)))
    md = ["| model | act. bits | generate (s) | project (MB) | weights / golden (MB) | csim build, cold (s) "
          "| csim run (s) | 2nd csim: build + run (s) | bit-exact |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['model']} | {r['act_bits']} | {r['generate_s']:.1f} | {r['project_mb']:.1f} | "
                  f"{r['weights_mb']:.1f} / {r['golden_mb']:.1f} | {r['csim_build_s']:.1f} | {r['csim_run_s']:.1f} | "
                  f"{r['csim_cached_build_s']:.1f} + {r['csim_second_run_s']:.1f}"
                  f"{' (cached)' if r['csim_cached'] else ''} | {'yes' if r['bit_exact'] else 'NO'} |")
    text = ("# Project generation and C-simulation (one 224x224 image, ZCU102 design for 30 FPS)\n\n"
            + "\n".join(md) + "\n\ngenerate = explore + model preparation (calibration) + golden model + emission + "
            f"write; golden trace budget {emit.DEFAULT_TRACE_MB:g} MB (the rest as checksums).\n")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "generate.json").write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    (OUT / "generate.md").write_text(text)
    print(text)
    bad = [r for r in rows if not r["bit_exact"]]
    for r in bad:
        print(f"NOT BIT-EXACT: {r['model']} {r['act_bits']}-bit", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
