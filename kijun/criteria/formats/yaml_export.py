"""Write a criterion as kijun YAML (docs/criteria-yaml.md) that loads back to the same content.

The inverse of `kijun.criteria.formats.yaml.loads`: `kijun export FILE --format
yaml` turns a DMN file or a clerk's Excel workbook into the reviewable form.
Cells that accept anything (`-`) are left out of `when`; every output value is
written, so a later change of a default never changes a rule. Decimals are
written as they are (`0.50` stays `0.50`), dates as YAML dates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml

from kijun.criteria.model import Criterion, DecisionTable, TestCase, Version


class _Flow(dict[str, Any]):
    """A mapping written on one line (`{name: 年齢, type: number}`)."""


class _FlowList(list[Any]):
    """A list written on one line (`[出生・こども, 引越し]`)."""


class _Dumper(yaml.SafeDumper):
    """SafeDumper with exact decimals, flow mappings on demand and literal multi-line text."""


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value, "f")
    if "." not in text:
        return dumper.represent_int(int(value))
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


def _flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


def _flow_list(dumper: yaml.SafeDumper, value: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


_Dumper.add_representer(Decimal, _decimal)
_Dumper.add_representer(_Flow, _flow)
_Dumper.add_representer(_FlowList, _flow_list)
_Dumper.add_representer(str, _text)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _table(t: DecisionTable) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "hit_policy": t.hit_policy.value}
    _put(out, "aggregation", t.aggregation.value if t.aggregation else None)
    _put(out, "description", t.description)
    inputs = []
    for i in t.inputs:
        di = _Flow(name=i.name, type=i.type.value)
        _put(di, "allowed", list(i.allowed) if i.allowed is not None else None)
        _put(di, "description", i.description)
        inputs.append(di)
    out["inputs"] = inputs
    outputs = []
    for o in t.outputs:
        do = _Flow(name=o.name, type=o.type.value)
        _put(do, "allowed", list(o.allowed) if o.allowed is not None else None)
        if o.has_default:
            do["default"] = o.default
        _put(do, "description", o.description)
        outputs.append(do)
    out["outputs"] = outputs
    rules = []
    for r in t.rules:
        dr: dict[str, Any] = {"id": r.id}
        when = _Flow(
            (i.name, cell) for i, cell in zip(t.inputs, r.when, strict=True) if cell != "-"
        )
        if when:
            dr["when"] = when
        dr["then"] = _Flow((o.name, v) for o, v in zip(t.outputs, r.then, strict=True))
        _put(dr, "basis", r.basis)
        _put(dr, "annotation", r.annotation)
        rules.append(dr)
    out["rules"] = rules
    return out


def _version(v: Version) -> dict[str, Any]:
    out: dict[str, Any] = {"version": v.number, "effective_from": v.effective_from}
    _put(out, "effective_to", v.effective_to)
    out["status"] = v.status.value
    _put(out, "note", v.note)
    out["decisions"] = [_table(t) for t in v.decisions]
    return out


def _test(t: TestCase) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name}
    _put(out, "on", t.on)
    _put(out, "decision", t.decision)
    out["input"] = _Flow(t.input)
    if t.expect:
        out["expect"] = _Flow(t.expect)
    if t.expect_exception:
        out["exception"] = True
    _put(out, "expect_rules", list(t.expect_rules) if t.expect_rules is not None else None)
    return out


def criterion_to_yaml(criterion: Criterion) -> str:
    """The criterion as kijun YAML text."""
    out: dict[str, Any] = {"id": criterion.id, "name": criterion.name}
    _put(out, "department", criterion.department)
    _put(out, "basis", criterion.basis)
    _put(out, "description", criterion.description)
    if criterion.life_events:
        out["life_events"] = _FlowList(criterion.life_events)
    out["versions"] = [_version(v) for v in criterion.versions]
    if criterion.tests:
        out["tests"] = [_test(t) for t in criterion.tests]
    text: str = yaml.dump(
        out, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100,
        default_flow_style=False,
    )
    return text
