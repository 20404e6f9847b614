"""Run DMN TCK test files (`*-test-*.xml`) and compare results by the TCK's rules.

Each folder is one model and the models it imports: every `.dmn` of the folder
is read and compiled once, then each test case is a session on it. Numbers
compare as decimals, lists and contexts element-wise, temporal values by FEEL
equality; an expected `xsi:nil` (or an error result) needs null.
"""

from __future__ import annotations

import csv
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kijun.criteria.dmn.evaluate import DmnModels
from kijun.criteria.dmn.model import Definitions, DmnError
from kijun.criteria.dmn.xml import local, read_dmn
from kijun.criteria.errors import CriteriaError
from kijun.criteria.feel import evaluate as fe
from kijun.criteria.feel import temporal
from kijun.criteria.feel import values as fv

_RELATIVE = Decimal("1e-12")
_ROUNDED_DIGITS = 8
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"


@dataclass(frozen=True, slots=True)
class CaseResult:
    folder: str
    file: str
    case: str
    #: SUCCESS, FAILURE, ERROR or SKIPPED
    result: str
    detail: str = ""


@dataclass
class TckReport:
    results: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        by_folder: dict[str, dict[str, int]] = {}
        counts = {"SUCCESS": 0, "FAILURE": 0, "ERROR": 0, "SKIPPED": 0}
        for r in self.results:
            counts[r.result] += 1
            f = by_folder.setdefault(r.folder, {"passed": 0, "total": 0})
            f["total"] += 1
            f["passed"] += r.result == "SUCCESS"
        return {
            "total": len(self.results),
            "passed": counts["SUCCESS"],
            "failed": counts["FAILURE"],
            "errors": counts["ERROR"],
            "skipped": counts["SKIPPED"],
            "by_folder": by_folder,
        }

    def write_csv(self, path: str | Path) -> None:
        """The TCK runners' `tck_results.csv`: folder, test file, case id, result, detail."""
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, quoting=csv.QUOTE_ALL)
            for r in self.results:
                w.writerow([r.folder, r.file, r.case, r.result, r.detail])


# -- test values ---------------------------------------------------------------------------


def _temporal(text: str) -> Any:
    value = fv.parse_temporal(text.strip())
    if value is None:
        raise ValueError(f"not a temporal value: {text!r}")
    return value


def parse_simple(el: ET.Element) -> Any:
    if el.get(f"{_XSI}nil") == "true":
        return None
    kind = (el.get(f"{_XSI}type") or "").split(":")[-1]
    text = el.text or ""
    if kind in ("decimal", "double", "float", "integer", "int", "long", "short"):
        t = text.strip()
        if t in ("NaN", "INF", "-INF"):
            return None
        d = Decimal(t)
        return int(d) if kind in ("integer", "int", "long", "short") else d
    if kind == "boolean":
        return text.strip() == "true"
    if kind in ("date", "dateTime", "time", "duration"):
        return _temporal(text)
    if kind in ("string", "") and len(el) == 0:
        return text
    return parse_value(el)


def parse_value(el: ET.Element) -> Any:
    """A test value (`valueType`): a simple value, components (a context) or a list."""
    if el.get(f"{_XSI}nil") == "true":
        return None
    children = list(el)
    components = [c for c in children if local(c.tag) == "component"]
    if components:
        return {str(c.get("name")): parse_value(c) for c in components}
    for c in children:
        tag = local(c.tag)
        if tag == "list":
            if c.get(f"{_XSI}nil") == "true":
                return None
            return [parse_value(i) for i in c if local(i.tag) == "item"]
        if tag == "value":
            return parse_simple(c)
    if local(el.tag) == "value":
        return parse_simple(el)
    return None


# -- comparison ------------------------------------------------------------------------------


def same(expected: Any, actual: Any) -> bool:
    """The TCK's equality: decimals for numbers, element-wise for lists and contexts."""
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(expected) == set(actual)
            and all(same(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, list):
        if not isinstance(actual, list):
            # A single expected item may be returned as the item itself.
            return len(expected) == 1 and same(expected[0], actual)
        return len(expected) == len(actual) and all(
            same(e, a) for e, a in zip(expected, actual, strict=True)
        )
    if fv.type_of(expected) == fv.NUMBER:
        if fv.type_of(actual) != fv.NUMBER:
            return False
        try:
            e, a = Decimal(expected), Decimal(actual)
        except InvalidOperation:
            return False
        # TCK expected values were often computed in binary floating point: the last
        # digits of a long decimal may differ, so agree to 12 significant digits.
        if e == a or abs(e - a) <= abs(e) * _RELATIVE:
            return True
        # A long expected value (a logarithm, an exponential) is the exact result
        # rounded to the digits written: agree to half a unit in its last place.
        exponent = e.as_tuple().exponent
        if len(e.as_tuple().digits) >= _ROUNDED_DIGITS and isinstance(exponent, int):
            return abs(e - a) <= Decimal(5).scaleb(exponent - 1)
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if fv.type_of(expected) in (fv.TIME, fv.DATE_TIME):
        # Exactly, fractions of a second included (FEEL's `=` resolves to the second).
        return temporal.equal(expected, actual) is True
    return fe.equal(expected, actual) is True


def show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    text = getattr(fv, "to_string", None)
    if text is not None and not isinstance(value, bool | int | Decimal):
        try:
            s = text(value)
            if isinstance(s, str):
                return s
        except Exception:  # display only: a value that cannot be shown is shown as str()
            pass
    return str(value).lower() if isinstance(value, bool) else str(value)


# -- running -------------------------------------------------------------------------------


def load_folder(folder: Path, model_file: str | None) -> DmnModels:
    """All `.dmn` files of a folder, the tested model first."""
    files = sorted(folder.glob("*.dmn"))
    definitions: list[Definitions] = []
    first: Definitions | None = None
    for f in files:
        d = read_dmn(f)
        if model_file is not None and f.name == model_file:
            first = d
        else:
            definitions.append(d)
    if model_file is not None and first is None:
        raise DmnError(f"{folder}: model {model_file!r} not found")
    return DmnModels(([first] if first else []) + definitions, lenient=True)


def run_test_file(path: Path, root: Path, cache: dict[Path, Any]) -> list[CaseResult]:
    folder = path.parent.relative_to(root.parent).as_posix() if path.parent != root else root.name
    file = path.stem
    tree = ET.parse(path).getroot()
    model_el = next((c for c in tree if local(c.tag) == "modelName"), None)
    model_file = model_el.text.strip() if model_el is not None and model_el.text else None
    key = path.parent / (model_file or "")
    cases = [c for c in tree if local(c.tag) == "testCase"]
    if key not in cache:
        try:
            cache[key] = load_folder(path.parent, model_file)
        except (CriteriaError, OSError, ET.ParseError, RecursionError) as e:
            cache[key] = e
    models = cache[key]
    if isinstance(models, Exception):
        detail = f"model does not load: {models}"
        return [CaseResult(folder, file, c.get("id", "?"), "ERROR", detail) for c in cases]
    return [_run_case(models, c, folder, file) for c in cases]


def _run_case(models: DmnModels, case: ET.Element, folder: str, file: str) -> CaseResult:
    case_id = case.get("id", "?")
    try:
        inputs: dict[str, Any] = {}
        namespaced: dict[tuple[str, str], Any] = {}
        for node in case:
            if local(node.tag) != "inputNode":
                continue
            name = str(node.get("name"))
            value = parse_value(node)
            if node.get("namespace"):
                namespaced[(str(node.get("namespace")), name)] = value
            else:
                inputs[name] = value
        invocable = case.get("invocableName")
        failures = []
        session = models.session(inputs, namespaced)
        for result in case:
            if local(result.tag) != "resultNode":
                continue
            name = str(result.get("name"))
            expected_el = next((c for c in result if local(c.tag) == "expected"), None)
            expected = None if expected_el is None else parse_value(expected_el)
            if invocable:
                actual = models.invoke(invocable, inputs)
                # A service with several output decisions gives a context; a result node
                # names one of its entries.
                if isinstance(actual, dict) and name in actual and name != invocable:
                    actual = actual[name]
            else:
                actual = session.decision(models.key_of(name))
            if not same(expected, actual):
                failures.append(f"{name}: expected {show(expected)} but got {show(actual)}")
    except KeyError as e:
        return CaseResult(folder, file, case_id, "ERROR", str(e.args[0]) if e.args else str(e))
    except (CriteriaError, ValueError, InvalidOperation, RecursionError) as e:
        return CaseResult(folder, file, case_id, "ERROR", f"{type(e).__name__}: {e}")
    if failures:
        return CaseResult(folder, file, case_id, "FAILURE", "; ".join(failures))
    return CaseResult(folder, file, case_id, "SUCCESS")


def test_files(directory: Path) -> Iterable[Path]:
    return sorted(directory.rglob("*-test-*.xml"))


def run_tck(directory: str | Path) -> TckReport:
    """Run every TCK test file under `directory` (a compliance level or the whole TCK)."""
    root = Path(directory).resolve()
    started = time.perf_counter()
    report = TckReport()
    cache: dict[Path, Any] = {}
    for path in test_files(root):
        report.results.extend(run_test_file(path, root, cache))
    report.seconds = time.perf_counter() - started
    return report
