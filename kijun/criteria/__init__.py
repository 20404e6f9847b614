"""kijun.criteria: the engine — one stable import surface over private modules.

    from kijun.criteria import load_file, decide
    criterion = load_file("content/nagi/jidou-teate.yaml")
    result = decide(criterion, {"年齢": 2, ...}, on="2025-04-01")

Pure Python: no database and no web imports. `decide_frame` (Polars) is
imported on first use so that deciding one case stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kijun.criteria.decide import decide, decide_version, version_in_force
from kijun.criteria.errors import (
    CriteriaError,
    FactError,
    FeelSyntaxError,
    FeelTypeError,
    HitPolicyError,
    LoadError,
    ModelError,
    NoVersionError,
)
from kijun.criteria.formats.yaml import load_file, load_path, loads
from kijun.criteria.model import (
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
)
from kijun.criteria.result import DecisionResult, Status
from kijun.criteria.testing import TestReport, run_tests

if TYPE_CHECKING:
    from kijun.criteria.batch import decide_frame

__all__ = [
    "Aggregation",
    "CriteriaError",
    "Criterion",
    "DecisionResult",
    "DecisionTable",
    "FactError",
    "FeelSyntaxError",
    "FeelTypeError",
    "HitPolicy",
    "HitPolicyError",
    "InputClause",
    "LoadError",
    "ModelError",
    "NoVersionError",
    "OutputClause",
    "Rule",
    "Status",
    "TestCase",
    "TestReport",
    "ValueType",
    "Version",
    "VersionStatus",
    "decide",
    "decide_frame",
    "decide_version",
    "load_file",
    "load_path",
    "loads",
    "run_tests",
    "version_in_force",
]


def __getattr__(name: str) -> Any:
    if name == "decide_frame":
        from kijun.criteria.batch import decide_frame

        return decide_frame
    raise AttributeError(name)
