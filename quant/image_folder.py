"""The user's own images: a folder with one subfolder per class (JPEG / PNG), read into the float
tensor the model takes.

Class index: the sorted subfolder names (0, 1, ...), or `classes.txt` in the folder with one
"<subfolder> <index>" per line (an ImageNet validation folder arranged by synset, for a checkpoint
whose classes are in ImageNet's order). Preprocessing by model:
  * imagenet (the DeiT presets, and any 3-channel 224 x 224 spec): DeiT's evaluation transform,
    resize the shorter side to 256 (bicubic), centre-crop 224, then (v / 255 - mean) / std with
    ImageNet's mean and std;
  * simple (digits, fmnist, other specs): resize to the model's size (bilinear), then
    (v / 255 - 0.5) / 0.5, the training transform of the small models.
`--images N` takes N images by a fixed-seed shuffle of the sorted file list: the same N every time.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quant.errors import UserError

EXTENSIONS = (".png", ".jpg", ".jpeg")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SAMPLE_SEED = 0


class DataError(UserError):
    pass


@dataclass(frozen=True)
class ImageFolder:
    root: Path
    files: tuple[Path, ...]
    labels: tuple[int, ...]
    classes: dict            # subfolder name -> class index

    @property
    def identity(self) -> str:
        """What the data set is, for caches: the folder's name and a hash of its file list and sizes."""
        h = hashlib.sha256()
        for f, y in zip(self.files, self.labels):
            h.update(f"{f.relative_to(self.root)}\0{f.stat().st_size}\0{y}\n".encode())
        return f"folder {self.root.name} ({len(self.files)} images, {h.hexdigest()[:12]})"


def _class_map(root: Path, folders: list[str], num_classes: int) -> dict:
    mapping_file = root / "classes.txt"
    if not mapping_file.is_file():
        if len(folders) > num_classes:
            raise DataError(f"{root}: {len(folders)} class folders, but the model has {num_classes} classes "
                            f"(add a classes.txt mapping folder names to class indices)")
        return {name: i for i, name in enumerate(folders)}
    mapping = {}
    for n, line in enumerate(mapping_file.read_text().splitlines(), 1):
        parts = line.split()
        if not parts or line.lstrip().startswith("#"):
            continue
        if len(parts) != 2 or not parts[1].isdigit():
            raise DataError(f"{mapping_file}:{n}: expected '<folder> <class index>', got {line!r}")
        idx = int(parts[1])
        if idx >= num_classes:
            raise DataError(f"{mapping_file}:{n}: class index {idx} is out of range for a model with "
                            f"{num_classes} classes")
        mapping[parts[0]] = idx
    unknown = [f for f in folders if f not in mapping]
    if unknown:
        raise DataError(f"{root / unknown[0]}: class folder '{unknown[0]}' is not in {mapping_file}")
    return mapping


def scan(root: str | Path, num_classes: int) -> ImageFolder:
    """The folder's images and labels (sorted), or a DataError naming what is wrong."""
    root = Path(root)
    if not root.exists():
        raise DataError(f"data folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"{root} is not a folder (expected one subfolder of images per class)")
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DataError(f"{root}: no class folders (expected one subfolder of {'/'.join(EXTENSIONS)} images per class)")
    classes = _class_map(root, folders, num_classes)
    files, labels = [], []
    for name in folders:
        for f in sorted((root / name).iterdir()):
            if f.is_file() and f.suffix.lower() in EXTENSIONS:
                files.append(f)
                labels.append(classes[name])
    if not files:
        raise DataError(f"{root}: no {'/'.join(EXTENSIONS)} images in its class folders")
    return ImageFolder(root, tuple(files), tuple(labels), classes)


def sample(folder: ImageFolder, n: int | None) -> list[int]:
    """Indices of n images by a fixed-seed shuffle (all, in order, when n is None)."""
    if n is None or n >= len(folder.files):
        return list(range(len(folder.files)))
    order = np.random.default_rng(SAMPLE_SEED).permutation(len(folder.files))
    return sorted(int(i) for i in order[:n])


def preprocessing(spec) -> str:
    if spec.name.startswith("deit_") or (spec.in_chans == 3 and spec.img_size == 224):
        return "imagenet"
    return "simple"


def _decode(path: Path, in_chans: int):
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as img:
            img.load()
            bands = len(img.getbands())
            if in_chans == 1:
                if img.mode in ("RGB", "RGBA", "CMYK") and bands > 1:
                    arr = np.asarray(img.convert("RGB"))
                    if not (np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 1], arr[..., 2])):
                        raise DataError(f"{path}: a {bands}-channel colour image, but the model takes 1 channel")
                return img.convert("L")
            if in_chans == 3:
                return img.convert("RGB")
            raise DataError(f"{path}: the model takes {in_chans} channels; image folders give 1 or 3")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{path}: not a readable image ({e})") from None


def _to_array(img, spec, mode: str) -> np.ndarray:
    from PIL import Image
    if mode == "imagenet":
        w, h = img.size
        s = 256 / min(w, h)
        img = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BICUBIC)
        w, h = img.size
        left, top = (w - 224) // 2, (h - 224) // 2
        img = img.crop((left, top, left + 224, top + 224))
        x = np.asarray(img, dtype=np.float32) / 255.0
        x = (x - np.array(IMAGENET_MEAN, dtype=np.float32)) / np.array(IMAGENET_STD, dtype=np.float32)
    else:
        img = img.resize((spec.img_size, spec.img_size), Image.BILINEAR)
        x = (np.asarray(img, dtype=np.float32) / 255.0 - 0.5) / 0.5
    x = x[..., None] if x.ndim == 2 else x
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def load(folder: ImageFolder, spec, indices: list[int], progress_desc: str = "images"):
    """(float images [n, C, H, W] as a torch tensor, labels tensor) of the chosen images."""
    import torch

    from quant.progress import progress
    mode = preprocessing(spec)
    arrays = [_to_array(_decode(folder.files[i], spec.in_chans), spec, mode)
              for i in progress(indices, desc=progress_desc)]
    x = torch.from_numpy(np.stack(arrays))
    y = torch.tensor([folder.labels[i] for i in indices], dtype=torch.long)
    return x, y
