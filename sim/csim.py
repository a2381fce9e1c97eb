"""C-simulation of a generated HLS project with g++ and the ap_types headers (no Vivado).

`build_csim(project)` compiles src/vit_top.cpp and tb/tb_vit.cpp (every header of src/ is hashed
too) through sim.aptypes.compile_cpp: the executable is cached under .cache/cpp/ by a hash of the
sources, flags and compiler, so a second run of the same project skips compilation. Data files are
read at run time, so changing them (a tampered weight blob, other test images) needs no rebuild.
`run_csim(project)` builds, runs the testbench on every test image and parses its summary.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from quant.errors import UserError
from sim.aptypes import CompileError, compile_cpp

# -std=c++14: the language level Vitis HLS accepts; -Wall -Wextra: the emitted code compiles clean.
CSIM_FLAGS = ("-std=c++14", "-Wall", "-Wextra")
_SUMMARY = re.compile(r"HLSGEN_CSIM images=(\d+) exact=(\d+) mismatched=(\d+) seconds=([\d.]+)")


class CsimError(UserError):
    """The project cannot be simulated (missing files, a data file that does not match)."""


@dataclass
class CsimResult:
    images: int
    exact: int
    mismatched: int
    first_mismatch: str | None
    output: str
    returncode: int
    build_seconds: float
    build_cached: bool
    run_seconds: float
    exe: Path
    profile: str | None = None      # the loop counters (-DHLSGEN_PROFILE builds), sim.csim_cycles reads them

    @property
    def bit_exact(self) -> bool:
        return self.returncode == 0 and self.mismatched == 0 and self.images > 0


def project_sources(project: str | Path) -> list[Path]:
    p = Path(project)
    for rel in ("src/vit_top.cpp", "tb/tb_vit.cpp", "data/weights.bin", "data/inputs.bin", "data/golden.bin"):
        if not (p / rel).is_file():
            raise CsimError(f"{p} is not a generated hlsgen project: {rel} is missing")
    return sorted((p / "src").glob("*.h")) + sorted((p / "tb").glob("*.h")) + [p / "src/vit_top.cpp", p / "tb/tb_vit.cpp"]


def build_csim(project: str | Path, jobs: int | None = None, exact_acc: bool = False,
               profile: bool = False) -> tuple[Path, float, bool]:
    """(executable, seconds, cached). exact_acc: the MAC accumulators as the exact-width ap_int of
    synthesis instead of native integers (slower; -DHLSGEN_EXACT_ACC). profile: with the loop
    counters (-DHLSGEN_PROFILE)."""
    t0 = time.time()
    flags = CSIM_FLAGS + (("-DHLSGEN_EXACT_ACC",) if exact_acc else ()) + (("-DHLSGEN_PROFILE",) if profile else ())
    try:
        exe = compile_cpp(project_sources(project), "tb_vit", flags, jobs=jobs)
    except CompileError as e:
        raise CsimError(f"the project does not compile: {e}") from None
    cached = exe.stat().st_mtime < t0 - 0.01
    return exe, time.time() - t0, cached


def run_csim(project: str | Path, max_images: int | None = None, jobs: int | None = None,
             echo=None, exact_acc: bool = False, profile: bool = False) -> CsimResult:
    """Build (or reuse) the testbench and run it on the project's data. echo: called per output line.
    profile: count every pipelined loop's iterations too (CsimResult.profile)."""
    project = Path(project)
    exe, build_s, cached = build_csim(project, jobs, exact_acc, profile)
    cmd = [str(exe), str(project / "data")] + ([str(max_images)] if max_images is not None else [])
    with tempfile.TemporaryDirectory(prefix="hlsgen-csim-") as tmp:
        prof_path = Path(tmp) / "profile.txt"
        res = _run(cmd, echo, {**os.environ, "HLSGEN_PROFILE_OUT": str(prof_path)})
        text = prof_path.read_text() if profile and prof_path.exists() else None
    out, rc, run_s = res
    m = _SUMMARY.search(out)
    if rc == 2 or (m is None and rc != 0):
        raise CsimError(f"the testbench failed (exit {rc}): {out.strip().splitlines()[-1] if out.strip() else ''}")
    images, exact, mism = (int(m.group(i)) for i in (1, 2, 3)) if m else (0, 0, 0)
    first = None
    fm = re.search(r"^first mismatch: (.*)$", out, re.M)
    if fm:
        first = fm.group(1)
    return CsimResult(images, exact, mism, first, out, rc, build_s, cached, run_s, exe, text)


def _run(cmd: list[str], echo, env: dict) -> tuple[str, int, float]:
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            echo(line.rstrip("\n"))
    rc = proc.wait()
    return "".join(lines), rc, time.time() - t0
