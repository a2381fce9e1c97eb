"""`hlsgen demo` (what `make demo` runs): the digits model through the whole model-side flow.

Loads the shipped digits checkpoints, runs the integer golden model on the test split at 8 and
6 bits, with and without token selectors, and prints the fidelity table. Later stages add
project generation and simulation here.
"""
from __future__ import annotations

import time

SETTINGS = ((8, False), (8, True), (6, False), (6, True))


def register(sub) -> None:
    p = sub.add_parser("demo", help="the main job: digits model fidelity (and, later, generate + simulate)")
    p.add_argument("--images", type=int, default=None, help="test images (default: the whole split, 450)")
    p.set_defaults(func=run)


def fidelity_table(results: list[dict]) -> str:
    head = (f"| bits | selectors | golden acc | fake-quant acc | float acc | agree vs fake-quant "
            f"| agree vs float | cosine vs float | mean tokens/block |\n|---|---|---|---|---|---|---|---|---|")
    rows = [f"| {r['bits']} | {'yes' if r['pruned'] else 'no'} | {r['accuracy']:.4f} | "
            f"{r['fakequant_accuracy']:.4f} | {r['float_accuracy']:.4f} | "
            f"{r['vs_fakequant']['top1_agreement']:.4f} | {r['vs_float']['top1_agreement']:.4f} | "
            f"{r['vs_float']['cosine']:.4f} | {r['kept_tokens_mean']:.2f} / {r['num_tokens']} |"
            for r in results]
    return "\n".join([head, *rows])


def run(args) -> int:
    from quant.fidelity import cache_result, evaluate
    from quant.nl_report import error_table, format_error_table
    from quant.zoo import prepare_model

    t0 = time.time()
    results = []
    for bits, prune in SETTINGS:
        print(f"digits: {bits}-bit activations, binary weights{', token selectors' if prune else ''} ...",
              flush=True)
        r = evaluate(prepare_model("digits", bits, prune, images=args.images), "digits", bits, prune)
        cache_result(r)
        results.append(r)
    print("\nGolden integer model on the digits test split:\n")
    print(fidelity_table(results))
    print("\nNonlinear units, integer vs float (abs error in real units):\n")
    print(format_error_table(error_table(bits=(6, 8))))
    print(f"\ndone in {time.time() - t0:.0f}s")
    return 0
