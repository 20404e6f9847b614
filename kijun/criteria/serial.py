"""Canonical JSON form of the model, for storage and the API.

Values that JSON cannot hold are tagged: a Decimal becomes {"$decimal": "1.5"}
and a date {"$date": "2024-10-01"}, so a round trip is exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kijun.criteria.model import (
    NO_DEFAULT,
    Aggregation,
    Criterion,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    TestCase,
    ValueType,
    Version,
    VersionStatus,
    validate_criterion,
)


def to_json_value(value: Any) -> Any:
    """A Python value as JSON-able data (Decimal and date are tagged)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 10**15:
            return int(value)
        return {"$decimal": str(value)}
    if isinstance(value, float):
        return {"$decimal": repr(value)}
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"$date": value.isoformat()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    raise TypeError(f"cannot serialise a {type(value).__name__}")


def from_json_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$decimal"}:
            return Decimal(value["$decimal"])
        if set(value) == {"$date"}:
            return dt.date.fromisoformat(value["$date"])
        return {k: from_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json_value(v) for v in value]
    return value


def plain_json_value(value: Any) -> Any:
    """A value for people and APIs: dates as ISO text, decimals as numbers."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain_json_value(v) for k, v in value.items()}
    return str(value)


def _opt(d: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        d[key] = value


def table_to_dict(t: DecisionTable) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "hit_policy": t.hit_policy.value}
    _opt(out, "aggregation", t.aggregation.value if t.aggregation else None)
    _opt(out, "description", t.description)
    out["inputs"] = []
    for i in t.inputs:
        di: dict[str, Any] = {"name": i.name, "type": i.type.value}
        _opt(di, "allowed", to_json_value(list(i.allowed)) if i.allowed is not None else None)
        _opt(di, "description", i.description)
        out["inputs"].append(di)
    out["outputs"] = []
    for o in t.outputs:
        do: dict[str, Any] = {"name": o.name, "type": o.type.value}
        _opt(do, "allowed", to_json_value(list(o.allowed)) if o.allowed is not None else None)
        if o.has_default:
            do["default"] = to_json_value(o.default)
        _opt(do, "description", o.description)
        out["outputs"].append(do)
    out["rules"] = []
    for r in t.rules:
        dr: dict[str, Any] = {"id": r.id, "when": list(r.when), "then": to_json_value(r.then)}
        _opt(dr, "basis", r.basis)
        _opt(dr, "annotation", r.annotation)
        out["rules"].append(dr)
    return out


def table_from_dict(d: Mapping[str, Any]) -> DecisionTable:
    agg = d.get("aggregation")
    return DecisionTable(
        name=d["name"],
        hit_policy=HitPolicy(d["hit_policy"]),
        aggregation=Aggregation(agg) if agg else None,
        description=d.get("description"),
        inputs=tuple(
            InputClause(
                name=i["name"],
                type=ValueType(i["type"]),
                allowed=tuple(from_json_value(i["allowed"])) if "allowed" in i else None,
                description=i.get("description"),
            )
            for i in d["inputs"]
        ),
        outputs=tuple(
            OutputClause(
                name=o["name"],
                type=ValueType(o["type"]),
                allowed=tuple(from_json_value(o["allowed"])) if "allowed" in o else None,
                default=from_json_value(o["default"]) if "default" in o else NO_DEFAULT,
                description=o.get("description"),
            )
            for o in d["outputs"]
        ),
        rules=tuple(
            Rule(
                id=r["id"],
                when=tuple(r["when"]),
                then=tuple(from_json_value(r["then"])),
                basis=r.get("basis"),
                annotation=r.get("annotation"),
            )
            for r in d["rules"]
        ),
    )


def version_to_dict(v: Version) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": v.number,
        "effective_from": v.effective_from.isoformat(),
        "effective_to": v.effective_to.isoformat() if v.effective_to else None,
        "status": v.status.value,
    }
    _opt(out, "note", v.note)
    out["decisions"] = [table_to_dict(t) for t in v.decisions]
    return out


def version_from_dict(d: Mapping[str, Any]) -> Version:
    return Version(
        number=int(d["number"]),
        effective_from=dt.date.fromisoformat(d["effective_from"]),
        effective_to=dt.date.fromisoformat(d["effective_to"]) if d.get("effective_to") else None,
        status=VersionStatus(d.get("status", "published")),
        note=d.get("note"),
        decisions=tuple(table_from_dict(t) for t in d["decisions"]),
    )


def test_case_to_dict(t: TestCase) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "input": to_json_value(dict(t.input))}
    if t.expect:
        out["expect"] = to_json_value(dict(t.expect))
    _opt(out, "on", t.on.isoformat() if t.on else None)
    _opt(out, "decision", t.decision)
    if t.expect_exception:
        out["expect_exception"] = True
    _opt(out, "expect_rules", list(t.expect_rules) if t.expect_rules is not None else None)
    return out


def test_case_from_dict(d: Mapping[str, Any]) -> TestCase:
    rules = d.get("expect_rules")
    return TestCase(
        name=d["name"],
        input=from_json_value(d["input"]),
        expect=from_json_value(d.get("expect", {})),
        on=dt.date.fromisoformat(d["on"]) if d.get("on") else None,
        decision=d.get("decision"),
        expect_exception=bool(d.get("expect_exception", False)),
        expect_rules=tuple(rules) if rules is not None else None,
    )


def criterion_to_dict(c: Criterion) -> dict[str, Any]:
    out: dict[str, Any] = {"id": c.id, "name": c.name}
    _opt(out, "department", c.department)
    _opt(out, "description", c.description)
    _opt(out, "basis", c.basis)
    out["life_events"] = list(c.life_events)
    out["versions"] = [version_to_dict(v) for v in c.versions]
    out["tests"] = [test_case_to_dict(t) for t in c.tests]
    return out


def criterion_from_dict(d: Mapping[str, Any]) -> Criterion:
    c = Criterion(
        id=d["id"],
        name=d["name"],
        department=d.get("department"),
        description=d.get("description"),
        basis=d.get("basis"),
        life_events=tuple(d.get("life_events", ())),
        versions=tuple(version_from_dict(v) for v in d["versions"]),
        tests=tuple(test_case_from_dict(t) for t in d.get("tests", [])),
    )
    validate_criterion(c)
    return c
