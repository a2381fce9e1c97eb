"""`hlsgen evaluate --data DIR` on the user's own images: a class-per-subfolder folder of PNGs the test
writes, the deterministic sample, calibration on the folder, and one clear error per bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from hlsgen.cli import main
from quant import image_folder
from quant.digits import load_split
from quant.spec import PRESETS


def write_digits(root, per_class=3, classes=(0, 1, 2)):
    """Digits test images as 8-bit PNGs (gray level v of 0..16 -> v * 255 / 16): the folder reader's
    'simple' transform gives back the digits model's own input."""
    split = load_split()
    x, y = split.x_test.numpy(), split.y_test.numpy()
    for c in classes:
        (root / f"class_{c}").mkdir(parents=True)
        for j, i in enumerate(np.nonzero(y == c)[0][:per_class]):
            v = np.clip(np.round((x[i, 0] * 0.5 + 0.5) * 255), 0, 255).astype(np.uint8)
            Image.fromarray(v, "L").save(root / f"class_{c}" / f"{j}.png")
    return root


def run(capsys, *argv):
    rc = main(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_reads_labels_and_preprocesses_like_the_model(tmp_path):
    root = write_digits(tmp_path / "d")
    folder = image_folder.scan(root, 10)
    assert len(folder.files) == 9 and folder.labels == (0, 0, 0, 1, 1, 1, 2, 2, 2)
    x, y = image_folder.load(folder, PRESETS["digits"], image_folder.sample(folder, None))
    split = load_split()
    first0 = int(np.nonzero(split.y_test.numpy() == 0)[0][0])
    assert x.shape == (9, 1, 8, 8) and np.abs(x[0].numpy() - split.x_test[first0].numpy()).max() < 0.01
    assert image_folder.sample(folder, 4) == image_folder.sample(folder, 4) and len(image_folder.sample(folder, 4)) == 4
    (root / "classes.txt").write_text("class_0 7\nclass_1 8\nclass_2 9\n")
    assert image_folder.scan(root, 10).labels[-1] == 9
    assert image_folder.preprocessing(PRESETS["deit_tiny"]) == "imagenet"


def test_evaluate_on_a_folder(tmp_path, capsys):
    root = write_digits(tmp_path / "d")
    rc, out, err = run(capsys, "evaluate", "--model", "digits", "--bits", "8", "--data", str(root), "--json")
    assert rc == 0, err
    r = json.loads(out)
    assert r["images"] == 9 and r["data"].startswith("folder d (9 images") and r["accuracy"] >= 0.8
    # post-training quantization of a model without QAT calibrates on the folder, and says so
    spec = tmp_path / "tiny.yaml"
    spec.write_text("img_size: 8\nin_chans: 1\npatch_size: 4\nembed_dim: 16\ndepth: 1\nnum_heads: 2\n"
                    "mlp_ratio: 2\nnum_classes: 3\n")
    rc, out, err = run(capsys, "evaluate", "--model", str(spec), "--bits", "8", "--data", str(root), "--images", "5",
                       "--json")
    assert rc == 0, err
    r = json.loads(out)
    assert r["images"] == 5 and "5 sampled" in r["data"] and r["calibration"].startswith("9 images of folder d")


@pytest.mark.parametrize("case, message", [
    ("missing", "data folder not found"),
    ("empty", "no class folders"),
    ("no_images", "no .png/.jpg/.jpeg images"),
    ("unreadable", "not a readable image"),
    ("unmapped", "class folder 'class_2' is not in"),
    ("colour", "colour image, but the model takes 1 channel"),
])
def test_bad_folders_exit_1_naming_the_problem(tmp_path, capsys, case, message):
    root = tmp_path / "d"
    if case != "missing":
        root.mkdir()
    if case == "no_images":
        (root / "a").mkdir()
        (root / "a" / "notes.txt").write_text("x")
    if case in ("unreadable", "unmapped", "colour"):
        write_digits(root, per_class=1)
    if case == "unreadable":
        (root / "class_1" / "broken.png").write_bytes(b"not a png")
    if case == "unmapped":
        (root / "classes.txt").write_text("class_0 0\nclass_1 1\n")
    if case == "colour":
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8), "RGB").save(
            root / "class_0" / "rgb.png")
    rc, out, err = run(capsys, "evaluate", "--model", "digits", "--bits", "8", "--data", str(root))
    assert rc == 1 and message in err and len(err.strip().splitlines()) == 1, err


def test_generate_calibrates_on_the_folder(tmp_path, capsys):
    import yaml
    root = write_digits(tmp_path / "d")
    spec = tmp_path / "tiny.yaml"
    spec.write_text("img_size: 8\nin_chans: 1\npatch_size: 4\nembed_dim: 16\ndepth: 1\nnum_heads: 2\n"
                    "mlp_ratio: 2\nnum_classes: 3\n")
    rc, out, err = run(capsys, "generate", "--model", str(spec), "--fps", "100", "--data", str(root), "--images", "2",
                       "-o", str(tmp_path / "p"))
    assert rc == 0, err
    prov = yaml.safe_load((tmp_path / "p" / "design.yaml").read_text())["provenance"]
    assert prov["calibration"].startswith("9 images of folder d") and "2 sampled" in prov["test_images"]


def test_train_on_a_folder_writes_resumable_checkpoints(tmp_path, capsys):
    """`hlsgen train --model SPEC --data DIR`: float from scratch, then QAT, on the CPU (device auto on a
    machine without a GPU); --reuse loads what exists instead of retraining it."""
    from quant.checkpoint import load_model
    root = write_digits(tmp_path / "d", per_class=4)
    spec = tmp_path / "tiny.yaml"
    spec.write_text("img_size: 8\nin_chans: 1\npatch_size: 4\nembed_dim: 16\ndepth: 1\nnum_heads: 2\n"
                    "mlp_ratio: 2\nnum_classes: 3\n")
    out = tmp_path / "ck"
    argv = ["train", "--model", str(spec), "--data", str(root), "--bits", "8", "--epochs", "2,3,1", "--out", str(out)]
    rc, stdout, err = run(capsys, *argv)
    assert rc == 0, err
    res = json.loads(stdout)
    assert set(res) == {"tiny_float.pt", "tiny_b8.pt"} and "device cpu" in err and "epoch" in err
    q, meta = load_model(out / "tiny_b8.pt")
    assert q.act_bits == 8 and meta["data"].startswith("folder d (12 images")
    assert not list(out.glob("*.tmp"))
    rc, stdout, err = run(capsys, *argv, "--reuse")
    assert rc == 0 and err.count("reused") == 2
    rc, _, err = run(capsys, "train", "--model", str(spec), "--bits", "8")
    assert rc == 1 and "--data is required" in err
    rc, _, err = run(capsys, *argv, "--device", "tpu")
    assert rc == 1 and "--device must be auto, cpu or cuda" in err


def test_generate_prune_measures_a_checkpoints_keep_rates_on_the_folder(tmp_path, capsys):
    """A user checkpoint with selectors: with --data the expected case uses the keep rates its selectors
    have on the folder's images; without, the ratios it was trained for (and generate says which)."""
    import torch
    import yaml

    from quant.checkpoint import save_model
    from quant.spec import SelectorPlacement, resolve_spec
    from quant.vit import build_vit
    root = write_digits(tmp_path / "d", per_class=4)
    spec_file = tmp_path / "tiny.yaml"
    spec_file.write_text("img_size: 8\nin_chans: 1\npatch_size: 2\nembed_dim: 16\ndepth: 3\nnum_heads: 2\n"
                         "mlp_ratio: 2\nnum_classes: 3\n")
    spec = resolve_spec(str(spec_file))
    m = build_vit(spec, (SelectorPlacement(1, 0.5),), seed=0)
    save_model(m, tmp_path / "sel.pt")
    for flags, words in (([], "the checkpoint's trained ratios"), (["--data", str(root)], "measured on 12 calibration")):
        out = tmp_path / ("p" + str(len(flags)))
        rc, _, err = run(capsys, "generate", "--model", str(spec_file), "--weights", str(tmp_path / "sel.pt"), "--prune",
                         "--fps", "100", "--images", "1", "-o", str(out), *flags)
        assert rc == 0 and words in err, err
        keep = yaml.safe_load((out / "design.yaml").read_text())["selectors"][0]["keep_ratio"]
        assert (keep == 0.5) == (not flags)
