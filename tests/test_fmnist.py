"""The Fashion-MNIST reader: idx files, the HLSGEN_DATA override and its error, and the preset's shape
(50 tokens)."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from quant import fmnist
from quant.errors import UserError
from quant.spec import PRESETS


def write_idx(path, arr: np.ndarray):
    head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(gzip.compress(head + arr.astype(np.uint8).tobytes()))


def test_reads_idx_files_from_hlsgen_data(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for key, name in fmnist.FILES.items():
        n = 6 if "train" in key else 4
        write_idx(tmp_path / name, rng.integers(0, 256, (n, 28, 28)) if key.startswith("x") else np.arange(n) % 10)
    monkeypatch.setenv("HLSGEN_DATA", str(tmp_path))
    s = fmnist.load_split()
    assert s.x_train.shape == (6, 1, 28, 28) and s.x_test.shape == (4, 1, 28, 28)
    assert list(s.y_test) == [0, 1, 2, 3] and -1.0 <= float(s.x_train.min()) and float(s.x_train.max()) <= 1.0
    (tmp_path / fmnist.FILES["y_test"]).write_bytes(gzip.compress(b"\0\0\x0d\x01" + (4).to_bytes(4, "big")))
    with pytest.raises(UserError, match="not an idx file of unsigned bytes"):
        fmnist.load_split()


def test_missing_data_names_the_package_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("HLSGEN_DATA", str(tmp_path))
    with pytest.raises(UserError, match="HLSGEN_DATA=.*idx files are not all there"):
        fmnist.data_dir()
    monkeypatch.delenv("HLSGEN_DATA")
    monkeypatch.setattr(fmnist, "DEBIAN_DIR", tmp_path / "none")
    with pytest.raises(UserError, match="install the Debian package dataset-fashion-mnist .* or point HLSGEN_DATA"):
        fmnist.data_dir(install=False)


def test_preset_has_50_tokens():
    assert PRESETS["fmnist"].num_tokens == 50
