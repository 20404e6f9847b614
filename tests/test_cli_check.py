"""`kijun check`: findings as JSON, exit code 1 on an error-level finding."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kijun.cli import app
from kijun.criteria.formats.dmn import version_to_dmn
from kijun.criteria.formats.yaml import loads

from .test_cli_store import kijun

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

GAP = textwrap.dedent("""\
    id: kessai
    name: 決裁区分
    versions:
      - effective_from: 2024-04-01
        decisions:
          - name: 決裁者
            hit_policy: UNIQUE
            inputs: [{name: 金額, type: number}]
            outputs: [{name: 決裁者, type: string}]
            rules:
              - {when: {金額: "< 100000"}, then: {決裁者: 課長}, basis: 規程第5条}
              - {when: {金額: "> 100000"}, then: {決裁者: 副町長}}
""")


def _check(*args: str) -> tuple[int, Any]:
    r = runner.invoke(app, ["check", *args, "--json"])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r.exit_code, json.loads(r.stdout)


def _file(tmp_path: Path, text: str = GAP) -> Path:
    p = tmp_path / "kessai.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_gap_at_exactly_one_amount(tmp_path: Path) -> None:
    code, out = _check(str(_file(tmp_path)))
    assert code == 1
    assert set(out) >= {"findings", "analysed_rules", "not_analysed"}
    kinds = {f["kind"]: f for f in out["findings"]}
    gap = kinds["gap"]
    assert gap["severity"] == "error" and gap["region"] == {"金額": "100000"}
    assert "金額がちょうど100000円の場合に該当する規則がありません" in gap["message_ja"]
    assert kinds["missing_basis"]["rules"] == [2]
    assert out["analysed_rules"] == 2


def test_a_sound_criterion_exits_zero() -> None:
    code, out = _check(str(ROOT / "content" / "nagi" / "jidou-teate.yaml"), "--version", "4")
    assert code == 0 and out["version"] == 4
    assert not [f for f in out["findings"] if f["severity"] == "error"]


def test_check_a_dmn_file(tmp_path: Path) -> None:
    c = loads(GAP)
    p = tmp_path / "kessai.dmn"
    p.write_text(version_to_dmn(c, c.versions[0]), encoding="utf-8")
    code, out = _check(str(p))
    assert code == 1 and any(f["kind"] == "gap" for f in out["findings"])


def test_check_a_stored_criterion(database_url: str, tmp_path: Path) -> None:
    assert kijun(database_url, "db", "upgrade")[0] == 0
    path = _file(tmp_path, GAP.replace("  - effective_from", "  - status: draft\n"
                                       "    effective_from"))
    assert kijun(database_url, "load", str(path))[0] == 0
    code, out = kijun(database_url, "check", "kessai")
    assert code == 1 and out["criterion"] == "kessai"
    code, out = kijun(database_url, "criteria", "publish", "kessai", "1")
    assert code == 1 and "justification" in out["error"]["message"]
    code, out = kijun(database_url, "criteria", "publish", "kessai", "1",
                      "--justification", "10万円ちょうどの支出は想定しない")
    assert code == 0 and out["status"] == "published"


def test_unknown_criterion_and_version(database_url: str, tmp_path: Path) -> None:
    code, out = _check(str(_file(tmp_path)), "--version", "5")
    assert code == 1 and "no version 5" in out["error"]["message"]
