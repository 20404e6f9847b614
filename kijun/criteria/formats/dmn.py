"""Export a kijun criterion version as DMN 1.5 XML.

Each decision table becomes a `<decision>` with a `<decisionTable>`; facts
become `<inputData>`; an input fed by another decision becomes an information
requirement on it. 根拠 and 注記 travel as two rule-annotation columns, the
version's 施行日 and 廃止日 as extension elements, so modelers (Camunda,
Drools, Trisotech) show them and kijun can read them back.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from kijun.criteria.model import Criterion, DecisionTable, ValueType, Version

DMN15 = "https://www.omg.org/spec/DMN/20230324/MODEL/"
KIJUN = "urn:kijun:dmn-extension"
BASIS_COLUMN = "根拠"
ANNOTATION_COLUMN = "注記"

_TYPE_REF = {
    ValueType.NUMBER: "number",
    ValueType.STRING: "string",
    ValueType.BOOLEAN: "boolean",
    ValueType.DATE: "date",
}


def feel_literal(value: Any) -> str:
    """A value as FEEL literal text (for output entries and allowed values)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return f'date("{value.isoformat()}")'
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _literals(values: Iterable[Any]) -> str:
    return ", ".join(feel_literal(v) for v in values)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{DMN15}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    el = _sub(parent, tag, **attrs)
    _sub(el, "text", text)
    return el


def version_to_dmn(criterion: Criterion, version: Version) -> str:
    """DMN 1.5 XML for one version of a criterion."""
    ET.register_namespace("", DMN15)
    ET.register_namespace("kijun", KIJUN)
    root = ET.Element(
        f"{{{DMN15}}}definitions",
        {
            "id": "definitions",
            "name": criterion.name,
            "namespace": f"urn:kijun:{criterion.id}:v{version.number}",
        },
    )
    if criterion.description:
        _sub(root, "description", criterion.description)
    ext = _sub(root, "extensionElements")
    meta = ET.SubElement(ext, f"{{{KIJUN}}}criterion", {
        "id": criterion.id,
        "version": str(version.number),
        "effective_from": version.effective_from.isoformat(),
        "status": version.status.value,
    })
    if version.effective_to:
        meta.set("effective_to", version.effective_to.isoformat())
    for key, value in (
        ("department", criterion.department),
        ("basis", criterion.basis),
        ("note", version.note),
        # ライフイベント, space-separated (no name in LIFE_EVENTS holds a space)
        ("life_events", " ".join(criterion.life_events)),
    ):
        if value:
            meta.set(key, value)

    producers = {
        o.name: (i, d) for i, d in enumerate(version.decisions) for o in d.outputs
    }
    facts: dict[str, ValueType] = {}
    for d in version.decisions:
        for clause in d.inputs:
            if clause.name not in producers:
                facts.setdefault(clause.name, clause.type)
    fact_ids = {name: f"input_{k + 1}" for k, name in enumerate(facts)}
    for name, type_ in facts.items():
        data = _sub(root, "inputData", id=fact_ids[name], name=name)
        _sub(data, "variable", name=name, typeRef=_TYPE_REF[type_])
    for k, d in enumerate(version.decisions):
        _decision(root, k, d, producers, fact_ids)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _decision(
    root: ET.Element,
    k: int,
    table: DecisionTable,
    producers: dict[str, tuple[int, DecisionTable]],
    fact_ids: dict[str, str],
) -> None:
    decision_id = f"decision_{k + 1}"
    el = _sub(root, "decision", id=decision_id, name=table.name)
    if table.description:
        _sub(el, "description", table.description)
    variable = _sub(el, "variable", name=table.name)
    if len(table.outputs) == 1:
        variable.set("typeRef", _TYPE_REF[table.outputs[0].type])
    required: list[str] = []
    for clause in table.inputs:
        if clause.name in producers:
            href = f"#decision_{producers[clause.name][0] + 1}"
            if href not in required:
                required.append(href)
                req = _sub(el, "informationRequirement", id=f"{decision_id}_req_{len(required)}")
                _sub(req, "requiredDecision", href=href)
        elif f"#{fact_ids[clause.name]}" not in required:
            required.append(f"#{fact_ids[clause.name]}")
            req = _sub(el, "informationRequirement", id=f"{decision_id}_req_{len(required)}")
            _sub(req, "requiredInput", href=f"#{fact_ids[clause.name]}")
    dt_el = _sub(el, "decisionTable", id=f"{decision_id}_table",
                 hitPolicy=table.hit_policy.value)
    if table.aggregation is not None:
        dt_el.set("aggregation", table.aggregation.value)
    for j, clause in enumerate(table.inputs):
        inp = _sub(dt_el, "input", id=f"{decision_id}_in_{j + 1}", label=clause.name)
        if clause.description:
            _sub(inp, "description", clause.description)
        _text(inp, "inputExpression", _input_expression(clause.name, producers),
              typeRef=_TYPE_REF[clause.type])
        if clause.allowed is not None:
            _text(inp, "inputValues", _literals(clause.allowed))
    for j, out in enumerate(table.outputs):
        attrs = {"id": f"{decision_id}_out_{j + 1}", "typeRef": _TYPE_REF[out.type]}
        if len(table.outputs) > 1:
            attrs["name"] = out.name
        else:
            attrs["label"] = out.name
        o = _sub(dt_el, "output", **attrs)
        if out.description:
            _sub(o, "description", out.description)
        if out.allowed is not None:
            _text(o, "outputValues", _literals(out.allowed))
        if out.has_default:
            _text(o, "defaultOutputEntry", feel_literal(out.default))
    _sub(dt_el, "annotation", name=BASIS_COLUMN)
    _sub(dt_el, "annotation", name=ANNOTATION_COLUMN)
    for r, rule in enumerate(table.rules):
        rule_el = _sub(dt_el, "rule", id=f"{decision_id}_rule_{r + 1}")
        _sub(rule_el, "description", rule.id)
        for cell in rule.when:
            _text(rule_el, "inputEntry", cell)
        for value in rule.then:
            _text(rule_el, "outputEntry", feel_literal(value))
        _text(rule_el, "annotationEntry", rule.basis or "")
        _text(rule_el, "annotationEntry", rule.annotation or "")


def _input_expression(name: str, producers: dict[str, tuple[int, DecisionTable]]) -> str:
    """How a DMN engine reads this input: a fact, or a decision's (component) value."""
    if name not in producers:
        return name
    _, producer = producers[name]
    if len(producer.outputs) == 1:
        return producer.name
    return f"{producer.name}.{name}"
