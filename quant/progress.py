"""A progress bar on stderr for long loops (tqdm): shown only on a terminal, so logs, pipes and tests
stay clean."""
from __future__ import annotations

import sys


def progress(iterable, total: int | None = None, desc: str = "", min_items: int = 20):
    """`iterable`, with a bar when it has at least min_items items and stderr is a terminal."""
    n = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
    if n is not None and n < min_items:
        return iterable
    from tqdm import tqdm
    return tqdm(iterable, total=n, desc=desc, file=sys.stderr, disable=None, leave=False, mininterval=0.5,
                unit="img")
