"""Lowering: an IntModel on a DesignPoint -> what both emitters share.

`lower(im, design)` returns a `Lowered`: the weight blob and its section layout, and the trace-layer
table (the golden model's trace keys in execution order, with their storage types). The HLS
emitter (hlsgen.emit_hls) and the RTL emitter (hlsgen.emit_rtl) each render their own constant
tables and step tables from it and from the design's steps.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlsgen.design import DesignPoint
from hlsgen.emit_blob import Blob, Section
from hlsgen.schedule import trace_keys
from hlsgen.emit_params import EmitError, check_rq_range, ln_fields
from quant.intmodel import IntModel, LayerNormInt

# trace storage type per layer kind: b int8, B uint8, h int16, i int32
_DTYPE = {"ln1": "b", "qkv": "b", "attn_qk": "h", "softmax": "B", "attn_av": "b", "proj": "h", "residual1": "h",
          "ln2": "b", "fc1": "h", "gelu": "b", "fc2": "h", "residual2": "h", "patch_embed": "h", "selector": "h",
          "selector.scores": "i", "norm": "b", "head": "h"}


@dataclass(frozen=True)
class TraceLayer:
    id: int
    name: str      # the golden trace key (plus blocks.{b}.selector.scores)
    dtype: str     # numpy-style code of its stored values: b, B, h, i

    @property
    def nbytes(self) -> int:
        return {"b": 1, "B": 1, "h": 2, "i": 4}[self.dtype]


@dataclass
class Lowered:
    design: DesignPoint
    im: IntModel
    blob: bytes
    sections: list[Section]
    layers: list[TraceLayer]
    sel_blocks: list[int] = field(default_factory=list)

    @property
    def layer_ids(self) -> dict[str, int]:
        return {l.name: l.id for l in self.layers}

    def section(self, name: str) -> Section:
        for sec in self.sections:
            if sec.name == name:
                return sec
        raise KeyError(name)


def trace_layers(steps) -> list[TraceLayer]:
    """The golden trace keys the steps write (hlsgen.schedule.trace_keys), in execution order."""
    out = []
    for i, n in enumerate(trace_keys(steps)):
        kind = n.split(".", 2)[-1] if n.startswith("blocks.") else n
        out.append(TraceLayer(i, n, _DTYPE[kind]))
    return out


def ln_affine(ln: LayerNormInt, D: int, name: str) -> tuple[list, list, list, int, int]:
    """(core fields, per-channel multipliers, biases, shift, bits) of one LayerNorm."""
    rq = ln.rq
    mult = np.broadcast_to(np.asarray(rq.mult, dtype=np.int64).ravel(), (D,)) if np.size(rq.mult) == 1 else rq.mult
    bias = np.broadcast_to(np.asarray(rq.bias, dtype=np.int64).ravel(), (D,)) if np.size(rq.bias) == 1 else rq.bias
    check_rq_range(rq, name)
    return ln_fields(ln.params), [int(v) for v in mult], [int(v) for v in bias], int(rq.shift), int(rq.bits)


def lower(im: IntModel, design: DesignPoint) -> Lowered:
    """The weight blob (in execution order), its sections and the trace-layer table of a design."""
    s = im.spec
    if design.act_bits != im.act_bits:
        raise EmitError(f"design has {design.act_bits}-bit activations but the model {im.act_bits}-bit")
    if {**s.to_dict(), "name": ""} != {**design.spec.to_dict(), "name": ""}:
        raise EmitError(f"model shape {s.name} does not match the design's {design.spec.name}")
    if design.board.memory.axi_width_bits % 64:
        raise EmitError(f"board AXI width {design.board.memory.axi_width_bits} bits: the kernels need a multiple of 64")
    H, HID = s.num_heads, max(s.head_dim // 2, 1)
    blob = Blob(design.board.memory.axi_width_bits // 8)
    blob.add_int16_row("patch_embed.cls", im.pos[0])
    blob.add_int8("patch_embed", im.patch.weight, im.patch.rq, pos=im.pos[1:].T)
    for b, blk in enumerate(im.blocks):
        if b in im.selectors:
            sel = im.selectors[b]
            for h in range(H):
                blob.add_int8(f"blocks.{b}.selector.local.{h}", sel.local.weight[h], sel.local.rq.channels(h * HID, HID))
            for h in range(H):
                blob.add_int8(f"blocks.{b}.selector.score.{h}", sel.score.weight[h], sel.score.rq.channels(h, 1))
            blob.add_int8(f"blocks.{b}.selector.gate", sel.gate.weight, sel.gate.rq)
        for name, lin in (("qkv", blk.qkv), ("proj", blk.proj), ("fc1", blk.fc1), ("fc2", blk.fc2)):
            blob.add_binary(f"blocks.{b}.{name}", lin.weight, lin.rq)
    blob.add_int8("head", im.head.weight, im.head.rq)
    data = blob.finish()
    layers = trace_layers(design.schedule("worst").ops)
    return Lowered(design, im, data, list(blob.sections), layers, sorted(im.selectors))


def layernorms(im: IntModel) -> list[tuple[str, LayerNormInt]]:
    """Every LayerNorm in constant-table order: ln1, ln2 of each block, norm, then the selectors'."""
    lns = [(f"blocks.{b}.ln{j}", getattr(blk, f"ln{j}")) for b, blk in enumerate(im.blocks) for j in (1, 2)]
    lns.append(("norm", im.norm))
    return lns + [(f"blocks.{b}.selector.ln", im.selectors[b].ln) for b in sorted(im.selectors)]

