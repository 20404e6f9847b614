"""Docs that fall behind the code fail here."""

from __future__ import annotations

import json
import re
import shlex
from contextlib import chdir
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from kijun.cli import app
from kijun.criteria.formats.yaml import loads
from kijun.criteria.testing import run_tests

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> set[str]:
    group = typer.main.get_command(app)
    names: set[str] = set()
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        names.add(name)
        for sub in getattr(cmd, "commands", {}):
            names.add(f"{name} {sub}")
    return names


def test_every_command_in_the_readme_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    used = set(re.findall(r"^kijun ([a-z]+(?: [a-z]+)?)", readme, flags=re.M))
    known = _commands()
    missing = {u for u in used if u not in known and u.split()[0] not in known}
    assert not missing, f"README shows commands that do not exist: {missing}"
    assert "make run" in readme and "make test" in readme


def test_the_yaml_format_example_loads() -> None:
    doc = (ROOT / "docs" / "criteria-yaml.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", doc, flags=re.S)
    assert example is not None
    criterion = loads(example.group(1), file="docs/criteria-yaml.md")
    assert criterion.id == "shussan-iwaikin"
    assert criterion.versions[0].decisions[0].rules[0].basis == "第3条・第4条"
    report = run_tests(criterion)
    assert report.failed == 0 and report.passed == len(criterion.tests) == 2


def test_the_readme_decide_example_gives_what_it_says() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(ln for ln in readme.splitlines() if ln.startswith("kijun decide"))
    promised = re.search(r"# → (\S+) (\d+)", readme)
    assert promised is not None
    args = shlex.split(line.split("#")[0])[1:]
    with chdir(ROOT):
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["outputs"][promised.group(1)] == int(promised.group(2))
    assert all(b["basis"] for b in data["basis"])


def test_conformance_page_states_the_tck_floors() -> None:
    from tests.test_tck import CL2_FLOOR, CL3_FLOOR

    page = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    assert f"| compliance level 2 | 116 | **{CL2_FLOOR}** |" in page
    assert f"| compliance level 3 | 3084 | **{CL3_FLOOR}** |" in page
