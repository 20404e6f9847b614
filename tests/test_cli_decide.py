"""`kijun decide` and `kijun test`: JSON shapes and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kijun.cli import app

from .test_yaml_format import DOC

runner = CliRunner()


def _file(tmp_path: Path, text: str = DOC) -> str:
    p = tmp_path / "shussan.yaml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_decide_json(tmp_path: Path) -> None:
    facts = json.dumps({"定住": True, "滞納あり": False, "住居": "持家"}, ensure_ascii=False)
    r = runner.invoke(app, ["decide", _file(tmp_path), "--input", facts, "--on", "2025-04-01",
                            "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert {"decision", "outputs", "matched", "basis", "version", "trace"} <= set(data)
    assert data["decision"] == "支給判定"
    assert data["outputs"] == {"判定": "支給", "支給額": 100000}
    assert data["matched"] == ["R1"]
    assert data["basis"][0]["basis"] == "第3条・第4条"
    assert data["version"]["number"] == 1
    assert data["trace"][0]["rules"][0]["matched"] is True


def test_decide_exception_exits_2_and_names_inputs(tmp_path: Path) -> None:
    facts = json.dumps({"定住": None, "滞納あり": False, "住居": "持家"})
    r = runner.invoke(app, ["decide", _file(tmp_path), "--input", facts, "--json"])
    assert r.exit_code == 2, r.output
    data = json.loads(r.stdout)
    assert data["status"] == "exception"
    assert data["exception"]["inputs_outside"] == ["定住"]


def test_decide_error_exits_1(tmp_path: Path) -> None:
    r = runner.invoke(app, ["decide", _file(tmp_path), "--input", '{"定住": true}', "--json"])
    assert r.exit_code == 1
    assert "滞納あり" in json.loads(r.stdout)["error"]["message"]
    r = runner.invoke(app, ["decide", _file(tmp_path), "--input", "{not json", "--json"])
    assert r.exit_code == 1 and "--input" in r.stdout


def test_decide_plain_output(tmp_path: Path) -> None:
    facts = json.dumps({"定住": True, "滞納あり": False, "住居": "社宅"})
    r = runner.invoke(app, ["decide", _file(tmp_path), "--input", facts])
    assert r.exit_code == 0
    assert "支給額: 50000.5" in r.stdout and "根拠" in r.stdout


def test_test_command_json_and_exit_codes(tmp_path: Path) -> None:
    r = runner.invoke(app, ["test", _file(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["passed"], data["failed"]) == (3, 0)
    assert len(data["cases"]) == 3
    bad = DOC.replace("expect: {判定: 支給, 支給額: 100000}", "expect: {判定: 不支給}")
    r = runner.invoke(app, ["test", _file(tmp_path, bad)])
    assert r.exit_code == 1
    assert "FAIL shussan-iwaikin / 定住・滞納なし" in r.stdout
    assert "2 passed, 1 failed" in r.stdout


def test_test_command_reports_load_errors_with_line(tmp_path: Path) -> None:
    r = runner.invoke(app, ["test", _file(tmp_path, DOC.replace("department:", "dept:"))])
    assert r.exit_code == 1
    assert "shussan.yaml:3" in r.output
