"""Anchor figures: the cycle/resource model of hlsgen next to published ZCU102 accelerators, the
board's roofline, and the time of a full DeiT-Base precision sweep.

Writes bench/results/anchors.json and bench/results/anchors.md and prints the markdown table.
Exit code 1 if an anchor the issue requires is missed (DeiT-Base must meet 24 FPS at 8-bit and
30 FPS at 6-bit activations on the ZCU102 at 200 MHz) or the sweep takes 2 s or more.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hlsgen.board import resolve_board  # noqa: E402
from hlsgen.dse import Explorer, explore, fastest  # noqa: E402
from hlsgen.ops_resources import binary_lut_per_lane, infrastructure, radd, res  # noqa: E402
from hlsgen.schedule import macs_per_frame  # noqa: E402
from hlsgen.precision_sweep import run_sweep, write_sweep  # noqa: E402
from quant.spec import PRESETS, default_selectors  # noqa: E402

CLOCK = 200.0
OUT = ROOT / "bench" / "results"


def best_design(ex: Explorer, bits: int, selectors=()):
    cands = ex.candidates(bits, tuple(selectors))
    i = fastest(cands)
    d = ex.design(cands, i)
    return d, d.predict()


def roofline(board, spec, bits: int) -> dict:
    """Upper bounds of the board for this model, every resource busy all the time: binary MACs on
    LUT adder trees (usable LUTs minus platform/infrastructure, binary_lut_per_lane(bits) each),
    the other MACs on DSPs (2 per DSP48E2, packed), weights at the sustained DDR rate."""
    fixed = radd(infrastructure(board), res(**board.platform))
    f = CLOCK * 1e6
    lut_lanes = (board.usable_amount("lut") - fixed["lut"]) / binary_lut_per_lane(bits)
    dsp_macs = 2 * board.usable_amount("dsp")
    macs = macs_per_frame(spec)
    ddr = sum(op.weight_bytes() for op in ex_schedule(spec))
    bw = board.memory.bytes_per_cycle(CLOCK) * f
    out = {"lut_gmacs": lut_lanes * f / 1e9, "dsp_gmacs": dsp_macs * f / 1e9, "ddr_gbps": bw / 1e9,
           "fps_lut": lut_lanes * f / macs["binary"], "fps_dsp": dsp_macs * f / (macs["attention"] + macs["int8"]),
           "fps_bandwidth": bw / ddr, "ddr_mb_per_frame": ddr / 1e6}
    out["fps_roofline"] = min(out["fps_lut"], out["fps_dsp"], out["fps_bandwidth"])
    return out


# issue 10's targets (model, 200 MHz, inside the board's usable resources): (preset, bits, selectors?, FPS)
TARGETS = (("deit_base", 8, False, 80.0), ("deit_base", 6, False, 90.0), ("deit_base", 4, False, 110.0),
           ("deit_small", 8, False, 200.0), ("deit_small", 8, True, 400.0), ("deit_tiny", 8, False, 600.0))


def target_rows(board) -> list[dict]:
    """The fastest design the explorer finds for each target: throughput, latency, share of the compute
    bound (dense MACs; selectors lower the MACs, so a pruned design may exceed it) and what binds (the
    most used resource of the fastest design that fits)."""
    rows = []
    for name, bits, pruned, fps in TARGETS:
        spec = PRESETS[name]
        d, p = best_design(Explorer(spec, board, CLOCK), bits, default_selectors(spec.depth) if pruned else ())
        bound = roofline(board, spec, bits)["fps_roofline"]
        u = p.utilization()
        binds = max(u, key=u.get)
        rows.append({"model": name, "bits": bits, "selectors": pruned, "target_fps": fps, "fps": round(p.fps, 2),
                     "latency_ms": round(p.latency_ms, 3), "bound_fps": round(bound, 1),
                     "of_bound": round(p.fps / bound, 3), "binds": f"{binds.upper()} {u[binds]:.0%}",
                     "parallelism": d.parallelism.as_dict(), "met": p.fps >= fps})
    return rows


def target_table(rows) -> str:
    md = ["| model | act. bits | selectors | target FPS | ours FPS | latency ms | compute bound FPS | ours / bound "
          "| most used resource | met |", "|---|---|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['model']} | {r['bits']} | {'default' if r['selectors'] else 'none'} | {r['target_fps']:g} "
           f"| {r['fps']:.1f} | {r['latency_ms']:.2f} | {r['bound_fps']:.0f} | {r['of_bound']:.0%} | {r['binds']} "
           f"| {'yes' if r['met'] else 'no'} |" for r in rows]
    return "\n".join(md)


def ex_schedule(spec):
    from hlsgen.schedule import build_schedule
    return build_schedule(spec).ops


def main() -> int:
    board = resolve_board("zcu102")
    base, small = PRESETS["deit_base"], PRESETS["deit_small"]
    ex = Explorer(base, board, CLOCK)
    rows, failures = [], []

    best = {b: best_design(ex, b) for b in (8, 6, 5, 4)}
    met8 = explore(base, board, 24.0, bits=[8], clock_mhz=CLOCK)
    met6 = explore(base, board, 30.0, bits=[6], clock_mhz=CLOCK)
    if not met8.feasible:
        failures.append("DeiT-Base does not meet 24 FPS at 8-bit")
    if not met6.feasible:
        failures.append("DeiT-Base does not meet 30 FPS at 6-bit")

    def util(p):
        u = p.utilization()
        return f"LUT {u['lut']:.0%}, DSP {u['dsp']:.0%}, BRAM {u['bram36']:.0%}"

    for bits, ref, src in ((8, "24 FPS target met", "VAQF (8-bit act., binary weights)"),
                           (6, "30 FPS target met", "VAQF (6-bit act., binary weights)")):
        d, p = best[bits]
        chosen = (met8 if bits == 8 else met6).chosen
        rows.append({"case": f"DeiT-Base, {bits}-bit act., fastest design",
                     "ours": f"{p.fps:.1f} FPS, {p.latency_ms:.1f} ms",
                     "reference": ref, "source": src,
                     "note": f"{util(p)}; smallest design meeting the target: "
                             + (f"{chosen.prediction.fps:.1f} FPS, {util(chosen.prediction)}" if chosen else "none")})
    fastest_bits = max(best, key=lambda b: best[b][1].fps)
    rows.append({"case": "DeiT-Base, fastest precision", "ours": f"{best[fastest_bits][1].fps:.1f} FPS, "
                 f"{best[fastest_bits][1].latency_ms:.1f} ms ({fastest_bits}-bit act.)", "reference": "56.8 FPS", "source": "Auto-ViT-Acc (mixed 4/8-bit)",
                 "note": f"ours at 8-bit {best[8][1].fps:.1f}, 6-bit {best[6][1].fps:.1f}, 5-bit {best[5][1].fps:.1f}"})

    ex_s = Explorer(small, board, CLOCK)
    d_dense, p_dense = best_design(ex_s, 8)
    d_pr, p_pr = best_design(ex_s, 8, default_selectors(small.depth))
    rows.append({"case": "DeiT-Small, 8-bit act. + HeatViT selectors (0.7/0.49/0.343 before blocks 3/6/9)",
                 "ours": f"{p_pr.latency_ms:.2f} ms expected, {p_pr.latency_ms_worst:.2f} ms worst",
                 "reference": "~9 ms", "source": "HeatViT (8-bit weights and act. on DSPs)",
                 "note": f"dense 8-bit: {p_dense.latency_ms:.2f} ms; ours has binary weights"})

    ex_t = Explorer(PRESETS["deit_tiny"], board, CLOCK)
    p_tiny, p_small = best_design(ex_t, 8)[1], p_dense
    rows.append({"case": "DeiT-Tiny / DeiT-Small, 8-bit act., fastest design",
                 "ours": f"{p_tiny.fps:.0f} / {p_small.fps:.0f} FPS, {p_tiny.latency_ms:.2f} / "
                         f"{p_small.latency_ms:.2f} ms", "reference": "101-252 FPS",
                 "source": "Quasar-ViT (its own hardware-oriented ViT variants, ZCU102)",
                 "note": "layer-sequential engines: latency = 1 / throughput (one frame in flight)"})

    roof = {b: roofline(board, base, b) for b in (8, 6)}
    for b in (8, 6):
        r = roof[b]
        rows.append({"case": f"Roofline ZCU102 @ {CLOCK:g} MHz, DeiT-Base {b}-bit act.",
                     "ours": f"{best[b][1].fps:.1f} FPS ({best[b][1].fps / r['fps_roofline']:.0%} of bound)",
                     "reference": f"{r['fps_roofline']:.1f} FPS",
                     "source": "board peak (this model's assumptions)",
                     "note": f"LUT {r['lut_gmacs']:.0f} GMAC/s -> {r['fps_lut']:.0f} FPS; DSP {r['dsp_gmacs']:.0f} "
                             f"GMAC/s -> {r['fps_dsp']:.0f} FPS; DDR {r['ddr_gbps']:.2f} GB/s, "
                             f"{r['ddr_mb_per_frame']:.1f} MB/frame -> {r['fps_bandwidth']:.0f} FPS"})

    # full DeiT-Base sweep (search + csv/md/png), fresh explorer so nothing is cached
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        sw = run_sweep(base, board, bits=(4, 5, 6, 8), clock_mhz=CLOCK, targets=(24, 30))
        t_search = time.perf_counter() - t0
        write_sweep(sw, tmp)
        t_sweep = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_sweep(base, board, bits=(4, 5, 6, 8), prune=True, clock_mhz=CLOCK)
        t_prune = time.perf_counter() - t0
    if t_sweep >= 2.0:
        failures.append(f"DeiT-Base sweep took {t_sweep:.2f} s (must be < 2 s)")
    rows.append({"case": "Full DeiT-Base sweep (4,5,6,8-bit; search + csv/md/png)", "ours": f"{t_sweep:.2f} s",
                 "reference": "< 2 s", "source": "issue requirement",
                 "note": f"search {t_search:.2f} s; with --prune (16 selector settings x 4 precisions) {t_prune:.2f} s"})

    md = ["| case | hlsgen model | reference | source | note |", "|---|---|---|---|---|"]
    md += [f"| {r['case']} | {r['ours']} | {r['reference']} | {r['source']} | {r['note']} |" for r in rows]
    targets = target_rows(board)
    text = (f"# Anchors: hlsgen model vs published ZCU102 accelerators ({CLOCK:g} MHz)\n\n" + "\n".join(md) + "\n"
            f"\n## Targets of issue 10 (not yet met ones are open work, not a failure of this bench)\n\n"
            + target_table(targets) + "\n")
    data = {"board": board.name, "clock_mhz": CLOCK, "rows": rows,
            "deit_base": {str(b): {"fps": round(p.fps, 3), "cycles": p.cycles, "resources": p.resources,
                                   "parallelism": d.parallelism.as_dict()} for b, (d, p) in best.items()},
            "deit_base_meets": {"24fps_8bit": met8.feasible, "30fps_6bit": met6.feasible},
            "deit_small_pruned_8bit": {"latency_ms": round(p_pr.latency_ms, 4),
                                       "latency_ms_worst": round(p_pr.latency_ms_worst, 4),
                                       "dense_latency_ms": round(p_dense.latency_ms, 4),
                                       "parallelism": d_pr.parallelism.as_dict()},
            "roofline": {str(b): {k: round(v, 3) for k, v in r.items()} for b, r in roof.items()},
            "sweep_seconds": round(t_sweep, 3), "sweep_search_seconds": round(t_search, 3),
            "sweep_prune_seconds": round(t_prune, 3), "targets": targets, "failures": failures}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "anchors.json").write_text(json.dumps(data, indent=2) + "\n")
    (OUT / "anchors.md").write_text(text)
    print(text)
    for f in failures:
        print(f"ANCHOR MISSED: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
