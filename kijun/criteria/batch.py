"""The vectorised path: one decision table over a whole population (Polars).

The same compiled index as `decide`, applied to columns: each input column
becomes, per row, a row of 64-bit words (the bitset of rules accepting the
value), the columns are AND-ed, and FIRST / UNIQUE pick the rule with numpy.
Number and date columns find their segment with a binary search over the
boundaries; other columns look up each distinct value once. Other hit
policies resolve each distinct bitset once through the scalar path.

Numbers are compared as float64 here: exact for integers and for boundaries
written with a few decimals; use `decide` where a boundary needs more than
15 significant digits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from kijun.criteria.compile import CompiledTable, _OrderedColumn, compile_table
from kijun.criteria.errors import CriteriaError
from kijun.criteria.hitpolicy import apply
from kijun.criteria.model import DecisionTable, HitPolicy, ValueType

Words = npt.NDArray[np.uint64]

STATUS = "_status"
MATCHED = "_matched"
_EPOCH = dt.date(1970, 1, 1)


def _to_words(bits: int, nwords: int) -> list[int]:
    return [(bits >> (64 * w)) & 0xFFFFFFFFFFFFFFFF for w in range(nwords)]


def _word_table(rows: list[int], nwords: int) -> Words:
    return np.array([_to_words(b, nwords) for b in rows], dtype=np.uint64).reshape(-1, nwords)


def _ordered_numeric(col: _OrderedColumn, series: pl.Series, type_: ValueType,
                     nwords: int) -> Words | None:
    """Segment lookup by binary search, or None when the column needs the general path."""
    if col.dynamic:
        return None
    if type_ is ValueType.DATE and series.dtype == pl.Date:
        points = np.array([(p - _EPOCH).days for p in col.points], dtype=np.float64)
        values = series.cast(pl.Int32).cast(pl.Float64)
    elif type_ is ValueType.NUMBER and series.dtype.is_numeric():
        points = np.array([float(p) for p in col.points], dtype=np.float64)
        values = series.cast(pl.Float64)
    else:
        return None
    null_mask = values.is_null().to_numpy()
    arr = values.fill_null(0.0).to_numpy()
    n = len(points)
    i = np.searchsorted(points, arr, side="left")
    hit = np.zeros(len(arr), dtype=bool)
    inside = i < n
    hit[inside] = points[i[inside]] == arr[inside]
    seg = 2 * i + hit
    table = _word_table([*col.segments, col.null_bits], nwords)
    seg[null_mask] = len(col.segments)
    result: Words = table[seg]
    return result


def _by_distinct(ct: CompiledTable, position: int, series: pl.Series,
                 nwords: int) -> tuple[Words, npt.NDArray[np.bool_]]:
    """Look up each distinct value once; also flags rows whose value is not valid."""
    coerce = ct.coercers[position]
    col = next(c for c in ct.columns if c.position == position)
    if series.dtype == pl.String:
        # an Enum over the distinct values gives dense codes without sorting
        distinct = series.drop_nulls().unique()
        codes_series = series.cast(pl.Enum(distinct.to_list())).to_physical().cast(pl.Int64) + 1
    else:
        distinct = series.drop_nulls().unique().sort()
        codes_series = series.rank("dense")
    rows: list[int] = []
    bad: list[bool] = []
    for raw in distinct.to_list():
        try:
            rows.append(col.lookup(coerce(_plain(raw))))
            bad.append(False)
        except CriteriaError:
            rows.append(0)
            bad.append(True)
    rows.append(col.lookup(None))
    bad.append(False)
    codes = (codes_series.cast(pl.Int64) - 1).fill_null(len(distinct)).to_numpy()
    result: Words = _word_table(rows, nwords)[codes]
    return result, np.array(bad, dtype=bool)[codes]


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def decide_frame(table: DecisionTable | CompiledTable, frame: pl.DataFrame) -> pl.DataFrame:
    """Decide every row of `frame` (one column per input) with one table.

    Returns one column per output, `_matched` (the rule id, or the ids joined
    by ',' under multi-hit policies) and `_status`: decided, exception (no rule
    and no default) or error (an invalid value, or a broken hit policy).
    """
    ct = table if isinstance(table, CompiledTable) else compile_table(table)
    t = ct.table
    missing = [i.name for i in t.inputs if i.name not in frame.columns]
    if missing:
        raise CriteriaError(f"frame has no column for input(s): {', '.join(missing)}")
    n_rows = frame.height
    n_rules = len(t.rules)
    nwords = max(1, (n_rules + 63) // 64)
    m: Words = np.broadcast_to(
        np.array(_to_words(ct.all_rules, nwords), dtype=np.uint64), (n_rows, nwords)
    ).copy()
    invalid = np.zeros(n_rows, dtype=bool)
    for col in ct.columns:
        clause = t.inputs[col.position]
        series = frame.get_column(clause.name)
        words = None
        if isinstance(col, _OrderedColumn) and clause.allowed is None:
            words = _ordered_numeric(col, series, clause.type, nwords)
        if words is None:
            words, bad = _by_distinct(ct, col.position, series, nwords)
            invalid |= bad
        m &= words
    if t.hit_policy in (HitPolicy.FIRST, HitPolicy.UNIQUE):
        idx, status = _first_or_unique(m, t.hit_policy)
    else:
        return _general(ct, frame, m, invalid)
    status[invalid] = 2
    return _assemble(ct, idx, status)


def _first_or_unique(m: Words, policy: HitPolicy) -> tuple[npt.NDArray[np.int64],
                                                           npt.NDArray[np.int8]]:
    n_rows, nwords = m.shape
    idx = np.full(n_rows, -1, dtype=np.int64)
    for w in range(nwords - 1, -1, -1):  # lowest word last, so it wins
        word = m[:, w]
        nz = word != 0
        low = word & (~word + np.uint64(1))
        tz = np.bitwise_count(low - np.uint64(1)).astype(np.int64)
        idx[nz] = 64 * w + tz[nz]
    status = np.where(idx >= 0, 0, 1).astype(np.int8)
    if policy is HitPolicy.UNIQUE:
        counts = np.bitwise_count(m).sum(axis=1)
        status[counts > 1] = 2
        idx[counts > 1] = -1
    return idx, status


_STATUS_TEXT = ["decided", "exception", "error"]


def _assemble(ct: CompiledTable, idx: npt.NDArray[np.int64],
              status: npt.NDArray[np.int8]) -> pl.DataFrame:
    t = ct.table
    no_rule = idx < 0
    gather = pl.Series(np.where(no_rule, len(t.rules), idx))
    columns: dict[str, pl.Series] = {}
    for k, clause in enumerate(t.outputs):
        default = clause.default if clause.has_default else None
        values = [row[k] for row in ct.outputs] + [default]
        columns[clause.name] = pl.Series(clause.name, _polars_values(values),
                                         strict=False).gather(gather)
    ids = pl.Series(MATCHED, [r.id for r in t.rules] + [None], dtype=pl.String).gather(gather)
    columns[MATCHED] = ids
    defaults_cover = all(o.has_default for o in t.outputs)
    if defaults_cover:
        status = np.where((status == 1), 0, status).astype(np.int8)
    errors = status == 2
    frame = pl.DataFrame(columns)
    if errors.any():
        mask = pl.Series(errors)
        frame = frame.with_columns(
            [pl.when(mask).then(None).otherwise(pl.col(c)).alias(c) for c in frame.columns]
        )
    status_text = pl.Series(STATUS, np.array(_STATUS_TEXT, dtype=object)[status].tolist(),
                            dtype=pl.String)
    return frame.with_columns(status_text)


def _polars_values(values: list[Any]) -> list[Any]:
    if any(isinstance(v, Decimal) for v in values):
        return [float(v) if isinstance(v, Decimal) else v for v in values]
    return values


def _general(ct: CompiledTable, frame: pl.DataFrame, m: Words,
             invalid: npt.NDArray[np.bool_]) -> pl.DataFrame:
    """Other hit policies: resolve each distinct bitset once through the scalar path."""
    t = ct.table
    distinct, inverse = np.unique(m, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    per_distinct: list[tuple[str, dict[str, Any], str | None]] = []
    for row in distinct:
        bits = 0
        for w, word in enumerate(row.tolist()):
            bits |= int(word) << (64 * w)
        if not bits:
            if all(o.has_default for o in t.outputs):
                outs: dict[str, Any] = {o.name: o.default for o in t.outputs}
                if not t.hit_policy.single_hit and t.aggregation is None:
                    outs = {k: [v] for k, v in outs.items()}
                per_distinct.append(("decided", outs, None))
            else:
                per_distinct.append(("exception", {}, None))
            continue
        try:
            hits, outs = apply(ct, bits)
        except CriteriaError:
            per_distinct.append(("error", {}, None))
            continue
        per_distinct.append(("decided", outs, ",".join(t.rules[i].id for i in hits)))
    data: dict[str, list[Any]] = {o.name: [] for o in t.outputs}
    data[MATCHED] = []
    data[STATUS] = []
    for st, outs, matched in [*per_distinct, ("error", {}, None)]:
        for o in t.outputs:
            v = outs.get(o.name)
            data[o.name].append(_polars_values(v) if isinstance(v, list) else
                                (float(v) if isinstance(v, Decimal) else v))
        data[MATCHED].append(matched)
        data[STATUS].append(st)
    codes = np.where(invalid, len(per_distinct), inverse)
    return pl.DataFrame(data, strict=False)[codes]
