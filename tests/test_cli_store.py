"""The store's CLI commands (`kijun db|load|criteria|audit`), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from kijun.cli import app
from kijun.criteria.model import Criterion, VersionStatus
from kijun.store import db

if TYPE_CHECKING:
    from tests.conftest import Samples

runner = CliRunner()


def kijun(database_url: str, *args: str) -> tuple[int, Any]:
    """Run a command with --json; returns the exit code and the parsed stdout."""
    result = runner.invoke(app, [*args, "--database-url", database_url, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture
def migrated(database_url: str) -> str:
    code, out = kijun(database_url, "db", "upgrade")
    assert code == 0 and out["revision"] == db.head_revision()
    return database_url


@pytest.fixture
def loader(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Criterion]]:
    """Stands in for the YAML loader: `loader[path] = [criteria]`."""
    files: dict[str, list[Criterion]] = {}
    monkeypatch.setattr("kijun.criteria.formats.yaml.load_path", lambda path: files[str(path)])
    return files


def test_db_upgrade(database_url: str) -> None:
    code, out = kijun(database_url, "db", "upgrade")
    assert code == 0
    assert out["revision"] == out["head"] == db.head_revision()
    assert db.current_revision(database_url) == out["revision"]
    assert kijun(database_url, "db", "upgrade")[0] == 0


def test_commands_refuse_an_unmigrated_database(database_url: str) -> None:
    code, out = kijun(database_url, "criteria", "list")
    assert code == 1
    assert "kijun db upgrade" in out["error"]["message"]


def test_load_list_show(
    migrated: str, loader: dict[str, list[Criterion]], samples: type[Samples]
) -> None:
    loader["content"] = [
        samples.criterion(
            samples.version(1, "2004-04-01", effective_to="2024-04-01"),
            samples.version(2, "2024-04-01"),
        ),
        samples.criterion(samples.version(1, "2030-04-01", status=VersionStatus.DRAFT),
                          id="jidou-teate", name="児童手当"),
    ]
    code, out = kijun(migrated, "load", "content", "--actor", "test:loader")
    assert code == 0
    assert out["loaded"][0] == {
        "id": "shussan-iwaikin",
        "criterion": "created",
        "versions": {"created": [1, 2], "updated": [], "published": [], "retired": [],
                     "unchanged": []},
    }
    assert kijun(migrated, "load", "content")[1]["loaded"][0]["criterion"] == "unchanged"

    code, out = kijun(migrated, "criteria", "list")
    assert code == 0
    assert out["criteria"] == [
        {"id": "jidou-teate", "name": "児童手当", "department": "こども・長寿課", "life_events": [],
         "versions": 1, "current_version": None, "current_effective_from": None},
        {"id": "shussan-iwaikin", "name": "出産祝金", "department": "こども・長寿課",
         "life_events": [], "versions": 2, "current_version": 2,
         "current_effective_from": "2024-04-01"},
    ]

    code, out = kijun(migrated, "criteria", "show", "shussan-iwaikin")
    assert code == 0
    assert out["name"] == "出産祝金"
    assert [v["number"] for v in out["versions"]] == [1, 2]
    assert len(out["versions"][1]["content_hash"]) == 64
    assert out["versions"][1]["decisions"][0]["rules"][0]["then"][1] == {"$decimal": "100000.5"}
    assert out["tests"][0]["input"]["申請日"] == {"$date": "2025-04-01"}

    code, out = kijun(migrated, "criteria", "show", "nothing")
    assert code == 1 and out["error"]["kind"] == "not_found"

    code, out = kijun(migrated, "audit", "list", "--limit", "2")
    assert code == 0
    assert [e["seq"] for e in out["entries"]] == [5, 4]
    assert out["entries"][1]["actor"] == "test:loader"
    assert kijun(migrated, "audit", "verify") == (
        0, {"ok": True, "entries": 5, "last_seq": 5, "head_seq": 5, "problems": []}
    )


def test_load_refuses_a_changed_published_version_and_stores_nothing(
    migrated: str, loader: dict[str, list[Criterion]], samples: type[Samples]
) -> None:
    loader["v1"] = [samples.criterion(samples.version(1, "2004-04-01"))]
    assert kijun(migrated, "load", "v1")[0] == 0
    before = kijun(migrated, "audit", "list", "--limit", "100")[1]

    loader["changed"] = [
        samples.criterion(samples.version(1, "2004-04-01"), id="another", name="別の基準"),
        samples.criterion(samples.version(1, "2004-04-01", amount=Decimal(1))),
    ]
    code, out = kijun(migrated, "load", "changed")
    assert code == 1
    assert "version 1 is published" in out["error"]["message"]
    assert "add a new version" in out["error"]["message"]
    # All or nothing: the first criterion of the load was not kept either.
    assert kijun(migrated, "audit", "list", "--limit", "100")[1] == before
    assert [c["id"] for c in kijun(migrated, "criteria", "list")[1]["criteria"]] == [
        "shussan-iwaikin"
    ]


def test_load_of_nothing(migrated: str, loader: dict[str, list[Criterion]]) -> None:
    loader["empty"] = []
    code, out = kijun(migrated, "load", "empty")
    assert code == 1 and "no criterion files" in out["error"]["message"]


def test_publish_and_retire(
    migrated: str, loader: dict[str, list[Criterion]], samples: type[Samples]
) -> None:
    loader["c"] = [
        samples.criterion(
            samples.version(1, "2004-04-01"),
            samples.version(2, "2026-04-01", status=VersionStatus.DRAFT),
        )
    ]
    kijun(migrated, "load", "c")
    code, out = kijun(migrated, "criteria", "publish", "shussan-iwaikin", "2",
                      "--effective-from", "2026-05-01", "--actor", "test:approver")
    assert code == 0
    assert (out["status"], out["effective_from"]) == ("published", "2026-05-01")
    code, out = kijun(migrated, "criteria", "publish", "shussan-iwaikin", "2")
    assert code == 1 and "only a draft" in out["error"]["message"]
    code, out = kijun(migrated, "criteria", "publish", "shussan-iwaikin", "2",
                      "--effective-from", "R8.5.1")
    assert code == 1 and "--effective-from" in out["error"]["message"]

    code, out = kijun(migrated, "criteria", "retire", "shussan-iwaikin", "1",
                      "--effective-to", "2026-05-01")
    assert code == 0 and (out["status"], out["effective_to"]) == ("retired", "2026-05-01")
    entries = kijun(migrated, "audit", "list")[1]["entries"]
    assert [e["action"] for e in entries[:2]] == ["version.retire", "version.publish"]
    assert entries[1]["actor"] == "test:approver"


def test_audit_verify_names_the_broken_entry(
    migrated: str, loader: dict[str, list[Criterion]], samples: type[Samples]
) -> None:
    loader["c"] = [samples.criterion()]
    kijun(migrated, "load", "c")
    engine = db.make_engine(migrated)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET target = 'criterion/other' WHERE seq = 1"))
            conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    finally:
        engine.dispose()
    code, out = kijun(migrated, "audit", "verify")
    assert code == 1 and out["ok"] is False
    assert [(p["kind"], p["seq"]) for p in out["problems"]] == [("changed", 1), ("truncated", 2)]
    assert "entry 1 (criterion.create criterion/other)" in out["problems"][0]["message"]

    result = runner.invoke(app, ["audit", "verify", "--database-url", migrated])
    assert result.exit_code == 1
    assert "BROKEN (changed): entry 1" in result.stderr


def test_database_url_from_the_environment(
    migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(db.ENV_VAR, migrated)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit log intact: 0 entries" in result.stdout


def test_load_real_yaml(migrated: str, tmp_path: Path) -> None:
    pytest.importorskip("kijun.criteria.formats.yaml")
    folder = tmp_path / "criteria"
    folder.mkdir()
    (folder / "shussan-iwaikin.yaml").write_text(
        textwrap.dedent(
            """\
            id: shussan-iwaikin
            name: 出産祝金
            department: こども・長寿課
            basis: 奈義町出産祝金支給条例
            versions:
              - effective_from: 2004-04-01
                decisions:
                  - name: 支給判定
                    hit_policy: UNIQUE
                    inputs:  [{name: 定住, type: boolean}, {name: 滞納あり, type: boolean}]
                    outputs: [{name: 判定, type: string, allowed: [支給, 不支給]},
                              {name: 支給額, type: number}]
                    rules:
                      - {when: {定住: true,  滞納あり: false}, then: {判定: 支給, 支給額: 100000.5},
                         basis: 第3条・第4条}
                      - {when: {定住: false}, then: {判定: 不支給, 支給額: 0}, basis: 第3条}
                      - {when: {定住: true,  滞納あり: true},  then: {判定: 不支給, 支給額: 0},
                         basis: 第3条ただし書}
            tests:
              - {name: 定住・滞納なし, on: 2025-04-01, input: {定住: true, 滞納あり: false},
                 expect: {判定: 支給, 支給額: 100000.5}}
            """
        ),
        encoding="utf-8",
    )
    code, out = kijun(migrated, "load", str(folder))
    assert code == 0, out
    assert out["loaded"][0]["versions"]["created"] == [1]
    shown = kijun(migrated, "criteria", "show", "shussan-iwaikin")[1]
    assert shown["versions"][0]["decisions"][0]["rules"][0]["basis"] == "第3条・第4条"
    assert kijun(migrated, "audit", "verify")[0] == 0
