"""Compile every input cell of a table, keeping errors instead of raising them.

Compiled tests are shared with the engine's cache (`kijun.criteria.compile`),
so verifying a table that was just loaded parses nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from kijun.criteria.compile import _compile_unary_tests
from kijun.criteria.errors import FeelSyntaxError, FeelTypeError
from kijun.criteria.feel import UnaryTest
from kijun.criteria.model import DecisionTable
from kijun.criteria.region import Region


@dataclass(frozen=True, slots=True)
class CellError:
    """A cell that does not compile for its input's type."""

    text: str
    syntax: bool  #: True: it does not parse; False: it parses but has the wrong type
    reason: str


Cell = UnaryTest | CellError


@dataclass(frozen=True, slots=True)
class TableCells:
    """The compiled cells of one table, `[rule][input]`."""

    table: DecisionTable
    cells: tuple[tuple[Cell, ...], ...]

    def region(self, rule: int, column: int) -> Region | None:
        cell = self.cells[rule][column]
        return cell.region if isinstance(cell, UnaryTest) else None

    def has_error(self, rule: int) -> bool:
        return any(isinstance(c, CellError) for c in self.cells[rule])

    def general(self, rule: int) -> list[int]:
        """Columns where the rule's cell compiles but has no exact region (general FEEL)."""
        return [
            j
            for j, c in enumerate(self.cells[rule])
            if isinstance(c, UnaryTest) and c.region is None
        ]

    def analysed(self, rule: int) -> bool:
        """Whether every cell of the rule has an exact region."""
        return all(isinstance(c, UnaryTest) and c.region is not None for c in self.cells[rule])


def compile_cells(table: DecisionTable) -> TableCells:
    rows = []
    for rule in table.rules:
        row: list[Cell] = []
        for j, clause in enumerate(table.inputs):
            text = rule.when[j] if j < len(rule.when) else "-"
            try:
                row.append(_compile_unary_tests(text, clause.type))
            except FeelSyntaxError as e:
                row.append(CellError(text, True, str(e)))
            except FeelTypeError as e:
                row.append(CellError(text, False, str(e)))
        rows.append(tuple(row))
    return TableCells(table, tuple(rows))
