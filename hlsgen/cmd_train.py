"""`hlsgen train`: retrain the shipped digits checkpoints from scratch, or run the same progressive
QAT (and selector training) on any model with the user's own images.

    hlsgen train digits [--bits 8,6] [--reuse] [--out DIR]
    hlsgen train --model M --data DIR [--weights CKPT] [--bits 8,6] [--prune] [--out DIR] [--reuse]
                 [--device auto|cpu|cuda] [--epochs F,Q,S]
"""
from __future__ import annotations

import json
from pathlib import Path

from quant.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("train", help="QAT (and selector training): the digits model from scratch, or any model "
                                     "on your images (--data)",
                       description="Without --data: retrain the shipped digits checkpoints (float, QAT, selectors). "
                                   "With --data: VAQF progressive QAT of --model (from --weights, else trained "
                                   "float first) on an image folder, one checkpoint per precision.")
    p.add_argument("model_pos", nargs="?", metavar="digits|fmnist",
                   help="`digits` / `fmnist`: retrain the shipped checkpoints on their built-in data")
    p.add_argument("--model", default=None, help="preset or spec yaml to train on --data")
    p.add_argument("--data", default=None, help="image folder, one subfolder per class (see `evaluate --data`)")
    p.add_argument("--weights", default=None, help="float checkpoint to start from (timm/DeiT keys or hlsgen's)")
    p.add_argument("--bits", default="8,6", help="activation precisions to train QAT models for (default 8,6)")
    p.add_argument("--prune", action="store_true", help="also train HeatViT token selectors on each QAT model")
    p.add_argument("--out", type=Path, default=None,
                   help="folder for the checkpoints (default: quant/data for digits, train_out/<model> with --data)")
    p.add_argument("--reuse", action="store_true", help="load checkpoints that exist instead of retraining them")
    p.add_argument("--device", default="auto", help="auto (a GPU when torch sees one), cpu or cuda")
    p.add_argument("--epochs", default=None,
                   help="epochs of float training, QAT, and each selector stage (default: fmnist 9,3,1, the "
                        "shipped checkpoints' recipe; --data 60,30,15; digits has its own)")
    p.set_defaults(func=run)


FMNIST_EPOCHS = (9, 3, 1)      # ~1.5 h on 2 CPU cores; what the shipped fmnist checkpoints were trained with
FMNIST_QAT_IMAGES = 20000     # of the 60,000: QAT and selector stages fine-tune a trained float model
FMNIST_SELECTOR_IMAGES = 10000  # of those: each selector stage is one epoch on these
FMNIST_FINETUNE_EPOCHS = 3     # the backbone on the calibrated selectors, on the QAT images
FOLDER_EPOCHS = (60, 30, 15)


def _epochs(text: str | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if text is None:
        return default
    try:
        vals = tuple(int(x) for x in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 3 or min(vals) < 1:
        raise UserError(f"--epochs must be three positive integers F,Q,S, got {text!r}")
    return vals  # type: ignore[return-value]


def run(args) -> int:
    import torch

    from quant.spec import check_act_bits
    torch.set_num_threads(max(1, torch.get_num_threads()))
    try:
        bits = tuple(check_act_bits(int(b)) for b in args.bits.split(","))
    except ValueError:
        raise UserError(f"--bits must be a list like 8,6, got {args.bits!r}") from None
    model = args.model or args.model_pos
    if model is None:
        raise UserError("name the model: `hlsgen train digits`, or `hlsgen train --model M --data DIR`")
    if args.data is None and model == "fmnist":
        from quant.fmnist import load_split
        from quant.spec import PRESETS
        from quant.train_folder import Recipe, train_on_split
        from quant.zoo import DATA_DIR
        recipe = Recipe(_epochs(args.epochs, FMNIST_EPOCHS), FMNIST_QAT_IMAGES, FMNIST_SELECTOR_IMAGES,
                        calibrate_keep=True, finetune_epochs=FMNIST_FINETUNE_EPOCHS, final_calibration=False,
                        half=True)
        results = train_on_split(PRESETS["fmnist"], load_split(), "Fashion-MNIST (test split held out)", bits,
                                 args.out or DATA_DIR, prune=args.prune, reuse=args.reuse, device=args.device,
                                 recipe=recipe)
    elif args.data is None:
        if model != "digits":
            raise UserError(f"--data is required to train {model} (only digits and fmnist have their data built in)")
        from quant.zoo import DATA_DIR, retrain_digits
        results = retrain_digits(args.out or DATA_DIR, bits, reuse=args.reuse)
    else:
        from quant.train_folder import Recipe, train_on_folder
        out = args.out or Path("train_out") / Path(model).stem
        results = train_on_folder(model, args.data, bits, out, weights=args.weights, prune=args.prune,
                                  reuse=args.reuse, device=args.device,
                                  recipe=Recipe(_epochs(args.epochs, FOLDER_EPOCHS)))
    print(json.dumps(results, indent=2))
    return 0
