"""One input column cut into atoms: the elementary pieces no rule boundary splits.

Every region a rule's cell accepts is a union of whole atoms, so coverage,
gaps and overlaps become questions about sets of atom numbers (`runs`).

- Number and date columns (no allowed values): the sorted finite boundaries
  p0 < p1 < … of every rule's region cut the line into alternating open
  intervals and points: (-∞, p0), [p0], (p0, p1), [p1], …, (pn, ∞). Dates are
  whole days, so an open interval between consecutive days holds no date and
  is left out (region.py already stores date intervals closed).
- Columns with a finite domain — the input's `allowed` values, booleans
  (true, false), or the values an upstream decision can give — have one
  atom per value.
- String columns without allowed values: one atom per value some rule names,
  and one last atom for every other string.

Null is never an atom: it is outside the domain the verifier analyses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from kijun.criteria.model import InputClause, ValueType
from kijun.criteria.region import Interval, Region
from kijun.criteria.verify import runs as rs
from kijun.criteria.verify.runs import Runs

_ONE_DAY = dt.timedelta(days=1)


class Column(Protocol):
    """The atoms of one input column."""

    position: int  #: the input's index in the table
    clause: InputClause
    size: int  #: number of atoms

    def runs(self, region: Region) -> Runs:
        """The atoms `region` accepts (its non-null part, within the column's domain)."""
        ...

    def region(self, runs: Runs) -> Region:
        """The values of the given atoms, as a region without null."""
        ...


def make_column(
    position: int,
    clause: InputClause,
    regions: Sequence[Region],
    domain: Sequence[Any] | None = None,
) -> Column:
    """Atoms for `clause`, cut at every boundary of `regions`.

    `domain`: the finite set of values the input can take (else its
    `allowed` values, else every value of its type).
    """
    if domain is None and clause.allowed is not None:
        domain = clause.allowed
    if domain is None and clause.type is ValueType.BOOLEAN:
        domain = (True, False)
    if domain is not None:
        return FiniteColumn(position, clause, domain)
    if clause.type in (ValueType.NUMBER, ValueType.DATE):
        return OrderedColumn(position, clause, regions)
    return OpenColumn(position, clause, regions)


class OrderedColumn:
    """Numbers or dates: alternating open intervals and points."""

    def __init__(self, position: int, clause: InputClause, regions: Sequence[Region]) -> None:
        self.position = position
        self.clause = clause
        dates = clause.type is ValueType.DATE
        points = sorted({b for r in regions for b in r.boundaries()})
        #: (lo, lo_closed, hi, hi_closed) of each atom; Interval objects only when asked
        atoms: list[tuple[Any, bool, Any, bool]] = []
        at: dict[Any, int] = {}
        prev: Any | None = None
        for p in points:
            if _open_holds_values(prev, p, dates):
                atoms.append((prev, False, p, False))
            at[p] = len(atoms)
            atoms.append((p, True, p, True))
            prev = p
        if _open_holds_values(prev, None, dates):
            atoms.append((prev, False, None, False))
        self.atoms = atoms
        self.at = at
        self.size = len(atoms)

    def runs(self, region: Region) -> Runs:
        at, last = self.at, self.size - 1
        out = []
        for iv in region.intervals:
            lo, hi = iv.lo, iv.hi
            start = 0 if lo is None else at[lo] if iv.lo_closed else at[lo] + 1
            end = last if hi is None else at[hi] if iv.hi_closed else at[hi] - 1
            if start <= end:
                out.append((start, end))
        return tuple(out) if len(out) < 2 else rs.normalise(out)

    def region(self, runs: Runs) -> Region:
        atoms = self.atoms
        return Region(
            "ordered",
            tuple(
                Interval(atoms[a][0], atoms[a][1], atoms[b][2], atoms[b][3]) for a, b in runs
            ),
        )


def _open_holds_values(lo: Any | None, hi: Any | None, dates: bool) -> bool:
    """Whether the open interval (lo, hi) holds a value (numbers are dense, dates are days)."""
    if not dates:
        return True
    if lo is None:
        return hi is None or bool(hi > dt.date.min)
    if hi is None:
        return bool(lo < dt.date.max)
    return bool(hi - lo > _ONE_DAY)


class FiniteColumn:
    """A finite domain: one atom per value."""

    def __init__(self, position: int, clause: InputClause, domain: Sequence[Any]) -> None:
        self.position = position
        self.clause = clause
        values: list[Any] = []
        index: dict[Any, int] = {}
        for v in domain:
            if v is not None and v not in index:
                index[v] = len(values)
                values.append(v)
        self.values = values
        self.index = index
        self.size = len(values)

    def runs(self, region: Region) -> Runs:
        if region.kind == "discrete" and not region.complement:
            index = self.index
            return rs.from_indexes(index[v] for v in region.values if v in index)
        if region.kind == "discrete":
            return rs.from_indexes(
                i for v, i in self.index.items() if v not in region.values
            )
        return rs.from_indexes(i for i, v in enumerate(self.values) if _contains(region, v))

    def region(self, runs: Runs) -> Region:
        chosen = [self.values[i] for a, b in runs for i in range(a, b + 1)]
        return Region.of(self.clause.type, *chosen)


def _contains(region: Region, value: Any) -> bool:
    try:
        return region.contains(value)
    except TypeError:  # an allowed value of another type (a table built without checks)
        return False


class OpenColumn:
    """Strings without allowed values: the named values, then every other string."""

    def __init__(self, position: int, clause: InputClause, regions: Sequence[Region]) -> None:
        self.position = position
        self.clause = clause
        named = {v for r in regions for v in r.values}
        try:
            values = sorted(named)
        except TypeError:
            values = sorted(named, key=repr)
        self.values = values
        self.index = {v: i for i, v in enumerate(values)}
        self.others = len(values)  #: the atom of every value no rule names
        self.size = len(values) + 1

    def runs(self, region: Region) -> Runs:
        index = self.index
        if not region.complement:
            return rs.from_indexes(index[v] for v in region.values if v in index)
        excluded = region.values
        return rs.from_indexes(
            [i for v, i in index.items() if v not in excluded] + [self.others]
        )

    def region(self, runs: Runs) -> Region:
        chosen = {i for a, b in runs for i in range(a, b + 1)}
        if self.others in chosen:
            unchosen = [v for i, v in enumerate(self.values) if i not in chosen]
            return Region("discrete", values=frozenset(unchosen), complement=True)
        return Region("discrete", values=frozenset(self.values[i] for i in chosen))
