"""Keep-rate calibration of trained token selectors: shift each selector's score bias so that the hard
decision (score > 0) keeps the target share of tokens on sample images. Training decides with Gumbel
noise, so a selector can meet its keep target in training while every score is positive (keeping
every token at inference); the shift gives inference the ratios the design was priced for."""
from __future__ import annotations

import torch

from quant.fakequant import act_quants


@torch.no_grad()
def calibrate_keep_rates(model, images: torch.Tensor, rounds: int = 3) -> list[float]:
    """Shift the score biases (block order) to the cumulative keep ratios of model.placements;
    recalibrates the selectors' activation scales (the backbone keeps those it was trained with);
    returns the kept share at each selector after the shift."""
    model.eval()
    targets, prev = [], 1.0
    for p in sorted(model.placements, key=lambda p: p.block):
        targets.append((str(p.block), p.keep_ratio / prev))
        prev = p.keep_ratio
    for r in range(rounds):
        for name, share in targets:
            scores = _scores(model, name, images)
            t = float(torch.quantile(scores, 1.0 - share))
            model.selectors[name].score.bias.sub_(t)
        if model.act_bits is not None and r == 0:
            model.calibrate(images, only=act_quants(model.selectors))
    return [float((_scores(model, name, images) > 0).float().mean()) for name, _ in targets]


def _scores(model, name: str, images: torch.Tensor) -> torch.Tensor:
    got: list[torch.Tensor] = []
    h = model.selectors[name].register_forward_hook(lambda mod, inp, out: got.append(out.flatten()))
    try:
        model(images)
    finally:
        h.remove()
    return torch.cat(got)
