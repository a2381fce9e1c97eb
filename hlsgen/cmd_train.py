"""`hlsgen train digits`: retrain the shipped digits checkpoints from scratch."""
from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("train", help="retrain the digits model (float, QAT, selectors) from scratch")
    p.add_argument("model", choices=["digits"], help="only the digits model trains here")
    p.add_argument("--bits", default="8,6", help="activation precisions to train QAT models for")
    p.add_argument("--out", type=Path, default=None, help="folder for the checkpoints (default: quant/data)")
    p.add_argument("--reuse", action="store_true",
                   help="keep existing float and dense QAT checkpoints; retrain the rest and the selectors")
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from quant.spec import check_act_bits
    from quant.zoo import DATA_DIR, retrain_digits

    torch.set_num_threads(max(1, torch.get_num_threads()))
    bits = tuple(check_act_bits(int(b)) for b in args.bits.split(","))
    results = retrain_digits(args.out or DATA_DIR, bits, reuse=args.reuse)
    print(json.dumps(results, indent=2))
    return 0
