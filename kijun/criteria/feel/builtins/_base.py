"""What every built-in module shares: the `Builtin` record, `InvalidArgument`, argument checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
    #: the last parameter of the longest overload repeats (`min(c1, …, cN)`)
    variadic: bool = False
    #: one implementation per signature, for named calls, when the parameter names
    #: choose the overload (`context put(key: …)` takes a key, never a path)
    overloads: tuple[Callable[..., Any], ...] = ()

    def bind_positional(self, count: int) -> bool:
        if any(len(s) == count for s in self.signatures):
            return True
        return self.variadic and count >= max(len(s) for s in self.signatures)

    def bind_named(self, names: tuple[str, ...]) -> tuple[str, ...] | None:
        """The overload whose parameters are exactly `names`, in declaration order."""
        for s in self.signatures:
            if sorted(s) == sorted(names):
                return s
        return None

    def impl_for(self, params: tuple[str, ...]) -> Callable[..., Any]:
        """The implementation a named call binding `params` (from `bind_named`) runs."""
        if self.overloads:
            return self.overloads[self.signatures.index(params)]
        return self.impl

    def describe_signatures(self) -> str:
        more = ", …" if self.variadic else ""
        return " or ".join(f"{self.name}({', '.join(s)}{more})" for s in self.signatures)

    def __call__(self, *args: Any) -> Any:
        """A built-in passed as a value (`sort(xs, f)` with f a built-in): null on bad input."""
        if not self.bind_positional(len(args)):
            return None
        try:
            return self.impl(*args)
        except InvalidArgument:
            return None

    def call_named(self, named: dict[str, Any]) -> Any:
        params = self.bind_named(tuple(named))
        if params is None:
            return None
        try:
            return self.impl_for(params)(*(named[p] for p in params))
        except InvalidArgument:
            return None


def is_number(x: Any) -> bool:
    return v.type_of(x) == v.NUMBER


def singleton(x: Any) -> Any:
    """A singleton list stands for its item where a list is not expected (DMN 1.5 §10.3.2.9.4)."""
    return x[0] if x.__class__ is list and len(x) == 1 else x


def number(x: Any, what: str = "argument") -> Decimal:
    x = singleton(x)
    if not is_number(x):
        raise InvalidArgument(f"{what} must be a number, not {v.type_of(x)}")
    return Decimal(x)


def integer(x: Any, what: str = "argument") -> int:
    """A whole number; FEEL truncates fractional positions and lengths (Java intValue)."""
    return int(number(x, what))


def string(x: Any, what: str = "argument") -> str:
    x = singleton(x)
    if v.type_of(x) != v.STRING:
        raise InvalidArgument(f"{what} must be a string, not {v.type_of(x)}")
    return str(x)


def boolean(x: Any, what: str = "argument") -> bool:
    x = singleton(x)
    if v.type_of(x) != v.BOOLEAN:
        raise InvalidArgument(f"{what} must be a boolean, not {v.type_of(x)}")
    return bool(x)


def as_list(x: Any, what: str = "list") -> list[Any]:
    """A list argument; FEEL treats a single non-list value as the list of it."""
    if x is None:
        raise InvalidArgument(f"{what} is null")
    if v.type_of(x) == v.LIST:
        return list(x)
    return [x]


def strict_list(x: Any, what: str = "list") -> list[Any]:
    if v.type_of(x) != v.LIST:
        raise InvalidArgument(f"{what} must be a list, not {v.type_of(x)}")
    return list(x)


def items(args: tuple[Any, ...]) -> list[Any]:
    """The items of `f(list)` or `f(c1, …, cN)`."""
    if not args:
        raise InvalidArgument("no arguments")
    if len(args) == 1:
        return as_list(args[0])
    return list(args)


def no_nulls(*args: Any) -> None:
    if any(a is None for a in args):
        raise InvalidArgument("an argument is null")
