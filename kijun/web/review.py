"""What the criterion page shows about a version's quality: findings, and a draft's effect.

Kept apart from the routes: verification and comparison are computed here
from the criteria engine, and the templates only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kijun.criteria.diff import DecisionDiff, diff_decisions
from kijun.criteria.impact import ImpactReport, cases_from_tests, replay
from kijun.criteria.model import Criterion, Version, VersionStatus
from kijun.criteria.verify import Finding, Report, verify_version

SEVERITY_JA = {"error": "要修正", "warning": "要確認", "info": "参考"}


@dataclass(slots=True)
class TableFindings:
    """The findings of one decision table, and which rules they concern."""

    findings: list[Finding] = field(default_factory=list)
    #: 1-based rule number → the findings naming it
    by_rule: dict[int, list[Finding]] = field(default_factory=dict)


@dataclass(slots=True)
class Review:
    report: Report
    tables: dict[str, TableFindings]

    @property
    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for f in self.report.findings:
            out[f.severity.value] += 1
        return out


def review(version: Version) -> Review:
    report = verify_version(version)
    tables: dict[str, TableFindings] = {d.name: TableFindings() for d in version.decisions}
    for f in report.findings:
        t = tables.setdefault(f.decision, TableFindings())
        t.findings.append(f)
        for n in f.rules:
            t.by_rule.setdefault(n, []).append(f)
    return Review(report, tables)


@dataclass(slots=True)
class DraftComparison:
    """A draft against the published version it would follow."""

    published: Version
    decisions: list[DecisionDiff]
    impact: ImpactReport


def compare_draft(c: Criterion, draft: Version) -> DraftComparison | None:
    """The draft's rule and outcome changes and its effect on the test cases (None if no base)."""
    if draft.status is not VersionStatus.DRAFT:
        return None
    live = [v for v in c.versions if v.status is VersionStatus.PUBLISHED
            and v.effective_from <= draft.effective_from]
    if not live:
        live = [v for v in c.versions if v.status is VersionStatus.PUBLISHED]
    if not live:
        return None
    base = max(live, key=lambda v: v.effective_from)
    impact = replay(c, base.number, draft.number, cases_from_tests(c),
                    source=f"{len(c.tests)} test cases", with_facts=False)
    return DraftComparison(base, diff_decisions(base, draft), impact)
