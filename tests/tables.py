"""Small builders for decision tables in tests."""

from __future__ import annotations

import datetime as dt
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
    ValueType,
    Version,
)


def table(
    policy: HitPolicy | str,
    inputs: list[tuple[str, str]],
    outputs: list[tuple[str, str]],
    rows: list[tuple[list[str], list[Any]]],
    *,
    name: str = "t",
    aggregation: Aggregation | None = None,
    allowed_out: dict[str, tuple[Any, ...]] | None = None,
    defaults: dict[str, Any] | None = None,
) -> DecisionTable:
    allowed_out = allowed_out or {}
    defaults = defaults or {}
    return DecisionTable(
        name=name,
        hit_policy=HitPolicy(policy),
        aggregation=aggregation,
        inputs=tuple(InputClause(n, ValueType(t)) for n, t in inputs),
        outputs=tuple(
            OutputClause(n, ValueType(t), allowed_out.get(n), defaults.get(n, NO_DEFAULT))
            for n, t in outputs
        ),
        rules=tuple(
            Rule(id=f"R{i + 1}", when=tuple(w), then=tuple(o), basis=f"第{i + 1}条")
            for i, (w, o) in enumerate(rows)
        ),
    )


def criterion(*decisions: DecisionTable, cid: str = "c") -> Criterion:
    return Criterion(
        id=cid,
        name="テスト",
        versions=(Version(1, dt.date(2020, 1, 1), tuple(decisions)),),
    )
