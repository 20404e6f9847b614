"""FEEL built-in functions (DMN 1.5 §10.3.4): the registry the compiler binds calls against.

The functions live in `builtins/` by family; each lists its parameter names
per overload so that positional and named calls bind the same way, and a
variadic one (`min(c1, …, cN)`) repeats its last parameter. An
implementation raises `InvalidArgument` for arguments FEEL maps to null: at
run time the call gives null, while a constant call (`date("2024-13-01")`)
is refused when a unary test is compiled, since it can only be a typo.
"""

from __future__ import annotations

from kijun.criteria.feel.builtins import contexts, conversion, lists, numbers, ranges, strings
from kijun.criteria.feel.builtins._base import Builtin, InvalidArgument
from kijun.criteria.feel.builtins.conversion import parse_date

BUILTINS: dict[str, Builtin] = {
    b.name: b
    for module in (conversion, strings, lists, numbers, ranges, contexts)
    for b in module.FUNCTIONS
}

__all__ = ["BUILTINS", "Builtin", "InvalidArgument", "parse_date"]
