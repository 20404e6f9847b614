"""String functions (DMN 1.5 §10.3.4.3), with XML Schema regular expressions.

Positions count Unicode code points from 1 (Python strings are code points,
so no surrogate arithmetic is needed); a negative position counts from the end.
"""

from __future__ import annotations

import re
from typing import Any

from kijun.criteria.feel import values as v
from kijun.criteria.feel.builtins._base import (
    Builtin,
    InvalidArgument,
    as_list,
    integer,
    number,
    string,
)


def substring(text: Any, start: Any, length: Any = None) -> str:
    s = string(text, "string")
    pos = number(start, "start position")
    n = len(s)
    first = int(pos) - 1 if pos > 0 else n + int(pos)
    if pos == 0 or first < 0:
        raise InvalidArgument(f"start position {pos} is outside the string")
    if length is None:
        return s[first:]
    count = number(length, "length")
    if count < 0:
        raise InvalidArgument("length must not be negative")
    return s[first : first + int(count)]


def string_length(text: Any) -> int:
    return len(string(text, "string"))


def upper_case(text: Any) -> str:
    return string(text, "string").upper()


def lower_case(text: Any) -> str:
    return string(text, "string").lower()


def substring_before(text: Any, match: Any) -> str:
    s, m = string(text, "string"), string(match, "match")
    i = s.find(m)
    return "" if i < 0 else s[:i]


def substring_after(text: Any, match: Any) -> str:
    s, m = string(text, "string"), string(match, "match")
    i = s.find(m)
    return "" if i < 0 else s[i + len(m) :]


def contains(text: Any, match: Any) -> bool:
    return string(match, "match") in string(text, "string")


def starts_with(text: Any, match: Any) -> bool:
    return string(text, "string").startswith(string(match, "match"))


def ends_with(text: Any, match: Any) -> bool:
    return string(text, "string").endswith(string(match, "match"))


# --- XML Schema / XPath regular expressions → Python `re` ---------------------

#: XML name characters, approximately (the full XML 1.0 tables are not needed in practice)
_NAME_START = r"A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF"
_NAME_CHAR = _NAME_START + r"\-.0-9\u00B7\u0300-\u036F\u203F-\u2040"
_ESCAPES_IN_CLASS = {"i": _NAME_START, "c": _NAME_CHAR}
_ESCAPES = {
    "i": f"[{_NAME_START}]",
    "I": f"[^{_NAME_START}]",
    "c": f"[{_NAME_CHAR}]",
    "C": f"[^{_NAME_CHAR}]",
}
#: the Unicode categories Python's `re` can express
_CATEGORIES = {
    "IsBasicLatin": "\x00-\x7f",
    "IsLatin-1Supplement": "\x80-\xff",
    "L": r"^\W\d_",
    "Lu": "A-Z\u00c0-\u00de",
    "Ll": "a-z\u00df-\u00ff",
    "N": r"\d",
    "Nd": r"\d",
}


def _category(p: str, i: int, blanks: bool = False) -> tuple[str, int]:
    """`\\p{…}` at `p[i]` (the backslash): the class body of the category and the index after."""
    end = p.index("}", i)
    name = p[i + 3 : end]
    if blanks:
        name = "".join(name.split())  # `x` mode strips blanks inside too
    cat = _CATEGORIES.get(name)
    if cat is None:
        raise InvalidArgument(f"\\p{{{name}}} is not supported")
    return cat, end + 1


def _class_body(p: str, i: int) -> tuple[str, int]:
    """Translate a character class starting after `[`; returns (python class, index after `]`)."""
    out = []
    negate = False
    if i < len(p) and p[i] == "^":
        negate = True
        i += 1
    subtract: str | None = None
    while i < len(p) and p[i] != "]":
        c = p[i]
        if c == "-" and i + 1 < len(p) and p[i + 1] == "[":
            sub, i = _class_body(p, i + 2)
            subtract = sub
            continue
        if c == "\\" and i + 1 < len(p):
            e = p[i + 1]
            if e in _ESCAPES_IN_CLASS:
                out.append(_ESCAPES_IN_CLASS[e])
            elif e.isdigit():
                raise InvalidArgument("a back-reference inside a character class")
            elif e in "pP" and i + 2 < len(p) and p[i + 2] == "{":
                if e == "P":
                    raise InvalidArgument("\\P{…} inside a character class is not supported")
                cat, i = _category(p, i)
                out.append(cat)
                continue
            else:
                out.append(p[i : i + 2])
            i += 2
            continue
        if c == "[":
            out.append("\\[")
        else:
            out.append(c)
        i += 1
    if i >= len(p):
        raise InvalidArgument("unterminated character class")
    body = ("^" if negate else "") + "".join(out)
    cls = f"[{body}]"
    if subtract is not None:
        # XML Schema class subtraction [a-z-[aeiou]]: a lookahead excludes the subtrahend.
        cls = f"(?:(?!{subtract}){cls})"
    return cls, i + 1


def translate_regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    """An XML Schema regular expression with XPath flags (s, m, i, x, q) as a Python pattern."""
    bad = set(flags) - set("smixq")
    if bad:
        raise InvalidArgument(f"unknown regular expression flags {''.join(sorted(bad))!r}")
    py_flags = 0
    if "s" in flags:
        py_flags |= re.DOTALL
    if "m" in flags:
        py_flags |= re.MULTILINE
    if "i" in flags:
        py_flags |= re.IGNORECASE
    if "q" in flags:
        return re.compile(re.escape(pattern), py_flags)
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if "x" in flags and c in " \t\n\r":
            i += 1  # `x`: blanks outside character classes are ignored (XPath 3.0)
            continue
        if c == "\\" and "x" in flags:
            # `x` strips blanks everywhere outside classes, even after a backslash.
            rest = re.sub(r"^[ \t\n\r]+", "", pattern[i + 1 :])
            pattern = pattern[: i + 1] + rest
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                i += 2
                continue
            if e in "pP" and i + 2 < len(pattern) and pattern[i + 2] == "{":
                cat, i = _category(pattern, i, "x" in flags)
                out.append(f"[{'^' if e == 'P' else ''}{cat}]")
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[":
            cls, i = _class_body(pattern, i + 1)
            out.append(cls)
            continue
        if c == "$" and "m" not in flags:
            out.append(r"\Z")  # XPath `$` is the very end, not before a final newline
        elif c == "." and "s" not in flags:
            out.append(r"[^\n\r]")  # XPath `.` excludes carriage returns too
        else:
            out.append(c)
        i += 1
    try:
        return re.compile("".join(out), py_flags)
    except (re.error, ValueError) as e:
        raise InvalidArgument(f"invalid regular expression {pattern!r}: {e}") from None


def _flags(flags: Any) -> str:
    return "" if flags is None else string(flags, "flags")


def matches(text: Any, pattern: Any, flags: Any = None) -> bool:
    s = string(text, "input")
    rx = translate_regex(string(pattern, "pattern"), _flags(flags))
    return rx.search(s) is not None


def _replacement(rep: str) -> str:
    """XPath `$1` and `\\$` in a replacement string, as Python's `\\g<1>` and `$`."""
    out = []
    i = 0
    while i < len(rep):
        c = rep[i]
        if c == "\\":
            if i + 1 < len(rep) and rep[i + 1] in "\\$":
                out.append("\\\\" if rep[i + 1] == "\\" else "$")
                i += 2
                continue
            raise InvalidArgument("a lone backslash in the replacement")
        if c == "$":
            j = i + 1
            while j < len(rep) and rep[j].isdigit():
                j += 1
            if j == i + 1:
                raise InvalidArgument("a lone $ in the replacement")
            out.append(f"\\g<{rep[i + 1 : j]}>")
            i = j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def replace(text: Any, pattern: Any, replacement: Any, flags: Any = None) -> str:
    s = string(text, "input")
    f = _flags(flags)
    rx = translate_regex(string(pattern, "pattern"), f)
    rep = string(replacement, "replacement")
    if rx.match("") is not None and rx.fullmatch("") is not None:
        raise InvalidArgument("the pattern matches the empty string")  # XPath FORX0003
    repl = rep.replace("\\", "\\\\") if "q" in f else _replacement(rep)
    try:
        # Groups beyond the pattern's count are empty in XPath; Python raises.
        groups = rx.groups
        repl = re.sub(
            r"\\g<(\d+)>",
            lambda m: m.group(0) if int(m.group(1)) <= groups else "",
            repl,
        )
        return rx.sub(lambda m: m.expand(repl) if "\\" in repl else repl, s)
    except (re.error, IndexError) as e:
        raise InvalidArgument(str(e)) from None


def split(text: Any, delimiter: Any) -> list[str]:
    s = string(text, "string")
    rx = translate_regex(string(delimiter, "delimiter"))
    if rx.fullmatch("") is not None:
        raise InvalidArgument("the delimiter matches the empty string")
    return rx.split(s) if rx.groups == 0 else re.compile(f"(?:{rx.pattern})").split(s)


def string_join(items: Any, delimiter: Any = None) -> str:
    items = as_list(items, "list")  # a single string is the list of it (TCK 1140)
    sep = "" if delimiter is None else string(delimiter, "delimiter")
    parts = []
    for x in items:
        if x is None:
            continue  # nulls are skipped (DMN 1.5)
        parts.append(string(x, "an item"))
    return sep.join(parts)


FUNCTIONS = (
    Builtin(
        "substring",
        (("string", "start position"), ("string", "start position", "length")),
        substring,
        v.STRING,
    ),
    Builtin("string length", (("string",),), string_length, v.NUMBER),
    Builtin("upper case", (("string",),), upper_case, v.STRING),
    Builtin("lower case", (("string",),), lower_case, v.STRING),
    Builtin("substring before", (("string", "match"),), substring_before, v.STRING),
    Builtin("substring after", (("string", "match"),), substring_after, v.STRING),
    Builtin("contains", (("string", "match"),), contains, v.BOOLEAN),
    Builtin("starts with", (("string", "match"),), starts_with, v.BOOLEAN),
    Builtin("ends with", (("string", "match"),), ends_with, v.BOOLEAN),
    Builtin("matches", (("input", "pattern"), ("input", "pattern", "flags")), matches, v.BOOLEAN),
    Builtin(
        "replace",
        (("input", "pattern", "replacement"), ("input", "pattern", "replacement", "flags")),
        replace,
        v.STRING,
    ),
    Builtin("split", (("string", "delimiter"),), split, v.LIST),
    Builtin("string join", (("list",), ("list", "delimiter")), string_join, v.STRING),
)

__all__ = ["FUNCTIONS", "integer", "translate_regex"]
