"""Regions and rules in words: FEEL text for machines, Japanese and English for people.

The verifier's domain has no null, so null is never mentioned: a region is
written as the unary tests that accept exactly its non-null values.

Japanese follows the usual wording of 例規 and 事務: 以上・以下・未満・超,
dates in 和暦 with the 西暦 in brackets (令和6年4月1日（2024-04-01）), values in
「」, booleans as はい/いいえ. An amount (an input whose name ends in 額, like
金額 or 月額) gets the unit 円.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from kijun.criteria.model import InputClause, Rule, ValueType
from kijun.criteria.normalise import format_date_ja
from kijun.criteria.region import Interval, Region, feel_literal


def _sorted(values: Iterable[Any]) -> list[Any]:
    items = list(values)
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


def is_everything(region: Region) -> bool:
    return region.is_everything(null=False)


def has_values(region: Region) -> bool:
    """Whether the region holds a non-null value."""
    if region.kind == "ordered":
        return bool(region.intervals)
    return region.complement or bool(region.values)


# --------------------------------------------------------------------------- FEEL


def feel_text(region: Region) -> str:
    """FEEL unary tests accepting exactly the region's non-null values ("-" for all)."""
    if is_everything(region):
        return "-"
    if region.kind == "ordered":
        return ", ".join(iv.to_feel() for iv in region.intervals)
    literals = [feel_literal(v) for v in _sorted(region.values)]
    if region.complement:
        return f"not({', '.join(literals)})"
    return ", ".join(literals)


# --------------------------------------------------------------------------- values


def _number(v: Any) -> str:
    if isinstance(v, Decimal):
        return format(v, "f")
    return str(v)


def _date_ja(d: dt.date) -> str:
    try:
        return format_date_ja(d)
    except ValueError:  # before 明治
        return d.isoformat()


def _unit(clause: InputClause) -> str:
    return "円" if clause.type is ValueType.NUMBER and clause.name.endswith("額") else ""


def _value_ja(clause: InputClause, v: Any) -> str:
    if clause.type is ValueType.DATE and isinstance(v, dt.date):
        return _date_ja(v)
    if clause.type is ValueType.NUMBER:
        return f"{_number(v)}{_unit(clause)}"
    if v is True:
        return "「はい」"
    if v is False:
        return "「いいえ」"
    return f"「{v}」"


def _value_en(clause: InputClause, v: Any) -> str:
    if isinstance(v, dt.date):
        return v.isoformat()
    if clause.type is ValueType.NUMBER:
        return _number(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return f'"{v}"'


# --------------------------------------------------------------------------- intervals


def _interval_ja(clause: InputClause, iv: Interval) -> str:
    lo, hi = iv.lo, iv.hi
    if clause.type is ValueType.DATE:
        if lo is not None and lo == hi:
            return _date_ja(lo)
        if lo is not None and hi is not None and iv.lo_closed and iv.hi_closed:
            return f"{_date_ja(lo)}から{_date_ja(hi)}まで"
        low = "" if lo is None else f"{_date_ja(lo)}{'以降' if iv.lo_closed else 'より後'}"
        high = "" if hi is None else f"{_date_ja(hi)}{'以前' if iv.hi_closed else 'より前'}"
        return "、".join(p for p in (low, high) if p) or "すべて"
    if lo is not None and lo == hi:
        return f"ちょうど{_value_ja(clause, lo)}"
    low = "" if lo is None else f"{_value_ja(clause, lo)}{'以上' if iv.lo_closed else '超'}"
    high = "" if hi is None else f"{_value_ja(clause, hi)}{'以下' if iv.hi_closed else '未満'}"
    return low + high or "すべて"


def _interval_en(clause: InputClause, iv: Interval) -> str:
    lo, hi = iv.lo, iv.hi
    dates = clause.type is ValueType.DATE
    if lo is not None and lo == hi:
        return f"{'on' if dates else 'exactly'} {_value_en(clause, lo)}"
    if dates:
        low_words = ("on or after", "after")
        high_words = ("on or before", "before")
    else:
        low_words = ("at least", "above")
        high_words = ("at most", "below")
    parts = []
    if lo is not None:
        parts.append(f"{low_words[0 if iv.lo_closed else 1]} {_value_en(clause, lo)}")
    if hi is not None:
        parts.append(f"{high_words[0 if iv.hi_closed else 1]} {_value_en(clause, hi)}")
    return " and ".join(parts) or "anything"


# --------------------------------------------------------------------------- phrases


def phrase_ja(clause: InputClause, region: Region) -> str:
    """「金額が100000円以上200000円未満」: the input and its values."""
    name = clause.name
    if region.kind == "ordered":
        return f"{name}が" + "または".join(_interval_ja(clause, iv) for iv in region.intervals)
    values = [_value_ja(clause, v) for v in _sorted(region.values)]
    if region.complement:
        return f"{name}が{''.join(values)}以外"
    return f"{name}が" + "または".join(values)


def phrase_en(clause: InputClause, region: Region) -> str:
    """'金額 is at least 100000 and below 200000': the input and its values."""
    name = clause.name
    if region.kind == "ordered":
        return f"{name} is " + " or ".join(_interval_en(clause, iv) for iv in region.intervals)
    values = [_value_en(clause, v) for v in _sorted(region.values)]
    if region.complement:
        return f"{name} is anything but {' or '.join(values)}"
    return f"{name} is " + " or ".join(values)


Box = Sequence[tuple[InputClause, Region]]


def box_ja(box: Box) -> str:
    """The conditions of a box, input by input (「すべての場合」 when nothing is restricted)."""
    parts = [phrase_ja(c, r) for c, r in box if not is_everything(r)]
    return "、".join(parts) if parts else "すべての場合"


def box_en(box: Box) -> str:
    """'when 金額 is exactly 100000, 世帯区分 is "単身"' ('in every case' when unrestricted)."""
    parts = [phrase_en(c, r) for c, r in box if not is_everything(r)]
    return "when " + ", ".join(parts) if parts else "in every case"


def box_feel(box: Box) -> dict[str, str]:
    """The Finding.region of a box: restricted inputs only, as FEEL text."""
    return {c.name: feel_text(r) for c, r in box if not is_everything(r)}


# --------------------------------------------------------------------------- rules


def rule_ja(number: int, rule: Rule) -> str:
    """「規則3」, with the rule's id when it is not simply R3."""
    return f"規則{number}" if rule.id == f"R{number}" else f"規則{number}（{rule.id}）"


def rule_en(number: int, rule: Rule) -> str:
    return f"rule {number}" if rule.id == f"R{number}" else f"rule {number} ({rule.id})"


def rules_ja(items: Sequence[tuple[int, Rule]]) -> str:
    return "・".join(rule_ja(n, r) for n, r in items)


def rules_en(items: Sequence[tuple[int, Rule]]) -> str:
    names = [rule_en(n, r) for n, r in items]
    if len(names) == 1:
        return names[0]
    plural = [n.replace("rule ", "", 1) for n in names]
    return "rules " + ", ".join(plural[:-1]) + " and " + plural[-1]

