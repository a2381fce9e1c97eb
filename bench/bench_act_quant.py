"""Where activation quantization loses a ViT with the pathologies of real pretrained weights (issue
11 section 5, "measure, report, then choose"): a seeded 197-token model given the features that hurt
(outlier residual channels 60x the median, LayerNorm gammas of 12 on some channels, peaky attention),
in two variants: the residual stream at timm's initial scale (position embedding std 0.02, so the
outliers stretch its range ~10^4-fold) and at unit scale (std 1, as in trained models),
quantized with float weights (only the activations are quantized), one quantizer group at a time
and all together, at 8 and 6 bits: cosine of the logits to the float model, top-1 agreement, and
how much of the attention probabilities' mass rounds to zero. Also measured, as a proposal not yet
built in the three renderings: attention probabilities at a row-adaptive scale 2^-(k + sh), sh =
floor(log2(1 / row max)) (the integer softmax's msb(sum e) - Fe; the AV requantizer would shift its row
by sh more), alone and with everything else.

    python bench/bench_act_quant.py [--images 32] [--out bench/results/act_quant.json]
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from quant.fakequant import ActQuant, quantize  # noqa: E402
from quant.spec import ViTSpec  # noqa: E402
from quant.vit import build_vit  # noqa: E402

SPEC = ViTSpec("pathological", 112, 3, 8, 192, 4, 3, 4.0, 100)    # 14 x 14 patches + cls = 197 tokens
GROUPS = {
    "input pixels": ("in_q",), "LayerNorm outputs": ("ln1_q", "ln2_q", "norm_q"), "q / k / v": ("q_q", "k_q", "v_q"),
    "attention scores": ("score_q",), "attention probabilities": ("prob_q",), "attention output": ("av_q",),
    "GELU in / out": ("gelu_in_q", "gelu_out_q"), "int16 residual": ("res_q",), "logits": ("logit_q",),
}
OUTLIER_CHANNELS, OUTLIER_GAIN, GAMMA_CHANNELS, GAMMA = (7, 100), 60.0, 24, 12.0
# wider than timm's 0.02 so attention is not uniform; at 0.08+ with these gammas the float model turns
# chaotic (1e-3 of input noise moves its logits by > 0.5% cosine) and measures nothing
QKV_STD = 0.05


ADAPTIVE = "attention probabilities, row-adaptive scale (proposal)"
VARIANTS = {"residual at timm init scale (std 0.02)": 0.02, "residual at unit scale (std 1)": 1.0}


def pathological_model(residual_std: float, seed: int = 0):
    """Seeded weights with the three features: outlier residual channels (their proj / fc2 rows and
    the position embedding scaled by OUTLIER_GAIN), LayerNorm gammas of GAMMA on GAMMA_CHANNELS
    channels, and qkv weights wide enough that attention is peaky rather than uniform."""
    m = build_vit(SPEC, seed=seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        m.pos_embed.normal_(0, residual_std, generator=g)
        for blk in m.blocks:
            blk.attn.qkv.weight.normal_(0, QKV_STD, generator=g)
            for lin in (blk.attn.proj, blk.mlp.fc2):
                lin.weight[list(OUTLIER_CHANNELS)] *= OUTLIER_GAIN
            for ln in (blk.norm1, blk.norm2):
                ln.weight[torch.randperm(SPEC.embed_dim, generator=g)[:GAMMA_CHANNELS]] = GAMMA
        m.pos_embed[..., list(OUTLIER_CHANNELS)] *= OUTLIER_GAIN
    return m.eval()


def images(n: int, seed: int = 3) -> torch.Tensor:
    """Smooth random images (noise, 4x upsampled), in the -1..1 range of a normalised photo."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, SPEC.in_chans, SPEC.img_size // 4, SPEC.img_size // 4, generator=g)
    return torch.nn.functional.interpolate(x, scale_factor=4, mode="bilinear", align_corners=False).clamp(-2, 2)


def only(model, names: tuple[str, ...] | None) -> None:
    """Quantize only the ActQuant points whose attribute name is in `names` (None: all of them)."""
    for full, mod in model.named_modules():
        if isinstance(mod, ActQuant):
            mod.mode = "quant" if names is None or full.rsplit(".", 1)[-1] in names else "off"


def row_shift(p: torch.Tensor) -> torch.Tensor:
    """sh = floor(log2(1 / row max)) per row of probabilities (last axis), at least 0."""
    return torch.floor(-torch.log2(p.amax(-1, keepdim=True).clamp_min(1e-30))).clamp_min(0)


def row_adaptive(mod: ActQuant, x: torch.Tensor) -> torch.Tensor:
    """The probabilities quantized at 2^-(bits + sh) per row: the row's largest code is >= 2^(bits-1)."""
    if mod.mode != "quant":
        return x
    return quantize(x, 2.0 ** -(mod.bits + row_shift(x.detach())), 0, (1 << mod.bits) - 1)


def use_row_adaptive(model, on: bool) -> None:
    for blk in model.blocks:
        q = blk.attn.prob_q
        if on:
            q.forward = lambda x, q=q: row_adaptive(q, x)
        elif "forward" in q.__dict__:
            del q.forward


def prob_underflow(model, x: torch.Tensor, bits: int) -> dict:
    """Share of the float model's attention probabilities below half an LSB of 2^-bits, and the
    share of each row's probability mass they hold (what rounding them to zero loses)."""
    probs = []
    hooks = [blk.attn.prob_q.register_forward_hook(lambda mod, inp, out: probs.append(inp[0].detach()))
             for blk in model.blocks]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    p = torch.cat([t.flatten(0, -2) for t in probs])
    small = p < 2.0 ** -(bits + 1)
    small_adaptive = p < 2.0 ** -(bits + 1 + row_shift(p))
    return {"zero_fraction": float(small.float().mean()), "row_mass_lost": float((p * small).sum(-1).mean()),
            "row_adaptive_zero_fraction": float(small_adaptive.float().mean()),
            "row_adaptive_row_mass_lost": float((p * small_adaptive).sum(-1).mean()),
            "mean_row_shift": float(row_shift(p).mean())}


def measure(n_images: int, residual_std: float) -> dict:
    from quant import fakequant
    fmodel = pathological_model(residual_std)
    x = images(n_images)
    with torch.no_grad():
        ref = fmodel(x)
    out: dict = {"spec": SPEC.to_dict(), "images": n_images, "residual_std": residual_std, "bits": {}}
    for bits in (8, 6):
        fakequant._sample_gen.manual_seed(0)      # the calibration's samples, the same every run
        q = copy.deepcopy(fmodel)
        q.set_quant(bits)
        q.set_weight_mode(binary=False)
        q.calibrate(x)
        rows = {}
        runs = [(label, names, False) for label, names in GROUPS.items()] + [("all together", None, False)]
        runs += [(ADAPTIVE, ("prob_q",), True), (f"all together, {ADAPTIVE}", None, True)]
        for label, names, adaptive in runs:
            only(q, names)
            use_row_adaptive(q, adaptive)
            with torch.no_grad():
                y = q(x)
            rows[label] = {"cosine": float(torch.nn.functional.cosine_similarity(y, ref, dim=-1).mean()),
                           "top1_agreement": float((y.argmax(-1) == ref.argmax(-1)).float().mean())}
        out["bits"][bits] = {"groups": rows, "probabilities": prob_underflow(fmodel, x, bits)}
    return out


def table(r: dict) -> str:
    lines = ["| quantized | cosine 8-bit | top-1 agree 8-bit | cosine 6-bit | top-1 agree 6-bit |", "|---|---|---|---|---|"]
    for label in r["bits"][8]["groups"]:
        a, b = r["bits"][8]["groups"][label], r["bits"][6]["groups"][label]
        lines.append(f"| {label} | {a['cosine']:.4f} | {a['top1_agreement']:.3f} | {b['cosine']:.4f} | "
                     f"{b['top1_agreement']:.3f} |")
    for bits in (8, 6):
        p = r["bits"][bits]["probabilities"]
        lines.append(f"\nattention probabilities below half an LSB at {bits} bits: {p['zero_fraction']:.1%} of them, "
                     f"{p['row_mass_lost']:.1%} of each row's mass; at the row-adaptive scale "
                     f"(mean sh {p['mean_row_shift']:.1f}): {p['row_adaptive_zero_fraction']:.1%}, "
                     f"{p['row_adaptive_row_mass_lost']:.1%}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "act_quant.json"))
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    runs, md = {}, ["## Activation quantization on a model with real weights' pathologies (float weights)", ""]
    for label, std in VARIANTS.items():
        runs[label] = measure(args.images, std)
        text = table(runs[label])
        print(f"{label}:\n{text}\n")
        md += [f"### {label}", "", text, ""]
    out = Path(args.out)
    out.write_text(json.dumps(runs, indent=1, sort_keys=True) + "\n")
    out.with_suffix(".md").write_text("\n".join(md))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
