"""Turning facts as people type them into typed values.

Each input clause gets one coercer, built once: NFKC for text (full-width
digits and letters), Japanese era dates for dates, and a check against the
allowed values. Errors name the input and the expected type, never the value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from kijun.criteria.errors import FactError
from kijun.criteria.model import InputClause, OutputClause, ValueType
from kijun.criteria.normalise import nfkc, parse_boolean, parse_date, parse_number

Coercer = Callable[[Any], Any]

_EXPECTED = {
    ValueType.NUMBER: "a number",
    ValueType.STRING: "text",
    ValueType.BOOLEAN: "true or false",
    ValueType.DATE: "a date such as 2024-10-01 or 令和6年10月1日",
}


def _number(name: str) -> Coercer:
    def coerce(value: Any) -> Any:
        if value.__class__ is int:  # the common case first; bool is not int here
            return value
        if value is None:
            return None
        if isinstance(value, bool):
            raise FactError(name, "got true/false", expected=_EXPECTED[ValueType.NUMBER])
        if isinstance(value, int | Decimal):
            return value
        if isinstance(value, float):
            try:
                return Decimal(repr(value))
            except InvalidOperation:
                raise FactError(name, "not a finite number", expected="a number") from None
        if isinstance(value, str):
            try:
                return parse_number(value)
            except ValueError:
                raise FactError(name, "text is not a number", expected="a number") from None
        raise FactError(name, f"got {_kind(value)}", expected=_EXPECTED[ValueType.NUMBER])

    return coerce


def _string(name: str) -> Coercer:
    def coerce(value: Any) -> Any:
        if value.__class__ is str:
            return value.strip() if value.isascii() else nfkc(value)
        if value is None:
            return None
        if isinstance(value, str):
            return nfkc(value)
        raise FactError(name, f"got {_kind(value)}", expected=_EXPECTED[ValueType.STRING])

    return coerce


def _boolean(name: str) -> Coercer:
    def coerce(value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return parse_boolean(value)
            except ValueError:
                raise FactError(
                    name, "text is not true/false", expected=_EXPECTED[ValueType.BOOLEAN]
                ) from None
        raise FactError(name, f"got {_kind(value)}", expected=_EXPECTED[ValueType.BOOLEAN])

    return coerce


def _date(name: str) -> Coercer:
    def coerce(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return parse_date(value)
            except ValueError:
                raise FactError(
                    name, "text is not a date", expected=_EXPECTED[ValueType.DATE]
                ) from None
        raise FactError(name, f"got {_kind(value)}", expected=_EXPECTED[ValueType.DATE])

    return coerce


_BUILDERS: dict[ValueType, Callable[[str], Coercer]] = {
    ValueType.NUMBER: _number,
    ValueType.STRING: _string,
    ValueType.BOOLEAN: _boolean,
    ValueType.DATE: _date,
}


def _kind(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a value of type {type(value).__name__}"


def coercer(clause: InputClause | OutputClause) -> Coercer:
    """A function that types one value for this clause, or raises FactError."""
    base = _BUILDERS[clause.type](clause.name)
    if clause.allowed is None:
        return base
    allowed = frozenset(clause.allowed)
    shown = ", ".join(str(v) for v in clause.allowed)
    name = clause.name

    def coerce(value: Any) -> Any:
        typed = base(value)
        if typed in allowed or typed is None:
            return typed
        raise FactError(name, "value is not one of the allowed values", expected=shown)

    return coerce


def expected_type(type_: ValueType) -> str:
    return _EXPECTED[type_]
