"""Checks of single rules, cells and inputs: no sweep needed.

type errors, unsatisfiable cells, values outside the allowed values (inputs
and outputs), missing 根拠, unused inputs, and the rules left out of the
gap/overlap analysis because a cell is a general FEEL expression.
"""

from __future__ import annotations

from typing import Any

from kijun.criteria.errors import FactError
from kijun.criteria.facts import coercer
from kijun.criteria.feel import UnaryTest
from kijun.criteria.model import DecisionTable, InputClause, OutputClause, ValueType
from kijun.criteria.region import Region, feel_literal
from kijun.criteria.verify import describe
from kijun.criteria.verify.cells import Cell, CellError, TableCells
from kijun.criteria.verify.findings import Finding, Kind, NotAnalysedCell, Severity

_TYPE_JA = {
    ValueType.NUMBER: "数値",
    ValueType.STRING: "文字列",
    ValueType.BOOLEAN: "真偽値（はい・いいえ）",
    ValueType.DATE: "日付",
}


def _literal(value: Any) -> str:
    try:
        return feel_literal(value)
    except TypeError:
        return repr(value)


def _shown(values: Any) -> str:
    return "、".join(str(v) for v in values)


class Checker:
    """Builds the single-rule findings of one table."""

    def __init__(self, table: DecisionTable, cells: TableCells, decision: str) -> None:
        self.table = table
        self.cells = cells
        self.decision = decision
        #: type checks of output values (allowed values are checked separately)
        self.coercers = {o.name: coercer(OutputClause(o.name, o.type)) for o in table.outputs}

    def finding(
        self,
        kind: Kind,
        severity: Severity,
        rules: tuple[int, ...],
        region: dict[str, str],
        ja: str,
        en: str,
    ) -> Finding:
        return Finding(kind, severity, self.decision, rules, region, ja, en)

    def refs(self, r: int) -> tuple[str, str]:
        rule = self.table.rules[r]
        return describe.rule_ja(r + 1, rule), describe.rule_en(r + 1, rule)

    # -- cells ----------------------------------------------------------------

    def cell_findings(self) -> list[Finding]:
        out: list[Finding] = []
        allowed_checked: dict[tuple[int, int], bool] = {}  # (column, id(test)) → any finding
        for r, row in enumerate(self.cells.cells):
            for j, cell in enumerate(row):
                clause = self.table.inputs[j]
                if isinstance(cell, CellError):
                    out.append(self.type_error(r, clause, cell))
                elif cell.region is not None and cell.region.is_empty():
                    out.append(self.unsatisfiable(r, clause, cell))
                elif cell.region is not None and clause.allowed is not None:
                    key = (j, id(cell))
                    if allowed_checked.get(key, True):
                        found = self.outside_allowed(r, clause, cell, cell.region)
                        allowed_checked[key] = bool(found)
                        out.extend(found)
        return out

    def type_error(self, r: int, clause: InputClause, cell: CellError) -> Finding:
        x_ja, x_en = self.refs(r)
        if cell.syntax:
            ja = (
                f"{x_ja}の「{clause.name}」の条件「{cell.text}」はFEELとして読めません"
                f"（{cell.reason}）。"
            )
            en = (
                f"The {clause.name} entry of {x_en}, {cell.text!r}, is not valid FEEL: "
                f"{cell.reason}."
            )
        else:
            ja = (
                f"{x_ja}の「{clause.name}」の条件「{cell.text}」は{_TYPE_JA[clause.type]}の入力には"
                f"使えません（{cell.reason}）。"
            )
            en = (
                f"The {clause.name} entry of {x_en}, {cell.text!r}, does not fit a "
                f"{clause.type.value} input: {cell.reason}."
            )
        return self.finding(
            Kind.TYPE_ERROR, Severity.ERROR, (r + 1,), {clause.name: cell.text}, ja, en
        )

    def unsatisfiable(self, r: int, clause: InputClause, cell: UnaryTest) -> Finding:
        x_ja, x_en = self.refs(r)
        return self.finding(
            Kind.UNSATISFIABLE,
            Severity.ERROR,
            (r + 1,),
            {clause.name: cell.text},
            f"{x_ja}の「{clause.name}」の条件「{cell.text}」に当てはまる値がないため、"
            f"{x_ja}は使われることがありません。",
            f"No value satisfies the {clause.name} entry of {x_en}, {cell.text!r}, so "
            f"{x_en} can never apply.",
        )

    def outside_allowed(
        self, r: int, clause: InputClause, cell: UnaryTest, region: Region
    ) -> list[Finding]:
        allowed = clause.allowed or ()
        if not describe.has_values(region):
            return []  # accepts null only
        where = {clause.name: cell.text}
        if not any(_contains(region, v) for v in allowed):
            x_ja, x_en = self.refs(r)
            return [
                self.finding(
                    Kind.OUTSIDE_ALLOWED,
                    Severity.ERROR,
                    (r + 1,),
                    where,
                    f"{x_ja}の「{clause.name}」の条件「{cell.text}」は許可された値"
                    f"（{_shown(allowed)}）のどれにも当てはまらないため、{x_ja}は使われることがありません。",
                    f"The {clause.name} entry of {x_en}, {cell.text!r}, accepts none of the "
                    f"allowed values ({', '.join(map(str, allowed))}), so {x_en} can never apply.",
                )
            ]
        named = _named_values(region)
        stray = [v for v in named if v not in allowed]
        if not stray:
            return []
        x_ja, x_en = self.refs(r)
        return [
            self.finding(
                Kind.OUTSIDE_ALLOWED,
                Severity.WARNING,
                (r + 1,),
                where,
                f"{x_ja}の「{clause.name}」の条件「{cell.text}」のうち"
                f"{'、'.join(f'「{v}」' for v in stray)}は"
                f"許可された値（{_shown(allowed)}）にありません。",
                f"The {clause.name} entry of {x_en}, {cell.text!r}, names "
                f"{', '.join(_literal(v) for v in stray)}, which "
                f"{'is' if len(stray) == 1 else 'are'} not among the allowed values "
                f"({', '.join(map(str, allowed))}).",
            )
        ]

    # -- outputs --------------------------------------------------------------

    def output_findings(self) -> list[Finding]:
        out: list[Finding] = []
        for r, rule in enumerate(self.table.rules):
            for clause, value in zip(self.table.outputs, rule.then, strict=False):
                out.extend(self.output_value(r, clause, value))
        return out

    def output_value(self, r: int, clause: OutputClause, value: Any) -> list[Finding]:
        try:
            typed = self.coercers[clause.name](value)
        except FactError:
            x_ja, x_en = self.refs(r)
            where = {clause.name: _literal(value)}
            return [
                self.finding(
                    Kind.TYPE_ERROR,
                    Severity.ERROR,
                    (r + 1,),
                    where,
                    f"{x_ja}の出力「{clause.name}」の値「{value}」は{_TYPE_JA[clause.type]}ではありません。",
                    f"The {clause.name} output of {x_en}, {_literal(value)}, is not a "
                    f"{clause.type.value}.",
                )
            ]
        if clause.allowed is None or typed is None or typed in clause.allowed:
            return []
        x_ja, x_en = self.refs(r)
        where = {clause.name: _literal(value)}
        return [
            self.finding(
                Kind.OUTSIDE_ALLOWED,
                Severity.ERROR,
                (r + 1,),
                where,
                f"{x_ja}の出力「{clause.name}」の値「{value}」は許可された値"
                f"（{_shown(clause.allowed)}）にありません。",
                f"The {clause.name} output of {x_en}, {_literal(value)}, is not among the "
                f"allowed values ({', '.join(map(str, clause.allowed))}).",
            )
        ]

    # -- rules and inputs -----------------------------------------------------

    def basis_findings(self) -> list[Finding]:
        out = []
        for r, rule in enumerate(self.table.rules):
            if rule.basis is None or not rule.basis.strip():
                x_ja, x_en = self.refs(r)
                out.append(
                    self.finding(
                        Kind.MISSING_BASIS,
                        Severity.WARNING,
                        (r + 1,),
                        {},
                        f"{x_ja}に根拠（法令・条例・規則などの条項）が書かれていません。",
                        f"{x_en.capitalize()} has no basis (根拠: the article it rests on).",
                    )
                )
        return out

    def unused_inputs(self) -> list[Finding]:
        if not self.table.rules:
            return []
        out = []
        for j, clause in enumerate(self.table.inputs):
            if all(_is_any(row[j]) for row in self.cells.cells):
                out.append(
                    self.finding(
                        Kind.UNUSED_INPUT,
                        Severity.INFO,
                        (),
                        {},
                        f"入力「{clause.name}」はどの規則でも使われていません（すべて「-」）。",
                        f'Input {clause.name} is not used by any rule (every entry is "-").',
                    )
                )
        return out

    def not_analysed(self) -> tuple[list[Finding], list[NotAnalysedCell]]:
        findings: list[Finding] = []
        cells: list[NotAnalysedCell] = []
        for r in range(len(self.table.rules)):
            if self.cells.has_error(r):
                continue
            general = self.cells.general(r)
            if not general:
                continue
            x_ja, x_en = self.refs(r)
            names = [self.table.inputs[j].name for j in general]
            texts = {self.table.inputs[j].name: self.table.rules[r].when[j] for j in general}
            cells.extend(NotAnalysedCell(self.decision, r + 1, n) for n in names)
            shown_ja = "、".join(f"「{n}」の「{t}」" for n, t in texts.items())
            shown_en = ", ".join(f"{n}: {t!r}" for n, t in texts.items())
            findings.append(
                self.finding(
                    Kind.NOT_ANALYSED,
                    Severity.INFO,
                    (r + 1,),
                    texts,
                    f"{x_ja}の条件{shown_ja}は一般的なFEEL式のため、当てはまる値の範囲を正確に"
                    f"求められません。{x_ja}は抜けと重なりの分析から除外しました。",
                    f"{x_en.capitalize()} has general FEEL entries ({shown_en}) whose exact "
                    f"values cannot be computed; {x_en} was left out of the gap and overlap "
                    "analysis.",
                )
            )
        return findings, cells


def _is_any(cell: Cell) -> bool:
    return isinstance(cell, UnaryTest) and cell.is_any


def _contains(region: Region, value: Any) -> bool:
    try:
        return region.contains(value)
    except TypeError:
        return False


def _named_values(region: Region) -> list[Any]:
    """Values a region names one by one: listed values, or single-point intervals."""
    if region.kind == "discrete":
        return [] if region.complement else sorted(region.values, key=repr)
    return [iv.lo for iv in region.intervals if iv.lo is not None and iv.lo == iv.hi]
