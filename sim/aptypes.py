"""Find the Xilinx ap_types headers and compile small C++ programs against them.

The headers (`ap_int.h`, `ap_fixed.h`, Apache-2.0) ship inside the pip package hls4ml==1.3.0 under
`hls4ml/templates/vivado/ap_types/`. hls4ml is installed with --no-deps, so `import hls4ml` fails:
the folder is found through `importlib.util.find_spec`, which does not execute the package.

`compile_cpp` builds an executable with g++ into `<repo>/.cache/cpp/<sha256>/<name>`, the hash
covering the sources, the flags and the compiler version; a second call with the same inputs
returns the cached executable without compiling. Several translation units compile in parallel.
It is used by the ap_fixed tests and, later, for C-simulation of generated HLS projects.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from quant.errors import UserError
from quant.paths import CACHE_ROOT

CACHE_DIR = CACHE_ROOT / "cpp"
CXX = os.environ.get("HLSGEN_CXX", "g++")
BASE_CXXFLAGS = (
    "-std=c++17", "-O2",
    # The ap_types headers trip these warnings by design; they are noise, not bugs in our code.
    "-Wno-unknown-pragmas", "-Wno-uninitialized", "-Wno-maybe-uninitialized", "-Wno-int-in-bool-context",
)
_COMPILED_SUFFIXES = (".cpp", ".cc", ".cxx", ".c++", ".C")
_INSTALL_HINT = "pip install --no-deps hls4ml==1.3.0"


class ToolchainError(UserError, RuntimeError):
    """A missing header package or compiler; the message says how to install it."""


class CompileError(RuntimeError):
    """g++ rejected a program; the message holds the command and g++'s stderr."""


def aptypes_include_dir() -> Path:
    """The folder holding ap_int.h / ap_fixed.h (from hls4ml==1.3.0, found without importing it)."""
    try:
        spec = importlib.util.find_spec("hls4ml")
    except (ImportError, ValueError):
        spec = None
    roots: list[Path] = []
    if spec is not None:
        roots += [Path(p) for p in (spec.submodule_search_locations or [])]
        if spec.origin:
            roots.append(Path(spec.origin).parent)
    for root in roots:
        inc = root / "templates" / "vivado" / "ap_types"
        if (inc / "ap_fixed.h").is_file() and (inc / "ap_int.h").is_file():
            return inc
    where = f" (hls4ml found at {roots[0]}, but without templates/vivado/ap_types/ap_fixed.h)" if roots else ""
    raise ToolchainError(f"the Xilinx ap_types headers are missing{where}; install them with: {_INSTALL_HINT}")


def cxxflags() -> list[str]:
    """The flags every ap_types program is compiled with, include folder last."""
    return [*BASE_CXXFLAGS, f"-I{aptypes_include_dir()}"]


def __getattr__(name: str):
    # CXXFLAGS is computed on first use so that importing this module never fails.
    if name == "CXXFLAGS":
        return cxxflags()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.lru_cache(maxsize=None)
def _compiler_version(cxx: str) -> str:
    if shutil.which(cxx) is None:
        raise ToolchainError(f"C++ compiler '{cxx}' not found on PATH; install g++ (apt-get install g++)")
    return subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True).stdout


def _load_sources(sources: Sequence[Path | str] | Mapping[str, str]) -> tuple[list[tuple[str, str]], list[Path] | None]:
    """(name, text) pairs for hashing, and the on-disk paths when sources are files."""
    if isinstance(sources, Mapping):
        items = sorted((str(k), str(v)) for k, v in sources.items())
        for k, _ in items:
            if Path(k).is_absolute() or ".." in Path(k).parts:
                raise ValueError(f"compile_cpp: source name {k!r} must be a relative file name")
        return items, None
    paths = [Path(p).resolve() for p in sources]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"compile_cpp: source file(s) not found: {', '.join(missing)}")
    return [(str(p), p.read_text()) for p in paths], paths


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CompileError(f"{what} failed (exit {proc.returncode}):\n$ {' '.join(cmd)}\n{proc.stderr.strip()}")


def compile_cpp(sources: Sequence[Path | str] | Mapping[str, str], name: str,
                extra_flags: Iterable[str] = (), *, jobs: int | None = None) -> Path:
    """Compile C++ sources against the ap_types headers; return the executable's path.

    sources: a list of files (compiled where they are, so relative #includes work), or a dict
      {file name: text} written into a scratch folder. Files not ending in .cpp/.cc/.cxx (headers)
      are hashed, and written for dict sources, but not compiled. Headers a listed file includes
      but that are not listed are not hashed: list them to have edits rebuild.
    name: the executable's file name inside the cache folder.
    extra_flags: appended after CXXFLAGS (so `-O0` there overrides `-O2`), before linking too.
    jobs: parallel compiler processes for several translation units (default: CPU count).
    """
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"compile_cpp: name must be a plain file name, got {name!r}")
    items, paths = _load_sources(sources)
    units = [k for k, _ in items if k.endswith(_COMPILED_SUFFIXES)]
    if not units:
        raise ValueError("compile_cpp: no translation unit (.cpp/.cc/.cxx) among the sources")
    flags = [*cxxflags(), *extra_flags]
    digest = hashlib.sha256()
    for part in (CXX, _compiler_version(CXX), *flags):
        digest.update(part.encode() + b"\0")
    for k, text in items:  # file names, not folders: the same files elsewhere hit the same cache
        digest.update((k if paths is None else Path(k).name).encode() + b"\0" + text.encode() + b"\0")
    out_dir = CACHE_DIR / digest.hexdigest()
    exe = out_dir / name
    if exe.is_file():
        return exe
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        _build(items, paths, units, flags, name, out_dir, exe, jobs)
    except BaseException:
        try:
            out_dir.rmdir()  # only if empty: leave no trace of a failed build
        except OSError:
            pass
        raise
    return exe


def _build(items, paths, units, flags, name, out_dir: Path, exe: Path, jobs: int | None) -> None:
    # Build in a private scratch folder and move the executable in atomically, so concurrent
    # callers (pytest-xdist, other processes) never see a half-written file.
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        tmpdir = Path(tmp)
        if paths is None:
            for k, text in items:
                (tmpdir / k).parent.mkdir(parents=True, exist_ok=True)
                (tmpdir / k).write_text(text)
            unit_paths = [tmpdir / k for k in units]
        else:
            unit_paths = [Path(k) for k in units]
        objects = [tmpdir / f"unit{i}.o" for i in range(len(unit_paths))]
        cmds = [[CXX, *flags, "-c", str(src), "-o", str(obj)] for src, obj in zip(unit_paths, objects)]
        workers = max(1, min(len(cmds), jobs or os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda c: _run(c, f"compiling {Path(c[-3]).name}"), cmds))
        tmp_exe = tmpdir / name
        _run([CXX, *flags, *map(str, objects), "-o", str(tmp_exe)], f"linking {name}")
        os.replace(tmp_exe, exe)
