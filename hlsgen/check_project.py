"""Run `hlsgen check` on a project's sources: the rules (hlsgen.check), the loop table and the
structural resource count (hlsgen.check_resources), as one JSON-ready report.

The report depends only on the sources, the design's parallelism and board, and the checker itself,
so it is cached under the content hash of all of them (parsing the ap_types headers takes seconds):
a regenerated project with the same sources gets the stored report, any change gets a new one.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from hlsgen.check import RULES, Checker
from hlsgen.check_resources import structural
from hlsgen.cxx_ast import parse_project
from hlsgen.design import DesignPoint
from quant.paths import CACHE_ROOT

FORMAT = 1
_CHECKER_SOURCES = ("check.py", "check_values.py", "check_resources.py", "check_project.py", "cxx_ast.py",
                    "cxx_model.py", "cxx_eval.py", "ops_resources.py", "buffers.py")


def _key(sources: dict[str, bytes], design: DesignPoint, include_dir: Path) -> str:
    h = hashlib.sha256(f"hlsgen-check {FORMAT}\n".encode())
    here = Path(__file__).parent
    for name in _CHECKER_SOURCES:
        h.update(name.encode() + b"\0" + (here / name).read_bytes())
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name])
    h.update(json.dumps({"par": design.parallelism.as_dict(), "board": design.board.source,
                         "clock": design.clock_mhz, "aptypes": str(include_dir)}, sort_keys=True).encode())
    return h.hexdigest()


def engine_instances() -> dict:
    """The engines the model counts, one instance each (hlsgen.ops_resources.ENGINES)."""
    from hlsgen.ops_resources import ENGINES
    return {name: 1 for name in ENGINES}


def parallelism_lines(design: DesignPoint) -> dict:
    """field -> its line in the project's design.yaml (as hlsgen.design.dump_design writes it)."""
    from hlsgen.design import dump_design
    lines = dump_design(design).splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith("parallelism:")), 0)
    out = {}
    for i, line in enumerate(lines[start + 1:], start + 2):
        if not line.startswith("  "):
            break
        out[line.split(":")[0].strip()] = i
    return out


def run_check(src_dir: Path, design: DesignPoint, include_dir: Path) -> dict:
    """{"errors", "warnings", "loops", "resources", "engines"} of the C++ in src_dir."""
    unit = parse_project(src_dir, include_dir)
    chk = Checker(unit, design.parallelism.as_dict(), engine_instances(), parallelism_lines(design))
    rep = chk.run()
    mem_lat = chk.member_value("vit_cfg", "MEM_LAT")
    loops = []
    for (file, line), rec in sorted(rep.loops.items()):
        if rec.ii is None:
            continue
        depth = rec.depth if rec.depth is not None else (mem_lat if rec.dma else None)
        loops.append({"function": rec.function, "file": file, "line": line, "trip_count": rec.trip_count,
                      "ii": rec.ii, "depth": depth, "counter_line": rec.counter_line, "dma": rec.dma,
                      "region": rec.region, "task": rec.task})
    return {"format": FORMAT, "rules": list(RULES),
            "errors": [f.as_dict() for f in rep.errors], "warnings": [f.as_dict() for f in rep.warnings],
            "loops": loops, "engines": dict(sorted(rep.engines.items())),
            "dataflow": {region: chains for region, chains in sorted(rep.chains.items())},
            "resources": structural(chk, design.board)}


def check_sources(sources: dict[str, bytes], design: DesignPoint, include_dir: Path) -> dict:
    """The report of a project's src/ files ({name: bytes}), from the cache when it has it."""
    key = _key(sources, design, include_dir)
    cache = CACHE_ROOT / "check" / f"{key}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    with tempfile.TemporaryDirectory(prefix="hlsgen-check-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name, data in sources.items():
            (src / name).write_bytes(data)
        report = run_check(src, design, include_dir)
    cache.parent.mkdir(parents=True, exist_ok=True)
    part = cache.with_name(f".{cache.name}.{os.getpid()}")
    part.write_text(json.dumps(report, indent=1) + "\n")
    os.replace(part, cache)
    return report


def check_dir(project: Path, design: DesignPoint, include_dir: Path) -> dict:
    src = project / "src"
    return check_sources({p.name: p.read_bytes() for p in sorted(src.iterdir()) if p.is_file()}, design, include_dir)


def project_sources(files: dict[str, bytes]) -> dict[str, bytes]:
    """The src/ files of an in-memory project ({relative path: bytes})."""
    return {rel.split("/", 1)[1]: data for rel, data in files.items() if rel.startswith("src/")}
