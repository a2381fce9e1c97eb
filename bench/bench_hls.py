"""The HLS project against the design that chose it: modelled FPS, FPS from the cycles the C++ takes
(C-simulation loop counts x the II and depth `hlsgen check` reads), FPS from the RTL twin, and the
structural DSP / BRAM36 count of the C++ next to the resource model, for the deit_tiny default and a
deit_base 24 FPS design. "Before" is commit 6662a72 (before issue 9), measured once with that commit's
model and the new `hlsgen check` run on its generated C++ (the old C++ has no loop counters, so no
C-simulation cycle count exists for it).

    python bench/bench_hls.py [--quick] [--out bench/results/hls.json]

--quick skips the RTL twin (Verilator builds of DeiT-scale engines take minutes).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hlsgen.cmd_csim import csim_cycles  # noqa: E402
from hlsgen.cmd_generate import generate  # noqa: E402
from sim.csim import run_csim  # noqa: E402

CASES = (("deit_tiny default", "deit_tiny", 30.0, "model"), ("deit_base 24 FPS", "deit_base", 24.0, "block"))
# commit 6662a72: its explorer's designs and model; `hlsgen check` of this commit run on their C++
BEFORE = {
    "deit_tiny default": {"design": "PE 6 x SIMD 64, att 4 x 32, i8 2 x 32, softmax 1, LN 2, GELU 2", "fps_model": 30.27,
                          "check_errors": 44, "dsp_model": 208, "dsp_structural": 1671, "bram36_model": 136,
                          "bram36_structural": 234.5},
    "deit_base 24 FPS": {"design": "PE 12 x SIMD 256, att 16 x 32, i8 8 x 64, softmax 8, LN 16, GELU 4", "fps_model": 24.2,
                         "check_errors": 53, "dsp_model": 943, "dsp_structural": 8422, "bram36_model": 441,
                         "bram36_structural": 556.5},
}


def par_text(p: dict) -> str:
    return (f"PE {p['pe']} x SIMD {p['simd']}, att {p['att_pe']} x {p['att_simd']}, i8 {p['i8_pe']} x {p['i8_simd']}, "
            f"softmax {p['softmax_lanes']}, LN {p['ln_lanes']}, GELU {p['gelu_lanes']}")


def run_case(name: str, model: str, fps: float, twin_level: str | None) -> dict:
    t0 = time.time()
    g = generate(model, "zcu102", fps, images=1, out=REPO / ".cache" / "bench_hls" / model, force=True)
    pred = g.design.predict()
    check = json.loads((g.out / "report" / "check.json").read_text())
    res = run_csim(g.out, max_images=1, profile=True)
    cyc = csim_cycles(g.out, res)
    row = {"case": name, "design": par_text(g.design.parallelism.as_dict()), "fps_model": round(pred.fps, 2),
           "fps_csim": cyc["fps"]["csim"], "csim_bit_exact": res.bit_exact, "csim_cycles": cyc["cycles"],
           "check_errors": len(check["errors"]), "check_warnings": len(check["warnings"]),
           "dsp": check["resources"]["model"]["dsp"], "bram36": check["resources"]["model"]["bram36"]}
    if twin_level:
        from sim.cosim import run_top_level
        lv = run_top_level(g.out, twin_level, images=1)
        row["twin"] = {"level": twin_level, "bit_exact": lv.bit_exact, "cycle_ratio": lv.cycle_ratio,
                       "fps": round(pred.fps / lv.cycle_ratio, 2)}
    row["seconds"] = round(time.time() - t0, 1)
    return row


def table(rows: list[dict]) -> str:
    out = ["| case | | design | FPS model | FPS csim count | FPS twin | DSP model / structural | "
           "BRAM36 model / structural | hlsgen check |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b = BEFORE[r["case"]]
        out.append(f"| {r['case']} | before (6662a72) | {b['design']} | {b['fps_model']} | - | - | "
                   f"{b['dsp_model']} / {b['dsp_structural']} | {b['bram36_model']} / {b['bram36_structural']} | "
                   f"{b['check_errors']} errors |")
        twin = r.get("twin")
        twin_s = f"{twin['fps']} ({twin['level']} level, x{twin['cycle_ratio']:.4f})" if twin else "(--quick)"
        out.append(f"| {r['case']} | after | {r['design']} | {r['fps_model']} | {r['fps_csim']} | {twin_s} | "
                   f"{r['dsp']['model']:g} / {r['dsp']['structural']:g} | {r['bram36']['model']:g} / "
                   f"{r['bram36']['structural']:g} | {r['check_errors']} errors, {r['check_warnings']} warnings |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="no RTL twin")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "hls.json"))
    args = ap.parse_args(argv)
    rows = []
    for name, model, fps, level in CASES:
        rows.append(run_case(name, model, fps, None if args.quick else level))
        print(f"{name}: {rows[-1]['fps_model']} FPS model, {rows[-1]['fps_csim']} FPS csim ({rows[-1]['seconds']} s)",
              flush=True)
    md = table(rows)
    print(md)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": rows, "before": BEFORE}, indent=1) + "\n")
    out.with_suffix(".md").write_text(md + "\n")
    ok = all(r["csim_bit_exact"] and r["check_errors"] == 0 and abs(r["fps_csim"] / r["fps_model"] - 1) <= 0.05
             for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
