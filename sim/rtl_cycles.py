"""The cycle model at the token counts a simulation actually ran (token selectors make them data
dependent), and the per-op-type comparison of simulated and modelled cycles.

`model_layers(design, tokens, pruned, blocks)` costs the steps of hlsgen.schedule.frame_ops with the
given token count per block and pruned count per selector: {op name: cycles}. `per_op(...)` sums a
run's per-descriptor cycles (harness trace) by the op type each descriptor's step reports under
(program.json) next to the model's cycles of the same op types.
"""
from __future__ import annotations

from hlsgen.schedule import by_report_type, frame_ops


def model_steps(design, tokens: list[int], pruned: dict[int, int], blocks: int | None = None) -> list:
    """The steps of blocks 0 .. blocks-1 (all) run on tokens[b] tokens; the selector before block b
    scored tokens[b-1] - 1 tokens and pruned pruned[b] of them."""
    nblocks = design.spec.depth if blocks is None else blocks
    sel = {p.block: pruned.get(p.block, 0) for p in design.selectors if p.block < nblocks}
    return frame_ops(design.spec, tokens[:nblocks], sel)


def model_layers(design, tokens: list[int], pruned: dict[int, int], blocks: int | None = None) -> dict[str, int]:
    """{op name: modelled cycles} (model_steps summed per op)."""
    out: dict[str, int] = {}
    for step in model_steps(design, tokens, pruned, blocks):
        out[step.name] = out.get(step.name, 0) + step.cycles(design)
    return out


def model_by_type(design, tokens: list[int], pruned: dict[int, int], blocks: int | None = None) -> dict[str, int]:
    return by_report_type(model_steps(design, tokens, pruned, blocks), lambda s: s.cycles(design))


def pruned_counts(design, tokens: list[int], pkg_ran: dict[int, bool]) -> dict[int, int]:
    """Pruned tokens per selector from the token counts: n_out = n_in - pruned + (pruned > 0); with
    n_out == n_in (nothing pruned, or exactly one folded into the package) the run's trace decides."""
    out, n_prev = {}, design.spec.num_tokens
    for b, n in enumerate(tokens):
        if b in {p.block for p in design.selectors}:
            out[b] = (n_prev - n + 1) if n < n_prev else (1 if pkg_ran.get(b) else 0)
        n_prev = n
    return out


def per_op(descriptors: list[dict], per_pc: dict, model: dict[str, int]) -> dict:
    """Cycles per op type, simulated (descriptors of a step: those with a 'type') vs modelled (`model`:
    {op type: cycles}, model_by_type)."""
    out: dict[str, dict] = {}
    for pc, cyc in per_pc.items():
        kind = descriptors[int(pc)].get("type")
        if kind is None or kind not in model:
            continue
        out.setdefault(kind, {"sim": 0, "model": model[kind]})["sim"] += int(cyc)
    for rec in out.values():
        rec["ratio"] = round(rec["sim"] / rec["model"], 4) if rec["model"] else None
    return dict(sorted(out.items()))
