"""`hlsgen generate`: explore (or read) a design point and write its complete HLS project.

    hlsgen generate [--model M] [--board B] [--fps F] [--design design.yaml] [--weights CKPT]
                    [--prune] [--images N] [--trace-mb MB] -o DIR [--force]

Defaults: deit_tiny, zcu102, 30 FPS. The model's weights: shipped checkpoints (digits, fmnist), a user
checkpoint (--weights), or seeded weights (post-training quantization). Token selectors: with
--prune (or a design that has them) the hardware gets the model's selectors; a trained checkpoint
fixes their blocks, and the design's selector list must agree with it.
"""
from __future__ import annotations

import copy
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from hlsgen.board import resolve_board
from hlsgen.design import DesignPoint, load_design, load_info
from hlsgen.emit import DEFAULT_TRACE_MB, Project, build_project
from hlsgen.ops_resources import KEYS
from hlsgen.outdir import check_output_dir, write_project
from quant.accuracy_key import file_sha256
from quant.builtin import builtin
from quant.errors import UserError
from quant.spec import PRESETS, SelectorPlacement, default_selectors, resolve_spec


class GenerateError(UserError):
    pass


class OverBudgetError(GenerateError):
    exit_code = 2


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def explore_design(spec, board, fps: float, selectors=(), weights=None) -> tuple[DesignPoint, dict]:
    """The explorer's choice with the selectors fixed where the model has them (none: dense); the
    accuracy it ranks by is the one measured for these weights, if any."""
    from hlsgen import dse
    result = dse.explore(spec, board, fps, selectors=tuple(selectors), weights=weights)
    if not result.feasible:
        raise dse.InfeasibleError(result.infeasible_message())
    c = result.chosen
    return c.design, dse.accuracy_info(c.accuracy)


def prepare(design: DesignPoint, model: str, weights: str | None, images: int | None, data: str | None = None):
    """The calibrated model for this design (selectors at the design's blocks) and test images
    (data: the user's image folder gives both the calibration and the test images)."""
    from quant.zoo import prepare_model, random_images
    blocks = [s.block for s in design.selectors]
    trained = builtin(model) is not None or weights is not None
    prep = prepare_model(model, design.act_bits, prune=bool(blocks) and trained, weights=weights, images=images,
                         data=data)
    q = prep.quant
    have = sorted(int(b) for b in q.selectors)
    if blocks and not trained and have != blocks:
        # seeded weights: put (untrained) selectors where the design wants them, then recalibrate
        q = copy.deepcopy(q)
        for b in [b for b in blocks if b not in have]:
            q.add_selector(next(s for s in design.selectors if s.block == b))
        q.calibrate(random_images(design.spec, 16, seed=1) if data is None else prep.images[:16])
        q.eval()
        have = sorted(int(b) for b in q.selectors)
    if have != blocks:
        raise GenerateError(f"the design places token selectors before blocks {blocks}, but the model "
                            f"({weights or getattr(model, 'name', model)}) has them before blocks {have}")
    return replace(prep, quant=q)


@dataclass
class Generated:
    out: Path
    design: DesignPoint
    project: Project
    seconds: dict
    warnings: list[str]


DEFAULTS = {"model": "deit_tiny", "board": "zcu102", "fps": 30.0}


def generate(model: str | None = None, board: str | None = None, fps: float | None = None,
             design_path: str | None = None, weights: str | None = None, prune: bool = False,
             images: int | None = None, out: str | Path = "build/hls", force: bool = False,
             trace_mb: float = DEFAULT_TRACE_MB, allow_over_budget: bool = False, data: str | None = None) -> Generated:
    """Explore (or read `design_path`) and write the project. model / board / fps default to
    DEFAULTS; with a design file they may only repeat what it says. Raises GenerateError (exit 1),
    ProjectExistsError (out may not be written; checked before any work), OverBudgetError (exit 2)."""
    t0 = time.time()
    check_output_dir(out, force)
    extra: dict = {}
    if design_path:
        design = load_design(design_path)
        _check_flags_agree(design, design_path, model, board, fps)
        # a spec yaml's model is known by its spec (the design file holds it), a preset by its name
        model_name = design.spec.name if PRESETS.get(design.spec.name) == design.spec else design.spec
        if prune and not design.selectors:
            raise GenerateError(f"--prune, but the design {design_path} has no token selectors")
        weights = _recorded_weights(design_path, weights)
        # what the explorer knew beyond the design (accuracy): kept, so a rebuild is byte-identical
        extra = {k: v for k, v in load_info(design_path, "predicted").items() if k in ("accuracy_estimate", "accuracy_source")}
    else:
        model = model or DEFAULTS["model"]
        spec, brd = resolve_spec(model), resolve_board(board or DEFAULTS["board"])
        model_name = model
        sels: tuple[SelectorPlacement, ...] = ()
        if prune:
            sels = _model_selectors(model, spec, weights, data)
        design, extra = explore_design(spec, brd, DEFAULTS["fps"] if fps is None else fps, sels, weights)
    warnings = _budget_warnings(design, design_path, allow_over_budget)
    t1 = time.time()
    _log(f"design: {design.spec.name}, {design.act_bits}-bit, PE {design.parallelism.pe} x SIMD "
         f"{design.parallelism.simd}, {design.predict().fps:.1f} FPS predicted" + (" (expected case)" if design.selectors else ""))
    for w in warnings:
        _log(f"warning: {w}")
    if images is None:
        b = builtin(model_name) if weights is None else None
        images = b.project_images if b is not None else 1
    _log("  [1/3] calibrated model and test images")
    prep = prepare(design, model_name, weights, images, data)
    from quant.intmodel import export_int_model
    im = export_int_model(prep.quant)
    codes = im.quantize_input(prep.images.numpy())
    shipped = builtin(model_name) if weights is None else None
    source = prep.data or (f"the {shipped.test_split}" if shipped is not None else "random images, seed 2")
    t2 = time.time()
    _log(f"  [2/3] golden model on {len(codes)} image(s), HLS sources and RTL twin")
    project = build_project(im, design, codes, trace_mb=trace_mb, extra_predicted=extra, image_source=source,
                            provenance=provenance(weights, shipped, prep.calibration, source), warnings=warnings)
    _log("  [3/3] hlsgen check of the emitted C++, then writing the project")
    check_generated(project, design)
    t3 = time.time()
    path = write_project(project.files, out, force)
    t4 = time.time()
    return Generated(path, design, project, {"explore": t1 - t0, "model": t2 - t1, "emit": t3 - t2,
                                            "write": t4 - t3, "total": t4 - t0}, warnings)


def _check_flags_agree(design: DesignPoint, design_path: str, model, board, fps) -> None:
    """--model / --board / --fps next to --design may only repeat what the design file says."""
    if model is not None and resolve_spec(model) != design.spec:
        raise GenerateError(f"--model {model} disagrees with the design file {design_path} (model "
                            f"{design.spec.name}): drop the flag, or explore a design for {model}")
    if board is not None and _board_key(resolve_board(board)) != _board_key(design.board):
        raise GenerateError(f"--board {board} disagrees with the design file {design_path} (board "
                            f"{design.board.name}, {design.board.part}): drop the flag, or explore a design for {board}")
    if fps is not None:
        pred = design.predict()
        if pred.fps < fps:      # the explorer's rule: expected case with selectors
            raise GenerateError(f"--fps {fps:g}: the design file {design_path} predicts {pred.fps:.1f} FPS"
                                + (f" expected, {pred.fps_worst:.1f} worst case" if design.selectors else "")
                                + ": drop the flag, or explore a design for this target")


def _board_key(board) -> tuple:
    return tuple(v for k, v in sorted(vars(board).items()) if k != "source")


def _budget_warnings(design: DesignPoint, design_path, allow: bool) -> list[str]:
    """A design that needs more than the board's usable resources is refused (exit 2), or with
    --allow-over-budget built with a warning that the project's report records."""
    p = design.predict()
    over = [k for k in KEYS if p.resources[k] > p.available[k]]
    if not over:
        return []
    u = p.utilization()
    text = ", ".join(f"{k.upper()} {p.resources[k]:,} of {p.available[k]:,} usable ({u[k]:.0%})" for k in over)
    if not allow:
        raise OverBudgetError(f"the design {design_path or ''} needs more than the board's usable resources: "
                              f"{text}; use --allow-over-budget to build it anyway")
    return [f"over budget (--allow-over-budget): {text}; Vitis may fail to place or route it"]


def provenance(weights: str | None, shipped, calibration: str, test_images: str) -> dict:
    """What the project is built from: the weights (file name and sha256, no path), what the
    activation scales were calibrated on, and what the test images are."""
    if weights is not None:
        w: dict | str = {"file": Path(weights).name, "sha256": file_sha256(weights)}
    elif shipped is not None:
        w = f"shipped {shipped.name} checkpoints"
    else:
        w = "seeded initialisation (seed 0)"
    return {"weights": w, "calibration": calibration, "test_images": test_images}


def _recorded_weights(design_path: str, weights: str | None) -> str | None:
    """A project's design.yaml records its weights: rebuilding it with other weights is refused."""
    prov = load_info(design_path, "provenance")
    if not prov or "weights" not in prov:
        return weights
    rec = prov["weights"]
    if isinstance(rec, dict):
        name, digest = rec.get("file"), rec.get("sha256")
        if weights is None:
            raise GenerateError(f"the design file {design_path} was generated from weights {name} (sha256 "
                                f"{str(digest)[:12]}...): pass --weights {name} to rebuild it")
        got = file_sha256(weights) if Path(weights).is_file() else None
        if got is not None and got != digest:
            raise GenerateError(f"--weights {weights} (sha256 {got[:12]}...) is not the checkpoint the design file "
                                f"{design_path} was generated from ({name}, sha256 {str(digest)[:12]}...); remove "
                                f"its 'provenance' key to build this design with other weights")
    elif weights is not None:
        raise GenerateError(f"the design file {design_path} was generated from {rec}, not --weights {weights}; "
                            f"remove its 'provenance' key to build this design with other weights")
    return weights


def check_generated(project: Project, design: DesignPoint) -> None:
    """`hlsgen check` on the emitted C++ before anything is written: a project whose C++ does not build
    the priced micro-architecture is an error of hlsgen, not a project. The report goes to
    report/check.json (loops with II and depth, structural resources)."""
    from hlsgen.check_project import check_sources, project_sources
    from hlsgen.cmd_check import compare_resources
    from sim.aptypes import aptypes_include_dir
    report = check_sources(project_sources(project.files), design, aptypes_include_dir())
    if report["errors"]:
        first = report["errors"][0]
        raise GenerateError(f"the emitted C++ fails hlsgen check ({len(report['errors'])} error(s)); first: "
                            f"[{first['rule']}] {first['file']}:{first['line']}: {first['message']}")
    report = {**report, "resources": {**report["resources"], "model": compare_resources(report, design)}}
    project.files["report/check.json"] = (json.dumps(report, indent=1) + "\n").encode()


def _model_selectors(model: str, spec, weights: str | None, data: str | None = None) -> tuple[SelectorPlacement, ...]:
    """Where the model's selectors are: from a checkpoint that has them (keep ratios measured on the
    calibration images of --data, else the ratios it was trained for), else HeatViT's default."""
    if weights is not None:
        from quant.checkpoint import load_model
        m, _ = load_model(weights, spec)
        if m.placements:
            if data is None:
                _log("  selectors' keep ratios: the checkpoint's trained ratios (no --data to measure them on)")
                return tuple(m.placements)
            from quant.zoo import prepare_model
            prep = prepare_model(model, 8, prune=True, weights=weights, images=KEEP_CALIB_IMAGES, data=data)
            return measured_keep_ratios(prep.quant, prep.images)
    if builtin(model) is not None and weights is None:
        from quant.checkpoint import load_model
        from quant.zoo import shipped_checkpoint
        for bits in (8, 6):
            try:
                m, _ = load_model(shipped_checkpoint(model, bits, True, train_if_missing=False))
            except UserError:
                continue
            return measured_keep_ratios(m, builtin(model).load().x_train[:KEEP_CALIB_IMAGES])
    return default_selectors(spec.depth)


KEEP_CALIB_IMAGES = 128   # training images the selectors' keep rates are measured on


def measured_keep_ratios(model, images) -> tuple[SelectorPlacement, ...]:
    """The trained selectors' placements with the keep ratio they actually have on `images` (the
    calibration data): the explorer's expected case then is what the hardware will see, not the
    training target. Cumulative ratio of patch tokens kept: (mean tokens after - class - package) / (N - 1)."""
    import numpy as np

    from quant.golden import run_golden_batch
    from quant.intmodel import export_int_model
    _, counts = run_golden_batch(export_int_model(model), images.numpy())
    mean = np.asarray(counts, dtype=float).mean(axis=0)
    n = model.spec.num_tokens - 1
    out, prev = [], 1.0
    for p in model.placements:
        keep = min(prev, max(1.0 / n, (mean[p.block] - 2) / n))
        out.append(SelectorPlacement(p.block, round(float(keep), 4)))
        prev = keep
    _log("  selectors' keep rates measured on " + f"{len(images)} calibration images: "
         + ", ".join(f"block {p.block} {p.keep_ratio:g} (trained for {q.keep_ratio:g})" for p, q in zip(out, model.placements)))
    return tuple(out)


def run(args) -> int:
    from hlsgen.cmd_explore import parse_positive
    fps = None if args.fps is None else parse_positive("--fps", args.fps)
    if args.images is not None and args.images < 1:
        raise GenerateError(f"--images must be >= 1, got {args.images}")
    trace_mb = parse_positive("--trace-mb", args.trace_mb) if args.trace_mb != "0" else 0.0
    g = generate(args.model, args.board, fps, args.design, args.weights, args.prune, args.images, args.output,
                 args.force, trace_mb, args.allow_over_budget, args.data)
    p, d = g.project, g.design
    pred = d.predict()
    mb = p.nbytes / 1e6
    print(f"wrote {g.out} ({len(p.files)} files, {mb:.1f} MB) in {g.seconds['total']:.1f} s")
    print(f"  design: {d.spec.name} on {d.board.name}, {d.act_bits}-bit, {pred.fps:.1f} FPS predicted"
          + (f" expected, {pred.fps_worst:.1f} worst case" if d.selectors else ""))
    print(f"  weights: {len(p.lowered.blob):,} bytes; test images: {p.golden.images}; golden trace: "
          f"{p.golden.full_layers} layers in full, {p.golden.hashed_layers} as checksums")
    chk = json.loads(p.files["report/check.json"])
    res = chk["resources"]["model"]
    print(f"  hlsgen check: 0 errors, {len(chk['warnings'])} warning(s), {len(chk['loops'])} pipelined loops; "
          f"structural DSP {res['dsp']['structural']:g} / model {res['dsp']['model']:g}, "
          f"BRAM36 {res['bram36']['structural']:g} / {res['bram36']['model']:g} (report/check.json)")
    for note in [*g.warnings, *p.notes]:
        print(f"  {'warning' if note in g.warnings else 'note'}: {note}")
    print(f"  next: hlsgen csim {g.out} [--json]" + ("" if p.notes else f"; hlsgen cosim {g.out}; hlsgen synth {g.out}"))
    return 0


def register(sub) -> None:
    p = sub.add_parser("generate", help="write the HLS project (C++ kernels, testbench, data, TCL) of a design",
                       description="Explore a design for the target FPS (or read --design) and write a complete "
                                   "Vitis/Vivado HLS project with test vectors from the integer golden model.")
    p.add_argument("--model", default=None,
                   help="preset (deit_tiny, deit_small, deit_base, digits, fmnist) or spec yaml (default deit_tiny)")
    p.add_argument("--board", default=None, help="board name or yaml (default zcu102)")
    p.add_argument("--fps", default=None, help="target frames per second (default 30)")
    p.add_argument("--design", default=None, help="a design yaml (from `hlsgen explore -o`) instead of exploring")
    p.add_argument("--weights", default=None, help="checkpoint (timm/DeiT keys); default: shipped (digits, fmnist) or seeded")
    p.add_argument("--prune", action="store_true", help="with HeatViT token selectors")
    p.add_argument("--data", default=None,
                   help="a folder of your images (one subfolder per class): calibration and test images")
    p.add_argument("--images", type=int, default=None,
                   help="test images (default: digits' whole test split, 64 fmnist test images, else 1 random image)")
    p.add_argument("--trace-mb", default=str(DEFAULT_TRACE_MB),
                   help=f"golden per-layer values stored in full up to this size (default {DEFAULT_TRACE_MB:g} MB); "
                        "the rest as checksums")
    p.add_argument("-o", "--output", required=True, help="project directory")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty directory, replacing only the files hlsgen wrote there before")
    p.add_argument("--allow-over-budget", action="store_true",
                   help="build a design that needs more than the board's usable resources (with a warning)")
    p.set_defaults(func=run)
