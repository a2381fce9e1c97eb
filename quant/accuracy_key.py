"""What a measured accuracy depends on, as a cache key: the model's spec, the weights (content hash),
the activation bits, dense or pruned (the selectors themselves are inside the file, and the reader
checks them), and the data set it was measured on. `hlsgen evaluate` writes under this key and the
explorer reads under it, so an evaluation with one checkpoint never speaks for another."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from quant.builtin import builtin

SHIPPED = Path(__file__).resolve().parent / "data"


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def weights_identity(model: str, weights: str | Path | None) -> str:
    """A user checkpoint by content; the built-in weights by what they are (a built-in model's shipped
    checkpoints by their contents, a preset's seeded initialisation by its seed)."""
    if weights is not None:
        return "sha256:" + file_sha256(weights)
    b = builtin(model)
    if b is not None:
        # every shipped checkpoint of the model: retraining any of them is other weights
        files = sorted(SHIPPED.glob(f"{model}_*.pt"))
        h = hashlib.sha256("".join(f.name + file_sha256(f) for f in files).encode()).hexdigest()
        return f"{model}-shipped:" + (h[:16] if files else "missing")
    return "seeded:0"


def default_data(model: str) -> str:
    """The images `evaluate` uses without a data folder."""
    b = builtin(model)
    return b.test_split if b is not None else "random images, seed 2"


def accuracy_path(cache_dir: Path, spec, bits: int, pruned: bool, weights_id: str, data: str) -> Path:
    body = {"spec": spec.to_dict(), "weights": weights_id, "bits": int(bits), "data": data}
    key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{spec.name}_b{bits}_{'prune' if pruned else 'dense'}_{key}.json"
