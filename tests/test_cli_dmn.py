"""`kijun import FILE.dmn` and `kijun decide FILE.dmn`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from kijun.cli import app
from kijun.criteria.formats.dmn import version_to_dmn
from kijun.criteria.formats.yaml import load_file

from .test_cli_store import kijun

ROOT = Path(__file__).resolve().parent.parent
NAGI = ROOT / "content" / "nagi"
runner = CliRunner()
BIRTH = {"住民登録": True, "持家取得": False, "居住月数": 12, "定住意思": True, "出生届": True,
         "滞納あり": False}


@pytest.fixture
def migrated(database_url: str) -> str:
    assert kijun(database_url, "db", "upgrade")[0] == 0
    return database_url


def _export(tmp_path: Path, name: str = "shussan-iwaikin", number: int | None = None) -> Path:
    c = load_file(NAGI / f"{name}.yaml")
    v = c.version(number) if number else c.versions[-1]
    p = tmp_path / f"{name}-v{v.number}.dmn"
    p.write_text(version_to_dmn(c, v), encoding="utf-8")
    return p


def _foreign(tmp_path: Path) -> Path:
    """The export without kijun's extension: what another modeler would save."""
    p = _export(tmp_path)
    f = tmp_path / "foreign.dmn"
    f.write_text(re.sub(r"<kijun:criterion[^>]*/>", "", p.read_text("utf-8")), encoding="utf-8")
    return f


def _rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("criteria", "criterion_versions", "audit_log")
            }
    finally:
        engine.dispose()


def test_import_stores_the_version_once(migrated: str, tmp_path: Path) -> None:
    path = _export(tmp_path)
    code, out = kijun(migrated, "import", str(path))
    assert code == 0, out
    assert out["criterion"] == "shussan-iwaikin" and out["version"] == 1
    assert out["status"] == "published" and out["effective_from"] == "2024-04-01"
    assert out["saved"]["versions"]["created"] == [1]
    code, out = kijun(migrated, "import", str(path))
    assert code == 0 and out["saved"]["versions"]["unchanged"] == [1]
    code, shown = kijun(migrated, "criteria", "show", "shussan-iwaikin")
    assert code == 0
    assert [v["number"] for v in shown["versions"]] == [1]


def test_a_foreign_model_becomes_the_next_draft(migrated: str, tmp_path: Path) -> None:
    assert kijun(migrated, "import", str(_export(tmp_path)))[0] == 0
    foreign = str(_foreign(tmp_path))
    code, out = kijun(migrated, "import", foreign)
    assert code == 1 and "--criterion" in out["error"]["message"]
    code, out = kijun(migrated, "import", foreign, "--criterion", "shussan-iwaikin")
    assert code == 1 and "--effective-from" in out["error"]["message"]
    code, out = kijun(migrated, "import", foreign, "--criterion", "shussan-iwaikin",
                      "--effective-from", "2027-04-01")
    assert code == 0, out
    assert (out["version"], out["status"]) == (2, "draft")


def test_import_keeps_the_stored_test_cases(migrated: str, tmp_path: Path) -> None:
    assert kijun(migrated, "load", str(NAGI / "shussan-iwaikin.yaml"))[0] == 0
    _, before = kijun(migrated, "criteria", "show", "shussan-iwaikin")
    code, _ = kijun(migrated, "import", str(_foreign(tmp_path)), "-c", "shussan-iwaikin",
                    "--effective-from", "2030-04-01")
    assert code == 0
    _, after = kijun(migrated, "criteria", "show", "shussan-iwaikin")
    assert after["tests"] == before["tests"] and len(after["tests"]) > 0
    assert after["name"] == before["name"]


def test_a_bad_model_changes_nothing(migrated: str, tmp_path: Path) -> None:
    assert kijun(migrated, "import", str(_export(tmp_path)))[0] == 0
    before = _rows(migrated)
    bad = tmp_path / "bad.dmn"
    good = _export(tmp_path, "jidou-teate").read_text("utf-8")
    # one rule gives a computed value: no part of the model may land
    bad.write_text(good.replace("<text>\"児童手当\"</text>", "<text>受給者要件 + 1</text>", 1),
                   encoding="utf-8")
    code, out = kijun(migrated, "import", str(bad))
    assert code == 1
    message = out["error"]["message"]
    assert "<decision id=" in message and "is not a constant" in message
    broken = tmp_path / "broken.dmn"
    broken.write_text(good[: len(good) // 2], encoding="utf-8")
    code, out = kijun(migrated, "import", str(broken))
    assert code == 1 and "not well-formed XML" in out["error"]["message"]
    assert _rows(migrated) == before


def test_import_of_a_missing_file(migrated: str, tmp_path: Path) -> None:
    code, out = kijun(migrated, "import", str(tmp_path / "nope.dmn"))
    assert code == 1 and "nope.dmn" in out["error"]["message"]


def _decide(*args: str) -> tuple[int, Any]:
    r = runner.invoke(app, ["decide", *args, "--json"])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r.exit_code, json.loads(r.stdout)


def test_decide_on_an_exported_file_gives_the_basis(tmp_path: Path) -> None:
    path = _export(tmp_path)
    code, out = _decide(str(path), "-i", json.dumps(BIRTH, ensure_ascii=False), "--on",
                        "2025-01-01")
    assert code == 0, out
    assert out["outputs"] == {"判定": "支給", "支給額": 100000}
    assert out["basis"][0]["basis"].startswith("奈義町出産祝金支給条例")
    # the same answer as the YAML it came from
    code, same = _decide(str(NAGI / "shussan-iwaikin.yaml"), "-i",
                         json.dumps(BIRTH, ensure_ascii=False), "--on", "2025-01-01")
    assert same["outputs"] == out["outputs"] and same["matched"] == out["matched"]


def test_decide_on_a_foreign_file(tmp_path: Path) -> None:
    code, out = _decide(str(_foreign(tmp_path)), "-i", json.dumps(BIRTH, ensure_ascii=False))
    assert code == 0, out
    assert out["outputs"]["判定"] == "支給"


GENERAL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="d" name="年齢"
             namespace="urn:example:age">
  <inputData id="i_birth" name="生年月日"><variable name="生年月日" typeRef="date"/></inputData>
  <inputData id="i_on" name="基準日"><variable name="基準日" typeRef="date"/></inputData>
  <decision id="d_age" name="満年齢">
    <variable name="満年齢" typeRef="number"/>
    <informationRequirement id="r1"><requiredInput href="#i_birth"/></informationRequirement>
    <informationRequirement id="r2"><requiredInput href="#i_on"/></informationRequirement>
    <literalExpression><text>years and months duration(生年月日, 基準日).years</text></literalExpression>
  </decision>
</definitions>
"""


def test_decide_on_a_model_beyond_decision_tables(tmp_path: Path) -> None:
    p = tmp_path / "age.dmn"
    p.write_text(GENERAL, encoding="utf-8")
    code, out = _decide(str(p), "-i", '{"生年月日": "平成2年4月2日", "基準日": "2026-04-01"}')
    assert code == 0, out
    assert out["outputs"] == {"満年齢": 35}
    assert out["engine"] == "dmn" and "Literal expression" in out["note"]
    code, out = _decide(str(p), "-i", '{"生年月日": "2月30日", "基準日": "2026-04-01"}')
    assert code == 1 and "生年月日" in out["error"]["message"]
    code, out = _decide(str(p), "-d", "年収", "-i", "{}")
    assert code == 1 and "no decision named '年収'" in out["error"]["message"]
