"""Design-space explorer: activation precision x engine parallelism x token-selector placement.

Search, per (precision, selector configuration):
  1. Engines are independent option groups (binary+GELU, int8, attention, softmax, LayerNorm,
     selector vector unit). Frame cycles are a sum over ops, and every op part runs on one engine,
     so cycles and engine resources are sums over groups: each group's options are costed once,
     vectorised, over the schedule's distinct ops.
  2. Groups are combined by Pareto merging on (cycles, weighted resource cost), dropping partial
     combinations that already exceed a usable resource. The weighted cost uses several weight
     vectors (balanced, LUT-, FF-, DSP-, BRAM-heavy) so that designs limited by any one resource
     survive; the union of the fronts is the candidate set (a heuristic: a design dominated under
     all weightings is not considered).
  3. Candidates are re-costed exactly (activation buffers depend on several engines' lane counts)
     and checked against every usable resource.

Choice rule (VAQF): the highest activation precision whose best design meets the target FPS
(expected case with selectors); at that precision, with --prune, the selector configuration with
the best accuracy estimate; then the design with the fewest resources (smallest max utilisation,
then smallest summed utilisation). No precision meets it -> InfeasibleError (exit code 2) giving
per precision the best FPS reachable and what bounds it.
"""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hlsgen.board import Board
from quant.paths import CACHE_ROOT
from hlsgen.design import PAR_FIELDS, DesignPoint, Parallelism, allowed_values, divisors, selector_limits
from hlsgen.arch import Ctx
from hlsgen.ops_resources import KEYS, Dims, buffer_resources, engine_resources, infrastructure, radd, res
from hlsgen.schedule import build_schedule
from quant.accuracy_key import default_data
from quant.errors import UserError
from quant.spec import SelectorPlacement, ViTSpec, check_act_bits, default_selectors

DEFAULT_BITS = (4, 5, 6, 8)
GROUPS = {"binary": ("pe", "simd", "gelu_lanes"), "int8": ("i8_pe", "i8_simd"), "attention": ("att_pe", "att_simd"),
          "softmax": ("softmax_lanes",), "layernorm": ("ln_lanes",), "select": ("select_lanes",)}
GROUP_ENGINES = {"binary": ("binary", "gelu"), "int8": ("int8",), "attention": ("attention",),
                 "softmax": ("softmax",), "layernorm": ("layernorm",), "select": ("select",)}
ENGINE_GROUP = {e: g for g, es in GROUP_ENGINES.items() for e in es}
MERGE_ORDER = ("softmax", "layernorm", "select", "attention", "int8", "binary")
# weight vectors over KEYS (lut, ff, dsp, bram36, uram) for the Pareto merge
WEIGHTS = ((1, 1, 1, 1, 1), (4, 1, 1, 1, 1), (1, 4, 1, 1, 1), (1, 1, 4, 1, 1), (1, 1, 1, 4, 1))


class InfeasibleError(UserError):
    """No design meets the target; exit code 2."""
    exit_code = 2


# ---- selector configurations and accuracy ---------------------------------------------------------
KEEP_STEPS = (0.9, 0.8, 0.7, 0.6, 0.5)   # per-selector keep; cumulative ratios are its powers


def selector_configs(spec: ViTSpec) -> list[tuple[SelectorPlacement, ...]]:
    """Dense, plus HeatViT's placement (and shifted one block earlier / later) x per-stage keep
    ratio rho in KEEP_STEPS (cumulative rho, rho^2, rho^3: rho = 0.7 is HeatViT's default)."""
    base = [s.block for s in default_selectors(spec.depth)]
    out: list[tuple[SelectorPlacement, ...]] = [()]
    placements = []
    for shift in (0, -1, 1):
        blocks = [b + shift for b in base]
        if blocks and all(0 < b < spec.depth for b in blocks) and blocks not in placements:
            placements.append(blocks)
    for blocks in placements:
        for rho in KEEP_STEPS:
            cfg = tuple(SelectorPlacement(b, round(rho ** (i + 1), 6)) for i, b in enumerate(blocks))
            if all(round(s.keep_ratio * (spec.num_tokens - 1)) >= 1 for s in cfg):
                out.append(cfg)
    return out


PRUNE_PENALTY = 0.02   # rule of thumb: top-1 agreement lost per unit fraction of token-blocks removed


def removed_fraction(spec: ViTSpec, selectors) -> float:
    """Fraction of (token x block) work removed in the expected case: sum_b (1 - N_b/N) / depth."""
    if not selectors:
        return 0.0
    toks = build_schedule(spec, selectors, "expected").tokens
    return float(sum(max(0.0, 1 - n / spec.num_tokens) for n in toks) / spec.depth)


def proxy_accuracy(spec: ViTSpec, bits: int, selectors) -> float:
    """Documented proxy for top-1 agreement with the float model when nothing was measured:
    1 - 0.4 * 2^-(bits-2) (8-bit 0.994, 6-bit 0.975, 4-bit 0.9) minus PRUNE_PENALTY x the removed
    token-block fraction (HeatViT's default placement removes ~37%, i.e. ~0.7 points)."""
    return 1 - 0.4 * 2.0 ** -(bits - 2) - PRUNE_PENALTY * removed_fraction(spec, selectors)


RULE_OF_THUMB = "rule of thumb"


def accuracy_text(accuracy: tuple[float, str]) -> str:
    """How reports print an (estimate, source) pair: a rule-of-thumb value says it was not measured."""
    value, source = accuracy
    if source == RULE_OF_THUMB:
        return f"not measured (rule of thumb: {value:.4f})"
    return f"{value:.4f} ({source})"


def accuracy_info(accuracy: tuple[float, str]) -> dict:
    """The accuracy as a design file's 'predicted' records it: the value and what it is."""
    return {"accuracy_estimate": round(float(accuracy[0]), 5), "accuracy_source": accuracy[1]}


def _read_measured(path: Path):
    """(value, selectors it was measured with, what was measured on which data) from an `hlsgen
    evaluate` cache file, or None."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        acc = data.get("accuracy")
        what = "top-1 accuracy"
        if acc is None:
            acc, what = data["vs_float"]["top1_agreement"], "top-1 agreement with float"
        data_set = data.get("data") or default_data(str(data.get("model")))
        sels = tuple(SelectorPlacement(int(s["block"]), float(s["keep_ratio"])) for s in data.get("selectors") or ())
        n = data.get("images")
        return float(acc), sels, f"{what}, {data_set}, " + (f"{int(n)} images" if n is not None else "image count not recorded")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        print(f"hlsgen: warning: ignoring malformed accuracy cache {path} ({e!r}); using the rule of thumb",
              file=sys.stderr)
        return None


def accuracy_estimate(spec: ViTSpec, bits: int, selectors, cache_dir: Path | None = None,
                      weights=None) -> tuple[float, str]:
    """(estimate, source). Measured results of `hlsgen evaluate`, cached as
    .cache/accuracy/{model}_b{bits}_{dense|prune}_{key}.json (key: quant.accuracy_key, the spec, the
    weights' content, bits and data set; 'accuracy' on labels, else
    vs_float.top1_agreement), take precedence (source 'measured: <what, data, images>'). The prune
    file holds one selector setting (its 'selectors', HeatViT's default if absent): other settings
    are shifted by the rule of thumb's pruning-penalty difference; with only a dense file, the
    penalty is subtracted from it. Nothing measured: RULE_OF_THUMB (proxy_accuracy)."""
    from quant.accuracy_key import accuracy_path, default_data, weights_identity
    cache_dir = Path(cache_dir) if cache_dir is not None else CACHE_ROOT / "accuracy"
    selectors = tuple(selectors)
    wid, data = weights_identity(spec.name, weights), default_data(spec.name)
    dense = _read_measured(accuracy_path(cache_dir, spec, bits, False, wid, data))
    if not selectors:
        return (dense[0], f"measured: {dense[2]}") if dense else (proxy_accuracy(spec, bits, ()), RULE_OF_THUMB)
    pen = PRUNE_PENALTY * removed_fraction(spec, selectors)
    prune = _read_measured(accuracy_path(cache_dir, spec, bits, True, wid, data))
    if prune:
        ref = prune[1] or tuple(default_selectors(spec.depth))
        if _same(ref, selectors):
            return prune[0], f"measured: {prune[2]}"
        return (prune[0] + PRUNE_PENALTY * removed_fraction(spec, ref) - pen,
                f"measured with other selectors ({prune[2]}), shifted by the rule of thumb")
    if dense:
        return dense[0] - pen, f"measured dense ({dense[2]}), minus the rule of thumb's pruning penalty"
    return proxy_accuracy(spec, bits, selectors), RULE_OF_THUMB


def _same(a, b) -> bool:
    return len(a) == len(b) and all(x.block == y.block and abs(x.keep_ratio - y.keep_ratio) < 1e-6
                                    for x, y in zip(a, b))


# ---- candidate search ------------------------------------------------------------------------------
@dataclass
class Group:
    par: dict            # field -> array of option values
    cycles: np.ndarray   # expected-case cycles per option
    cycles_worst: np.ndarray


def _options(spec: ViTSpec, group: str, has_selectors: bool) -> dict:
    if group == "select" and not has_selectors:
        return {"select_lanes": np.array([1])}
    names = GROUPS[group]
    if group == "binary":
        rows = [(pe, simd, g) for pe in allowed_values("pe", spec) for simd in allowed_values("simd", spec)
                for g in divisors(pe)]
    else:
        grids = [allowed_values(n, spec) for n in names]
        rows = [tuple(x) for x in np.array(np.meshgrid(*grids, indexing="ij")).reshape(len(names), -1).T]
    arr = np.array(rows, dtype=np.int64).reshape(-1, len(names))
    if has_selectors:     # the selector's widths the int8 engine, GELU and vector lanes must divide
        for name, width in selector_limits(spec).items():
            if name in names:
                arr = arr[width % arr[:, names.index(name)] == 0]
    return {n: arr[:, i] for i, n in enumerate(names)}


def _base_par(n: int = 1) -> dict:
    return {f: np.ones(n, dtype=np.int64) for f in PAR_FIELDS}


def _group_cycles(schedule, group: str, par: dict, board: Board, clock: float) -> np.ndarray:
    m = board.memory
    n = len(next(iter(par.values())))
    ctx = Ctx(8, {**_base_par(n), **par}, m.bytes_per_cycle(clock), m.latency_cycles(clock))
    total = np.zeros(n, dtype=np.int64)
    for op, mult in schedule.grouped():
        for p in op.parts(ctx):
            if ENGINE_GROUP[p.engine] == group:
                total = total + mult * np.asarray(p.cycles, dtype=np.int64)
    return total


def _res_matrix(r: dict, n: int) -> np.ndarray:
    return np.stack([np.broadcast_to(np.asarray(r[k], dtype=float), (n,)) for k in KEYS], axis=1)


def _front(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Indices of the 2-D Pareto front (min cycles, min cost)."""
    order = np.lexsort((s, c))
    ss = s[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = ss[1:] < np.minimum.accumulate(ss)[:-1]
    return order[keep]


def _merge(groups: dict, gres: dict, room: np.ndarray, wv: np.ndarray):
    """Pareto-merge the groups in MERGE_ORDER on (cycles, resources . wv), dropping partial sums
    that exceed `room`; returns the surviving combinations as option indices (n, groups), or None."""
    c = np.zeros(1, dtype=np.int64)
    r = np.zeros((1, len(KEYS)))
    idx = np.zeros((1, 0), dtype=np.int64)
    for g in MERGE_ORDER:
        cyc, rg = groups[g].cycles, gres[g]
        opts = np.nonzero(np.all(rg <= room[None, :] + 1e-9, axis=1))[0]
        if len(opts) == 0:
            return None
        opts = opts[_front(cyc[opts], rg[opts] @ wv)]
        cc = (c[:, None] + cyc[opts][None, :]).ravel()
        rr = (r[:, None, :] + rg[opts][None, :, :]).reshape(-1, len(KEYS))
        ii = np.concatenate([np.repeat(idx, len(opts), axis=0), np.tile(opts, len(c))[:, None]], axis=1)
        fit = np.all(rr <= room[None, :] + 1e-9, axis=1)
        if not fit.any():
            return None
        keep = _front(cc[fit], rr[fit] @ wv)
        c, r, idx = cc[fit][keep], rr[fit][keep], ii[fit][keep]
    return idx


@dataclass
class Candidates:
    """Every surviving design of one (precision, selector configuration), exactly costed."""
    bits: int
    selectors: tuple
    par: dict            # field -> array
    cycles: np.ndarray
    cycles_worst: np.ndarray
    res: np.ndarray      # (n, 5) totals incl. buffers, infrastructure, platform
    avail: np.ndarray    # (5,)
    at_max: np.ndarray   # True where no engine could be made faster by more lanes
    feasible: np.ndarray = field(default=None)

    def __post_init__(self):
        self.feasible = np.all(self.res <= self.avail[None, :] + 1e-9, axis=1)

    def util(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(self.avail[None, :] > 0, self.res / np.maximum(self.avail[None, :], 1e-9),
                         np.where(self.res > 0, np.inf, 0.0))
        return u

    def parallelism(self, i: int) -> Parallelism:
        return Parallelism(**{f: int(self.par[f][i]) for f in PAR_FIELDS})


class Explorer:
    """Costs a model on a board; reusable across precisions (cycles do not depend on bits)."""

    def __init__(self, spec: ViTSpec, board: Board, clock_mhz: float | None = None):
        self.spec, self.board = spec, board
        self.clock = board.check_clock(clock_mhz if clock_mhz is not None else board.clock_mhz)
        self.avail = np.array([board.usable_amount(k) for k in KEYS], dtype=float)
        self._groups: dict = {}
        self._res: dict = {}

    def _groups_for(self, selectors: tuple) -> dict:
        if selectors not in self._groups:
            sch_e = build_schedule(self.spec, selectors, "expected")
            sch_w = build_schedule(self.spec, selectors, "worst") if selectors else sch_e
            gs = {}
            for g in GROUPS:
                par = _options(self.spec, g, bool(selectors))
                gs[g] = Group(par, _group_cycles(sch_e, g, par, self.board, self.clock),
                              _group_cycles(sch_w, g, par, self.board, self.clock))
            self._groups[selectors] = gs
        return self._groups[selectors]

    def _group_resources(self, bits: int, dims: Dims, groups: dict) -> dict:
        """(n, 5) resources per group option; the same for every selector configuration."""
        key = (bits, dims)
        if key not in self._res:
            out = {}
            for g, grp in groups.items():
                n = len(grp.cycles)
                ctx = self._ctx(bits, {**_base_par(n), **grp.par})
                r = radd(*(engine_resources(e, ctx, dims, self.board) for e in GROUP_ENGINES[g]))
                if g == "binary":   # buffers, at the binary engine's access widths (the widest in practice)
                    r = radd(r, buffer_resources(ctx, dims, self.board))
                out[g] = _res_matrix(r, n)
            self._res[key] = out
        return self._res[key]

    def _ctx(self, bits: int, par: dict) -> Ctx:
        m = self.board.memory
        return Ctx(bits, par, m.bytes_per_cycle(self.clock), m.latency_cycles(self.clock))

    def candidates(self, bits: int, selectors: tuple = ()) -> Candidates:
        check_act_bits(bits)
        selectors = tuple(selectors)
        groups = self._groups_for(selectors)
        dims = Dims.of(self.spec, selectors)
        gres = self._group_resources(bits, dims, groups)
        fixed = radd(infrastructure(self.board, dims.steps), res(**self.board.platform))
        fixed = np.array([float(fixed[k]) for k in KEYS])
        room = self.avail - fixed
        scale = np.where(self.avail > 0, 1.0 / np.maximum(self.avail, 1), 0.0)
        combos = [c for c in (_merge(groups, gres, room, np.asarray(w, dtype=float) * scale) for w in WEIGHTS)
                  if c is not None]
        if not combos:   # nothing fits: keep the smallest option of every group to report on
            combos = [np.array([[int(np.argmin(gres[g] @ scale)) for g in MERGE_ORDER]])]
        idx = np.unique(np.concatenate(combos, axis=0), axis=0)
        par = {}
        for j, g in enumerate(MERGE_ORDER):
            for f, arr in groups[g].par.items():
                par[f] = arr[idx[:, j]]
        cyc = sum(groups[g].cycles[idx[:, j]] for j, g in enumerate(MERGE_ORDER))
        cyc_w = sum(groups[g].cycles_worst[idx[:, j]] for j, g in enumerate(MERGE_ORDER))
        eng = sum(gres[g][idx[:, j]] for j, g in enumerate(MERGE_ORDER))
        # exact buffers: replace the binary-width estimate by the widths of all engines
        ctx = self._ctx(bits, par)
        ctx_bin = self._ctx(bits, {**_base_par(len(cyc)), **{f: par[f] for f in GROUPS["binary"]}})
        bufs = _res_matrix(buffer_resources(ctx, dims, self.board), len(cyc)) \
            - _res_matrix(buffer_resources(ctx_bin, dims, self.board), len(cyc))
        total = eng + bufs + fixed[None, :]
        at_max = np.all([groups[g].cycles[idx[:, j]] == groups[g].cycles.min() for j, g in enumerate(MERGE_ORDER)],
                        axis=0)
        return Candidates(bits, selectors, par, cyc, cyc_w, total, self.avail.copy(), at_max)

    def design(self, cands: Candidates, i: int) -> DesignPoint:
        return DesignPoint(self.spec, self.board, self.clock, cands.bits, cands.parallelism(i), cands.selectors)

    def fps(self, cycles) -> np.ndarray:
        return self.clock * 1e6 / np.asarray(cycles, dtype=float)


# ---- choosing ----------------------------------------------------------------------------------------
def _cheapest(cands: Candidates, mask: np.ndarray) -> int | None:
    ids = np.nonzero(mask & cands.feasible)[0]
    if len(ids) == 0:
        return None
    u = cands.util()[ids]
    u = np.where(np.isfinite(u), u, 1e9)
    order = np.lexsort((cands.cycles[ids], u.sum(axis=1), u.max(axis=1)))
    return int(ids[order[0]])


def fastest(cands: Candidates, worst_case: bool = False) -> int | None:
    ids = np.nonzero(cands.feasible)[0]
    if len(ids) == 0:
        return None
    u = cands.util()[ids]
    u = np.where(np.isfinite(u), u, 1e9)
    cyc = (cands.cycles_worst if worst_case else cands.cycles)[ids]
    return int(ids[np.lexsort((u.sum(axis=1), u.max(axis=1), cyc))[0]])


def bound_of(design: DesignPoint, prediction=None, at_max: bool = False) -> str:
    """What stops a design from going faster: 'bandwidth' when most cycles are in memory-bound ops;
    'parallelism' when every engine already has its fastest usable size (more lanes would not
    help: the model's dimensions, control overhead and pipeline depths bound it); else the
    resource closest to its usable limit (LUT, FF, DSP, BRAM, URAM)."""
    p = prediction or design.predict()
    mem = sum(r["cycles"] for r in p.per_layer if r["bound"] == "memory")
    if mem > 0.5 * p.cycles:
        return "bandwidth"
    if at_max:
        return "parallelism"
    u = p.utilization()
    key = max((k for k in KEYS if p.available[k] > 0 or p.resources[k] > 0), key=lambda k: u[k])
    return {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram36": "BRAM", "uram": "URAM"}[key]


@dataclass
class Choice:
    design: DesignPoint
    prediction: object
    accuracy: tuple
    bound: str


@dataclass
class PrecisionReport:
    bits: int
    best: Choice | None      # the fastest feasible design at this precision (over selector configs)
    meets: bool


@dataclass
class ExploreResult:
    spec: ViTSpec
    board: Board
    clock_mhz: float
    target_fps: float
    prune: bool
    chosen: Choice | None
    per_precision: list
    worst_case: bool = False     # the target is met in the worst case (else: expected, with selectors)

    @property
    def case(self) -> str:
        """Which case 'meets the target' refers to: '' without selectors."""
        return "" if not self.prune else ("worst case" if self.worst_case else "expected case")

    @property
    def feasible(self) -> bool:
        return self.chosen is not None

    def infeasible_message(self) -> str:
        parts = []
        for rep in self.per_precision:
            if rep.best is None:
                parts.append(f"{rep.bits}-bit: no design fits the usable resources")
            else:
                p = rep.best.prediction
                u = p.utilization()
                parts.append(f"{rep.bits}-bit: best {p.fps:.1f} FPS, bound by {rep.best.bound} "
                             f"(LUT {u['lut']:.0%}, FF {u['ff']:.0%}, DSP {u['dsp']:.0%}, BRAM {u['bram36']:.0%} of usable)")
        return (f"no design reaches {self.target_fps:g} FPS for {self.spec.name} on {self.board.name} at "
                f"{self.clock_mhz:g} MHz" + (f" (with token pruning, {self.case})" if self.prune else "")
                + ": " + "; ".join(parts))


def _choice(explorer: Explorer, cands: Candidates, i: int, cache_dir, weights=None) -> Choice:
    d = explorer.design(cands, i)
    p = d.predict()
    return Choice(d, p, accuracy_estimate(explorer.spec, cands.bits, cands.selectors, cache_dir, weights),
                  bound_of(d, p, bool(cands.at_max[i])))


def explore(spec: ViTSpec, board: Board, target_fps: float, bits=DEFAULT_BITS, prune: bool = False,
            clock_mhz: float | None = None, cache_dir=None, progress=None, selectors=None,
            worst_case: bool = False, weights=None) -> ExploreResult:
    """The highest precision meeting target_fps, its cheapest design. prune: also search selector
    placements; selectors: a fixed placement instead (a trained model's), searched alone. With token
    selectors a design meets the target in the expected case (the keep ratios), or with worst_case
    in the worst case (every selector keeps every token). weights: the checkpoint whose measured
    accuracy (hlsgen evaluate) may rank the candidates (default: the model's built-in weights)."""
    if isinstance(target_fps, bool) or not isinstance(target_fps, (int, float)) or not (
            target_fps > 0 and math.isfinite(target_fps)):
        raise UserError(f"target FPS must be a positive number, got {target_fps!r}")
    bits = sorted({check_act_bits(b) for b in bits}, reverse=True)
    ex = Explorer(spec, board, clock_mhz)
    configs = [tuple(selectors)] if selectors is not None else selector_configs(spec) if prune else [()]
    prune = prune or bool(selectors)
    reports, chosen = [], None
    steps, step = len(bits) * len(configs), 0
    for b in bits:
        meeting, best, best_cycles = [], None, None
        for cfg in configs:
            cands = ex.candidates(b, cfg)
            step += 1
            if progress:
                progress(step, steps, b, cfg)
            f = fastest(cands, worst_case)
            rule_cycles = cands.cycles_worst if worst_case else cands.cycles
            if f is not None and (best_cycles is None or rule_cycles[f] < best_cycles):
                best, best_cycles = (cands, f), rule_cycles[f]
            i = _cheapest(cands, ex.fps(cands.cycles_worst if worst_case else cands.cycles) >= target_fps)
            if i is not None:
                meeting.append((cands, i))
        best_choice = _choice(ex, *best, cache_dir, weights) if best else None
        reports.append(PrecisionReport(b, best_choice, bool(meeting)))
        if meeting and chosen is None:
            scored = [(accuracy_estimate(spec, c.bits, c.selectors, cache_dir, weights)[0], c, i) for c, i in meeting]
            top = max(s for s, _, _ in scored)
            tied = [(c, i) for s, c, i in scored if s >= top - 1e-9]
            # ties on accuracy -> fewer resources
            c, i = min(tied, key=lambda ci: (float(np.max(ci[0].util()[ci[1]])), float(np.sum(ci[0].util()[ci[1]]))))
            chosen = _choice(ex, c, i, cache_dir, weights)
            break   # the highest precision that meets the target wins; lower ones are not needed
    return ExploreResult(spec, board, ex.clock, float(target_fps), prune, chosen, reports, worst_case)
