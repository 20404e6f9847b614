"""Relations between rules: who holds where, who overlaps whom, who decides, who contains whom.

Both coverage algorithms (`split.partition`, and the reference column sweep
`sweep.sweep` through `relate`) end in the same `Relations`. Rules are bits
numbered in the order the hit policy tries them (rule order for FIRST,
priority then rule order for PRIORITY), so "the first rule of a set" is its
lowest bit.

Containment needs no sweep: a rule is a box (a set of atoms per column), so
A lies inside B exactly when A's atoms lie inside B's in every column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field


def bits(m: int) -> Iterator[int]:
    """Indexes of the set bits of `m`, lowest first."""
    while m:
        low = m & -m
        yield low.bit_length() - 1
        m ^= low


@dataclass(slots=True)
class Relations:
    present: int = 0  #: rules holding somewhere in the domain
    winners: int = 0  #: rules that decide somewhere (first of the rules holding there)
    overlaps: dict[int, int] = field(default_factory=dict)  #: bit → the other rules it meets

    def meet(self, group: int) -> None:
        """Every rule of `group` holds together somewhere."""
        if group & (group - 1):
            overlaps = self.overlaps
            for i in bits(group):
                overlaps[i] = overlaps.get(i, 0) | (group & ~(1 << i))

    def earlier(self, b: int) -> int:
        """The rules tried before rule bit `b` that overlap it."""
        return self.overlaps.get(b, 0) & ((1 << b) - 1)


def relate(shared: Iterable[int], alone: int) -> Relations:
    """Relations from a full arrangement: the live sets of its leaves."""
    rel = Relations(present=alone, winners=alone)
    for s in shared:
        rel.present |= s
        rel.winners |= s & -s
        rel.meet(s)
    return rel


def inside(a: Sequence[int], b: Sequence[int]) -> bool:
    """Whether box `a` lies inside box `b` (atom bitmasks per column)."""
    for x, y in zip(a, b, strict=True):  # noqa: SIM110 - a plain loop is faster
        if x & ~y:
            return False
    return True
