"""Sets of atom indexes as runs: sorted, disjoint, non-adjacent inclusive ranges.

A column's atoms (see `atoms`) are numbered in order, so the part of a column
a rule accepts is a few runs, e.g. ((0, 2), (5, 5)) for atoms 0, 1, 2 and 5.
"""

from __future__ import annotations

from collections.abc import Iterable

Runs = tuple[tuple[int, int], ...]


def normalise(runs: Iterable[tuple[int, int]]) -> Runs:
    """Sort and merge overlapping or adjacent ranges; drop empty ones."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(r for r in runs if r[0] <= r[1]):
        if out and a <= out[-1][1] + 1:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def from_indexes(indexes: Iterable[int]) -> Runs:
    return normalise((i, i) for i in indexes)


def intersection(a: Runs, b: Runs) -> Runs:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def is_full(runs: Runs, size: int) -> bool:
    return runs == ((0, size - 1),)


def toggles(runs: Runs) -> tuple[int, ...]:
    """Positions where membership flips: each run's start and the atom after its end."""
    return tuple(p for a, b in runs for p in (a, b + 1))


def mask_of(runs: Runs) -> int:
    """The runs as a bitmask of atom numbers."""
    m = 0
    for a, b in runs:
        m |= ((1 << (b - a + 1)) - 1) << a
    return m


def runs_of(mask: int) -> Runs:
    """A bitmask of atom numbers as runs."""
    out: list[tuple[int, int]] = []
    pos = 0
    while mask:
        skip = (mask & -mask).bit_length() - 1
        mask >>= skip
        pos += skip
        length = (~mask & (mask + 1)).bit_length() - 1
        out.append((pos, pos + length - 1))
        mask >>= length
        pos += length
    return tuple(out)
