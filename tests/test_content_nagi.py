"""content/nagi: Nagi-cho's criteria are well formed and pass their own test cases.

The structural checks read the YAML with `yaml.safe_load` only, so they run
even without the engine. When the YAML loader and the test runner are
installed (`kijun.criteria.formats.yaml`, `kijun.criteria.testing`), every
file is also loaded by kijun and its test cases are run.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

CONTENT = Path(__file__).resolve().parent.parent / "content" / "nagi"
FILES = sorted(CONTENT.glob("*.yaml"))
IDS = [f.stem for f in FILES]

# Department names seen on the town's pages (NAGI.md) and the usual names of
# the sections the town does not list publicly.
DEPARTMENTS = {
    "こども・長寿課",
    "住民課",
    "税務課",
    "総務課",
    "教育委員会",
    "情報企画課",
    "出納室",
    "産業振興課",
}

REQUIRED_CRITERIA = {
    "jidou-teate",
    "jimu-kessai",
    "shougaku-zuii-keiyaku",
    "mynumber-card-expiry",
    "tennyu-tetsuzuki",
    "sousaihi",
    "kokuho-idou",
    "shussan-iwaikin",
    "zaitaku-ikuji-teate",
    "koukou-shugaku-shienkin",
}


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: not a mapping"
    return data


def _on(test: dict[Any, Any]) -> Any:
    # YAML 1.1 (safe_load) reads the key `on` as the boolean True.
    return test.get("on", test.get(True))


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def test_every_required_criterion_is_present() -> None:
    assert not REQUIRED_CRITERIA - set(IDS), "missing criteria"
    assert len(FILES) >= 9


def test_readme_is_present() -> None:
    readme = CONTENT / "README.md"
    assert readme.is_file()
    text = readme.read_text(encoding="utf-8")
    assert "例示" in text and "確認" in text


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_criterion_header(path: Path) -> None:
    data = _load(path)
    assert data["id"] == path.stem
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", data["id"])
    for key in ("name", "department", "basis", "description"):
        assert _text(data.get(key)), f"{path.name}: {key} is missing"
    assert data["department"] in DEPARTMENTS


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_rule_has_basis_and_annotation(path: Path) -> None:
    data = _load(path)
    versions = data["versions"]
    assert isinstance(versions, list) and versions
    for v in versions:
        assert isinstance(v["effective_from"], dt.date)
        assert _text(v.get("note")), f"{path.name}: version {v.get('version')} has no note"
        decisions = v["decisions"]
        assert decisions
        for d in decisions:
            assert _text(d.get("name"))
            assert d.get("outputs")
            assert d.get("rules")
            for r in d["rules"]:
                where = f"{path.name}: {d['name']} rule {r.get('id')}"
                assert _text(r.get("basis")), f"{where}: no basis"
                assert _text(r.get("annotation")), f"{where}: no annotation"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_enough_tests_with_dates(path: Path) -> None:
    data = _load(path)
    tests = data.get("tests") or []
    assert len(tests) >= 5, f"{path.name}: only {len(tests)} tests"
    names = [t["name"] for t in tests]
    assert len(set(names)) == len(names), f"{path.name}: test names repeat"
    for t in tests:
        assert isinstance(_on(t), dt.date), f"{path.name}: test {t['name']!r} has no on: date"
        assert isinstance(t.get("input"), dict)
        assert t.get("expect") or t.get("exception") is True


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_tests_cover_every_version_and_its_edges(path: Path) -> None:
    """Each version is tested on its first day, and the day before each new version."""
    data = _load(path)
    days = {_on(t) for t in data["tests"]}
    starts = sorted(v["effective_from"] for v in data["versions"]
                    if v.get("status", "published") != "draft")
    for i, start in enumerate(starts):
        assert start in days, f"{path.name}: no test on the first day {start}"
        if i:
            before = start - dt.timedelta(days=1)
            assert before in days, f"{path.name}: no test on {before}, the day before {start}"


def test_ids_are_unique() -> None:
    ids = [_load(f)["id"] for f in FILES]
    assert len(set(ids)) == len(ids)


# --- with the engine: load with kijun and run the test cases ------------------------


def _engine_available() -> bool:
    """True unless the YAML loader or the test runner is genuinely not there."""
    try:
        return (importlib.util.find_spec("kijun.criteria.formats.yaml") is not None
                and importlib.util.find_spec("kijun.criteria.testing") is not None)
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_kijun_loads_and_passes(path: Path) -> None:
    if not _engine_available():
        pytest.skip("kijun.criteria.formats.yaml is not installed yet")
    loader: Any = importlib.import_module("kijun.criteria.formats.yaml")
    testing: Any = importlib.import_module("kijun.criteria.testing")
    criteria = loader.load_path(path)
    assert len(criteria) == 1
    criterion = criteria[0]
    assert criterion.id == path.stem
    for version in criterion.versions:
        for table in version.decisions:
            for rule in table.rules:
                assert rule.basis, f"{criterion.id} {table.name} {rule.id}: no basis"
    report = testing.run_tests(criterion)
    failures = [f"{c.name} (on {c.on}): {c.message}" for c in report.cases if not c.passed]
    assert report.failed == 0, "\n".join(failures)
    assert len(report.cases) >= 5
