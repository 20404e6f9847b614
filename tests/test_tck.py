"""The DMN TCK (compliance levels 2 and 3) as a regression floor.

The floors are the pass counts reached so far: a change that loses a passing
TCK case fails CI. Raise them when more cases pass. The TCK lives next to the
repository (`../shared/dmn-tck`); without it these tests are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kijun.cli import app
from kijun.criteria.dmn import run_tck

CL2_FLOOR = 116  # of 116
CL3_FLOOR = 3066  # of 3084 (the 18 others call Java functions, 0076)

TCK = Path(__file__).resolve().parents[1].parent / "shared" / "dmn-tck"

pytestmark = pytest.mark.skipif(
    not TCK.is_dir(), reason=f"DMN TCK not found at {TCK} (clone dmn-tck/tck there to run it)"
)


def test_compliance_level_2() -> None:
    summary = run_tck(TCK / "compliance-level-2").summary()
    assert summary["total"] == 116
    assert summary["passed"] >= CL2_FLOOR, summary


def test_compliance_level_3() -> None:
    summary = run_tck(TCK / "compliance-level-3").summary()
    assert summary["passed"] >= CL3_FLOOR, {k: v for k, v in summary.items() if k != "by_folder"}


def test_cli_tck_json_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "tck_results.csv"
    result = CliRunner().invoke(
        app, ["tck", str(TCK / "compliance-level-2"), "--json", "--csv", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert set(summary) == {"total", "passed", "failed", "errors", "skipped", "by_folder"}
    assert summary["passed"] >= CL2_FLOOR
    assert summary["by_folder"]["compliance-level-2/0004-simpletable-U"]["total"] >= 1
    rows = out.read_text(encoding="utf-8").splitlines()
    assert len(rows) == summary["total"]
    assert rows[0].startswith('"compliance-level-2/0001-input-data-string",')
