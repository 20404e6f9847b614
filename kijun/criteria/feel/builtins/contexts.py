"""Context functions (DMN 1.5 §10.3.4.8), date functions (§10.3.4.10/11), `not` and `is`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kijun.criteria.feel import temporal as t
from kijun.criteria.feel import values as v
from kijun.criteria.feel.builtins._base import Builtin, InvalidArgument, as_list


def _context(x: Any, what: str = "context") -> dict[str, Any]:
    if v.type_of(x) != v.CONTEXT_TYPE:
        raise InvalidArgument(f"{what} must be a context, not {v.type_of(x)}")
    return dict(x)


def _key(x: Any) -> str:
    if v.type_of(x) != v.STRING:
        raise InvalidArgument("a context key must be a string")
    return str(x)


def get_value(m: Any, key: Any) -> Any:
    return _context(m, "m").get(_key(key))


def get_entries(m: Any) -> list[dict[str, Any]]:
    return [{"key": k, "value": x} for k, x in _context(m, "m").items()]


def context(entries: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in as_list(entries, "entries"):  # one entry alone is the list of it (TCK 1145)
        entry = _context(e, "an entry")
        if "key" not in entry or "value" not in entry:
            raise InvalidArgument("an entry needs a key and a value")
        k = _key(entry["key"])
        if k in out:
            raise InvalidArgument(f"duplicate key {k!r}")
        out[k] = entry["value"]
    return out


def context_put(ctx: Any, key: Any, value: Any) -> dict[str, Any]:
    """`context put(context, key, value)`, or with `keys` a path of nested contexts."""
    out = _context(ctx)
    if v.type_of(key) == v.LIST:
        path = [_key(k) for k in key]
        if not path:
            raise InvalidArgument("an empty key path")
        if len(path) == 1:
            out[path[0]] = value
            return out
        inner = out.get(path[0])
        out[path[0]] = context_put(inner, path[1:], value)
        return out
    out[_key(key)] = value
    return out


def context_put_key(ctx: Any, key: Any, value: Any) -> dict[str, Any]:
    """`context put(context:, key:, value:)`: one key, a string."""
    return context_put(ctx, _key(key), value)


def context_put_keys(ctx: Any, keys: Any, value: Any) -> dict[str, Any]:
    """`context put(context:, keys:, value:)`: a path, a list of keys."""
    if v.type_of(keys) != v.LIST:
        raise InvalidArgument("keys must be a list of strings")
    return context_put(ctx, keys, value)


def context_merge(*contexts: Any) -> dict[str, Any]:
    xs = contexts[0] if len(contexts) == 1 and v.type_of(contexts[0]) == v.LIST else contexts
    out: dict[str, Any] = {}
    for c in xs:
        out.update(_context(c))
    return out


# --- dates --------------------------------------------------------------------

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _date(x: Any) -> dt.date:
    """The date of `x` or, for a year Python cannot hold, a date with the same calendar."""
    if v.type_of(x) not in (v.DATE, v.DATE_TIME):
        raise InvalidArgument(f"a date is needed, not {v.type_of(x)}")
    if 1 <= x.year <= 9999:
        return dt.date(x.year, x.month, x.day)
    return t.calendar_proxy(x)


def day_of_year(d: Any) -> int:
    return _date(d).timetuple().tm_yday


def day_of_week(d: Any) -> str:
    return _DAYS[_date(d).weekday()]


def month_of_year(d: Any) -> str:
    return _MONTHS[_date(d).month - 1]


def week_of_year(d: Any) -> int:
    return _date(d).isocalendar()[1]


def last_day_of_month(d: Any) -> int:
    x = _date(d)
    return t.days_in_month(x.year, x.month)


def is_(a: Any, b: Any = None) -> bool:
    """Identity: same type and same value, including how the zone is written."""
    if a is None or b is None:
        return False
    ta = v.type_of(a)
    if ta != v.type_of(b):
        return False
    if ta == v.TIME:
        return bool(a.local == b.local and a.ns == b.ns and a.tz == b.tz)
    if ta == v.DATE_TIME:
        if a.__class__ is t.WideDateTime or b.__class__ is t.WideDateTime:
            return bool(a == b)  # the fields, wall clock and zone; never a Python datetime
        return bool(a.replace(tzinfo=None) == b.replace(tzinfo=None) and a.tzinfo == b.tzinfo)
    return v.equal(a, b) is True


FUNCTIONS = (
    Builtin("get value", (("m", "key"),), get_value),
    Builtin("get entries", (("m",),), get_entries, v.LIST),
    Builtin("context", (("entries",),), context, v.CONTEXT_TYPE),
    Builtin(
        "context put",
        (("context", "key", "value"), ("context", "keys", "value")),
        context_put,
        v.CONTEXT_TYPE,
        overloads=(context_put_key, context_put_keys),
    ),
    Builtin("context merge", (("contexts",),), context_merge, v.CONTEXT_TYPE, variadic=True),
    Builtin("day of year", (("date",),), day_of_year, v.NUMBER),
    Builtin("day of week", (("date",),), day_of_week, v.STRING),
    Builtin("month of year", (("date",),), month_of_year, v.STRING),
    Builtin("week of year", (("date",),), week_of_year, v.NUMBER),
    Builtin("last day of month", (("date",),), last_day_of_month, v.NUMBER),
    # One argument (named either way) is `is(x, null)`: false, as the TCK (0103) has it.
    Builtin("is", (("value1", "value2"), ("value1",), ("value2",)), is_, v.BOOLEAN),
    Builtin("not", (("negand",),), v.negation, v.BOOLEAN),
)
