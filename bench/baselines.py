"""The baseline engines, built from the same generated tables as kijun.

- **pyDMNrules** reads DMN decision tables from an Excel workbook. We write
  the workbook with openpyxl in its documented layout: a `Glossary` sheet
  (Variable / Business Concept / Attribute), a `Decision` sheet (Decisions /
  Execute Decision Tables) and one sheet holding the table, rules as rows:
  the table name, then a heading row (hit policy, input names, a double
  border, output name; a double bottom border says there is no validity row),
  then one row per rule (rule id, S-FEEL tests, output). The cells are the
  same FEEL text as kijun's.
- **SpiffWorkflow** evaluates DMN XML whose cells are Python expressions, not
  FEEL. We write a DMN 1.3 file with one decision table whose input entries
  are the Python equivalents of the FEEL cells (`< 30`, `10 <= ? < 30`,
  `"単身"`, `? in ("単身", "夫婦")`, `-`), parse it with `BpmnDmnParser` and
  evaluate the table with `DMNEngine.result(task)`, the call its
  business-rule task makes, on a minimal task object that carries the facts
  and the script engine (as SpiffWorkflow's own DMN tests do).

Both adapters answer `evaluate(facts) -> outcome or None` (None: no rule
matched), so the harness compares every engine on the same footing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from bench.tables import (
    ENUM_INPUTS,
    INPUT_NAMES,
    NUMERIC_INPUTS,
    OUTPUT_NAME,
    GeneratedTable,
)
from kijun.criteria.model import HitPolicy

#: FEEL-safe attribute names for the Glossary (the Variables stay Japanese)
ATTRIBUTES = {
    "年齢": "age",
    "所得": "income",
    "居住年数": "years",
    "世帯区分": "household",
    "地区": "district",
    OUTPUT_NAME: "outcome",
}
_HIT = {HitPolicy.UNIQUE: "U", HitPolicy.FIRST: "F"}
TABLE_SHEET = "BenchTable"


class BaselineError(RuntimeError):
    """A baseline reported an error other than "no rule matched"."""


# --------------------------------------------------------------------------- pyDMNrules


def write_pydmnrules_workbook(gen: GeneratedTable, path: Path) -> Path:
    """The table as a pyDMNrules workbook (Glossary, Decision, and the table's sheet)."""
    from openpyxl import Workbook
    from openpyxl.styles import Border, Side

    double, plain = Side(style="double"), Side()
    wb = Workbook()
    glossary = wb.active
    glossary.title = "Glossary"
    glossary.append(["Glossary"])
    glossary.append(["Variable", "Business Concept", "Attribute"])
    for k, name in enumerate(INPUT_NAMES):
        glossary.append([name, "Applicant" if k == 0 else None, ATTRIBUTES[name]])
    glossary.append([OUTPUT_NAME, "Decision", ATTRIBUTES[OUTPUT_NAME]])

    decision = wb.create_sheet("Decision")
    decision.append(["Decision"])
    decision.append(["Decisions", "Execute Decision Tables"])
    decision.append([f"Decide {gen.name}", TABLE_SHEET])

    ws = wb.create_sheet(TABLE_SHEET)
    ws.append([TABLE_SHEET])
    ws.append([_HIT[gen.policy], *INPUT_NAMES, OUTPUT_NAME])
    n_in = len(INPUT_NAMES)
    for col in range(1, n_in + 3):
        cell = ws.cell(row=2, column=col)
        right = double if col == n_in + 1 else plain
        left = double if col == n_in + 2 else plain
        cell.border = Border(top=plain, bottom=double, right=right, left=left)
    for rule in gen.table.rules:
        ws.append([rule.id, *rule.when, f'"{rule.then[0]}"'])
    wb.save(path)
    return path


class PyDMNRulesEngine:
    """pyDMNrules, loaded from the generated workbook."""

    name = "pyDMNrules"

    def __init__(self, gen: GeneratedTable, workdir: Path | None = None) -> None:
        import pyDMNrules

        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="kijun-bench-")
            workdir = Path(self._tmp.name)
        self.path = write_pydmnrules_workbook(
            gen, workdir / f"pydmnrules-{gen.policy.value.lower()}-{gen.n_rules}.xlsx"
        )
        self.dmn = pyDMNrules.DMN()
        status = self.dmn.load(str(self.path))
        if "errors" in status:
            raise BaselineError(f"pyDMNrules could not load {self.path.name}: {status['errors']}")

    def evaluate(self, facts: Mapping[str, Any]) -> str | None:
        status, data = self.dmn.decide(dict(facts))
        if "errors" in status:
            errors = status["errors"]
            if all(e.startswith("No rules matched") for e in errors):
                return None
            raise BaselineError(f"pyDMNrules: {errors}")
        if isinstance(data, list):  # several tables ran; the last entry is the decision
            data = data[-1]
        value = data["Result"][OUTPUT_NAME]
        return None if value is None else str(value)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


# --------------------------------------------------------------------------- SpiffWorkflow

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def spiff_dmn_xml(gen: GeneratedTable) -> str:
    """The table as DMN 1.3 XML with Python-expression cells, for SpiffWorkflow."""
    types = {name: "number" for name, _, _ in NUMERIC_INPUTS}
    types.update({name: "string" for name, _ in ENUM_INPUTS})
    decision_id = f"bench_{gen.policy.value.lower()}_{gen.n_rules}"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<definitions xmlns="{DMN13}" id="defs_{decision_id}" name="kijun bench" '
        'namespace="https://kijun.example/bench">',
        f'  <decision id="{decision_id}" name={quoteattr(gen.name)}>',
        f'    <decisionTable id="table_{decision_id}" hitPolicy="{gen.policy.value}">',
    ]
    for k, name in enumerate(INPUT_NAMES):
        out.append(
            f'      <input id="input_{k}" label={quoteattr(name)}>'
            f'<inputExpression id="input_expr_{k}" typeRef="{types[name]}">'
            f"<text>{escape(name)}</text></inputExpression></input>"
        )
    out.append(
        f'      <output id="output_0" label={quoteattr(OUTPUT_NAME)} '
        f'name={quoteattr(OUTPUT_NAME)} typeRef="string" />'
    )
    for r, (rule, box) in enumerate(zip(gen.table.rules, gen.boxes, strict=True)):
        out.append(f'      <rule id="rule_{r}">')
        for k, cell in enumerate(box):
            out.append(
                f'        <inputEntry id="rule_{r}_in_{k}"><text>{escape(cell.python())}</text>'
                "</inputEntry>"
            )
        out.append(
            f'        <outputEntry id="rule_{r}_out"><text>{escape(repr(rule.then[0]))}</text>'
            "</outputEntry>"
        )
        out.append("      </rule>")
    out += ["    </decisionTable>", "  </decision>", "</definitions>", ""]
    return "\n".join(out)


class _Workflow:
    def __init__(self, script_engine: Any) -> None:
        self.script_engine = script_engine


class _Task:
    """What DMNEngine reads from a task: its data and its workflow's script engine."""

    def __init__(self, workflow: _Workflow, data: dict[str, Any]) -> None:
        self.workflow = workflow
        self.data = data


class SpiffWorkflowEngine:
    """SpiffWorkflow's DMN engine on the generated DMN XML."""

    name = "SpiffWorkflow"

    def __init__(self, gen: GeneratedTable, workdir: Path | None = None) -> None:
        from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
        from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

        self.xml = spiff_dmn_xml(gen)
        if workdir is not None:
            self.path: Path | None = workdir / f"spiff-{gen.policy.value.lower()}-{gen.n_rules}.dmn"
            self.path.write_text(self.xml, encoding="utf-8")
        else:
            self.path = None
        parser = BpmnDmnParser()
        parser.add_dmn_str(self.xml.encode("utf-8"))
        decision_id = f"bench_{gen.policy.value.lower()}_{gen.n_rules}"
        self.engine = parser.get_engine(decision_id, None)
        self.workflow = _Workflow(PythonScriptEngine())

    def evaluate(self, facts: Mapping[str, Any]) -> str | None:
        result = self.engine.result(_Task(self.workflow, dict(facts)))
        if not result:
            return None
        return str(result[OUTPUT_NAME])

    def close(self) -> None:
        pass


BASELINES = (PyDMNRulesEngine, SpiffWorkflowEngine)
