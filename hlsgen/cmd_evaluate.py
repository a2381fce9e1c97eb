"""`hlsgen evaluate`: the golden integer model against the PyTorch float and fake-quant models."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="compare the integer golden model with PyTorch float and fake-quant",
                       description="Compare the integer golden model with the PyTorch float model and the "
                                   "fake-quant model (same quantization, float arithmetic).")
    p.add_argument("--model", required=True,
                   help="deit_tiny | deit_small | deit_base | digits | fmnist | path to a spec .yaml")
    p.add_argument("--weights", default=None, help="checkpoint (.pth or .safetensors); default: seeded weights "
                                                   "(digits, fmnist: the shipped trained checkpoints)")
    p.add_argument("--bits", type=int, required=True, help="activation precision, 2..8")
    p.add_argument("--prune", action="store_true", help="insert HeatViT token selectors (default placement)")
    p.add_argument("--images", type=int, default=None,
                   help="number of images (digits, fmnist: the first N of the test split, default all 450 / 10,000; "
                        "--data: a fixed sample of N, "
                        "default all; others: random, default 8)")
    p.add_argument("--data", default=None,
                   help="a folder of your images, one subfolder per class (PNG/JPEG; classes.txt may map folder "
                        "names to class indices): evaluation images, and the calibration of a post-training "
                        "quantized model")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from hlsgen import api
    from quant.errors import UserError
    from quant.fidelity import format_report
    from quant.nl_report import error_table, format_error_table

    if args.images is not None and args.images < 1:
        raise UserError(f"--images must be >= 1, got {args.images}")
    result = api.evaluate(args.model, args.bits, args.prune, args.weights, args.images, data=args.data)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(format_report(result))
        print("\nnonlinear units, integer vs float (abs error in real units):")
        print(format_error_table(error_table(bits=sorted({6, 8, args.bits}))))
    return 0
