"""Every Nagi-cho criterion version exports as schema-valid DMN 1.5 XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kijun.criteria.formats.dmn import DMN15, KIJUN, feel_literal, version_to_dmn
from kijun.criteria.formats.yaml import load_path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT.parent / "shared" / "dmn-tck" / "DMN15.xsd"
CRITERIA = load_path(ROOT / "content" / "nagi")
VERSIONS = [(c, v) for c in CRITERIA for v in c.versions]
NS = {"dmn": DMN15}


@pytest.fixture(scope="module")
def schema() -> object:
    if not SCHEMA.exists():
        pytest.skip(f"DMN 1.5 schema not found at {SCHEMA} (../shared/dmn-tck is absent)")
    xmlschema = pytest.importorskip("xmlschema")
    return xmlschema.XMLSchema(str(SCHEMA))


@pytest.mark.parametrize(("criterion", "version"), VERSIONS,
                         ids=[f"{c.id}-v{v.number}" for c, v in VERSIONS])
def test_export_is_valid_dmn_15(criterion: object, version: object, schema: object) -> None:
    xml = version_to_dmn(criterion, version)  # type: ignore[arg-type]
    schema.validate(xml)  # type: ignore[attr-defined]


def test_export_keeps_rules_basis_and_effective_dates() -> None:
    c = next(c for c in CRITERIA if c.id == "jidou-teate")
    v = c.versions[-1]
    root = ET.fromstring(version_to_dmn(c, v))
    meta = root.find(f"dmn:extensionElements/{{{KIJUN}}}criterion", NS)
    assert meta is not None and meta.get("effective_from") == v.effective_from.isoformat()
    decisions = root.findall("dmn:decision", NS)
    assert [d.get("name") for d in decisions] == [d.name for d in v.decisions]
    table = v.decisions[-1]
    rules = decisions[-1].findall("dmn:decisionTable/dmn:rule", NS)
    assert len(rules) == len(table.rules)
    first = rules[0]
    assert [e.findtext("dmn:text", namespaces=NS) for e in first.findall("dmn:inputEntry", NS)] \
        == list(table.rules[0].when)
    notes = [e.findtext("dmn:text", namespaces=NS) for e in first.findall("dmn:annotationEntry", NS)]
    assert notes == [table.rules[0].basis, table.rules[0].annotation]
    # an input fed by another decision reads that decision, not an input data element
    inputs = [e.findtext("dmn:inputExpression/dmn:text", namespaces=NS)
              for e in decisions[-1].findall("dmn:decisionTable/dmn:input", NS)]
    assert v.decisions[0].name in inputs
    names = {e.get("name") for e in root.findall("dmn:inputData", NS)}
    assert v.decisions[0].name not in names


def test_literals() -> None:
    import datetime as dt
    from decimal import Decimal

    assert feel_literal('say "はい"') == '"say \\"はい\\""'
    assert feel_literal(Decimal("0.50")) == "0.50"
    assert feel_literal(dt.date(2024, 10, 1)) == 'date("2024-10-01")'
    assert feel_literal(None) == "null" and feel_literal(False) == "false"


def test_export_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kijun.cli import app

    path = str(ROOT / "content" / "nagi" / "shougaku-zuii-keiyaku.yaml")
    r = CliRunner().invoke(app, ["export", path, "--version", "1"])
    assert r.exit_code == 0, r.output
    meta = ET.fromstring(r.stdout).find(f"dmn:extensionElements/{{{KIJUN}}}criterion", NS)
    assert meta is not None and meta.get("version") == "1"
    out = tmp_path / "x.dmn"
    r = CliRunner().invoke(app, ["export", path, "-o", str(out)])
    assert r.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<?xml")
    r = CliRunner().invoke(app, ["export", path, "--version", "9"])
    assert r.exit_code == 1 and "no version 9" in r.output
