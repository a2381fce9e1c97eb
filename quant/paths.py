"""Where hlsgen finds its data (templates, RTL library, boards) and keeps its caches.

The data folders are package data (pyproject.toml), found next to the installed packages, so a
non-editable install works. Caches live in the checkout's .cache/ when running from a checkout
(a pyproject.toml beside the packages), else in $HLSGEN_CACHE_DIR or ~/.cache/hlsgen.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGES_ROOT = Path(__file__).resolve().parent.parent   # the folder holding quant/, hlsgen/, sim/, ...
TEMPLATES_DIR = PACKAGES_ROOT / "hls_templates"
RTL_LIB_DIR = PACKAGES_ROOT / "sim" / "rtl"
BOARDS_DIR = PACKAGES_ROOT / "boards"


def cache_root() -> Path:
    env = os.environ.get("HLSGEN_CACHE_DIR")
    if env:
        return Path(env)
    if (PACKAGES_ROOT / "pyproject.toml").is_file():
        return PACKAGES_ROOT / ".cache"
    return Path.home() / ".cache" / "hlsgen"


CACHE_ROOT = cache_root()
