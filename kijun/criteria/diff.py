"""What a new version changes: rules added, removed and changed, and where outcomes differ.

Two views of one change, for the author and the approver:

- **Rules.** Decisions and rules are matched by name and id: a rule is
  added, removed, or changed in its conditions, outputs, 根拠 or 注記; a
  reordering matters under FIRST and RULE ORDER and is said so.
- **Outcomes.** The regions of the input space where the two versions decide
  differently, computed exactly, not sampled: each input column is cut into
  the atoms no rule of either version splits (`verify.atoms`), and a descent
  over the columns carries the live rules of both versions as two bitsets,
  branching only where one of them changes (the verifier's sweep, run on two
  tables at once). At each leaf the old and the new hit policy give their
  outcomes; leaves where they differ are merged into few boxes and described
  in words («金額が100000以上の場合: 課長 → 副町長»).

A decision whose cells include general FEEL expressions (no exact region)
gets the rule view only, with the reason; nothing is guessed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kijun.criteria.compile import CompiledTable, compile_table
from kijun.criteria.errors import CriteriaError, HitPolicyError
from kijun.criteria.feel import compile_unary_tests
from kijun.criteria.hitpolicy import apply
from kijun.criteria.model import Criterion, DecisionTable, InputClause, Rule, Version
from kijun.criteria.region import Region
from kijun.criteria.serial import plain_json_value
from kijun.criteria.verify import describe
from kijun.criteria.verify import runs as rs
from kijun.criteria.verify.atoms import Column, make_column
from kijun.criteria.verify.gaps import merge
from kijun.criteria.verify.runs import Runs

#: the descent stops (and says so) beyond this many leaves
MAX_LEAVES = 200_000


@dataclass(slots=True)
class RuleChange:
    id: str
    fields: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "fields": self.fields}


@dataclass(slots=True)
class OutcomeChange:
    """A region where the versions decide differently."""

    region: dict[str, str]
    before: dict[str, Any]
    after: dict[str, Any]
    rules_before: list[str]
    rules_after: list[str]
    message_ja: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "before": self.before,
            "after": self.after,
            "rules_before": self.rules_before,
            "rules_after": self.rules_after,
            "message_ja": self.message_ja,
            "message_en": self.message_en,
        }


@dataclass(slots=True)
class DecisionDiff:
    decision: str
    #: added, removed, changed or unchanged
    status: str
    hit_policy: tuple[str, str] | None = None
    inputs_added: list[str] = field(default_factory=list)
    inputs_removed: list[str] = field(default_factory=list)
    outputs_added: list[str] = field(default_factory=list)
    outputs_removed: list[str] = field(default_factory=list)
    rules_added: list[str] = field(default_factory=list)
    rules_removed: list[str] = field(default_factory=list)
    rules_changed: list[RuleChange] = field(default_factory=list)
    reordered: bool = False
    changes: list[OutcomeChange] = field(default_factory=list)
    #: why the outcome view is missing, if it is
    not_analysed: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "status": self.status,
            "hit_policy": list(self.hit_policy) if self.hit_policy else None,
            "inputs": {"added": self.inputs_added, "removed": self.inputs_removed},
            "outputs": {"added": self.outputs_added, "removed": self.outputs_removed},
            "rules": {
                "added": self.rules_added,
                "removed": self.rules_removed,
                "changed": [c.to_dict() for c in self.rules_changed],
                "reordered": self.reordered,
            },
            "changes": [c.to_dict() for c in self.changes],
            "not_analysed": self.not_analysed,
        }


@dataclass(slots=True)
class VersionDiff:
    criterion: str
    from_version: int
    to_version: int
    decisions: list[DecisionDiff]

    @property
    def changed(self) -> bool:
        return any(d.status != "unchanged" for d in self.decisions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "from": self.from_version,
            "to": self.to_version,
            "decisions": [d.to_dict() for d in self.decisions],
        }


def diff_versions(criterion: Criterion, from_version: int, to_version: int) -> VersionDiff:
    """Compare two versions of a criterion (KeyError for an unknown number)."""
    old, new = criterion.version(from_version), criterion.version(to_version)
    return VersionDiff(criterion.id, from_version, to_version, diff_decisions(old, new))


def diff_decisions(old: Version, new: Version) -> list[DecisionDiff]:
    before = {d.name: d for d in old.decisions}
    after = {d.name: d for d in new.decisions}
    result = [diff_tables(before[n], after[n]) if n in before else DecisionDiff(n, "added")
              for n in after]
    result += [DecisionDiff(n, "removed") for n in before if n not in after]
    return result


def diff_tables(old: DecisionTable, new: DecisionTable) -> DecisionDiff:
    d = DecisionDiff(new.name, "unchanged")
    if old.hit_policy is not new.hit_policy or old.aggregation != new.aggregation:
        d.hit_policy = (_policy(old), _policy(new))
    old_in, new_in = [c.name for c in old.inputs], [c.name for c in new.inputs]
    d.inputs_added = [n for n in new_in if n not in old_in]
    d.inputs_removed = [n for n in old_in if n not in new_in]
    old_out, new_out = [c.name for c in old.outputs], [c.name for c in new.outputs]
    d.outputs_added = [n for n in new_out if n not in old_out]
    d.outputs_removed = [n for n in old_out if n not in new_out]
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    d.rules_added = [r.id for r in new.rules if r.id not in old_rules]
    d.rules_removed = [r.id for r in old.rules if r.id not in new_rules]
    for r in new.rules:
        if r.id in old_rules:
            fields = _changed_fields(old, old_rules[r.id], new, r)
            if fields:
                d.rules_changed.append(RuleChange(r.id, fields))
    kept_old = [r.id for r in old.rules if r.id in new_rules]
    kept_new = [r.id for r in new.rules if r.id in old_rules]
    d.reordered = kept_old != kept_new
    structural = (d.hit_policy, d.inputs_added, d.inputs_removed, d.outputs_added,
                  d.outputs_removed, d.rules_added, d.rules_removed, d.rules_changed,
                  d.reordered)
    if any(structural) or _clauses(old) != _clauses(new):
        d.status = "changed"
    try:
        d.changes = _outcome_changes(old, new)
    except _NotAnalysable as e:
        d.not_analysed = str(e)
    if d.changes:
        d.status = "changed"
    return d


def _policy(t: DecisionTable) -> str:
    return t.hit_policy.value + (f" {t.aggregation.value}" if t.aggregation else "")


def _clauses(t: DecisionTable) -> tuple[Any, ...]:
    return (t.inputs, t.outputs)


def _conditions(table: DecisionTable, rule: Rule) -> dict[str, str]:
    return {c.name: cell.strip() for c, cell in zip(table.inputs, rule.when, strict=True)}


def _outputs(table: DecisionTable, rule: Rule) -> dict[str, Any]:
    return {c.name: v for c, v in zip(table.outputs, rule.then, strict=True)}


def _changed_fields(
    old_table: DecisionTable, old: Rule, new_table: DecisionTable, new: Rule
) -> list[str]:
    fields = []
    old_when, new_when = _conditions(old_table, old), _conditions(new_table, new)
    for name in dict.fromkeys([*old_when, *new_when]):
        if old_when.get(name, "-") != new_when.get(name, "-"):
            fields.append(f"when.{name}")
    old_then, new_then = _outputs(old_table, old), _outputs(new_table, new)
    for name in dict.fromkeys([*old_then, *new_then]):
        if old_then.get(name) != new_then.get(name):
            fields.append(f"then.{name}")
    if old.basis != new.basis:
        fields.append("basis")
    if old.annotation != new.annotation:
        fields.append("annotation")
    return fields


# -- outcomes ------------------------------------------------------------------------------


class _NotAnalysable(Exception):
    pass


def _outcome_changes(old: DecisionTable, new: DecisionTable) -> list[OutcomeChange]:
    clauses = _shared_inputs(old, new)
    old_regions = _regions(old, clauses)
    new_regions = _regions(new, clauses)
    columns: list[Column] = []
    for k, clause in enumerate(clauses):
        regions = [r[k] for r in old_regions] + [r[k] for r in new_regions]
        domain = _domain(old, new, clause)
        columns.append(make_column(k, clause, regions, domain))
    old_accept = _accepting(columns, old_regions)
    new_accept = _accepting(columns, new_regions)
    leaves = _descend(columns, old_accept, new_accept, len(old.rules), len(new.rules))
    old_ct, new_ct = compile_table(old), compile_table(new)
    groups: dict[tuple[str, str], tuple[_Outcome, _Outcome, list[tuple[tuple[int, Runs], ...]]]]
    groups = {}
    for path, o, n in leaves:
        before, after = _outcome(old_ct, o), _outcome(new_ct, n)
        if before.key == after.key:
            continue
        entry = groups.setdefault((before.key, after.key), (before, after, []))
        entry[2].append(tuple((k, runs) for k, runs in enumerate(path) if runs is not None))
    sizes = [c.size for c in columns]
    changes = []
    for before, after, boxes in groups.values():
        for box in merge(boxes, sizes):
            described = [
                (columns[k].clause, columns[k].region(runs))
                for k, runs in enumerate(box)
                if runs is not None
            ]
            changes.append(_change(described, before, after))
    return changes


def _shared_inputs(old: DecisionTable, new: DecisionTable) -> list[InputClause]:
    by_name: dict[str, InputClause] = {}
    for c in (*old.inputs, *new.inputs):
        seen = by_name.get(c.name)
        if seen is not None and seen.type is not c.type:
            raise _NotAnalysable(
                f"input {c.name!r} changed type ({seen.type.value} → {c.type.value})"
            )
        if seen is None or (c.allowed and not seen.allowed):
            by_name[c.name] = c
    return list(by_name.values())


def _domain(old: DecisionTable, new: DecisionTable, clause: InputClause) -> tuple[Any, ...] | None:
    """Allowed values: the union of both versions' (an input may gain a value)."""
    values: list[Any] = []
    for t in (old, new):
        for c in t.inputs:
            if c.name == clause.name:
                if c.allowed is None:
                    return None
                values += [v for v in c.allowed if v not in values]
    return tuple(values) if values else None


def _regions(table: DecisionTable, clauses: Sequence[InputClause]) -> list[list[Region]]:
    index = {c.name: k for k, c in enumerate(table.inputs)}
    rows = []
    for n, rule in enumerate(table.rules, start=1):
        row = []
        for clause in clauses:
            k = index.get(clause.name)
            if k is None:
                row.append(Region.any(clause.type))
                continue
            try:
                region = compile_unary_tests(rule.when[k], clause.type).region
            except CriteriaError:
                region = None
            if region is None:
                raise _NotAnalysable(
                    f"rule {n} ({rule.id}) of {table.name!r}: the condition on {clause.name!r} "
                    "is a general FEEL expression, whose values cannot be computed exactly"
                )
            row.append(region)
        rows.append(row)
    return rows


def _accepting(columns: Sequence[Column], rows: Sequence[Sequence[Region]]) -> list[list[int]]:
    """Per column, per atom: the bitset of rules accepting it."""
    accept = [[0] * c.size for c in columns]
    for bit, row in enumerate(rows):
        for k, region in enumerate(row):
            per_atom = accept[k]
            for a, b in columns[k].runs(region):
                for atom in range(a, b + 1):
                    per_atom[atom] |= 1 << bit
    return accept


Leaf = tuple[tuple[Runs | None, ...], int, int]


def _descend(
    columns: Sequence[Column],
    old_accept: Sequence[Sequence[int]],
    new_accept: Sequence[Sequence[int]],
    old_rules: int,
    new_rules: int,
) -> list[Leaf]:
    leaves: list[Leaf] = []
    n = len(columns)

    def go(k: int, o: int, w: int, path: tuple[Runs | None, ...]) -> None:
        if k == n or (o == 0 and w == 0):
            # no live rule in either version: the same outcome over the rest
            leaves.append((path + (None,) * (n - k), o, w))
            if len(leaves) > MAX_LEAVES:
                raise _NotAnalysable(
                    f"more than {MAX_LEAVES} distinct regions; compare with kijun impact instead"
                )
            return
        classes: dict[tuple[int, int], list[int]] = {}
        old_k, new_k = old_accept[k], new_accept[k]
        for atom in range(columns[k].size):
            classes.setdefault((o & old_k[atom], w & new_k[atom]), []).append(atom)
        size = columns[k].size
        for (o2, w2), atoms in classes.items():
            runs = rs.from_indexes(atoms)
            go(k + 1, o2, w2, (*path, None if rs.is_full(runs, size) else runs))

    go(0, (1 << old_rules) - 1, (1 << new_rules) - 1, ())
    return leaves


@dataclass(frozen=True, slots=True)
class _Outcome:
    value: dict[str, Any]
    rules: list[str]

    @property
    def key(self) -> str:
        return json.dumps(self.value, ensure_ascii=False, sort_keys=True)


def _outcome(ct: CompiledTable, matched: int) -> _Outcome:
    table = ct.table
    if matched == 0:
        if table.outputs and all(o.has_default for o in table.outputs):
            return _Outcome(
                {"status": "decided",
                 **plain_json_value({o.name: o.default for o in table.outputs})}, [],
            )
        return _Outcome({"status": "exception"}, [])
    try:
        hits, outputs = apply(ct, matched)
    except HitPolicyError as e:
        return _Outcome({"status": "conflict", "rules": e.rules}, e.rules)
    return _Outcome(
        {"status": "decided", **plain_json_value(outputs)}, [table.rules[i].id for i in hits]
    )


def _outcome_text(o: _Outcome, ja: bool) -> str:
    status = o.value["status"]
    if status == "exception":
        return "該当する規則なし（例外）" if ja else "no rule (exception)"
    if status == "conflict":
        return "規則の矛盾" if ja else "conflicting rules"
    shown = {k: v for k, v in o.value.items() if k != "status"}
    if ja:
        return "、".join(f"{k}{_value_ja(v)}" for k, v in shown.items())
    return ", ".join(f"{k} {json.dumps(v, ensure_ascii=False)}" for k, v in shown.items())


def _value_ja(v: Any) -> str:
    """「副町長」, はい／いいえ, 30000: an output value in a Japanese sentence."""
    if isinstance(v, bool):
        return "「はい」" if v else "「いいえ」"
    if v is None:
        return "（値なし）"
    if isinstance(v, list):
        return "「" + "、".join(str(x) for x in v) + "」"
    return f"「{v}」"


def _change(box: describe.Box, before: _Outcome, after: _Outcome) -> OutcomeChange:
    where_ja, where_en = describe.box_ja(box), describe.box_en(box)
    was_ja, now_ja = _outcome_text(before, True), _outcome_text(after, True)
    return OutcomeChange(
        region=describe.box_feel(box),
        before=before.value,
        after=after.value,
        rules_before=before.rules,
        rules_after=after.rules,
        message_ja=f"{where_ja}の場合: {was_ja} → {now_ja}",
        message_en=f"{where_en}: {_outcome_text(before, False)} → {_outcome_text(after, False)}",
    )
