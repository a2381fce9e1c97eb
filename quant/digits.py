"""scikit-learn's 8x8 digits: the yardstick data set that ships with the repo's dependencies.

Fixed split: 25% test, stratified, random_state=0 (1,347 train / 450 test images).
Pixels 0..16 are mapped to [-1, 1].
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

TEST_FRACTION = 0.25
SPLIT_SEED = 0


@dataclass(frozen=True)
class Split:
    x_train: torch.Tensor  # [N, 1, 8, 8] float32 in [-1, 1]
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


@lru_cache(maxsize=1)
def load_split() -> Split:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.images.astype(np.float32) / 16.0 - 0.5) / 0.5
    xtr, xte, ytr, yte = train_test_split(x, data.target, test_size=TEST_FRACTION,
                                          random_state=SPLIT_SEED, stratify=data.target)

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

    return Split(t(xtr)[:, None], t(ytr).long(), t(xte)[:, None], t(yte).long())


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random shifts by up to one pixel (pad with background, -1), at any image size."""
    h, w = x.shape[-2:]
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), value=-1.0)
    dx, dy = torch.randint(0, 3, (2,), generator=gen).tolist()
    return padded[..., dy:dy + h, dx:dx + w]
