"""Ragged batches: after token selection each image has its own token count."""
from __future__ import annotations


def same_length(xs) -> list[list[int]]:
    """Indices of the token lists xs, grouped by length (first axis), in first-seen order."""
    groups: dict[int, list[int]] = {}
    for j, x in enumerate(xs):
        groups.setdefault(x.shape[0], []).append(j)
    return list(groups.values())
