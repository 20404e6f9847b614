"""What the verifier reports: findings, their kinds and severities, and the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Kind(StrEnum):
    """What is wrong (or worth knowing) about a table."""

    TYPE_ERROR = "type_error"  #: a cell or output that does not compile for its type
    UNSATISFIABLE = "unsatisfiable_rule"  #: a cell no value satisfies: the rule never applies
    OUTSIDE_ALLOWED = "outside_allowed"  #: a cell or output value outside the allowed values
    GAP = "gap"  #: inputs no rule covers
    CONFLICT = "conflict"  #: overlapping rules the hit policy forbids
    MASKED = "masked_rule"  #: FIRST / PRIORITY: a rule that can never decide
    REDUNDANT = "redundant_overlap"  #: overlapping rules with the same outputs
    SUBSUMPTION = "subsumption"  #: one rule's conditions lie inside another's
    MISSING_BASIS = "missing_basis"  #: a rule without 根拠
    UNUSED_INPUT = "unused_input"  #: an input that is `-` in every rule
    NOT_ANALYSED = "not_analysed"  #: a rule left out of the gap/overlap analysis

    @property
    def rank(self) -> int:
        return _KIND_ORDER.index(self)


_KIND_ORDER = list(Kind)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the verifier found in one decision table.

    `rules` are 1-based rule numbers (positions in the table), the rule the
    finding is about first: a pair in table order for conflicts and
    overlaps; [contained, containing] for a subsumption; [masked, *masking
    rules] for a masked rule; for a gap, the rules that were not analysed and
    may cover it (usually none). `region` gives, per input name, the values
    concerned as FEEL unary tests (`"100000"`, `"[100000..200000)"`,
    `"\\"単身\\", \\"夫婦\\""`, `not("単身")`); an input left out is not
    restricted. For findings about one cell, `region` holds that cell's text;
    for an output value, the output's name and value.
    """

    kind: Kind
    severity: Severity
    decision: str
    rules: tuple[int, ...]
    region: Mapping[str, str]
    message_ja: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "decision": self.decision,
            "rules": list(self.rules),
            "region": dict(self.region),
            "message_ja": self.message_ja,
            "message_en": self.message_en,
        }

    def sort_key(self) -> tuple[int, int, tuple[int, ...], str]:
        return (self.severity.rank, self.kind.rank, self.rules, repr(sorted(self.region.items())))


class NotAnalysedCell(NamedTuple):
    """A cell holding a general FEEL expression, whose exact region is unknown."""

    decision: str
    rule: int  #: 1-based rule number
    input: str


@dataclass(frozen=True, slots=True)
class TableResult:
    """Everything the verifier learns about one table."""

    decision: str
    findings: tuple[Finding, ...]
    rules: int
    analysed_rules: int
    not_analysed: tuple[NotAnalysedCell, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """The findings for every table of a version.

    `analysed_rules` counts the rules whose every cell has an exact region
    (they take part in the gap and overlap analysis); `not_analysed` lists
    the cells that kept the others out.
    """

    findings: tuple[Finding, ...]
    analysed_rules: int
    not_analysed: tuple[NotAnalysedCell, ...]
    rules: int = 0
    tables: tuple[TableResult, ...] = field(default=(), repr=False)

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def by_kind(self, kind: Kind | str) -> list[Finding]:
        k = Kind(kind)
        return [f for f in self.findings if f.kind is k]

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "analysed_rules": self.analysed_rules,
            "not_analysed": [c._asdict() for c in self.not_analysed],
        }
