"""What a measured accuracy depends on, as a cache key: the model's spec, the weights (content hash),
the activation bits, dense or pruned (the selectors themselves are inside the file, and the reader
checks them), and the data set it was measured on. `hlsgen evaluate` writes under this key and the
explorer reads under it, so an evaluation with one checkpoint never speaks for another."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

DIGITS_FLOAT = Path(__file__).resolve().parent / "data" / "digits_float.pt"


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def weights_identity(model: str, weights: str | Path | None) -> str:
    """A user checkpoint by content; the built-in weights by what they are (the shipped digits
    checkpoints by the float checkpoint's content, a preset's seeded initialisation by its seed)."""
    if weights is not None:
        return "sha256:" + file_sha256(weights)
    if model == "digits":
        return "digits-shipped:" + (file_sha256(DIGITS_FLOAT)[:16] if DIGITS_FLOAT.is_file() else "missing")
    return "seeded:0"


def default_data(model: str) -> str:
    """The images `evaluate` uses without a data folder."""
    return "digits test split" if model == "digits" else "random images, seed 2"


def accuracy_path(cache_dir: Path, spec, bits: int, pruned: bool, weights_id: str, data: str) -> Path:
    body = {"spec": spec.to_dict(), "weights": weights_id, "bits": int(bits), "data": data}
    key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{spec.name}_b{bits}_{'prune' if pruned else 'dense'}_{key}.json"
