"""hlsgen from Python: the functions the command line calls, returning what it prints as JSON.

    import hlsgen
    r = hlsgen.explore("deit_tiny", board="zcu102", fps=30)        # ExploreResult: r.fps, r.act_bits, ...
    prj = hlsgen.generate(r, "build/deit_tiny")                     # Project
    prj.csim(images=1).bit_exact                                    # CsimReport
    prj.cosim(level="block").cycle_ratio                            # sim.cosim.Level
    hlsgen.sweep("deit_base", out_dir="sweep/")                     # precision_sweep.SweepResult (+ files)
    hlsgen.evaluate("digits", bits=8)                               # dict, as `evaluate --json`

Every function raises quant.errors.UserError (or a subclass) for input it cannot use, with the
message the CLI prints; `.exit_code` is the CLI's exit status (2: no design meets the target, or over
budget). Nothing else is caught.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quant.errors import UserError


def _board(board):
    from hlsgen.board import Board, resolve_board
    return board if isinstance(board, Board) else resolve_board(board)


@dataclass
class ExploreResult:
    """`explore --json` as an object: every key is an attribute (fps, act_bits, latency_ms,
    parallelism, resources, per_precision, ...); `design` is the chosen DesignPoint (None when
    infeasible) and `raw` the dse.ExploreResult behind it."""
    data: dict
    design: Any
    raw: Any

    def __getattr__(self, key):
        try:
            return self.__dict__["data"][key]
        except KeyError:
            raise AttributeError(key) from None

    def as_dict(self) -> dict:
        return dict(self.data)

    def save(self, path: str | Path) -> Path:
        """Write the chosen design point (design.yaml) for `generate --design`."""
        from hlsgen.design import save_design
        from hlsgen.dse import accuracy_info
        if self.design is None:
            raise UserError("no design to save: " + self.data.get("message", "the target is not met"))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        save_design(self.design, path, accuracy_info((self.data["accuracy_estimate"], self.data["accuracy_source"])))
        return Path(path)


def explore(model: str, board: str = "zcu102", fps: float = 30.0, bits=None, prune: bool = False,
            clock: float | None = None, worst_case: bool = False, progress=None) -> ExploreResult:
    """The highest activation precision whose cheapest design meets `fps` (see `hlsgen explore`).
    Raises UserError for a bad model / board / argument and dse.InfeasibleError (exit_code 2, with the
    per-precision result as `.result`) when no design meets the target."""
    from hlsgen import dse
    from hlsgen.cmd_explore import result_json
    from quant.spec import resolve_spec
    spec, brd = resolve_spec(model), _board(board)
    clock = brd.check_clock(clock) if clock is not None else None
    res = dse.explore(spec, brd, fps, bits=tuple(bits or dse.DEFAULT_BITS), prune=prune, clock_mhz=clock,
                      progress=progress, worst_case=worst_case)
    out = ExploreResult(result_json(res), res.chosen.design if res.feasible else None, res)
    if not res.feasible:
        err = dse.InfeasibleError(res.infeasible_message())
        err.result = out
        raise err
    return out


@dataclass
class CsimReport:
    """`csim --json`: bit_exact, images, first_mismatch, and (profile=True) cycles per op type / fps."""
    bit_exact: bool
    images: int
    first_mismatch: str | None
    cycles: dict = field(default_factory=dict)
    fps: dict = field(default_factory=dict)
    raw: Any = None                 # sim.csim.CsimResult

    def as_dict(self) -> dict:
        return {"bit_exact": self.bit_exact, "images": self.images, "first_mismatch": self.first_mismatch,
                "cycles": self.cycles, "fps": self.fps}


@dataclass
class Project:
    """A generated project folder and the design it implements."""
    path: Path
    design: Any
    warnings: list = field(default_factory=list)

    @classmethod
    def open(cls, path: str | Path) -> "Project":
        """A project written earlier (raises UserError when `path` is not one)."""
        from hlsgen.cmd_check import load_project_design, project_dir
        p = project_dir(path)
        return cls(p, load_project_design(p))

    def check(self) -> dict:
        """`hlsgen check --json`: the static reading of the C++ (errors, warnings, loops, resources)."""
        from hlsgen.check_project import check_dir
        from sim.aptypes import aptypes_include_dir
        return check_dir(self.path, self.design, aptypes_include_dir())

    def csim(self, images: int | None = None, profile: bool = True, jobs: int | None = None) -> CsimReport:
        """C-simulation with g++ (bit-exact vs the golden model); profile: also the cycles the C++ takes.
        A mismatch is reported (bit_exact False), not raised; a project that does not build raises."""
        from hlsgen.cmd_csim import csim_cycles
        from sim.csim import run_csim
        res = run_csim(self.path, max_images=images, jobs=jobs, profile=profile)
        cyc = csim_cycles(self.path, res) if profile else {"cycles": {}, "fps": {}}
        return CsimReport(res.bit_exact, res.images, res.first_mismatch, cyc["cycles"], cyc["fps"], res)

    def cosim(self, level: str = "block", images: int | None = None, rtl: str | Path | None = None):
        """The RTL twin (or `rtl`) at level 'unit', 'block' or 'model': a sim.cosim.Level (bit_exact,
        cycles vs the model per op type). Raises sim.cosim.SimError when it cannot run."""
        if level == "unit":
            from sim.cocotb_tests.unit_data import run_unit_level
            return run_unit_level(self.path)
        if level not in ("block", "model"):
            raise UserError(f"level must be one of unit, block, model; got {level!r}")
        from sim.cosim import run_top_level
        return run_top_level(self.path, level, images, rtl=rtl)

    def synth(self, parts: list[str] | None = None, jobs: int = 2) -> dict:
        """yosys on the twin, engine by engine, next to the resource model (`hlsgen synth --json`)."""
        from sim.synth import synth_project
        return synth_project(self.path, jobs=jobs, only=parts)


def generate(design_or_result=None, out_dir: str | Path = "build/hls", *, model: str | None = None,
             board: str | None = None, fps: float | None = None, weights: str | None = None, prune: bool = False,
             images: int | None = None, force: bool = False, allow_over_budget: bool = False,
             data: str | None = None) -> Project:
    """Write the HLS project (and RTL twin) of a design: an ExploreResult, a DesignPoint, a design.yaml
    path, or None (explore model / board / fps, defaults deit_tiny, zcu102, 30). Raises UserError
    subclasses: ProjectExistsError (out_dir may not be written), GenerateError, OverBudgetError
    (exit_code 2), InfeasibleError (exit_code 2)."""
    import tempfile

    from hlsgen.cmd_generate import generate as _generate
    from hlsgen.design import DesignPoint, save_design
    if isinstance(design_or_result, ExploreResult):
        design_or_result = design_or_result.design
    if isinstance(design_or_result, DesignPoint):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "design.yaml"
            save_design(design_or_result, path)
            g = _generate(model, board, fps, str(path), weights, prune, images, out_dir, force,
                          allow_over_budget=allow_over_budget, data=data)
    else:
        path = None if design_or_result is None else str(design_or_result)
        g = _generate(model, board, fps, path, weights, prune, images, out_dir, force,
                      allow_over_budget=allow_over_budget, data=data)
    return Project(Path(g.out), g.design, g.warnings)


def sweep(model: str, board: str = "zcu102", bits=None, prune: bool = False, clock: float | None = None,
          targets=(), out_dir: str | Path | None = None, progress=None):
    """The fastest design per precision (and selector setting with prune): a precision_sweep.SweepResult; with
    out_dir also sweep.csv / .md / .png and resources.png there. Raises UserError for bad input."""
    from hlsgen import dse
    from hlsgen.precision_sweep import run_sweep, write_sweep
    from quant.spec import resolve_spec
    brd = _board(board)
    clock = brd.check_clock(clock) if clock is not None else None
    res = run_sweep(resolve_spec(model), brd, bits=tuple(bits or dse.DEFAULT_BITS), prune=prune, clock_mhz=clock,
                    targets=tuple(targets), progress=progress)
    if out_dir is not None:
        if Path(out_dir).exists() and not Path(out_dir).is_dir():
            raise UserError(f"{out_dir}: is a file; sweep writes its files into a directory")
        write_sweep(res, out_dir)
    return res


def evaluate(model: str, bits: int, prune: bool = False, weights: str | None = None,
             images: int | None = None, cache: bool = True, data: str | None = None) -> dict:
    """The golden integer model against the float and fake-quant models (`evaluate --json`); data: an
    image folder (quant.image_folder) to evaluate on and calibrate with; cache: record the result for
    the explorer's accuracy. Raises UserError for bad input (quant.image_folder.DataError for a bad
    folder or image)."""
    from quant.fidelity import cache_result
    from quant.fidelity import evaluate as _evaluate
    from quant.spec import check_act_bits
    from quant.zoo import prepare_model
    check_act_bits(bits)
    if images is not None and images < 1:
        raise UserError(f"images must be >= 1, got {images}")
    prepared = prepare_model(model, bits, prune, weights, images, data=data)
    result = _evaluate(prepared, model, bits, prune)
    if cache:
        result["cache_file"] = cache_result(result, prepared.spec, weights).name
    return result
