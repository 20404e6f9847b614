"""Errors raised by the criteria engine.

Every error names what the user has to fix (a file and line, a field, an
input) and never echoes a fact's value: facts may be personal data.
"""

from __future__ import annotations


class CriteriaError(Exception):
    """Base class of every error the engine raises."""


class ModelError(CriteriaError):
    """A criterion, version or table is structurally invalid."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class LoadError(CriteriaError):
    """A file could not be read as a criterion; names the file, line and field."""

    def __init__(
        self, message: str, *, file: str, line: int | None = None, field: str | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = message
        where = file if line is None else f"{file}:{line}"
        if field:
            where = f"{where}: {field}"
        super().__init__(f"{where}: {message}")


class FeelSyntaxError(CriteriaError):
    """FEEL text that does not parse; `line` and `column` are 1-based."""

    def __init__(
        self,
        message: str,
        *,
        text: str,
        line: int,
        column: int,
        expected: tuple[str, ...] = (),
    ) -> None:
        self.text = text
        self.line = line
        self.column = column
        self.expected = expected
        self.reason = message
        detail = message
        if expected:
            detail += f" (expected {' or '.join(expected)})"
        super().__init__(f"line {line}, column {column}: {detail}")


class FeelTypeError(CriteriaError):
    """A FEEL test or value has the wrong type for its input or output."""


class FactError(CriteriaError):
    """A fact is missing or has the wrong type. The value itself is never shown."""

    def __init__(self, input_name: str, reason: str, *, expected: str | None = None) -> None:
        self.input = input_name
        self.expected = expected
        self.reason = reason
        msg = f"input {input_name!r}: {reason}"
        if expected:
            msg += f" (expected {expected})"
        super().__init__(msg)


class HitPolicyError(CriteriaError):
    """The matched rules break the table's hit policy (e.g. two matches under UNIQUE)."""

    def __init__(self, decision: str, hit_policy: str, rules: list[str], reason: str) -> None:
        self.decision = decision
        self.hit_policy = hit_policy
        self.rules = rules
        super().__init__(
            f"decision {decision!r} ({hit_policy}): {reason}; matched rules {', '.join(rules)}"
        )


class NoVersionError(CriteriaError):
    """No published version of the criterion is in force on the date asked."""

    def __init__(self, criterion_id: str, on: object) -> None:
        self.criterion_id = criterion_id
        self.on = on
        super().__init__(f"criterion {criterion_id!r} has no version in force on {on}")
