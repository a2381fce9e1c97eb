"""`hlsgen demo` (what `make demo` runs): the Fashion-MNIST model through the whole model-side flow.

Loads the shipped fmnist checkpoints, runs the integer golden model on Fashion-MNIST test images at
8 and 6 bits, with and without token selectors, and prints the fidelity table. Then generates the default
HLS project (deit_tiny on the ZCU102 for 30 FPS) into build/demo, C-simulates it with g++ against
the golden model, co-simulates the first encoder block of its RTL twin (Verilator, port level), and
ends with a short summary: accuracy, design, predicted FPS and resources, and the two bit-exact checks.
"""
from __future__ import annotations

import time

SETTINGS = ((8, False), (8, True), (6, False), (6, True))
DEMO_MODEL = "fmnist"
DEMO_IMAGES = 1000      # of the 10,000 test images: ~30 s per setting (`hlsgen evaluate` takes them all)


def register(sub) -> None:
    p = sub.add_parser("demo", help="the main job: fmnist model fidelity, then generate, C-simulate and "
                                    "co-simulate (RTL block) the default project",
                       description="What `make demo` runs: the fmnist model's golden integer model against float "
                                   "and fake-quant (8 and 6 bits, with and without token selectors), then the "
                                   "default ZCU102 project (deit_tiny, 30 FPS): generate, hlsgen check, C-simulation "
                                   "and RTL co-simulation of the first encoder block.")
    p.add_argument("--images", type=int, default=DEMO_IMAGES,
                   help=f"Fashion-MNIST test images (default {DEMO_IMAGES} of the 10,000)")
    p.add_argument("--out", default="build/demo", help="where the default HLS project is written (default build/demo)")
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
    from quant.spec import PRESETS
    from quant.errors import UserError
    from quant.zoo import prepare_model, shipped_checkpoint

    t0 = time.time()
    results = []
    model = DEMO_MODEL
    for bits, prune in SETTINGS:
        try:
            shipped_checkpoint(model, bits, prune, train_if_missing=False)
        except UserError as e:       # a missing checkpoint takes long to train: say how, and go on
            print(f"{model}: {e}", flush=True)
            continue
        print(f"{model}: {bits}-bit activations, binary weights{', token selectors' if prune else ''} ...",
              flush=True)
        r = evaluate(prepare_model(model, bits, prune, images=args.images), model, bits, prune)
        cache_result(r, PRESETS[model])
        results.append(r)
    n = results[0]["images"] if results else 0
    print(f"\nGolden integer model on {n:,} Fashion-MNIST test images:\n")
    print(fidelity_table(results))
    print("\nNonlinear units, integer vs float (abs error in real units):\n")
    print(format_error_table(error_table(bits=(6, 8))))
    summary = hls_project(args.out)
    ok = summary.pop("ok")
    print(f"\n== hlsgen demo summary ({time.time() - t0:.0f} s) ==")
    for r in results:
        label = f"{model} {r['bits']}-bit" + (" + selectors" if r["pruned"] else "")
        print(f"  {label:24s} accuracy {r['accuracy']:.2%} (golden integer; float {r['float_accuracy']:.2%}), "
              f"{r['kept_tokens_mean']:.1f} of {r['num_tokens']} tokens per block")
    for key, line in summary.items():
        print(f"  {key:24s} {line}")
    print(f"  {'result':24s} {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def hls_project(out: str) -> dict:
    """Generate the default project (`hlsgen generate -o OUT --force`), csim it, co-simulate its first
    encoder block; prints the details and returns the summary lines (and 'ok')."""
    from sim.cosim import run_top_level
    from hlsgen.cmd_generate import generate
    from hlsgen.ops_resources import KEYS
    from sim.csim import run_csim

    print(f"\nHLS project: deit_tiny on zcu102 for 30 FPS -> {out} ...", flush=True)
    g = generate(out=out, force=True)
    d, p = g.design, g.design.predict()
    r = run_csim(g.out)
    u = p.utilization()
    par = d.parallelism
    print(f"  design: {d.spec.name} on {d.board.name} ({d.board.part}) at {d.clock_mhz:g} MHz, "
          f"{d.act_bits}-bit activations, binary engine PE {par.pe} x SIMD {par.simd}, attention "
          f"{par.att_pe} x {par.att_simd}, int8 {par.i8_pe} x {par.i8_simd}")
    print(f"  predicted: {p.fps:.1f} FPS ({p.latency_ms:.2f} ms/frame); "
          + ", ".join(f"{k.upper()} {p.resources[k]:,} ({u[k]:.0%})" for k in KEYS if d.board.resources[k]))
    print(f"  project: {len(g.project.files)} files, {g.project.nbytes / 1e6:.1f} MB, generated in "
          f"{g.seconds['total']:.1f} s")
    build = "cached build" if r.build_cached else f"built in {r.build_seconds:.1f} s"
    if r.bit_exact:
        print(f"  csim (g++ + ap_types, {build}, ran in {r.run_seconds:.1f} s): BIT-EXACT with the golden model "
              f"on {r.images} image(s), every traced layer")
        csim = f"BIT-EXACT on {r.images} image(s), every traced layer"
    else:
        print(f"  csim ({build}): MISMATCH on {r.mismatched} of {r.images} image(s); first: {r.first_mismatch}")
        csim = f"MISMATCH: {r.first_mismatch}"
    print("  RTL twin, first encoder block (Verilator, port level; the first build takes a few minutes) ...",
          flush=True)
    lv = run_top_level(g.out, "block", images=1)
    print(f"  cosim: {'BIT-EXACT' if lv.bit_exact else 'MISMATCH'}, {lv.sim_cycles:,} cycles simulated vs "
          f"{lv.model_cycles:,} modelled (ratio {lv.cycle_ratio:.4f}); build {lv.build_s:.0f} s, run "
          f"{lv.run_s:.0f} s ({lv.cycles_per_s:,.0f} cycles/s)")
    for op, rec in lv.per_op.items():
        print(f"    {op:14s} sim {rec['sim']:>10,}  model {rec['model']:>10,}  ratio {rec['ratio']}")
    if not lv.bit_exact:
        print(f"    first mismatch: {lv.first_mismatch}")
    worst = max((abs(rec["ratio"] - 1) for rec in lv.per_op.values() if rec["ratio"]), default=0.0)
    return {
        "default design": f"{d.spec.name} on {d.board.name}, {d.act_bits}-bit, PE {par.pe} x SIMD {par.simd}: "
                          f"{p.fps:.1f} FPS predicted (target 30)",
        "resources (model)": ", ".join(f"{k.upper()} {u[k]:.0%}" for k in KEYS if d.board.resources[k]),
        "C simulation": csim,
        "RTL cosim, block 0": (f"{'BIT-EXACT' if lv.bit_exact else 'MISMATCH'}; cycles sim/model "
                               f"{lv.cycle_ratio:.4f}, worst op type off by {worst:.1%}"),
        "project": f"{g.out} (next: hlsgen cosim {g.out} --level model; hlsgen synth {g.out})",
        "ok": r.bit_exact and lv.bit_exact}
