"""The impact of a new version: replay cases under two versions and count what changes.

Before a version takes effect its author and approver want to know whom it
affects: how many cases would get a different outcome, which way (支給 →
不支給, 30000 → 15000, decided → exception), which rules are behind the
change, and a few examples to look at. The cases come from wherever the
caller has them — test cases, stored decisions, a CSV of facts — and are
decided under both versions on the same day, so only the content differs.

Facts may be personal data: examples carry the case's label (a row number,
a test name, a decision id) and its facts only as the caller passed them in;
errors are shown by their message, which never quotes a fact's value.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kijun.criteria.decide import decide_version
from kijun.criteria.errors import CriteriaError
from kijun.criteria.model import Criterion, Version
from kijun.criteria.serial import plain_json_value

#: examples kept per (before → after) group
EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class ReplayCase:
    """One case to replay: a label for people, its facts, and optionally the day and decision."""

    label: str
    facts: Mapping[str, Any]
    on: dt.date | None = None
    decision: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one version made of a case: `{"status", **outputs}` and the rules that matched."""

    value: dict[str, Any]
    rules: tuple[str, ...]

    @property
    def key(self) -> str:
        return json.dumps(self.value, ensure_ascii=False, sort_keys=True)


@dataclass(slots=True)
class ImpactGroup:
    """All cases whose outcome went from `before` to `after`."""

    before: dict[str, Any]
    after: dict[str, Any]
    count: int = 0
    rules_before: dict[str, int] = field(default_factory=dict)
    rules_after: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, case: ReplayCase, old: Outcome, new: Outcome, *, with_facts: bool) -> None:
        self.count += 1
        for rules, seen in ((old.rules, self.rules_before), (new.rules, self.rules_after)):
            for r in rules:
                seen[r] = seen.get(r, 0) + 1
        if len(self.examples) < EXAMPLES:
            example: dict[str, Any] = {
                "case": case.label,
                "rules_before": list(old.rules),
                "rules_after": list(new.rules),
            }
            if with_facts:
                example["facts"] = plain_json_value(dict(case.facts))
            self.examples.append(example)

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "count": self.count,
            "rules_before": self.rules_before,
            "rules_after": self.rules_after,
            "examples": self.examples,
        }


@dataclass(slots=True)
class ImpactReport:
    criterion: str
    from_version: int
    to_version: int
    source: str
    total: int = 0
    changed: int = 0
    #: changed groups, largest first
    groups: list[ImpactGroup] = field(default_factory=list)
    #: outcomes that stayed the same, by outcome, for context
    unchanged: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "from": self.from_version,
            "to": self.to_version,
            "source": self.source,
            "total": self.total,
            "changed": self.changed,
            "unchanged": self.total - self.changed,
            "groups": [g.to_dict() for g in self.groups],
            "unchanged_by_outcome": self.unchanged,
        }


def outcome(
    version: Version, case: ReplayCase, on: dt.date, criterion_id: str
) -> Outcome:
    """A case's outcome under one version; an error is an outcome too (`status: error`)."""
    try:
        result = decide_version(
            version, case.facts, on, decision=case.decision, criterion_id=criterion_id
        )
    except CriteriaError as e:
        return Outcome({"status": "error", "error": str(e)}, ())
    value = {"status": result.status.value, **plain_json_value(result.outputs)}
    return Outcome(value, tuple(m.rule for m in result.matched))


def replay(
    criterion: Criterion,
    from_version: int,
    to_version: int,
    cases: Iterable[ReplayCase],
    *,
    source: str,
    on: dt.date | None = None,
    with_facts: bool = True,
) -> ImpactReport:
    """Decide every case under both versions and group the changes.

    A case is decided on its own day, else on `on`, else on the new version's
    施行日 — under both versions alike, so that only their content differs.
    KeyError when a version number does not exist.
    """
    old = criterion.version(from_version)
    new = criterion.version(to_version)
    report = ImpactReport(criterion.id, from_version, to_version, source)
    groups: dict[tuple[str, str], ImpactGroup] = {}
    for case in cases:
        day = case.on or on or new.effective_from
        before = outcome(old, case, day, criterion.id)
        after = outcome(new, case, day, criterion.id)
        report.total += 1
        if before.key == after.key:
            report.unchanged[before.key] = report.unchanged.get(before.key, 0) + 1
            continue
        report.changed += 1
        group = groups.get((before.key, after.key))
        if group is None:
            group = groups[(before.key, after.key)] = ImpactGroup(before.value, after.value)
        group.add(case, before, after, with_facts=with_facts)
    report.groups = sorted(groups.values(), key=lambda g: -g.count)
    return report


def cases_from_tests(criterion: Criterion) -> list[ReplayCase]:
    """The criterion's own test cases as replay cases."""
    return [ReplayCase(t.name, t.input, t.on, t.decision) for t in criterion.tests]


def cases_from_csv(path: str | Path) -> list[ReplayCase]:
    """Rows of facts: a header of input names, one case per row, labelled `row N`.

    Cells stay text, as a clerk typed them (`100,000円`, `令和6年4月1日`, `はい`):
    the inputs' types read them when the case is decided. An empty cell is a
    missing fact. Raises ValueError naming the file and row.
    """
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError:
        raise ValueError(f"{p}: not UTF-8 text (save the CSV as UTF-8)") from None
    except OSError as e:
        raise ValueError(f"{p}: {e.strerror or e}") from None
    if not rows or not any(h.strip() for h in rows[0]):
        raise ValueError(f"{p}: no header row of input names")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        raise ValueError(f"{p}: row 1: repeated column names")
    cases = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise ValueError(f"{p}: row {n}: {len(row)} cells for {len(header)} columns")
        facts = {h: cell for h, cell in zip(header, row, strict=False) if h and cell.strip()}
        cases.append(ReplayCase(f"row {n}", facts))
    return cases
