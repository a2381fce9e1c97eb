"""QAT on the user's own data: the progressive VAQF training (and HeatViT selector training) the
digits model ships with, for any preset or spec yaml, from the user's float checkpoint (or a seeded
initialisation) on an image folder (quant.image_folder).

Checkpoints (written atomically, full precision) go to OUT: <name>_float.pt (only when training from scratch), <name>_b<k>.pt, <name>_b<k>_prune.pt; with
reuse an existing one is loaded instead of retrained. 10% of the images (a fixed-seed choice) are held
out for the accuracy each stage reports.
"""
from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from quant.errors import UserError

HOLDOUT = 0.1


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: torch sees no GPU here (use --device cpu or auto)")
    if name not in ("cpu", "cuda"):
        raise UserError(f"--device must be auto, cpu or cuda, got {name!r}")
    return torch.device(name)


def folder_split(spec, data: str, device: torch.device):
    """The folder's images as a quant.digits.Split: a fixed-seed 90/10 train / held-out split."""
    from quant import image_folder
    from quant.digits import Split
    folder = image_folder.scan(data, spec.num_classes)
    if len(folder.files) < 2:
        raise UserError(f"{data}: {len(folder.files)} image(s); training needs at least 2")
    x, y = image_folder.load(folder, spec, list(range(len(folder.files))), "reading images")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    n_test = max(1, int(round(HOLDOUT * len(x))))
    test, train = order[:n_test], order[n_test:]
    return Split(x[train].to(device), y[train].to(device), x[test].to(device), y[test].to(device)), folder


@dataclass(frozen=True)
class Recipe:
    """How train_on_split trains. epochs: float, QAT, each selector stage. qat_images: QAT and
    selector stages train on this many training images (a fixed-seed subset; fine-tuning a trained
    float model needs far fewer than learning it); selector_images: the same for the selector
    stages (a subset of that subset). calibrate_keep: shift the trained selectors' score biases so
    that inference keeps the target ratios (quant.keep_calibration); finetune_epochs: then train
    the backbone on the calibrated selectors' decisions (quant.train.finetune_with_selectors).
    final_calibration: recalibrate every scale after QAT. half: write the weights in float16 (the
    shipped checkpoints; the accuracy recorded is the float32 one)."""
    epochs: tuple[int, int, int] = (60, 30, 15)
    qat_images: int | None = None
    selector_images: int | None = None
    calibrate_keep: bool = False
    finetune_epochs: int = 0
    final_calibration: bool = True
    half: bool = False

    def meta(self) -> dict:
        return {"epochs": list(self.epochs), "qat_images": self.qat_images, "selector_images": self.selector_images,
                "calibrate_keep": self.calibrate_keep, "finetune_epochs": self.finetune_epochs,
                "final_calibration": self.final_calibration}


def train_on_folder(model: str, data: str, bits_list, out_dir: Path, weights: str | None = None,
                    prune: bool = False, reuse: bool = False, device: str = "auto",
                    recipe: Recipe = Recipe()) -> dict:
    """train_on_split on an image folder, 10% held out."""
    from quant.spec import resolve_spec
    spec = resolve_spec(model)
    dev = resolve_device(device)
    split, folder = folder_split(spec, data, dev)
    return train_on_split(spec, split, folder.identity, bits_list, out_dir, weights, prune, reuse, dev, recipe)


def train_on_split(spec, split, data_name: str, bits_list, out_dir: Path, weights: str | None = None,
                   prune: bool = False, reuse: bool = False, device="auto", recipe: Recipe = Recipe()) -> dict:
    """Train float (unless `weights`), QAT at each of bits_list, selectors with prune, as `recipe`
    says; returns {checkpoint name: held-out accuracy}."""
    from quant.checkpoint import load_model, save_model
    from quant.spec import default_selectors
    from quant.train import accuracy, finetune_with_selectors, quantization_aware, train_float, train_selectors
    from quant.vit import build_vit
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    split = type(split)(*(t.to(dev) for t in (split.x_train, split.y_train, split.x_test, split.y_test)))
    _log(f"train {spec.name} on {data_name}: {len(split.x_train)} train / {len(split.x_test)} held out, "
         f"device {dev}")
    out_dir = Path(out_dir)
    name = Path(spec.name).stem
    results: dict = {}

    def stage(fname: str, build):
        path = out_dir / fname
        if reuse and path.exists():
            m, meta = load_model(path, spec)
            results[fname] = meta.get("holdout_accuracy")
            _log(f"  {fname}: reused")
            return m.to(dev)
        m, acc = build()
        meta = {"holdout_accuracy": acc, "data": data_name, **recipe.meta()}
        if recipe.half:
            meta["weights"] = "float16 (holdout_accuracy measured before rounding)"
        save_model(m.to("cpu"), path, meta, half=recipe.half)
        results[fname] = acc
        _log(f"  {fname}: held-out accuracy {acc:.4f}")
        return m.to(dev)

    if weights is not None:
        fmodel = load_model(weights, spec)[0].to(dev)
        results["float"] = accuracy(fmodel, split.x_test, split.y_test)
    else:
        def scratch():
            m = build_vit(spec, seed=0).to(dev)
            return m, train_float(m, split, epochs=recipe.epochs[0])
        fmodel = stage(f"{name}_float.pt", scratch)
    full = split
    split = _subset(split, recipe.qat_images, "QAT and selector stages")
    sel_split = _subset(split, recipe.selector_images, "selector stages")
    for bits in bits_list:
        def qat(bits=bits):
            m = copy.deepcopy(fmodel)
            return m, quantization_aware(m, split, bits, epochs=recipe.epochs[1],
                                         final_calibration=recipe.final_calibration)
        q = stage(f"{name}_b{bits}.pt", qat)
        if prune:
            def sel(q=q):
                m = copy.deepcopy(q)
                acc = train_selectors(m, sel_split, default_selectors(spec.depth), recipe.epochs[2])
                if recipe.calibrate_keep:
                    from quant.keep_calibration import calibrate_keep_rates
                    pick = torch.randperm(len(full.x_train), generator=torch.Generator().manual_seed(2))[:1024]
                    _log(f"  keep rates at inference after calibration: {calibrate_keep_rates(m, full.x_train[pick])}")
                    if recipe.finetune_epochs:
                        finetune_with_selectors(m, split, recipe.finetune_epochs)
                        # the backbone moved: the selectors' scores did too
                        _log(f"  keep rates after the backbone fine-tune: {calibrate_keep_rates(m, full.x_train[pick])}")
                    acc = accuracy(m, split.x_test, split.y_test)
                return m, acc
            stage(f"{name}_b{bits}_prune.pt", sel)
    return results


def _subset(split, n: int | None, what: str):
    """The first n of a fixed-seed shuffle of the training images (the test images unchanged)."""
    if n is None or n >= len(split.x_train):
        return split
    pick = torch.randperm(len(split.x_train), generator=torch.Generator().manual_seed(1))[:n]
    _log(f"  {what} on {n} of the training images")
    return type(split)(split.x_train[pick], split.y_train[pick], split.x_test, split.y_test)
