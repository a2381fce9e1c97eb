"""The cycle model at the token counts a simulation actually ran (token selectors make them data
dependent), and the per-op-type comparison of simulated and modelled cycles.

`model_layers(design, tokens, pruned, blocks)` builds the ops of hlsgen.schedule.frame_ops with the given
token count per block and pruned count per selector and evaluates each op's `cycles(design)`:
{op name: cycles}. `per_op(...)` sums a run's per-descriptor cycles (harness trace) by op type.
"""
from __future__ import annotations

from hlsgen.schedule import frame_ops

KINDS = {"ln1": "layernorm", "ln2": "layernorm", "norm": "layernorm", "qkv": "linear_binary",
         "proj": "linear_binary", "fc1": "linear_binary", "fc2": "linear_binary", "attn_qk": "attn_qk",
         "softmax": "softmax", "attn_av": "attn_av", "patch_embed": "linear_int8", "head": "linear_int8",
         "selector": "token_select"}


def model_layers(design, tokens: list[int], pruned: dict[int, int], blocks: int | None = None) -> dict[str, int]:
    """{op name: modelled cycles} for blocks 0 .. blocks-1 (all) run on tokens[b] tokens; the selector
    before block b scored tokens[b-1] - 1 tokens and pruned pruned[b] of them."""
    nblocks = design.spec.depth if blocks is None else blocks
    sel = {p.block: pruned.get(p.block, 0) for p in design.selectors if p.block < nblocks}
    return {op.name: op.cycles(design) for op in frame_ops(design.spec, tokens[:nblocks], sel)}


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
    """Cycles per op type, simulated (descriptors of ops in `model`) vs modelled; fc1 carries the
    fused GELU, residual adds are fused (0 cycles)."""
    out: dict[str, dict] = {}
    names: set[str] = set()
    for pc, cyc in per_pc.items():
        name = descriptors[int(pc)]["name"]
        kind = KINDS.get(name.rsplit(".", 1)[-1])
        if kind is None or name not in model:
            continue
        rec = out.setdefault(kind, {"sim": 0, "model": 0})
        rec["sim"] += int(cyc)
        if name not in names:
            names.add(name)
            rec["model"] += model[name] + (model.get(name[:-3] + "gelu", 0) if name.endswith("fc1") else 0)
    for rec in out.values():
        rec["ratio"] = round(rec["sim"] / rec["model"], 4) if rec["model"] else None
    return dict(sorted(out.items()))
