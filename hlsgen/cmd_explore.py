"""`hlsgen explore` (choose a design for a target FPS) and `hlsgen sweep` (precision vs FPS tables and
plots). Exit codes: 0 ok, 1 user error (bad argument, bad yaml), 2 no design meets the target."""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

from hlsgen.board import resolve_board
from hlsgen.design import lane_limits, save_design
from hlsgen.dse import DEFAULT_BITS, InfeasibleError, accuracy_info, accuracy_text, explore
from hlsgen.ops_resources import KEYS
from hlsgen.precision_sweep import run_sweep, selectors_label, sweep_markdown, write_sweep
from quant.errors import UserError
from quant.spec import resolve_spec


class ArgumentError(UserError):
    pass


def parse_bits(text: str) -> list[int]:
    out = []
    for item in str(text).split(","):
        item = item.strip()
        try:
            b = int(item)
        except ValueError:
            raise ArgumentError(f"--bits: {item!r} is not an integer (expected a list like 4,5,6,8)") from None
        if not 2 <= b <= 8:
            raise ArgumentError(f"--bits: {b} is outside the supported activation precisions 2..8")
        out.append(b)
    return sorted(set(out), reverse=True)


def parse_positive(flag: str, text: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise ArgumentError(f"{flag}: {text!r} is not a number") from None
    if not (v > 0 and math.isfinite(v)):
        raise ArgumentError(f"{flag}: must be a positive number, got {text}")
    return v


def parse_targets(text: str) -> list[float]:
    return [parse_positive("--targets", t) for t in str(text).split(",") if t.strip()] if text else []


def _progress(step, total, msg):
    print(f"[{step}/{total}] {msg}", file=sys.stderr, flush=True)


# ---- explore -----------------------------------------------------------------------------------------
def _choice_json(choice) -> dict:
    d, p = choice.design, choice.prediction
    u = p.utilization()
    return {"act_bits": d.act_bits, "fps": round(p.fps, 3), "fps_worst": round(p.fps_worst, 3),
            "latency_ms": round(p.latency_ms, 4), "latency_ms_worst": round(p.latency_ms_worst, 4),
            "cycles_per_frame": p.cycles, "cycles_per_frame_worst": p.cycles_worst,
            "resources": p.resources, "utilization": {k: round(v, 4) if math.isfinite(v) else None for k, v in u.items()},
            "parallelism": d.parallelism.as_dict(),
            "selectors": [{"block": s.block, "keep_ratio": s.keep_ratio} for s in d.selectors],
            "lane_limits": lane_limits(d.parallelism, d.spec),
            "accuracy_estimate": round(choice.accuracy[0], 5), "accuracy_source": choice.accuracy[1],
            "bound": choice.bound}


def result_json(result, design_file=None) -> dict:
    b = result.board
    out = {"model": result.spec.name, "board": b.name, "part": b.part, "clock_mhz": result.clock_mhz,
           "target_fps": result.target_fps, "prune": result.prune, "feasible": result.feasible,
           "target_case": result.case or "dense",
           "available": b.available(), "device": dict(b.resources),
           "per_precision": [{"act_bits": r.bits, "meets_target": r.meets,
                              "best_fps": round(r.best.prediction.fps, 3) if r.best else None,
                              "best_fps_worst": round(r.best.prediction.fps_worst, 3) if r.best else None,
                              "bound": r.best.bound if r.best else "no fit"} for r in result.per_precision]}
    if result.feasible:
        c = result.chosen
        out.update(_choice_json(c))
        out["per_layer"] = [{"name": r["name"], "op": r["op"], "engine": r["engine"], "cycles": r["cycles"],
                             "cycles_worst": r["cycles_worst"], "bound": r["bound"]} for r in c.prediction.per_layer]
        out["ddr_bytes_per_frame"] = c.prediction.ddr_bytes_per_frame
        out["breakdown"] = c.prediction.breakdown
        if design_file:
            out["design_file"] = str(design_file)
    else:
        out.update({"act_bits": None, "fps": None, "latency_ms": None, "cycles_per_frame": None,
                    "resources": None, "parallelism": None, "selectors": [], "per_layer": [],
                    "message": result.infeasible_message()})
    return out


def _print_human(result, design_file=None):
    b = result.board
    c = result.chosen
    d, p = c.design, c.prediction
    u = p.utilization()
    print(f"{result.spec.name} on {b.name} ({b.part}) at {result.clock_mhz:g} MHz, target {result.target_fps:g} FPS")
    if d.selectors:
        print(f"  chosen: {d.act_bits}-bit activations, {p.fps:.1f} FPS expected ({p.latency_ms:.2f} ms, "
              f"{p.cycles:,} cycles/frame), {p.fps_worst:.1f} FPS worst case ({p.latency_ms_worst:.2f} ms); "
              f"target met in the {result.case}" + ("" if result.worst_case else " (--worst-case for the worst)"))
    else:
        print(f"  chosen: {d.act_bits}-bit activations, {p.fps:.1f} FPS ({p.latency_ms:.2f} ms, {p.cycles:,} cycles/frame)")
    print("  parallelism: " + ", ".join(f"{k}={v}" for k, v in d.parallelism.as_dict().items()))
    print("  selectors: " + (", ".join(f"before block {s.block} keep {s.keep_ratio:g}" for s in d.selectors)
                             if d.selectors else "none"))
    print("  resources (of the usable budget): " + ", ".join(f"{k.upper()} {p.resources[k]:,} / {p.available[k]:,} ({u[k]:.0%})"
                                                             for k in KEYS if b.resources[k]))
    print(f"  accuracy: {accuracy_text(c.accuracy)}; closest limit: {c.bound}")
    by_op: dict = {}
    for r in p.per_layer:
        by_op[r["op"]] = by_op.get(r["op"], 0) + r["cycles"]
    print("  cycles by op: " + ", ".join(f"{k} {v / p.cycles:.0%}" for k, v in
                                         sorted(by_op.items(), key=lambda kv: -kv[1]) if v))
    mem = [r["name"] for r in p.per_layer if r["bound"] == "memory"]
    print(f"  memory-bound ops: {len(mem)} of {len(p.per_layer)}" + (f" ({', '.join(mem[:4])}{', ...' if len(mem) > 4 else ''})" if mem else ""))
    for r in result.per_precision:
        if r.best:
            bp = r.best.prediction
            fps = (f"{bp.fps:.1f} FPS expected, {bp.fps_worst:.1f} worst case" if r.best.design.selectors
                   else f"{bp.fps:.1f} FPS")
            print(f"  {r.bits}-bit: best {fps} (bound: {r.best.bound})"
                  + (f" - meets the target{' (' + result.case + ')' if result.case else ''}" if r.meets else ""))
            _print_lane_limits(r.best.design)
    if design_file:
        print(f"  design written to {design_file}")


def _print_lane_limits(design) -> None:
    lim = lane_limits(design.parallelism, design.spec)
    if lim:
        print("      at the lane rules' limit (HLS banking): "
              + "; ".join(f"{x['field']}={x['value']} ({x['rule']})" for x in lim))


def run_explore(args) -> int:
    spec = resolve_spec(args.model)
    board = resolve_board(args.board)
    fps = parse_positive("--fps", args.fps)
    bits = parse_bits(args.bits)
    clock = board.check_clock(parse_positive("--clock", args.clock)) if args.clock is not None else None
    if args.output and Path(args.output).is_dir():   # say so before the search, not after it
        raise ArgumentError(f"-o {args.output}: is a directory; give the design file's name, "
                            f"e.g. {Path(args.output) / 'design.yaml'}")
    progress = (lambda s, n, b, cfg: _progress(s, n, f"{b}-bit, selectors {selectors_label(cfg)}")) if args.prune else None
    from hlsgen import api
    try:
        found = api.explore(spec, board, fps, bits=bits, prune=args.prune, clock=clock, worst_case=args.worst_case,
                            progress=progress)
    except InfeasibleError as e:
        if args.json and getattr(e, "result", None) is not None:
            print(json.dumps(e.result.as_dict(), indent=2))
        raise
    result = found.raw
    if args.output:
        c = result.chosen
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        save_design(c.design, args.output, accuracy_info(c.accuracy))
    if args.json:
        print(json.dumps(result_json(result, args.output), indent=2))
    else:
        _print_human(result, args.output)
    return 0


# ---- sweep -----------------------------------------------------------------------------------------
def run_sweep_cmd(args) -> int:
    spec = resolve_spec(args.model)
    board = resolve_board(args.board)
    bits = parse_bits(args.bits)
    clock = board.check_clock(parse_positive("--clock", args.clock)) if args.clock is not None else None
    targets = parse_targets(args.targets)
    if Path(args.output).exists() and not Path(args.output).is_dir():   # before the search, not after it
        raise ArgumentError(f"-o {args.output}: is a file; sweep writes sweep.csv, sweep.md, sweep.png and "
                            "resources.png into a directory")
    t0 = time.perf_counter()
    from hlsgen import api
    res = api.sweep(spec, board, bits=bits, prune=args.prune, clock=clock, targets=targets, progress=_progress)
    t_search = time.perf_counter() - t0
    files = write_sweep(res, args.output)
    print(sweep_markdown(res))
    print(f"search {t_search:.2f} s, total {time.perf_counter() - t0:.2f} s; wrote " + ", ".join(str(f) for f in files))
    return 0


def register(subparsers) -> None:
    bits_default = ",".join(map(str, DEFAULT_BITS))
    # usage errors exit 1 (2 means 'infeasible'), on one line: hlsgen.cli's parser class does it
    p = subparsers.add_parser(
        "explore", help="choose activation precision, parallelism and token selectors for a target FPS",
        description="Search activation precision x engine parallelism (x token selectors with --prune) "
                    "against the board's cycle and resource model; pick the highest precision that meets "
                    "the target FPS. Exit 2 when no design meets it.")
    p.add_argument("--model", required=True, help="preset name (deit_tiny, deit_small, deit_base, digits, fmnist) or spec yaml")
    p.add_argument("--board", default="zcu102", help="board name (boards/<name>/board.yaml) or a board yaml path")
    p.add_argument("--fps", required=True, help="target frames per second")
    p.add_argument("--bits", default=bits_default, help=f"allowed activation precisions (default {bits_default})")
    p.add_argument("--prune", action="store_true", help="also search HeatViT token-selector placement and keep ratios")
    p.add_argument("--worst-case", action="store_true",
                   help="with token selectors, meet the target in the worst case (every token kept), not the expected")
    p.add_argument("--clock", default=None, help="accelerator clock in MHz (default: the board's)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-o", "--output", default=None, help="write the chosen design point yaml here")
    p.set_defaults(func=run_explore)

    s = subparsers.add_parser(
        "sweep", help="fastest design per activation precision: csv, markdown and plots",
        description="For every activation precision (and selector setting with --prune) find the fastest "
                    "design that fits; write sweep.csv, sweep.md, sweep.png and resources.png.")
    s.add_argument("--model", required=True, help="preset name (deit_tiny, deit_small, deit_base, digits, fmnist) or spec yaml")
    s.add_argument("--board", default="zcu102", help="board name (boards/<name>/board.yaml) or a board yaml path")
    s.add_argument("--bits", default=bits_default, help=f"activation precisions to sweep (default {bits_default})")
    s.add_argument("--prune", action="store_true",
                   help="also sweep HeatViT token-selector settings (FPS: expected case at the keep ratios)")
    s.add_argument("--clock", default=None, help="accelerator clock in MHz (default: the board's)")
    s.add_argument("--targets", default="",
                   help="comma-separated FPS targets: lines in the plot and 'met at' lines in sweep.md (default none; "
                        "VAQF's DeiT-Base figures are 24,30)")
    s.add_argument("-o", "--output", required=True, help="output directory (sweep.csv, sweep.md, sweep.png, resources.png)")
    s.set_defaults(func=run_sweep_cmd)
