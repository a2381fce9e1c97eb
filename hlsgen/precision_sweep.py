"""Precision sweep: for every activation precision (and, with pruning, every selector configuration)
the fastest design that fits the board, written as sweep.csv, sweep.md, sweep.png (FPS against
precision, Pareto front, target lines) and resources.png (utilisation of the best designs)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsgen.design import PAR_FIELDS
from hlsgen.dse import RULE_OF_THUMB, Explorer, accuracy_estimate, accuracy_text, bound_of, fastest, selector_configs
from hlsgen.ops_resources import KEYS
from quant.spec import check_act_bits

RES_LABEL = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram36": "BRAM36", "uram": "URAM"}


def selectors_label(selectors) -> str:
    return "dense" if not selectors else " ".join(f"b{s.block}:{s.keep_ratio:g}" for s in selectors)


@dataclass
class SweepRow:
    bits: int
    selectors: tuple
    design: object           # DesignPoint or None when nothing fits
    prediction: object
    accuracy: tuple
    bound: str
    cloud_fps: np.ndarray    # every feasible candidate's FPS (for the plot)
    pareto: bool = False


@dataclass
class SweepResult:
    spec: object
    board: object
    clock_mhz: float
    prune: bool
    targets: tuple
    rows: list

    def best_per_bits(self) -> dict:
        out = {}
        for r in self.rows:
            if r.design is not None and (r.bits not in out or r.prediction.fps > out[r.bits].prediction.fps):
                out[r.bits] = r
        return out


def run_sweep(spec, board, bits=(4, 5, 6, 8), prune=False, clock_mhz=None, targets=(), cache_dir=None,
              progress=None) -> SweepResult:
    bits = sorted({check_act_bits(b) for b in bits}, reverse=True)
    ex = Explorer(spec, board, clock_mhz)
    configs = selector_configs(spec) if prune else [()]
    rows, step = [], 0
    for b in bits:
        for cfg in configs:
            cands = ex.candidates(b, cfg)
            step += 1
            i = fastest(cands)
            if i is None:
                rows.append(SweepRow(b, cfg, None, None, accuracy_estimate(spec, b, cfg, cache_dir), "no fit",
                                     np.zeros(0)))
            else:
                d = ex.design(cands, i)
                p = d.predict()
                rows.append(SweepRow(b, cfg, d, p, accuracy_estimate(spec, b, cfg, cache_dir),
                                     bound_of(d, p, bool(cands.at_max[i])), ex.fps(cands.cycles[cands.feasible])))
            if progress:
                r = rows[-1]
                progress(step, len(bits) * len(configs),
                         f"{b}-bit {selectors_label(cfg)}: " + (f"{r.prediction.fps:.1f} FPS" if r.design else "no fit"))
    _mark_pareto(rows)
    return SweepResult(spec, board, ex.clock, prune, tuple(targets), rows)


def _mark_pareto(rows):
    """Non-dominated in (act bits, FPS, accuracy estimate), all to maximise."""
    pts = [(r.bits, r.prediction.fps, r.accuracy[0]) for r in rows if r.design is not None]
    for r in rows:
        if r.design is None:
            continue
        me = (r.bits, r.prediction.fps, r.accuracy[0])
        r.pareto = not any(all(o[j] >= me[j] for j in range(3)) and any(o[j] > me[j] for j in range(3)) for o in pts)


# ---- writers ---------------------------------------------------------------------------------------
def _row_dict(r: SweepRow, board) -> dict:
    out = {"act_bits": r.bits, "selectors": selectors_label(r.selectors)}
    if r.design is None:
        return {**out, "fps": "", "bound": r.bound}
    p = r.prediction
    u = p.utilization()
    out.update(fps=round(p.fps, 3), fps_worst=round(p.fps_worst, 3), latency_ms=round(p.latency_ms, 4),
               cycles_per_frame=p.cycles, cycles_per_frame_worst=p.cycles_worst)
    out.update({k: p.resources[k] for k in KEYS})
    out.update({f"util_{k}": round(u[k], 4) if np.isfinite(u[k]) else "" for k in KEYS})
    out.update(bound=r.bound, accuracy_estimate=round(r.accuracy[0], 5), accuracy_source=r.accuracy[1],
               pareto=int(r.pareto))
    out.update(r.design.parallelism.as_dict())
    return out


CSV_FIELDS = (["act_bits", "selectors", "fps", "fps_worst", "latency_ms", "cycles_per_frame", "cycles_per_frame_worst"]
              + list(KEYS) + [f"util_{k}" for k in KEYS]
              + ["bound", "accuracy_estimate", "accuracy_source", "pareto"] + list(PAR_FIELDS))


def sweep_csv(res: SweepResult) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, restval="", lineterminator="\n")
    w.writeheader()
    for r in res.rows:
        w.writerow(_row_dict(r, res.board))
    return buf.getvalue()


def sweep_markdown(res: SweepResult) -> str:
    b = res.board
    av = b.available()
    lines = [f"# Precision sweep: {res.spec.name} on {b.name} ({b.part}) at {res.clock_mhz:g} MHz", "",
             "Fastest design that fits the usable resources (" +
             ", ".join(f"{RES_LABEL[k]} {av[k]:,}" for k in KEYS if b.resources[k]) + ") per activation precision"
             + (" and token-selector setting (FPS = expected case at the keep ratios)" if res.prune else "") + ".", "",
             "| act bits | selectors | FPS | worst-case FPS | latency ms | LUT | FF | DSP | BRAM36 |"
             + (" URAM |" if b.resources["uram"] else "") + " bound | accuracy | Pareto |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if b.resources["uram"] else "") + "---|---:|:-:|"]
    for r in res.rows:
        if r.design is None:
            lines.append(f"| {r.bits} | {selectors_label(r.selectors)} | - | - | - | - | - | - | - |"
                         + (" - |" if b.resources["uram"] else "") + f" {r.bound} | - | |")
            continue
        p, u = r.prediction, r.prediction.utilization()
        cells = [f"{p.resources[k]:,.0f} ({u[k]:.0%})" if k != "bram36" else f"{p.resources[k]:g} ({u[k]:.0%})"
                 for k in ("lut", "ff", "dsp", "bram36")]
        if b.resources["uram"]:
            cells.append(f"{p.resources['uram']} ({u['uram']:.0%})")
        lines.append(f"| {r.bits} | {selectors_label(r.selectors)} | {p.fps:.1f} | {p.fps_worst:.1f} | "
                     f"{p.latency_ms:.2f} | " + " | ".join(cells) +
                     f" | {r.bound} | {accuracy_text(r.accuracy)} | {'yes' if r.pareto else ''} |")
    if res.targets:
        lines.append("")
        best = res.best_per_bits()
        for t in res.targets:
            met = [str(bb) for bb, r in sorted(best.items(), reverse=True) if r.prediction.fps >= t]
            worst = [str(bb) for bb, r in sorted(best.items(), reverse=True) if r.prediction.fps_worst >= t]
            case = " (expected case)" if res.prune else ""
            lines.append(f"- target {t:g} FPS: " + (f"met{case} at {', '.join(met)}-bit activations" if met else
                                                     f"not met{case}")
                         + (f"; worst case: {'met at ' + ', '.join(worst) + '-bit' if worst else 'not met'}"
                            if res.prune else ""))
    return "\n".join(lines) + "\n"


def _plots(res: SweepResult, out_dir: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    rng = np.random.default_rng(0)
    for r in res.rows:
        if len(r.cloud_fps):
            x = r.bits + rng.uniform(-0.15, 0.15, len(r.cloud_fps))
            ax.scatter(x, r.cloud_fps, s=3, color="0.8", zorder=1)
    ok = [r for r in res.rows if r.design is not None]
    dense = [r for r in ok if not r.selectors]
    pruned = [r for r in ok if r.selectors]
    ax.scatter([], [], s=3, color="0.8", label="candidate designs")
    if dense:
        ax.scatter([r.bits for r in dense], [r.prediction.fps for r in dense], color="tab:blue", zorder=3,
                   label="best dense")
    if pruned:
        ax.scatter([r.bits for r in pruned], [r.prediction.fps for r in pruned], color="tab:orange", s=12, zorder=3,
                   label="best with token selectors (expected)")
    front = [r for r in ok if r.pareto]
    if front:   # the staircase through the fastest point per precision; other Pareto points trade accuracy
        top = {}
        for r in front:
            if r.bits not in top or r.prediction.fps > top[r.bits].prediction.fps:
                top[r.bits] = r
        xs = sorted(top)
        ax.plot(xs, [top[b].prediction.fps for b in xs], "-", color="tab:red", zorder=2, label="Pareto front")
        ax.scatter([r.bits for r in front], [r.prediction.fps for r in front], s=40, facecolors="none",
                   edgecolors="tab:red", zorder=4, label="Pareto points (bits, FPS, accuracy)")
        for r in front:   # the third Pareto axis, written next to each point
            acc = f"{r.accuracy[0]:.3f}" + ("*" if r.accuracy[1] == RULE_OF_THUMB else "")
            ax.annotate(acc, (r.bits, r.prediction.fps), textcoords="offset points", xytext=(6, 4), fontsize=7,
                        color="tab:red")
        if any(r.accuracy[1] == RULE_OF_THUMB for r in front):
            fig.text(0.01, 0.01, "* accuracy not measured (rule of thumb 1 - 0.4 * 2^-(bits-2)); "
                     "`hlsgen evaluate` measures it", fontsize=7, color="0.3")
    for j, t in enumerate(res.targets):
        ax.axhline(t, ls="--", color="tab:green", lw=1, label=f"targets: {', '.join(f'{x:g}' for x in res.targets)} FPS"
                   if j == 0 else None)
    ax.set_xlabel("activation bits")
    ax.set_ylabel("frames per second")
    ax.set_xticks(sorted({r.bits for r in res.rows}))
    ax.set_title(f"{res.spec.name} on {res.board.name} @ {res.clock_mhz:g} MHz")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)   # beside, never on a point
    ax.grid(alpha=0.3)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(out_dir / "sweep.png", dpi=120, metadata={"Software": None})
    plt.close(fig)

    best = res.best_per_bits()
    keys = [k for k in KEYS if res.board.resources[k]]
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(keys), 1)
    xs = np.arange(len(best))
    for j, k in enumerate(keys):
        vals = [best[b].prediction.utilization()[k] * 100 for b in sorted(best)]
        ax.bar(xs + j * width - 0.4 + width / 2, vals, width, label=RES_LABEL[k])
    ax.axhline(100, ls=":", color="0.3", lw=1)
    ax.set_xticks(xs, [f"{b}-bit\n{best[b].prediction.fps:.0f} FPS" for b in sorted(best)])
    ax.set_ylabel("% of usable (board yaml 'usable')")
    ax.set_title(f"Resources of the fastest design per precision ({res.board.name})")
    ax.legend(fontsize=8, ncol=len(keys), loc="lower right")
    ax.set_ylim(0, 110)
    fig.tight_layout()
    fig.savefig(out_dir / "resources.png", dpi=120, metadata={"Software": None})
    plt.close(fig)


def write_sweep(res: SweepResult, out_dir) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "sweep.csv").write_text(sweep_csv(res))
    (out_dir / "sweep.md").write_text(sweep_markdown(res))
    _plots(res, out_dir)
    return [out_dir / n for n in ("sweep.csv", "sweep.md", "sweep.png", "resources.png")]
