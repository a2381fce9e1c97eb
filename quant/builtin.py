"""The models whose data ships with hlsgen (digits) or with the machine (fmnist, Debian's
dataset-fashion-mnist): trained checkpoints in quant/data/, a test split to evaluate them on, and
what a pixel means. Every other model is a preset or a spec yaml with the user's weights."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Builtin:
    name: str
    test_split: str                 # what `evaluate` measures on without --data
    load: Callable                  # () -> quant.digits.Split
    pixel_def: str                  # the input quantizer's "pixel", for the generated README
    project_images: int | None      # test images `generate` puts in a project by default (None: all)
    train_hint: str                 # how long retraining a missing checkpoint takes

    def checkpoint_name(self, bits: int | None, prune: bool) -> str:
        return f"{self.name}_" + ("float" if bits is None else f"b{bits}") + ("_prune" if prune else "") + ".pt"


def _digits():
    from quant.digits import load_split
    return load_split()


def _fmnist():
    from quant.fmnist import load_split
    return load_split()


BUILTIN = {
    "digits": Builtin("digits", "digits test split", _digits,
                      "the float input of the model: a scikit-learn digits gray level v in 0..16, as "
                      "(v / 16 - 0.5) / 0.5 (8 x 8, no resize)", None, "a few minutes"),
    "fmnist": Builtin("fmnist", "Fashion-MNIST test split", _fmnist,
                      "the float input of the model: a Fashion-MNIST gray level v in 0..255, as "
                      "(v / 255 - 0.5) / 0.5 (28 x 28, no resize)", 64, "about an hour on 2 CPU cores"),
}


def builtin(model) -> Builtin | None:
    """The built-in model of this name (a preset name string), else None (a spec, a yaml path...)."""
    return BUILTIN.get(model) if isinstance(model, str) else None
