"""`kijun events import|list|export|delete` and `kijun metrics --stored`, on SQLite and PostgreSQL.

Data: ../shared/data/event-logs/ (receipt.xes.gz: Buijs, J.C.A.M., CoSeLoG
project; ocel20_example: the OCEL 2.0 specification's example); the tests
that need them skip when they are absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kijun.cli import app
from kijun.measure import compute_metrics, read_ocel, read_xes
from kijun.store import db, submit_draft
from kijun.store.events import find_event_log, load_event_log
from tests.conftest import Samples

runner = CliRunner()
LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "event-logs"


def log_path(name: str) -> Path:
    path = LOGS / name
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data/event-logs is not here)")
    return path


def kijun(database_url: str, *args: str) -> tuple[int, Any]:
    """Run a command with --json; the exit code and the parsed stdout."""
    result = runner.invoke(app, [*args, "--database-url", database_url, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture
def migrated(database_url: str) -> str:
    code, _ = kijun(database_url, "db", "upgrade")
    assert code == 0
    return database_url


def test_import_list_export_and_metrics_of_a_stored_log(migrated: str, tmp_path: Path) -> None:
    path = log_path("receipt.xes.gz")
    code, out = kijun(migrated, "events", "import", str(path), "--name", "WABO 受付",
                      "--actor", "kanri")
    assert code == 0
    imported = out["imported"]
    assert imported["name"] == "WABO 受付" and imported["source"] == "receipt.xes.gz"
    assert (imported["events"], imported["cases"]) == (8577, 1434)
    assert imported["imported_by"] == "kanri"
    key = imported["key"]

    code, out = kijun(migrated, "events", "list")
    assert code == 0
    assert [x["key"] for x in out["logs"]] == ["kijun", key]

    code, out = kijun(migrated, "metrics", "--stored", key)
    assert code == 0
    assert out["log"] == f"stored:{key}"
    assert out["metrics"] == compute_metrics(read_xes(path))
    assert out["metrics"]["first_time_right_rate"] == pytest.approx(0.9365411436541144)

    code, out = kijun(migrated, "metrics", "--stored", key, "--split-date", "2011-07-01",
                      "--resamples", "50")
    assert code == 0 and out["metrics"]["cases"]["before"] == 848

    xes = tmp_path / "back.xes.gz"
    code, _ = kijun(migrated, "events", "export", key, "--format", "xes", "-o", str(xes))
    assert code == 0
    assert read_xes(xes).events.equals(read_xes(path).events)
    ocel_file = tmp_path / "back.jsonocel"
    code, _ = kijun(migrated, "events", "export", key, "--format", "ocel-json",
                    "-o", str(ocel_file))
    assert code == 0
    ocel = read_ocel(ocel_file)
    assert len(ocel.events) == 8577 and len(ocel.objects) == 1434


def test_an_ocel_log_is_imported_on_one_object_type(migrated: str) -> None:
    path = log_path("ocel20_example.jsonocel")
    code, out = kijun(migrated, "events", "import", str(path))
    assert code == 1
    assert "--object-type" in out["error"]["message"]
    assert "'Purchase Order'" in out["error"]["message"]
    code, out = kijun(migrated, "events", "import", str(path), "--object-type",
                      "Purchase Order", "--resource", "po_creator")
    assert code == 0 and out["imported"]["name"] == "ocel20_example"
    assert out["imported"]["cases"] == 2


def test_kijuns_own_log_from_the_cli(migrated: str, tmp_path: Path) -> None:
    engine = db.make_engine(migrated)
    try:
        with db.session_scope(engine) as s:
            from kijun.criteria.model import VersionStatus
            from kijun.store import save_criterion

            save_criterion(s, Samples.criterion(
                Samples.version(1, "2004-04-01"),
                Samples.version(2, "2026-04-01", status=VersionStatus.DRAFT)), actor="cli:x")
            submit_draft(s, "shussan-iwaikin", 2, actor="cli:x")
        with db.session_scope(engine) as s:
            own = load_event_log(s, find_event_log(s, "kijun").id)
    finally:
        engine.dispose()
    assert own.events["activity"].to_list() == ["公開", "下書き作成", "承認依頼"]
    code, out = kijun(migrated, "metrics", "--stored", "KIJUN")
    assert code == 0 and out["metrics"]["events"] == 3 and out["metrics"]["cases"] == 2
    target = tmp_path / "kijun.xes"
    code, out = kijun(migrated, "events", "export", "kijun", "-o", str(target))
    assert code == 0 and out["log"]["builtin"] is True
    assert read_xes(target).events["activity"].to_list() == ["公開", "下書き作成", "承認依頼"]


def test_errors(migrated: str, tmp_path: Path) -> None:
    code, out = kijun(migrated, "metrics")
    assert code == 1 and "--stored" in out["error"]["message"]
    code, out = kijun(migrated, "metrics", "--stored", "42")
    assert code == 1 and "no event log 42" in out["error"]["message"]
    code, out = kijun(migrated, "events", "export", "kijun", "--format", "csv",
                      "-o", str(tmp_path / "x.csv"))
    assert code == 1 and "--format" in out["error"]["message"]
    bad = tmp_path / "bad.xes"
    bad.write_text('<log><trace><string key="concept:name" value="1"/><event>'
                   '<string key="concept:name" value="a"/></event></trace></log>')
    code, out = kijun(migrated, "events", "import", str(bad))
    assert code == 1 and "time:timestamp" in out["error"]["message"]
    code, out = kijun(migrated, "events", "list")
    assert [x["key"] for x in out["logs"]] == ["kijun"]  # nothing half-imported
    code, out = kijun(migrated, "events", "delete", "1")
    assert code == 1 and "cannot be deleted" in out["error"]["message"]
    code, out = kijun(migrated, "events", "import", str(tmp_path / "log.txt"))
    assert code == 1 and "not an event log" in out["error"]["message"]


def test_delete(migrated: str) -> None:
    path = log_path("running-example.xes.gz")
    code, out = kijun(migrated, "events", "import", str(path))
    assert code == 0
    log_id = out["imported"]["id"]
    code, out = kijun(migrated, "events", "delete", str(log_id), "--actor", "kanri")
    assert code == 0 and out["deleted"]["events"] == 42
    code, out = kijun(migrated, "events", "list")
    assert [x["key"] for x in out["logs"]] == ["kijun"]
