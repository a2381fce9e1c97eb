"""`hlsgen check DIR [--json]`: a static check of a generated project's HLS C++, read as Vitis HLS
reads it (libclang), against the micro-architecture the cycle and resource models price.

Rules: bank-static, bank-ports, dataflow-canonical, engine-instances, maxi-conditional,
parallelism-used, loop-counted (hlsgen/check.py). Also reported: every pipelined loop with its
trip count, II and depth, and the structural DSP / BRAM36 count next to the resource model.
Exit codes: 0 no errors, 1 errors (or an unusable project)."""
from __future__ import annotations

import json
from pathlib import Path

from quant.errors import UserError


class CheckFailed(UserError):
    """The check ran and found errors."""


def project_dir(path) -> Path:
    """The project directory named on the command line, or a UserError when there is no such
    directory (a directory without a project gets each command's own 'X is missing' message)."""
    project = Path(path)
    if not project.exists():
        raise UserError(f"no such project directory: {path}")
    if not project.is_dir():
        raise UserError(f"{path} is not a directory (expected a project written by `hlsgen generate`)")
    return project


def load_project_design(project: Path):
    from hlsgen.design import load_design
    if not (project / "src" / "vit_top.cpp").exists():
        raise UserError(f"{project}: no src/vit_top.cpp (not a project written by `hlsgen generate`)")
    return load_design(project / "design.yaml")


def compare_resources(report: dict, design) -> dict:
    """{"dsp": {"structural", "model", "ratio"}, "bram36": {...}}: the model without the board's shell."""
    pred = design.predict()
    out = {}
    for key in ("dsp", "bram36"):
        model = float(pred.resources[key]) - float(pred.breakdown["platform"][key])
        got = float(report["resources"][key])
        out[key] = {"structural": got, "model": model, "ratio": round(got / model, 4) if model else None}
    return out


def format_report(report: dict, project: Path, resources: dict) -> str:
    lines = []
    for kind in ("errors", "warnings"):
        for f in report[kind]:
            lines.append(f"{'error' if kind == 'errors' else 'warning'}: [{f['rule']}] {f['file']}:{f['line']}: "
                         f"{f['message']}")
    lines.append(f"{'loop':<44} {'trips':>9} {'II':>3} {'depth':>5}")
    for lp in report["loops"]:
        where = f"{lp['function']} ({lp['file']}:{lp['line']})"
        trips = "-" if lp["trip_count"] is None else str(lp["trip_count"])
        lines.append(f"{where:<44} {trips:>9} {lp['ii']:>3} {lp['depth'] if lp['depth'] is not None else '-':>5}")
    for key, r in resources.items():
        lines.append(f"{key.upper():<6} structural {r['structural']:g}, model {r['model']:g} (ratio {r['ratio']})")
    n_err, n_warn = len(report["errors"]), len(report["warnings"])
    lines.append(f"check {project}: {n_err} error(s), {n_warn} warning(s), {len(report['loops'])} pipelined loops")
    return "\n".join(lines)


def run(args) -> int:
    from hlsgen.check_project import check_dir
    from sim.aptypes import aptypes_include_dir
    project = project_dir(args.project)
    design = load_project_design(project)
    report = check_dir(project, design, aptypes_include_dir())
    resources = compare_resources(report, design)
    if args.json:
        print(json.dumps({"errors": report["errors"], "warnings": report["warnings"], "loops": report["loops"],
                          "engines": report["engines"], "resources": {**resources,
                                                                       "memories": report["resources"]["memories"],
                                                                       "dsp_by_engine": report["resources"]["dsp_by_engine"]}},
                         indent=1))
    else:
        print(format_report(report, project, resources))
    if report["errors"]:
        if args.json:
            return 1
        raise CheckFailed(f"{len(report['errors'])} error(s) in {project}: the C++ does not build the priced "
                          "micro-architecture")
    return 0


def register(sub) -> None:
    p = sub.add_parser("check", help="statically check a generated project's HLS C++ (banks, ports, DATAFLOW, "
                                     "engines, bursts) and count its loops and resources")
    p.add_argument("project", help="project directory written by `hlsgen generate`")
    p.add_argument("--json", action="store_true", help="print one JSON object (errors, warnings, loops, resources)")
    p.set_defaults(func=run)
