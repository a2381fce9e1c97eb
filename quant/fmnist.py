"""Fashion-MNIST (Zalando, MIT): 60,000 train / 10,000 test 28 x 28 grayscale images in 10 classes,
read from the idx files of Debian's `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist/) or
from the folder HLSGEN_DATA names. When they are missing and this process may install the package
(root with apt-get), it does; otherwise the error says what to install or where to point HLSGEN_DATA.
Pixels v in 0..255 become (v / 255 - 0.5) / 0.5, the small models' transform (quant.image_folder)."""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from quant.digits import Split
from quant.errors import UserError

DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
         "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def _has_files(d: Path) -> bool:
    return all((d / f).is_file() for f in FILES.values())


def data_dir(install: bool = True) -> Path:
    env = os.environ.get("HLSGEN_DATA")
    if env:
        d = Path(env)
        if not _has_files(d):
            raise UserError(f"HLSGEN_DATA={env}: the Fashion-MNIST idx files are not all there "
                            f"({', '.join(FILES.values())})")
        return d
    if _has_files(DEBIAN_DIR):
        return DEBIAN_DIR
    if install and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"hlsgen: installing the Debian package {DEBIAN_PACKAGE} (Fashion-MNIST)", file=sys.stderr, flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", DEBIAN_PACKAGE], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not _has_files(DEBIAN_DIR):
            subprocess.run(["apt-get", "update", "-qq"], check=False, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "-qq", DEBIAN_PACKAGE], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if _has_files(DEBIAN_DIR):
            return DEBIAN_DIR
    raise UserError(f"Fashion-MNIST not found in {DEBIAN_DIR}: install the Debian package {DEBIAN_PACKAGE} "
                    f"(apt-get install {DEBIAN_PACKAGE}) or point HLSGEN_DATA at a folder with {', '.join(FILES.values())}")


def read_idx(path: Path) -> np.ndarray:
    """An idx file (gzipped): magic 0x0000 0x08 (uint8) <ndim>, big-endian int32 dims, the data."""
    raw = gzip.decompress(path.read_bytes())
    if raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise UserError(f"{path}: not an idx file of unsigned bytes")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise UserError(f"{path}: {data.size} bytes of data for dims {dims}")
    return data.reshape(dims)


def load_split() -> Split:
    d = data_dir()
    arr = {k: read_idx(d / f) for k, f in FILES.items()}

    def images(a):
        return torch.from_numpy(((a.astype(np.float32) / 255.0 - 0.5) / 0.5)[:, None])

    return Split(images(arr["x_train"]), torch.from_numpy(arr["y_train"].astype(np.int64)),
                 images(arr["x_test"]), torch.from_numpy(arr["y_test"].astype(np.int64)))
