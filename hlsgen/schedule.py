"""The layer schedule of a ViT on the reference accelerator: the ordered steps of one frame (hlsgen.ops),
with their shapes and the token count of every block. Step names are the golden model's trace keys
(quant.golden.run_golden) of the op they belong to: `patch_embed`, `blocks.{b}.{ln1,qkv,attn_qk,
softmax,attn_av,proj,ln2,fc1,fc2}` (GELU and the residual adds are fused into fc1 / proj / fc2 and
write the traces `gelu`, `residual1`, `residual2`), `blocks.{b}.selector` (every step of the
selector before block b), `norm`, `head`.

Token counts with selectors are data dependent; two cases are modelled:
  * worst: no token pruned, so no package token either: every block runs on N tokens (a selector
    never produces more than N: class + kept + one package <= N). A selector's own work is taken
    at its maximum: every scored token pruned into the package (an upper bound of both at once).
  * expected: each selector keeps round(r * (N-1)) tokens for its cumulative keep ratio r, so the
    following blocks run on 1 + round(r*(N-1)) + 1 tokens (class + kept + package).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from hlsgen.ops import (AttnAV, AttnQK, ImageLoad, LayerNorm, LinearBinary, LinearInt8, Op, Softmax,
                        report_type, token_select_steps)
from quant.errors import UserError
from quant.spec import SelectorPlacement, ViTSpec

CASES = ("worst", "expected")


class ScheduleError(UserError, ValueError):
    pass


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def check_selectors(spec: ViTSpec, selectors) -> tuple[SelectorPlacement, ...]:
    """Blocks strictly increasing in 1..depth-1; cumulative keep ratios in (0, 1], non-increasing,
    each keeping at least one patch token."""
    out, prev_b, prev_r = [], 0, 1.0
    for s in selectors:
        b, r = s.block, s.keep_ratio
        if isinstance(b, bool) or not isinstance(b, int) or not (0 < b < spec.depth):
            raise ScheduleError(f"selector block {b!r} must be an integer in 1..{spec.depth - 1} "
                                f"(inserted before that 0-based block)")
        if b <= prev_b:
            raise ScheduleError(f"selector blocks must be strictly increasing, got {b} after {prev_b}")
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not (0 < r <= 1):
            raise ScheduleError(f"selector keep_ratio {r!r} (block {b}) must be a number in (0, 1]")
        if r > prev_r:
            raise ScheduleError(f"selector keep ratios are cumulative and must not increase: {r} after {prev_r}")
        if round_half_up(r * (spec.num_tokens - 1)) < 1:
            raise ScheduleError(f"selector keep_ratio {r} (block {b}) keeps no token of {spec.num_tokens - 1}")
        out.append(SelectorPlacement(b, float(r)))
        prev_b, prev_r = b, r
    return tuple(out)


@dataclass(frozen=True)
class Schedule:
    spec: ViTSpec
    selectors: tuple[SelectorPlacement, ...]
    case: str
    ops: tuple[Op, ...]
    tokens: tuple[int, ...]      # tokens per block

    def grouped(self) -> list[tuple[Op, int]]:
        """(representative op, multiplicity) per distinct signature: identical blocks are costed once."""
        seen: dict[tuple, list] = {}
        for op in self.ops:
            seen.setdefault(op.signature(), [op, 0])[1] += 1
        return [(op, n) for op, n in seen.values()]


def frame_ops(spec: ViTSpec, tokens, pruned: dict[int, int]) -> list[Op]:
    """The steps of one frame, in execution order: block b runs on tokens[b] tokens (len(tokens)
    blocks: fewer than depth is a truncated model); the selector before block b (b in pruned)
    scores the previous block's tokens but the class token and folds pruned[b] of them into the
    package token. This is the one program the cycle model costs and both emitters render."""
    N, D, H, d, M = spec.num_tokens, spec.embed_dim, spec.num_heads, spec.head_dim, spec.mlp_dim
    depth = spec.depth
    ops: list[Op] = [ImageLoad("patch_embed", spec.num_patches * spec.patch_dim + 2 * D),
                     LinearInt8("patch_embed", spec.num_patches, spec.patch_dim, D, extra_bytes_per_ch=2 * spec.num_patches,
                                src="img", dst="x_pos")]
    n_prev = N
    sel_index = 0
    for b, n in enumerate(tokens):
        if b in pruned:
            ops += token_select_steps(f"blocks.{b}.selector", n_prev, pruned[b], D, H, index=sel_index,
                                      ln_table=2 * depth + 1 + sel_index)
            sel_index += 1
        p = f"blocks.{b}."
        ops += [LayerNorm(p + "ln1", n, D, table=2 * b), LinearBinary(p + "qkv", n, D, 3 * D, "act")]
        for h in range(H):
            ops += [AttnQK(p + "attn_qk", n, n, d, head=h), Softmax(p + "softmax", n, n, head=h),
                    AttnAV(p + "attn_av", n, n, d, head=h)]
        ops += [LinearBinary(p + "proj", n, D, D, "int16", tap2=p + "residual1"),
                LayerNorm(p + "ln2", n, D, table=2 * b + 1),
                LinearBinary(p + "fc1", n, D, M, "gelu", tap2=p + "gelu"),
                LinearBinary(p + "fc2", n, M, D, "int16", src="h", tap2=p + "residual2")]
        n_prev = n
    return ops + [LayerNorm("norm", 1, D, table=2 * depth, dst="i8in", rows_from="const"),
                  LinearInt8("head", 1, D, spec.num_classes, src="i8in", dst="logits")]


def block_of(name: str) -> int | None:
    """The encoder block a step belongs to (blocks.{b}.*), or None (patch embedding, norm, head)."""
    return int(name.split(".")[1]) if name.startswith("blocks.") else None


def op_names(ops) -> list[str]:
    """The ops' names in order of first appearance (the per-layer rows of reports)."""
    return list(dict.fromkeys(op.name for op in ops))


def trace_keys(ops) -> list[str]:
    """Every golden trace key the steps write, in execution order."""
    return list(dict.fromkeys(t for op in ops for t in op.traces()))


def by_report_type(ops, cycles_of) -> dict[str, int]:
    """{op type: sum of cycles_of(step)} over the steps (hlsgen.ops.report_type)."""
    out: dict[str, int] = {}
    for op in ops:
        out[report_type(op)] = out.get(report_type(op), 0) + int(cycles_of(op))
    return out


def build_schedule(spec: ViTSpec, selectors=(), case: str = "expected") -> Schedule:
    if case not in CASES:
        raise ScheduleError(f"schedule case must be one of {CASES}, got {case!r}")
    selectors = check_selectors(spec, selectors)
    N = spec.num_tokens
    at = {s.block: s.keep_ratio for s in selectors}
    tokens, pruned, n = [], {}, N
    for b in range(spec.depth):
        if b in at:
            scored = n - 1
            if case == "worst":
                n_out, pruned[b] = n, scored
            else:
                kept = min(round_half_up(at[b] * (N - 1)), scored)
                pruned[b] = scored - kept
                n_out = 1 + kept + (1 if pruned[b] else 0)
            n = n_out
        tokens.append(n)
    return Schedule(spec, selectors, case, tuple(frame_ops(spec, tokens, pruned)), tuple(tokens))


def macs_per_frame(spec: ViTSpec) -> dict:
    """MACs of one dense frame by kind (for rooflines and reports)."""
    N, D, H, d, M = spec.num_tokens, spec.embed_dim, spec.num_heads, spec.head_dim, spec.mlp_dim
    return {"binary": spec.depth * N * D * (3 * D + D + 2 * M),
            "attention": spec.depth * 2 * H * N * N * d,
            "int8": spec.num_patches * spec.patch_dim * D + D * spec.num_classes}
