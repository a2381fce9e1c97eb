"""Where models come from: shipped checkpoints (digits, fmnist), user checkpoints, seeded DeiT weights.

`prepare_model(model, bits, prune, weights)` returns a calibrated fake-quant model ready for
export and evaluation, plus the float reference model and the evaluation images.
The built-in models (quant.builtin) ship as checkpoints in quant/data/ (float, and QAT at 8 and 6
bits, with and without selectors); other digits precisions are trained on first use and cached in
.cache/models/ (fmnist's take an hour: `hlsgen train fmnist --bits K`).
"""
from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from quant.builtin import BUILTIN, builtin
from quant.checkpoint import load_model, save_model
from quant.errors import UserError
from quant.spec import ViTSpec, check_act_bits, default_selectors, resolve_spec
from quant.vit import VisionTransformer, build_vit
from quant.paths import CACHE_ROOT

DATA_DIR = Path(__file__).resolve().parent / "data"
CACHE_DIR = CACHE_ROOT / "models"
SHIPPED_BITS = (8, 6)
FLOAT_EPOCHS, QAT_EPOCHS, SELECTOR_EPOCHS = 200, 30, 8


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def train_digits_float() -> VisionTransformer:
    from quant.digits import load_split
    from quant.spec import PRESETS
    from quant.train import train_float

    model = build_vit(PRESETS["digits"], seed=0)
    acc = train_float(model, load_split(), epochs=FLOAT_EPOCHS)
    _log(f"digits float test accuracy {acc:.4f}")
    return model


def train_digits_quant(float_model: VisionTransformer, bits: int) -> tuple[VisionTransformer, float]:
    """VAQF progressive QAT from the float model."""
    from quant.digits import load_split
    from quant.train import quantization_aware

    model = copy.deepcopy(float_model)
    return model, quantization_aware(model, load_split(), bits, epochs=QAT_EPOCHS)


def train_digits_selectors(qat_model: VisionTransformer) -> tuple[VisionTransformer, float]:
    """HeatViT multi-stage selector training on top of a QAT model."""
    from quant.digits import load_split
    from quant.train import train_selectors

    model = copy.deepcopy(qat_model)
    return model, train_selectors(model, load_split(), default_selectors(model.spec.depth), SELECTOR_EPOCHS)


def shipped_checkpoint(model: str, bits: int | None, prune: bool, train_if_missing: bool = True) -> Path:
    """Path of a built-in model's checkpoint (quant.builtin) for this setting. A missing digits
    precision is trained now and cached; a missing fmnist one names the command that trains it."""
    b = builtin(model)
    name = b.checkpoint_name(bits, prune)
    for folder in (DATA_DIR, CACHE_DIR):
        if (folder / name).exists():
            return folder / name
    what = "float" if bits is None else f"{bits}-bit" + (" + selectors" if prune else "")
    retrain = f"`hlsgen train {model}" + ("" if bits is None else f" --bits {bits}" + (" --prune" if prune else "")) + "`"
    if not train_if_missing or model != "digits" or bits is None:
        raise UserError(f"no {model} checkpoint for {what} ({DATA_DIR / name}); {retrain} trains it "
                        f"({b.train_hint})")
    _log(f"digits: no checkpoint for {what} yet; quantization-aware training now (a few minutes), "
         f"cached in {CACHE_DIR}")
    if prune:
        model_, acc = train_digits_selectors(load_model(shipped_checkpoint(model, bits, False))[0])
    else:
        model_, acc = train_digits_quant(load_model(DATA_DIR / b.checkpoint_name(None, False))[0], bits)
    path = CACHE_DIR / name
    save_model(model_, path, {"test_accuracy": acc})
    return path


def digits_name(bits: int | None, prune: bool) -> str:
    return BUILTIN["digits"].checkpoint_name(bits, prune)


@dataclass
class Prepared:
    spec: ViTSpec
    quant: VisionTransformer   # calibrated fake-quant model (with selectors if pruned)
    float: VisionTransformer   # the float reference (no quantization, no selectors)
    images: torch.Tensor       # evaluation images
    labels: torch.Tensor | None
    data: str = ""             # what the evaluation images are (quant.accuracy_key.default_data if "")
    calibration: str = ""      # what the activation scales were calibrated on


def random_images(spec: ViTSpec, n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, spec.in_chans, spec.img_size, spec.img_size, generator=g).clamp(-3, 3)


def _folder_images(spec: ViTSpec, data: str, images: int | None):
    """(eval images, labels, identity, folder) from the user's image folder (quant.image_folder)."""
    from quant import image_folder
    folder = image_folder.scan(data, spec.num_classes)
    x, y = image_folder.load(folder, spec, image_folder.sample(folder, images), "reading images")
    return x, y, folder.identity + ("" if images is None else f", {len(x)} sampled"), folder


def prepare_model(model: str, bits: int, prune: bool = False, weights: str | None = None,
                  images: int | None = None, calib_images: int = 16, data: str | None = None) -> Prepared:
    """The float and calibrated fake-quant models and evaluation images. data: an image folder
    (quant.image_folder) for the evaluation images and, for post-training quantization, the
    calibration (else 16 Gaussian-noise images, labelled as such)."""
    check_act_bits(bits)
    b = builtin(model) if weights is None else None
    if b is not None:
        fmodel, _ = load_model(shipped_checkpoint(model, None, False))
        qmodel, _ = load_model(shipped_checkpoint(model, bits, prune))
        calib = f"QAT on the {model} training split (shipped checkpoint)"
        if data is not None:
            x, y, ident, _ = _folder_images(fmodel.spec, data, images)
            return Prepared(fmodel.spec, qmodel, fmodel, x, y, ident, calib)
        split = b.load()
        n = len(split.x_test) if images is None else min(images, len(split.x_test))
        return Prepared(fmodel.spec, qmodel, fmodel, split.x_test[:n], split.y_test[:n], "", calib)
    spec = resolve_spec(model)
    if weights is not None:
        fmodel, _ = load_model(weights, spec)
    else:
        fmodel = build_vit(spec, seed=0).eval()
    # A float model without QAT: post-training quantization (calibrate, binarize). Its selectors
    # are untrained (they start out keeping every token) unless the checkpoint brought them.
    qmodel = copy.deepcopy(fmodel)
    if prune and not qmodel.selectors:
        for p in default_selectors(spec.depth):
            qmodel.add_selector(p)
    qmodel.set_quant(bits)
    qmodel.set_weight_mode(binary=True)
    if data is not None:
        x, y, ident, folder = _folder_images(spec, data, images)
        from quant import image_folder
        cal_idx = image_folder.sample(folder, calib_images)
        cal, _ = image_folder.load(folder, spec, cal_idx, "calibration images")
        calib = f"{len(cal_idx)} images of {folder.identity}"
    else:
        cal, calib = random_images(spec, calib_images, seed=1), \
            f"{calib_images} Gaussian-noise images, seed 1 (no calibration data given: a fallback)"
    qmodel.calibrate(cal)
    fmodel.set_quant(None)
    fmodel.set_weight_mode(binary=False)
    if data is not None:
        return Prepared(spec, qmodel.eval(), fmodel.eval(), x, y, ident, calib)
    n = 8 if images is None else images
    return Prepared(spec, qmodel.eval(), fmodel.eval(), random_images(spec, n, seed=2), None, "", calib)


def _ship(model: VisionTransformer, name: str, out_dir: Path) -> float:
    """Round to float16 (the shipped precision), recalibrate, measure, save."""
    from quant.digits import load_split
    from quant.train import accuracy

    data = load_split()
    # Round now, so the accuracy we record is the accuracy of exactly the weights that ship.
    with torch.no_grad():
        for prm in model.parameters():
            prm.copy_(prm.half().float())
    model.calibrate(data.x_train)
    acc = accuracy(model, data.x_test, data.y_test)
    save_model(model, out_dir / name, {"test_accuracy": acc}, half=True)
    _log(f"digits: {name} test accuracy {acc:.4f}")
    return acc


def retrain_digits(out_dir: Path = DATA_DIR, bits_list=SHIPPED_BITS, reuse: bool = False) -> dict:
    """Retrain every shipped digits checkpoint; returns the test accuracies.

    reuse keeps existing float and dense QAT checkpoints and retrains only what is missing
    (and the selectors)."""
    from quant.digits import load_split
    from quant.train import accuracy

    float_path = out_dir / digits_name(None, False)
    if reuse and float_path.exists():
        float_model = load_model(float_path)[0]
    else:
        float_model = train_digits_float()
        save_model(float_model, float_path, {"test_accuracy": accuracy(float_model, *_test(load_split()))})
    results = {"float": accuracy(float_model, *_test(load_split()))}
    for bits in bits_list:
        dense_path = out_dir / digits_name(bits, False)
        if reuse and dense_path.exists():
            qat, meta = load_model(dense_path)
            results[digits_name(bits, False)] = meta.get("test_accuracy")
        else:
            _log(f"digits: {bits}-bit activations, binary weights")
            qat, _ = train_digits_quant(float_model, bits)
            results[digits_name(bits, False)] = _ship(qat, digits_name(bits, False), out_dir)
        _log(f"digits: {bits}-bit activations, binary weights, token selectors")
        pruned, _ = train_digits_selectors(qat)
        results[digits_name(bits, True)] = _ship(pruned, digits_name(bits, True), out_dir)
    return results


def _test(data):
    return data.x_test, data.y_test
