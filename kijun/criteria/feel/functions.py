"""FEEL built-in functions (DMN 1.5 §10.3.4): a registry the compiler binds calls against.

Only `date` and `not` exist so far; each function lists its parameter names
per overload so that positional and named calls bind the same way. An
implementation raises `InvalidArgument` for arguments FEEL maps to null: at
run time the call gives null, while a constant call (`date("2024-13-01")`)
is refused when the test is compiled, since it can only be a typo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from kijun.criteria.feel import values as v


class InvalidArgument(Exception):
    """Arguments FEEL answers with null; the message says why."""


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    #: parameter names of each overload
    signatures: tuple[tuple[str, ...], ...]
    impl: Callable[..., Any]
    #: FEEL type of the result when it is always the same (values.NUMBER …)
    result_type: str | None = None

    def bind_positional(self, count: int) -> bool:
        return any(len(s) == count for s in self.signatures)

    def bind_named(self, names: tuple[str, ...]) -> tuple[str, ...] | None:
        """The overload whose parameters are exactly `names`, in declaration order."""
        for s in self.signatures:
            if sorted(s) == sorted(names):
                return s
        return None

    def describe_signatures(self) -> str:
        return " or ".join(f"{self.name}({', '.join(s)})" for s in self.signatures)


def parse_date(text: str) -> dt.date:
    """A FEEL date string `yyyy-mm-dd` (years before 1 or after 9999 are not supported)."""
    parts = text.split("-")
    if (
        len(parts) != 3
        or len(parts[0]) < 4
        or len(parts[1]) != 2
        or len(parts[2]) != 2
        or not all(p.isascii() and p.isdigit() for p in parts)
    ):
        raise InvalidArgument(f'"{text}" is not a date of the form "2024-10-01"')
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise InvalidArgument(f'"{text}" is not a valid date') from None


def _date(*args: Any) -> dt.date | None:
    if any(a is None for a in args):
        return None
    if len(args) == 1:
        (x,) = args
        kind = v.type_of(x)
        if kind == v.DATE:
            return cast(dt.date, x)
        if kind == v.STRING:
            return parse_date(x)
        raise InvalidArgument(f'date() of a {kind} (expected a string like "2024-10-01")')
    numbers = []
    for a in args:
        if v.type_of(a) != v.NUMBER or Decimal(a) != Decimal(a).to_integral_value():
            raise InvalidArgument("date(year, month, day) needs whole numbers")
        numbers.append(int(a))
    try:
        return dt.date(*numbers)
    except ValueError:
        raise InvalidArgument(f"date({', '.join(map(str, numbers))}) is not a valid date") from None


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in (
        Builtin("date", (("from",), ("year", "month", "day")), _date, v.DATE),
        Builtin("not", (("negand",),), v.negation, v.BOOLEAN),
    )
}
