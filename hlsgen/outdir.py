"""The project folder `hlsgen generate` writes: what it may replace, and writing it without losing
anything of the user's.

hlsgen records every file it writes, with its sha256, in MANIFEST. A later `generate --force` into the
same folder replaces exactly those files; anything else there (the `vit_prj/` that `vitis_hls -f
run_hls.tcl` creates, the user's notes) is kept. A generated file the user has edited since, or a
user file at a path hlsgen wants to write, stops the command with its name: nothing is overwritten
that hlsgen did not write as it is. A new folder (or an empty one) is assembled in a temporary sibling
and renamed into place; an existing one gets each file atomically (os.replace).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from quant.errors import UserError

MANIFEST = ".hlsgen-manifest.json"
FORMAT = 1


class ProjectExistsError(UserError):
    pass


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(files: dict[str, bytes]) -> bytes:
    body = {"hlsgen_manifest": FORMAT, "files": {rel: sha256(files[rel]) for rel in sorted(files)}}
    return (json.dumps(body, indent=1) + "\n").encode()


def _read_manifest(out: Path) -> dict[str, str] | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        files = data["files"]
        if data.get("hlsgen_manifest") != FORMAT or not isinstance(files, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ProjectExistsError(f"{path} is not a manifest this hlsgen can read: move the folder away or "
                                 f"choose another -o") from None
    return {str(k): str(v) for k, v in files.items()}


def _changed(out: Path, owned: dict[str, str]) -> list[str]:
    """Files of the manifest that are no longer what hlsgen wrote (missing files are not changed)."""
    return [rel for rel, digest in sorted(owned.items())
            if (out / rel).is_file() and sha256((out / rel).read_bytes()) != digest]


def check_output_dir(out_dir: str | Path, force: bool, new_files: list[str] | None = None) -> None:
    """Refuse, before any work, an output folder hlsgen may not write (or, without --force, replace).
    With `new_files`, also refuse a user file at a path hlsgen would write."""
    out = Path(out_dir)
    if not out.exists():
        return
    if not out.is_dir():
        raise ProjectExistsError(f"{out} exists and is not a directory")
    if not any(out.iterdir()):
        return
    if not force:
        raise ProjectExistsError(f"{out} is not empty: use --force to replace the files hlsgen wrote there "
                                 f"(anything else in it is kept)")
    owned = _read_manifest(out) or {}
    changed = _changed(out, owned)
    if changed:
        raise ProjectExistsError(f"{out / changed[0]} was changed since hlsgen wrote it"
                                 + (f" (and {len(changed) - 1} more)" if len(changed) > 1 else "")
                                 + ": --force replaces only unchanged generated files; move your version away first")
    for rel in new_files or []:
        if rel != MANIFEST and rel not in owned and (out / rel).exists():
            raise ProjectExistsError(f"{out / rel} is not a file hlsgen wrote (not in {MANIFEST}), and the new "
                                     f"project has a file there: move it away first")


def write_project(files: dict[str, bytes], out_dir: str | Path, force: bool = False) -> Path:
    """Write `files` ({relative path: bytes}) and their manifest into out_dir (see the module doc)."""
    out = Path(out_dir)
    files = {**files, MANIFEST: manifest_bytes(files)}
    check_output_dir(out, force, sorted(files))
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        for rel in sorted(files):
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[rel])
        if out.exists() and any(out.iterdir()):
            _replace_owned(tmp, out, files)
        else:
            if out.exists():
                out.rmdir()
            os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _replace_owned(tmp: Path, out: Path, files: dict[str, bytes]) -> None:
    """Into an existing folder: drop the old generated files the new project no longer has, move each
    new file into place, the manifest last (so it never lists a file that is not there yet)."""
    owned = _read_manifest(out) or {}
    for rel in sorted(set(owned) - set(files)):
        path = out / rel
        if path.is_file():
            path.unlink()
        for d in path.parents:           # folders only hlsgen's files were in
            if d == out or not d.is_dir() or any(d.iterdir()):
                break
            d.rmdir()
    for rel in sorted(files, key=lambda r: r == MANIFEST):
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, dest)
