"""The cycle model at the token counts a simulation actually ran (token selectors make them data
dependent), and the per-op-type comparison of simulated and modelled cycles.

`model_layers(design, tokens, pruned, blocks)` builds the schedule of hlsgen.schedule with the given
token count per block and pruned count per selector and evaluates each op's `cycles(design)`:
{op name: cycles}. `per_op(...)` sums a run's per-descriptor cycles (harness trace) by op type.
"""
from __future__ import annotations

from hlsgen.ops import (AttnAV, AttnQK, Gelu, LayerNorm, LinearBinary, LinearInt8, ResidualAdd, Softmax,
                        TokenSelect)

KINDS = {"ln1": "layernorm", "ln2": "layernorm", "norm": "layernorm", "qkv": "linear_binary",
         "proj": "linear_binary", "fc1": "linear_binary", "fc2": "linear_binary", "attn_qk": "attn_qk",
         "softmax": "softmax", "attn_av": "attn_av", "patch_embed": "linear_int8", "head": "linear_int8",
         "selector": "token_select"}


def model_layers(design, tokens: list[int], pruned: dict[int, int], blocks: int | None = None) -> dict[str, int]:
    """{op name: modelled cycles} for blocks 0 .. blocks-1 (all) run on tokens[b] tokens; the selector
    before block b scored tokens[b-1] - 1 tokens and pruned pruned[b] of them."""
    s = design.spec
    N, D, H, d, M = s.num_tokens, s.embed_dim, s.num_heads, s.head_dim, s.mlp_dim
    sel_blocks = {p.block for p in design.selectors}
    ops = [LinearInt8("patch_embed", s.num_patches, s.patch_dim, D, extra_bytes_per_ch=2 * N,
                      preload_bytes=s.num_patches * s.patch_dim + 2 * D)]
    n_prev = N
    for b in range(s.depth if blocks is None else blocks):
        n = tokens[b]
        if b in sel_blocks:
            ops.append(TokenSelect(f"blocks.{b}.selector", n_prev, pruned.get(b, 0), D, H))
        p = f"blocks.{b}."
        ops += [LayerNorm(p + "ln1", n, D), LinearBinary(p + "qkv", n, D, 3 * D, "act"),
                AttnQK(p + "attn_qk", H, n, n, d), Softmax(p + "softmax", H, n, n), AttnAV(p + "attn_av", H, n, n, d),
                LinearBinary(p + "proj", n, D, D, "int16"), ResidualAdd(p + "residual1", n, D),
                LayerNorm(p + "ln2", n, D), LinearBinary(p + "fc1", n, D, M, "wide"), Gelu(p + "gelu", n, D, M),
                LinearBinary(p + "fc2", n, M, D, "int16"), ResidualAdd(p + "residual2", n, D)]
        n_prev = n
    ops += [LayerNorm("norm", 1, D), LinearInt8("head", 1, D, s.num_classes)]
    return {op.name: op.cycles(design) for op in ops}


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
