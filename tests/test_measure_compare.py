"""Before/after comparisons, the bootstrap, the Japanese summary and `kijun metrics`.

Data: receipt.xes.gz (Buijs, J.C.A.M., CoSeLoG project, 4TU.ResearchData; see
../shared/data/event-logs/DISCLAIMER) where a test needs a real log.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kijun.cli import app
from kijun.measure import (
    METRIC_NAMES,
    Event,
    EventLog,
    compare,
    compute_metrics,
    prepare,
    split_by_attribute,
    split_by_date,
    write_xes,
)
from kijun.measure.compare import case_arrays, summarise_ja, weighted_metrics

LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "event-logs"
JST = timezone(timedelta(hours=9))


def log_path(name: str) -> Path:
    path = LOGS / name
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data/event-logs is not here)")
    return path


def town(n_before: int = 40, n_after: int = 40, seed: int = 1) -> EventLog:
    """Cases before April 2025 are sent back (審査 → 受付 → 審査) one time in two,
    cases after it one time in ten; each step takes a few hours."""
    rng = np.random.default_rng(seed)
    events: list[Event] = []
    for i in range(n_before + n_after):
        after = i >= n_before
        t = datetime(2025, 4 if after else 3, 1 + i % 20, 9, 0, tzinfo=JST)
        steps = ["受付", "審査"]
        if rng.random() < (0.1 if after else 0.5):
            steps += ["受付", "審査"]
        steps.append("決裁")
        for j, step in enumerate(steps):
            events.append(Event(f"c{i:03d}", step, t + timedelta(hours=2 * j),
                                resource=f"r{(i + j) % 3}", department="住民課",
                                attributes={"経路": "電子" if after else "紙"}))
    return EventLog.from_events(events)


def test_split_by_date_and_attribute_partition_the_cases() -> None:
    log = town()
    before, after = split_by_date(log, date(2025, 4, 1))
    assert before.cases.height == after.cases.height == 40
    assert set(before.cases["case"]) | set(after.cases["case"]) == set(log.cases["case"])
    rest, paper = split_by_attribute(log, "経路", "紙")
    assert set(paper.cases["case"]) == set(before.cases["case"])
    rest, welfare = split_by_attribute(log, "department", "住民課")
    assert welfare.cases.height == 80 and rest.cases.height == 0
    with pytest.raises(ValueError, match="no case or event"):
        split_by_attribute(log, "colour", "blue")


def test_compare_gives_differences_intervals_and_a_summary() -> None:
    log = town()
    before, after = split_by_date(log, date(2025, 4, 1))
    c = compare(before, after, resamples=300)
    m_before, m_after = compute_metrics(before), compute_metrics(after)
    rate = c["return_rate"]
    assert rate.before == m_before["return_rate"] and rate.after == m_after["return_rate"]
    assert rate.difference == pytest.approx(m_after["return_rate"] - m_before["return_rate"])
    assert rate.ci_low is not None and rate.ci_high is not None
    assert rate.ci_low <= rate.difference <= rate.ci_high
    assert rate.significant and rate.ci_high < 0
    assert c["cases"].ci_low is None and c["variants"].ci_low is None  # no interval for these
    assert c["cases"].difference == 0 and isinstance(c["events"].difference, int)
    assert {ch.name for ch in c.changes} == set(METRIC_NAMES)
    line = next(s for s in c.summary if s.startswith("差し戻し率は"))
    assert "から" in line and "に低下" in line and "95%信頼区間" in line and "ポイント" in line
    assert "偶然とは考えにくい差" in line
    data = c.to_dict()
    assert data["metrics"]["return_rate"]["ci95"] == [rate.ci_low, rate.ci_high]
    assert data["bootstrap"] == {"resamples": 300, "seed": c.seed, "unit": "case",
                                 "interval": "percentile 2.5–97.5"}
    json.dumps(data, ensure_ascii=False)


def test_the_bootstrap_is_reproducible() -> None:
    before, after = split_by_date(town(), date(2025, 4, 1))
    a = compare(before, after, resamples=100, seed=7)
    b = compare(before, after, resamples=100, seed=7)
    c = compare(before, after, resamples=100, seed=8)
    assert a.changes == b.changes
    assert a.changes != c.changes


def test_unit_weights_give_the_metrics_exactly() -> None:
    for log in (town(), town(3, 0)):
        p = prepare(log)
        got = weighted_metrics(case_arrays(p), np.ones(p.cases.height))
        want = compute_metrics(p)
        for name in METRIC_NAMES:
            assert got[name] == (pytest.approx(want[name], rel=1e-12)
                                 if isinstance(want[name], float) else want[name]), name


def test_weights_are_repeated_cases() -> None:
    log = town(6, 6)
    p = prepare(log)
    w = np.array([2, 0, 1, 3, 0, 1, 1, 0, 0, 2, 1, 1], dtype=float)
    repeated = []
    for i, case in enumerate(p.cases["case"].to_list()):
        for k in range(int(w[i])):
            part = log.select_cases([case]).events.to_dicts()
            repeated += [Event(f"{case}-{k}", e["activity"], e["timestamp"],
                               resource=e["resource"], department=e["department"])
                         for e in part]
    want = compute_metrics(EventLog.from_events(repeated))
    got = weighted_metrics(case_arrays(p), w)
    for name in METRIC_NAMES:
        assert got[name] == (pytest.approx(want[name], rel=1e-12)
                             if isinstance(want[name], float) else want[name]), name


def test_an_empty_part_is_said_plainly() -> None:
    before, after = split_by_date(town(), date(2030, 1, 1))
    c = compare(before, after, resamples=20)
    assert c.summary == ("案件数: 変更前 80件、変更後 0件。", "変更後に案件がないため、比べられません。")
    assert c["return_rate"].after is None and c["return_rate"].ci_low is None


def test_summary_wording() -> None:
    from kijun.measure.compare import MetricChange

    lines = summarise_ja([
        MetricChange("return_rate", 0.123, 0.071, -0.052, -0.070, -0.034),
        MetricChange("lead_time_median", 5 * 86400, 3 * 86400, -2 * 86400, -3 * 86400, 0.5),
        MetricChange("handoffs_mean", 2.0, 2.0, 0.0, -0.1, 0.1),
        MetricChange("cases", 120, 98, -22, 0.0, 0.0),
    ])
    assert lines[0] == "案件数: 変更前 120件、変更後 98件。"
    assert lines[1] == ("リードタイム（中央値）は 5.0 日 から 3.0 日 に短縮（差 −2.0 日、"
                        "95%信頼区間 −3.0〜+0.0 日、偶然の範囲内の差）。")
    assert lines[2] == ("差し戻し率は 12.3% から 7.1% に低下（差 −5.2 ポイント、"
                        "95%信頼区間 −7.0〜−3.4 ポイント、偶然とは考えにくい差）。")
    assert lines[3].startswith("1件あたりの引き継ぎ回数は 2.00 回 のまま変わりません")


# -- the command -------------------------------------------------------------------------------


def write_town(tmp_path: Path) -> Path:
    path = tmp_path / "town.xes.gz"
    write_xes(town(), path)
    return path


def test_cli_metrics_json_uses_the_metric_names(tmp_path: Path) -> None:
    path = write_town(tmp_path)
    result = CliRunner().invoke(app, ["metrics", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data["metrics"]) == list(METRIC_NAMES)
    assert data["metrics"]["cases"] == 80 and data["complete_only"] is False
    assert data["business_hours"]["opens"] == "08:30"


def test_cli_metrics_text_and_by(tmp_path: Path) -> None:
    path = write_town(tmp_path)
    result = CliRunner().invoke(app, ["metrics", str(path)])
    assert result.exit_code == 0, result.output
    assert "first_time_right_rate" in result.stdout and "一発完了率" in result.stdout
    result = CliRunner().invoke(app, ["metrics", str(path), "--by", "month", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert [r["month"] for r in rows] == ["2025-03", "2025-04"]
    result = CliRunner().invoke(app, ["metrics", str(path), "--by", "activity"])
    assert result.exit_code == 0 and "審査" in result.stdout


def test_cli_metrics_split(tmp_path: Path) -> None:
    path = write_town(tmp_path)
    result = CliRunner().invoke(app, ["metrics", str(path), "--split-date", "2025-04-01",
                                      "--resamples", "200", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["parts"] == {"before": "変更前", "after": "変更後"}
    assert data["metrics"]["return_rate"]["significant"] is True
    assert any(s.startswith("差し戻し率は") for s in data["summary_ja"])
    result = CliRunner().invoke(app, ["metrics", str(path), "--split-attr", "経路=電子",
                                      "--resamples", "50"])
    assert result.exit_code == 0, result.output
    assert "経路≠電子" in result.stdout and "95%信頼区間" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--split-date", "2025-13-01"], "--split-date must be a date"),
    (["--split-date", "2025-04-01", "--split-attr", "a=b"], "not both"),
    (["--by", "colour"], "--by must be one of"),
    (["--by", "month", "--split-date", "2025-04-01"], "cannot be combined"),
    (["--split-attr", "nothing"], "NAME=VALUE"),
    (["--hours", "17:00-9:00"], "closing time"),
])
def test_cli_metrics_errors(tmp_path: Path, args: list[str], message: str) -> None:
    path = write_town(tmp_path)
    result = CliRunner().invoke(app, ["metrics", str(path), *args, "--json"])
    assert result.exit_code == 1
    assert message in json.loads(result.stdout)["error"]["message"]


def test_cli_metrics_on_a_bad_log(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xes"
    bad.write_text("<log><trace><string key='concept:name' value='a'/><event>"
                   "<string key='concept:name' value='A'/></event></trace></log>")
    result = CliRunner().invoke(app, ["metrics", str(bad)])
    assert result.exit_code == 1
    assert "without time:timestamp" in result.output and "line 1" in result.output


def test_cli_metrics_on_receipt() -> None:
    result = CliRunner().invoke(app, ["metrics", str(log_path("receipt.xes.gz")), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["complete_only"] is True and data["metrics"]["events"] == 8577


def test_measure_imports_neither_the_database_nor_the_web() -> None:
    code = ("import sys, kijun.measure, kijun.measure.ocel\n"
            "bad = [m for m in sys.modules if m.startswith(('kijun.web', 'kijun.store', "
            "'sqlalchemy', 'fastapi', 'starlette'))]\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
