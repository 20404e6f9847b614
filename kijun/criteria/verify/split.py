"""The coverage partition: cut the input space in two, one boundary at a time.

Same atoms and the same bitsets of live rules as the column sweep
(`sweep`), but instead of cutting one column at every boundary at once —
which copies a wide rule into every piece of that column, and the copies
multiply column after column — each step cuts the current box in two where
the fewest rules are cut (ties: the more even cut):

- in a number or date column, between two atoms (`< p` / `>= p`);
- in a string or boolean column, into the values of one rule's cell and the
  rest (values have no order, so "単身, ひとり親" against "夫婦, 三世代" is one
  cut, not several).

A rule whose cell covers the box in every column joins the box's `covering`
set and is never looked at again; the others stay `partial`. Cutting stops
as soon as the answer for the whole box is known:

- no partial rule: exactly the covering rules hold on the box — none: a gap;
- some rule covers the box (so no gap is inside it) and, when the first
  rule wins (FIRST, PRIORITY), the first of all rules meeting the box covers
  it (so it decides everywhere in the box).

At such a box, the rules meeting it are recorded as overlapping — covering
rules with every rule; two partial rules only if their cells meet inside the
box — and, for FIRST and PRIORITY, the first rule as deciding.

Decision-tree-shaped tables (each rule a branch of "年齢 < 18 ? … : …")
almost always have a cut that crosses no rule, so each rule is handled about
log(rules) times instead of once per combination of pieces. Where the cut is
only a matter of speed it is chosen cheaply: in a box with many partial rules
from an even sample of them, in a box with few along the first one's edge,
and a box with one partial rule is settled without cutting. Which cut is
taken never changes the result, only how the gaps are cut into boxes.

Boxes and cells are bitmasks of atom numbers (Python ints), one per column,
so "meets" and "covers" are an AND and a compare.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from kijun.criteria.verify.relations import Relations, bits
from kijun.criteria.verify.runs import runs_of
from kijun.criteria.verify.sweep import GapBox

#: (rule bit, bitmask of the columns where the rule does not cover the box)
Partial = tuple[int, int]
Box = tuple[int, ...]


@dataclass(slots=True)
class Partition:
    gaps: list[GapBox] = field(default_factory=list)
    relations: Relations = field(default_factory=Relations)


def partition(
    sizes: Sequence[int],
    ordered: Sequence[bool],
    cells: Sequence[Sequence[int]],
    *,
    first_wins: bool,
) -> Partition:
    """Gaps and relations of the rules' boxes (`cells[bit][column]` = atom bitmask)."""
    n = len(sizes)
    result = Partition()
    if any(s == 0 for s in sizes):
        return result
    rel = result.relations
    full = tuple((1 << s) - 1 for s in sizes)
    covering = 0
    partial: list[Partial] = []
    for b, row in enumerate(cells):
        if not all(row):
            continue  # holds nowhere in the domain
        open_cols = 0
        for c in range(n):
            if row[c] != full[c]:
                open_cols |= 1 << c
        if open_cols:
            partial.append((b, open_cols))
        else:
            covering |= 1 << b
    # per rule and ordered column: the cell's first and last atom, if it is one run
    spans = [
        [_span(row[c]) if ordered[c] else None for c in range(n)] for row in cells
    ]
    stack: list[tuple[Box, int, list[Partial]]] = [(full, covering, partial)]
    gaps = result.gaps
    while stack:
        box, cover, part = stack.pop()
        if cover:
            first = (cover & -cover).bit_length() - 1
            if not part or not first_wins or first < part[0][0]:
                _settle(rel, box, cover, part, cells, first_wins)
                continue
            # first_wins, and a partial rule comes before the first covering rule: the
            # partial rules after it never decide in this box; settle them here
            k = bisect_left(part, (first, 0))
            if k < len(part):
                _settle_late(rel, box, cover, part, k, cells)
                part = part[:k]
        elif not part:
            gaps.append(_gap(box, full))
            continue
        if len(part) == 1:
            _settle_one(rel, gaps, box, cover, part[0], cells[part[0][0]], full, first_wins)
            continue
        if len(part) <= _FEW:
            c, left_mask = _edge_cut(box, part[0], cells[part[0][0]], ordered)
        else:
            c, left_mask = _best_cut(box, part, cells, spans, ordered)
        right_mask = box[c] & ~left_mask
        left_cover = right_cover = cover
        left: list[Partial] = []
        right: list[Partial] = []
        bit_c = 1 << c
        for item in part:
            b, open_cols = item
            if not open_cols & bit_c:
                left.append(item)
                right.append(item)
                continue
            cell = cells[b][c]
            rest = open_cols & ~bit_c
            here = cell & left_mask
            if here == left_mask:
                if rest:
                    left.append((b, rest))
                else:
                    left_cover |= 1 << b
            elif here:
                left.append(item)
            here = cell & right_mask
            if here == right_mask:
                if rest:
                    right.append((b, rest))
                else:
                    right_cover |= 1 << b
            elif here:
                right.append(item)
        stack.append(((*box[:c], right_mask, *box[c + 1 :]), right_cover, right))
        stack.append(((*box[:c], left_mask, *box[c + 1 :]), left_cover, left))
    return result


def _span(mask: int) -> tuple[int, int] | None:
    if not mask:
        return None
    first = (mask & -mask).bit_length() - 1
    last = mask.bit_length() - 1
    return (first, last) if (mask >> first) + 1 == 1 << (last - first + 1) else None


def _meets(a: Sequence[int], b: Sequence[int], columns: int, box: Box) -> bool:
    """Whether two cells meet inside `box`, checking only `columns` (a bitmask)."""
    for c in bits(columns):  # noqa: SIM110 - a plain loop is faster
        if not a[c] & b[c] & box[c]:
            return False
    return True


def _settle(
    rel: Relations,
    box: Box,
    cover: int,
    part: list[Partial],
    cells: Sequence[Sequence[int]],
    first_wins: bool,
) -> None:
    """A box some rule covers (the first one, if first_wins): record who holds and meets."""
    members = cover
    for b, _ in part:
        members |= 1 << b
    rel.present |= members
    if first_wins:
        rel.winners |= cover & -cover
    if len(part) < 2:
        rel.meet(members)
        return
    _pairs(rel, box, cover, part, 0, cells)


def _settle_late(
    rel: Relations,
    box: Box,
    cover: int,
    part: list[Partial],
    k: int,
    cells: Sequence[Sequence[int]],
) -> None:
    """Record the partial rules from `k` on (they never decide here) and whom they meet."""
    _pairs(rel, box, cover, part, k, cells)
    for b, _ in part[k:]:
        rel.present |= 1 << b


def _pairs(
    rel: Relations,
    box: Box,
    cover: int,
    part: list[Partial],
    k: int,
    cells: Sequence[Sequence[int]],
) -> None:
    """Overlaps in `box`: covering rules meet each other and every partial rule; partial
    rules from `k` on meet the partial rules their cells meet inside the box."""
    overlaps = rel.overlaps
    rel.meet(cover)
    late = 0
    for b, _ in part[k:]:
        late |= 1 << b
    for i in bits(cover):
        overlaps[i] = overlaps.get(i, 0) | late
    for idx in range(k, len(part)):
        b, open_b = part[idx]
        row_b = cells[b]
        met = cover
        for j, (b2, open_2) in enumerate(part):
            if j == idx or (k <= j < idx):
                continue  # itself, or a pair already checked
            if _meets(row_b, cells[b2], open_b | open_2, box):
                met |= 1 << b2
                overlaps[b2] = overlaps.get(b2, 0) | (1 << b)
        overlaps[b] = overlaps.get(b, 0) | met


#: with this many partial rules or fewer, cut along the first one's edge without weighing cuts
_FEW = 8
#: with more partial rules than this, weigh the cuts on an even sample of them
_SAMPLE = 64


def _settle_one(
    rel: Relations,
    gaps: list[GapBox],
    box: Box,
    cover: int,
    item: Partial,
    row: Sequence[int],
    full: Box,
    first_wins: bool,
) -> None:
    """A box with one partial rule (before every covering rule, if first_wins)."""
    b, open_cols = item
    bit = 1 << b
    members = cover | bit
    rel.present |= members
    rel.meet(members)
    if first_wins:
        rel.winners |= bit  # it decides inside its part of the box
        rel.winners |= cover & -cover  # the first covering rule decides the rest
    if cover:
        return
    # no covering rule: the rest of the box is a gap, cut into boxes column by column
    inside = list(box)
    for c in bits(open_cols):
        piece = (*inside[:c], box[c] & ~row[c], *box[c + 1 :])
        gaps.append(_gap(piece, full))
        inside[c] = box[c] & row[c]


def _edge_cut(
    box: Box, item: Partial, row: Sequence[int], ordered: Sequence[bool]
) -> tuple[int, int]:
    """A cut along the edge of one rule's cell, in its first open column."""
    open_cols = item[1]
    c = (open_cols & -open_cols).bit_length() - 1
    space = box[c]
    inter = row[c] & space
    if not ordered[c]:
        return c, inter
    lo = (space & -space).bit_length() - 1
    first = (inter & -inter).bit_length() - 1
    if first > lo:
        return c, space & ((1 << first) - 1)
    end = runs_of(inter)[0][1] + 1  # the first run ends before the range does
    return c, space & ((1 << end) - 1)


def _gap(box: Box, full: Box) -> GapBox:
    return tuple((c, runs_of(m)) for c, m in enumerate(box) if m != full[c])


def _best_cut(
    box: Box,
    part: list[Partial],
    cells: Sequence[Sequence[int]],
    spans: Sequence[Sequence[tuple[int, int] | None]],
    ordered: Sequence[bool],
) -> tuple[int, int]:
    """Where to cut: the column and the atoms of the left part.

    Fewest rules on both sides first, then the smaller larger side (so an
    even cut beats one that peels off a single rule).
    """
    if len(part) > _SAMPLE:  # choose from an even sample: any cut is correct, some are faster
        step = len(part) / _SAMPLE
        part = [part[int(i * step)] for i in range(_SAMPLE)]
    total = len(part)
    by_column: dict[int, list[int]] = {}
    for b, open_cols in part:
        m = open_cols
        while m:
            low = m & -m
            c = low.bit_length() - 1
            m ^= low
            found = by_column.get(c)
            if found is None:
                by_column[c] = [b]
            else:
                found.append(b)
    best: tuple[int, int, int] | None = None
    best_cut = (-1, 0)
    for c, members in by_column.items():
        others = total - len(members)  # partial in other columns only: on both sides of a cut
        if best is not None and others > best[0]:
            continue  # cannot cross fewer rules than the best cut so far
        if ordered[c]:
            crossing, larger, left_mask = _ordered_cut(box[c], c, members, cells, spans)
        else:
            space = box[c]
            inters = [cells[b][c] & space for b in members]
            crossing, larger, left_mask = _discrete_cut(space, inters)
        key = (crossing + others, larger + others, c)
        if best is None or key < best:
            best = key
            best_cut = (c, left_mask)
    return best_cut


def _ordered_cut(
    space: int,
    c: int,
    members: list[int],
    cells: Sequence[Sequence[int]],
    spans: Sequence[Sequence[tuple[int, int] | None]],
) -> tuple[int, int, int]:
    """Best `atoms < p` cut of the atom range `space` for the members' cells in column c."""
    lo = (space & -space).bit_length() - 1
    hi = space.bit_length() - 1
    starts = []
    ends = []
    holes = False
    for b in members:
        span = spans[b][c]
        if span is None:  # a cell of several runs
            m = cells[b][c] & space
            first, last = (m & -m).bit_length() - 1, m.bit_length() - 1
            holes = True
        else:
            first, last = span
            if first < lo:
                first = lo
            if last > hi:
                last = hi
        starts.append(first)
        ends.append(last)
    cuts = {f for f in starts if f > lo} | {e + 1 for e in ends if e < hi}
    if not cuts and holes:  # every cell spans the range, with holes: cut at a hole's edge
        for b in members:
            for a, z in runs_of(cells[b][c] & space):
                if a > lo:
                    cuts.add(a)
                if z < hi:
                    cuts.add(z + 1)
    starts.sort()
    ends.sort()
    k = len(members)
    best = (k + 1, k + 1, lo + 1)
    i_start = i_end = 0  # starts < p, ends < p
    for p in sorted(cuts):
        while i_start < k and starts[i_start] < p:
            i_start += 1
        while i_end < k and ends[i_end] < p:
            i_end += 1
        right_only = k - i_start
        crossing = i_start - i_end
        key = (crossing, max(i_end, right_only) + crossing, p)
        if key < best:
            best = key
    p = best[2]
    return best[0], best[1], space & ((1 << p) - 1)


def _discrete_cut(space: int, inters: list[int]) -> tuple[int, int, int]:
    """Best cut of the value set `space` into one cell's values and the rest."""
    k = len(inters)
    counts: dict[int, int] = {}
    for m in inters:
        counts[m] = counts.get(m, 0) + 1
    candidates = sorted(counts, key=lambda m: (-counts[m], m))[:32]
    best = (k + 1, k + 1, candidates[0])
    for s in candidates:
        rest = space & ~s
        left_only = right_only = 0
        for m, times in counts.items():
            if not m & rest:
                left_only += times
            elif not m & s:
                right_only += times
        crossing = k - left_only - right_only
        key = (crossing, max(left_only, right_only) + crossing, s)
        if key < best:
            best = key
    return best[0], best[1], best[2]
