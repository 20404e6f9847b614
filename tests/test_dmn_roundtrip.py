"""Export → import gives back every Nagi-cho criterion version, and the same decisions.

Three checks per version: the content read back equals the content written;
the criterion's own test cases pass on the re-imported versions; and the
exported XML, evaluated by kijun's general DMN engine (`DmnModels`, which
knows nothing of kijun criteria), decides each test case as the criteria
engine does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kijun.criteria import serial
from kijun.criteria.decide import decide, version_in_force
from kijun.criteria.dmn import DmnError, DmnModels, parse_dmn
from kijun.criteria.facts import coercer
from kijun.criteria.formats.dmn import version_to_dmn
from kijun.criteria.formats.dmn_import import DmnImportOptions, criterion_from_dmn
from kijun.criteria.formats.yaml import load_path
from kijun.criteria.model import Criterion, VersionStatus
from kijun.criteria.testing import run_tests

ROOT = Path(__file__).resolve().parent.parent
CRITERIA = load_path(ROOT / "content" / "nagi")
VERSIONS = [(c, v) for c in CRITERIA for v in c.versions]
IDS = [f"{c.id}-v{v.number}" for c, v in VERSIONS]


@pytest.mark.parametrize(("criterion", "version"), VERSIONS, ids=IDS)
def test_export_then_import_keeps_the_version(criterion: Any, version: Any) -> None:
    back = criterion_from_dmn(version_to_dmn(criterion, version))
    assert back.id == criterion.id
    assert back.name == criterion.name
    assert (back.department, back.basis, back.description, back.life_events) == (
        criterion.department, criterion.basis, criterion.description, criterion.life_events
    )
    assert [serial.version_to_dict(v) for v in back.versions] == [
        serial.version_to_dict(version)
    ]


@pytest.mark.parametrize("criterion", CRITERIA, ids=[c.id for c in CRITERIA])
def test_reimported_criterion_passes_its_tests(criterion: Criterion) -> None:
    versions = tuple(
        criterion_from_dmn(version_to_dmn(criterion, v)).versions[0] for v in criterion.versions
    )
    report = run_tests(replace(criterion, versions=versions))
    assert report.failed == 0, [c.message for c in report.cases if not c.passed]
    assert report.passed == len(criterion.tests)


def _feel(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


CASES = [
    (c, t)
    for c in CRITERIA
    for t in c.tests
    if not t.expect_exception
]


@pytest.mark.parametrize(("criterion", "case"), CASES,
                         ids=[f"{c.id}-{t.name}" for c, t in CASES])
def test_general_dmn_engine_agrees_with_the_criteria_engine(
    criterion: Criterion, case: Any
) -> None:
    on = case.on or max(
        v.effective_from for v in criterion.versions if v.status is not VersionStatus.DRAFT
    )
    version = version_in_force(criterion, on)
    result = decide(criterion, case.input, on, decision=case.decision)
    table = version.decision(result.decision)
    models = DmnModels([parse_dmn(version_to_dmn(criterion, version))])
    clauses = {c.name: c for d in version.decisions for c in d.inputs}
    inputs = {
        name: _feel(coercer(clauses[name])(value))
        for name, value in case.input.items()
        if name in clauses
    }
    value = _plain(models.evaluate(table.name, inputs))
    outputs = _plain(serial.plain_json_value(result.outputs))
    names = [o.name for o in table.outputs]
    if table.hit_policy.single_hit or table.aggregation is not None:
        expected = outputs[names[0]] if len(names) == 1 else {n: outputs[n] for n in names}
    elif len(names) == 1:
        expected = outputs[names[0]]
    else:
        expected = [dict(zip(names, row, strict=True)) for row in zip(
            *(outputs[n] for n in names), strict=True)]
    assert serial.plain_json_value(value) == serial.plain_json_value(expected)


def test_a_foreign_model_needs_an_id_and_an_effective_date() -> None:
    xml = _foreign_model()
    with pytest.raises(DmnError, match="criterion id"):
        criterion_from_dmn(xml)
    with pytest.raises(DmnError, match="施行日"):
        criterion_from_dmn(xml, DmnImportOptions(criterion_id="fee"))
    c = criterion_from_dmn(
        xml, DmnImportOptions(criterion_id="fee", effective_from=dt.date(2026, 4, 1))
    )
    v = c.versions[0]
    assert (v.number, v.status, v.effective_from) == (1, VersionStatus.DRAFT, dt.date(2026, 4, 1))
    table = v.decisions[0]
    assert [i.name for i in table.inputs] == ["Age"]
    assert table.outputs[0].allowed == (0, 300, 500)
    assert [r.id for r in table.rules] == ["r1", "r2", "r3"]
    assert table.rules[0].basis == "手数料条例第2条"
    live = replace(c, versions=(replace(v, status=VersionStatus.PUBLISHED),))
    assert decide(live, {"Age": 70}, dt.date(2026, 5, 1)).outputs == {"Fee": 0}
    assert decide(live, {"Age": 30}, dt.date(2026, 5, 1)).outputs == {"Fee": 300}


def _foreign_model(decision_logic: str | None = None) -> str:
    """A small model as another modeler writes it (DMN 1.3, no kijun extension)."""
    table = decision_logic or """
      <decisionTable id="t" hitPolicy="FIRST">
        <input id="i1" label="Age"><inputExpression typeRef="number"><text>Age</text></inputExpression></input>
        <output id="o1" name="Fee" typeRef="tFee"/>
        <annotation name="根拠"/>
        <rule id="r1"><inputEntry><text>&gt;= 65</text></inputEntry>
          <outputEntry><text>0</text></outputEntry><annotationEntry><text>手数料条例第2条</text></annotationEntry></rule>
        <rule id="r2"><inputEntry><text>[18..65)</text></inputEntry>
          <outputEntry><text>300</text></outputEntry><annotationEntry><text/></annotationEntry></rule>
        <rule id="r3"><inputEntry><text>-</text></inputEntry>
          <outputEntry><text>500</text></outputEntry><annotationEntry><text/></annotationEntry></rule>
      </decisionTable>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="窓口手数料"
             namespace="urn:example">
  <itemDefinition name="tFee"><typeRef>number</typeRef>
    <allowedValues><text>0, 300, 500</text></allowedValues></itemDefinition>
  <inputData id="in_age" name="Age"><variable name="Age" typeRef="number"/></inputData>
  <decision id="d_fee" name="Fee">
    <variable name="Fee" typeRef="tFee"/>
    <informationRequirement id="req1"><requiredInput href="#in_age"/></informationRequirement>
    {table}
  </decision>
</definitions>"""


@pytest.mark.parametrize(
    ("logic", "message"),
    [
        ('<literalExpression id="lit"><text>Age * 2</text></literalExpression>',
         r'<decision id="d_fee" name="Fee">: has a Literal expression'),
        ("""<decisionTable id="t"><input id="i1"><inputExpression typeRef="number">
             <text>Age * 2</text></inputExpression></input><output id="o1" typeRef="number"/>
             </decisionTable>""",
         r"input expression 'Age \* 2' is not the name of an input data"),
        ("""<decisionTable id="t"><input id="i1"><inputExpression typeRef="time">
             <text>Age</text></inputExpression></input><output id="o1" typeRef="number"/>
             </decisionTable>""",
         r"type 'time' is not supported"),
        ("""<decisionTable id="t"><input id="i1"><inputExpression typeRef="number">
             <text>Age</text></inputExpression></input><output id="o1" typeRef="number"/>
             <rule id="bad"><inputEntry><text>-</text></inputEntry>
             <outputEntry><text>Age + 1</text></outputEntry></rule></decisionTable>""",
         r'<rule id="bad"> \(rule 1\) output \'Fee\': \'Age \+ 1\' is not a constant'),
        ("""<decisionTable id="t"><input id="i1"><inputExpression typeRef="number">
             <text>Age</text></inputExpression></input><output id="o1" typeRef="number"/>
             <rule id="bad"><inputEntry><text>-</text></inputEntry>
             <outputEntry><text>"zero"</text></outputEntry></rule></decisionTable>""",
         r"'\"zero\"' is not a number"),
    ],
    ids=["literal-expression", "computed-input", "time-input", "computed-output", "wrong-type"],
)
def test_unsupported_models_name_the_element(logic: str, message: str) -> None:
    options = DmnImportOptions(criterion_id="fee", effective_from=dt.date(2026, 4, 1))
    with pytest.raises(DmnError, match=message):
        criterion_from_dmn(_foreign_model(logic), options)


def test_malformed_xml_says_so() -> None:
    with pytest.raises(DmnError, match="not well-formed XML"):
        criterion_from_dmn("<definitions><decision></definitions>")


def test_options_override_the_file() -> None:
    c = CRITERIA[0]
    xml = version_to_dmn(c, c.versions[0])
    back = criterion_from_dmn(xml, DmnImportOptions(version=9, status=VersionStatus.DRAFT))
    assert back.versions[0].number == 9 and back.versions[0].status is VersionStatus.DRAFT


def test_version_in_force_is_unchanged_by_the_round_trip() -> None:
    c = next(c for c in CRITERIA if len(c.versions) > 1)
    versions = tuple(criterion_from_dmn(version_to_dmn(c, v)).versions[0] for v in c.versions)
    back = replace(c, versions=versions)
    for v in c.versions:
        assert version_in_force(back, v.effective_from).number == v.number


def test_dmn_error_is_a_model_error() -> None:
    from kijun.criteria.errors import ModelError

    assert issubclass(DmnError, ModelError)
    with pytest.raises(ModelError):
        criterion_from_dmn(b"not xml")
