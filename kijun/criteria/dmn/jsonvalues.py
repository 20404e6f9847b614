"""JSON in and out of a DMN model: facts typed by the model's input data, results as JSON.

JSON has no dates, durations or decimals, so a fact arrives as a string or a
float: the input data's declared type says which FEEL value it stands for.
Dates also accept the forms a clerk types (和暦, `2024/4/1`), as everywhere
in kijun.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kijun.criteria.dmn import model as m
from kijun.criteria.feel import temporal
from kijun.criteria.feel.values import to_string
from kijun.criteria.normalise import parse_date

_TEMPORAL = frozenset(
    {
        "time",
        "date and time",
        "dateTime",
        "days and time duration",
        "dayTimeDuration",
        "years and months duration",
        "yearMonthDuration",
        "duration",
    }
)


def base_type(definitions: m.Definitions, type_ref: str | None) -> str | None:
    """The FEEL base type an item definition chain ends in (None for structures and Any)."""
    items = {t.name: t for t in definitions.item_definitions}
    seen: set[str] = set()
    while type_ref in items and type_ref not in seen:
        seen.add(type_ref)
        item = items[type_ref]
        if item.is_collection or item.components:
            return None
        type_ref = item.type_ref
    return type_ref


def fact_from_json(value: Any, type_name: str | None, name: str) -> Any:
    """One JSON fact as the FEEL value the input data declares; ValueError names the fact."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, list):
        return [fact_from_json(v, None, name) for v in value]
    if isinstance(value, Mapping):
        return {k: fact_from_json(v, None, f"{name}.{k}") for k, v in value.items()}
    if isinstance(value, str) and type_name == "date":
        try:
            return parse_date(value)
        except ValueError as e:
            wide = temporal.parse_date(value)  # years beyond 1..9999, as FEEL allows
            if wide is None:
                raise ValueError(f"input {name!r}: {e}") from None
            return wide
    if isinstance(value, str) and type_name in _TEMPORAL:
        parsed = temporal.parse_temporal(value)
        if parsed is None:
            raise ValueError(f"input {name!r}: not a {type_name} value")
        return parsed
    return value


def facts_from_json(definitions: m.Definitions, facts: Mapping[str, Any]) -> dict[str, Any]:
    types = {i.name: base_type(definitions, i.type_ref) for i in definitions.inputs}
    return {k: fact_from_json(v, types.get(k), k) for k, v in facts.items()}


def to_json(value: Any) -> Any:
    """A FEEL value as JSON: numbers as numbers, temporal values in their FEEL string form."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    return to_string(value)
