"""A built-in model's shipped checkpoint as a generated project: the explorer's design for a frame
rate, held at the checkpoint's activation bits (the explorer might pick others), with the checkpoint's
own selectors, on the first images of the model's test split. The C-simulation tests and the fmnist
benchmark build their projects this way."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path


def shipped_project(model: str, bits: int, prune: bool, out: Path, fps: float = 30.0, images: int | None = None,
                    trace_mb: float = 2.0):
    """(the written project directory, the number of test images, the design)."""
    from hlsgen import emit
    from hlsgen.board import resolve_board
    from hlsgen.cmd_generate import explore_design, prepare
    from hlsgen.outdir import write_project
    from quant.checkpoint import load_model
    from quant.intmodel import export_int_model
    from quant.spec import PRESETS
    from quant.zoo import shipped_checkpoint
    ckpt = shipped_checkpoint(model, bits, prune, train_if_missing=False)
    sels = tuple(load_model(ckpt)[0].placements) if prune else ()
    design, _ = explore_design(PRESETS[model], resolve_board("zcu102"), fps, sels)
    design = replace(design, act_bits=bits)
    prep = prepare(design, model, None, images)
    im = export_int_model(prep.quant)
    codes = im.quantize_input(prep.images.numpy())
    proj = emit.build_project(im, design, codes, trace_mb=trace_mb)
    return write_project(proj.files, out), len(codes), design
