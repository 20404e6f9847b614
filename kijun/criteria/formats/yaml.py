"""kijun YAML: the readable, reviewable form of a criterion (docs/criteria-yaml.md).

Loading keeps every node's line, so an error says `FILE:LINE: FIELD: reason`.
The YAML is read with YAML 1.2 booleans (only true/false: a key named `on`
stays a string) and exact decimals (0.1 is Decimal("0.1"), not a float).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from kijun.criteria.compile import compile_table
from kijun.criteria.errors import CriteriaError, FactError, LoadError, ModelError
from kijun.criteria.facts import coercer
from kijun.criteria.model import (
    NO_DEFAULT,
    Aggregation,
    Criterion,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    TestCase,
    ValueType,
    Version,
    VersionStatus,
    parse_life_events,
    validate_criterion,
)
from kijun.criteria.normalise import nfkc

Path_ = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and Decimal floats."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    if text.lower() in (".inf", "+.inf", "-.inf", ".nan"):
        raise yaml.constructor.ConstructorError(
            None, None, "infinite or NaN numbers are not allowed", node.start_mark
        )
    return Decimal(text)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


class _Doc:
    """The loaded data with the line of every node, addressed by path."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        try:
            node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise LoadError(f"not valid YAML: {getattr(e, 'problem', e)}", file=file,
                            line=line) from None
        if node is None:
            raise LoadError("the file is empty", file=file)
        self.lines: dict[Path_, int] = {}
        self._index(node, ())
        try:
            self.data = _Loader(text).get_single_data()
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise LoadError(str(getattr(e, "problem", e)), file=file,
                            line=mark.line + 1 if mark else None) from None

    def _index(self, node: yaml.Node, path: Path_) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value
                self.lines[(*path, key)] = k.start_mark.line + 1
                self._index(v, (*path, key))
                self.lines[(*path, key)] = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self._index(v, (*path, i))

    def error(self, path: Path_, message: str) -> LoadError:
        line = None
        for n in range(len(path), -1, -1):
            if path[:n] in self.lines:
                line = self.lines[path[:n]]
                break
        return LoadError(message, file=self.file, line=line, field=_field(path) or None)


def _field(path: Path_) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out


_HIT_POLICIES: dict[str, tuple[HitPolicy, Aggregation | None]] = {
    "U": (HitPolicy.UNIQUE, None),
    "A": (HitPolicy.ANY, None),
    "P": (HitPolicy.PRIORITY, None),
    "F": (HitPolicy.FIRST, None),
    "R": (HitPolicy.RULE_ORDER, None),
    "O": (HitPolicy.OUTPUT_ORDER, None),
    "C": (HitPolicy.COLLECT, None),
    "C+": (HitPolicy.COLLECT, Aggregation.SUM),
    "C<": (HitPolicy.COLLECT, Aggregation.MIN),
    "C>": (HitPolicy.COLLECT, Aggregation.MAX),
    "C#": (HitPolicy.COLLECT, Aggregation.COUNT),
}
for _p in HitPolicy:
    _HIT_POLICIES[_p.value] = (_p, None)
for _a in Aggregation:
    _HIT_POLICIES[f"COLLECT {_a.value}"] = (HitPolicy.COLLECT, _a)

_FEEL_START = ('"', "<", ">", "=", "!=", "[", "(", "]", "not(", "not (", "?")
_ISO_DATE = re.compile(r'(?<![\w"-])(\d{4}-\d{2}-\d{2})(?![\w"])')


class _Builder:
    def __init__(self, doc: _Doc) -> None:
        self.doc = doc

    # --- small typed accessors -------------------------------------------------
    def mapping(self, value: Any, path: Path_, keys: Sequence[str],
                required: Sequence[str] = ()) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.doc.error(path, f"expected a mapping, got {_yaml_kind(value)}")
        for k in value:
            if k not in keys:
                raise self.doc.error((*path, k), f"unknown field {k!r} (known: {', '.join(keys)})")
        for k in required:
            if value.get(k) is None:
                raise self.doc.error((*path, k) if k in value else path,
                                     f"required field {k!r} is missing")
        return value

    def seq(self, value: Any, path: Path_) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.doc.error(path, f"expected a list, got {_yaml_kind(value)}")
        return value

    def text(self, value: Any, path: Path_, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or value is None or isinstance(value, list | dict):
            raise self.doc.error(path, f"expected text, got {_yaml_kind(value)}")
        return nfkc(str(value)) if not isinstance(value, str) else value.strip()

    def date(self, value: Any, path: Path_, *, optional: bool = False) -> dt.date | None:
        if value is None and optional:
            return None
        co = coercer(InputClause(_field(path), ValueType.DATE))
        try:
            result = co(value)
        except FactError:
            raise self.doc.error(path, "expected a date such as 2024-10-01 or 令和6年10月1日") \
                from None
        if result is None:
            raise self.doc.error(path, "expected a date")
        assert isinstance(result, dt.date)
        return result

    # --- criterion -------------------------------------------------------------
    def criterion(self) -> Criterion:
        d = self.mapping(self.doc.data, (), ("id", "name", "department", "description",
                                              "basis", "life_events", "versions", "tests"),
                         required=("id", "name", "versions"))
        cid = self.text(d["id"], ("id",))
        assert cid is not None
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", cid):
            raise self.doc.error(("id",), "id must be lower-case ASCII letters, digits and '-'")
        versions = [self.version(v, ("versions", i), i + 1)
                    for i, v in enumerate(self.seq(d["versions"], ("versions",)))]
        if not versions:
            raise self.doc.error(("versions",), "a criterion needs at least one version")
        tests = [self.test_case(t, ("tests", i))
                 for i, t in enumerate(self.seq(d.get("tests") or [], ("tests",)))]
        criterion = Criterion(
            id=cid,
            name=str(self.text(d["name"], ("name",))),
            department=self.text(d.get("department"), ("department",), optional=True),
            description=self.text(d.get("description"), ("description",), optional=True),
            basis=self.text(d.get("basis"), ("basis",), optional=True),
            life_events=self.life_events(d.get("life_events")),
            versions=tuple(versions),
            tests=tuple(tests),
        )
        try:
            validate_criterion(criterion)
        except ModelError as e:
            raise self.doc.error(self._model_path(criterion, e.field), str(e)) from None
        return criterion

    def life_events(self, value: Any) -> tuple[str, ...]:
        """`[出生・こども, 引越し]` (or one name alone) → the names, checked and in order."""
        if value is None:
            return ()
        if isinstance(value, str):
            items: list[tuple[Path_, Any]] = [(("life_events",), value)]
        else:
            items = [(("life_events", i), v)
                     for i, v in enumerate(self.seq(value, ("life_events",)))]
        for path, item in items:
            if not isinstance(item, str):
                raise self.doc.error(path, f"expected the name of a life event, got "
                                     f"{_yaml_kind(item)}")
            try:
                parse_life_events([item])
            except ModelError as e:
                raise self.doc.error(path, str(e).removeprefix("life_events: ")) from None
        return parse_life_events(item for _, item in items)

    def _model_path(self, criterion: Criterion, field: str | None) -> Path_:
        if field == "life_events":
            return ("life_events",)
        m = re.match(r"versions\[(\d+)\]", field or "")
        if m:
            number = int(m.group(1))
            for i, v in enumerate(criterion.versions):
                if v.number == number:
                    return ("versions", i)
        return ("versions",)

    def version(self, value: Any, path: Path_, position: int) -> Version:
        d = self.mapping(value, path, ("version", "effective_from", "effective_to", "status",
                                       "note", "decisions"),
                         required=("effective_from", "decisions"))
        number = d.get("version", position)
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise self.doc.error((*path, "version"), "version must be a positive integer")
        status = d.get("status", "published")
        try:
            st = VersionStatus(status)
        except ValueError:
            raise self.doc.error((*path, "status"),
                                 "status must be draft, published or retired") from None
        decisions = [self.table(t, (*path, "decisions", i))
                     for i, t in enumerate(self.seq(d["decisions"], (*path, "decisions")))]
        start = self.date(d["effective_from"], (*path, "effective_from"))
        assert start is not None
        version = Version(
            number=number,
            effective_from=start,
            effective_to=self.date(d.get("effective_to"), (*path, "effective_to"), optional=True),
            status=st,
            note=self.text(d.get("note"), (*path, "note"), optional=True),
            decisions=tuple(decisions),
        )
        return version

    def table(self, value: Any, path: Path_) -> DecisionTable:
        d = self.mapping(value, path, ("name", "hit_policy", "aggregation", "description",
                                       "inputs", "outputs", "rules"),
                         required=("name", "outputs", "rules"))
        name = str(self.text(d["name"], (*path, "name")))
        hp_text = str(d.get("hit_policy", "UNIQUE")).strip().upper()
        if hp_text not in _HIT_POLICIES:
            raise self.doc.error((*path, "hit_policy"),
                                 f"unknown hit policy {hp_text!r} (use one of "
                                 f"{', '.join(p.value for p in HitPolicy)})")
        policy, aggregation = _HIT_POLICIES[hp_text]
        if d.get("aggregation") is not None:
            try:
                aggregation = Aggregation(str(d["aggregation"]).upper())
            except ValueError:
                raise self.doc.error((*path, "aggregation"),
                                     "aggregation must be SUM, MIN, MAX or COUNT") from None
        inputs = [self.input(x, (*path, "inputs", i))
                  for i, x in enumerate(self.seq(d.get("inputs") or [], (*path, "inputs")))]
        outputs = [self.output(x, (*path, "outputs", i))
                   for i, x in enumerate(self.seq(d["outputs"], (*path, "outputs")))]
        rules = [self.rule(x, (*path, "rules", i), i, inputs, outputs)
                 for i, x in enumerate(self.seq(d["rules"], (*path, "rules")))]
        table = DecisionTable(
            name=name, hit_policy=policy, aggregation=aggregation,
            description=self.text(d.get("description"), (*path, "description"), optional=True),
            inputs=tuple(inputs), outputs=tuple(outputs), rules=tuple(rules),
        )
        try:
            compile_table(table)  # every cell parses and every output is typed
        except ModelError as e:
            raise self.doc.error(self._table_path(path, table, e.field), str(e)) from None
        return table

    def _table_path(self, path: Path_, table: DecisionTable, field: str | None) -> Path_:
        m = re.match(r"rules\[(\d+)\]\.(when|then)\.(.+)", field or "")
        if m:
            return (*path, "rules", int(m.group(1)), m.group(2), m.group(3))
        m = re.match(r"rules\[([^\]]+)\]", field or "")
        if m:
            for i, r in enumerate(table.rules):
                if r.id == m.group(1):
                    return (*path, "rules", i)
        return path

    def _allowed(self, d: Mapping[str, Any], path: Path_, name: str,
                 type_: ValueType) -> tuple[Any, ...] | None:
        if d.get("allowed") is None:
            return None
        co = coercer(InputClause(name, type_))
        out = []
        for i, v in enumerate(self.seq(d["allowed"], (*path, "allowed"))):
            try:
                out.append(co(v))
            except FactError as e:
                raise self.doc.error((*path, "allowed", i), f"{e.reason} (expected "
                                     f"{e.expected})") from None
        return tuple(out)

    def _type(self, d: Mapping[str, Any], path: Path_) -> ValueType:
        try:
            return ValueType(str(d["type"]).strip().lower())
        except ValueError:
            raise self.doc.error((*path, "type"), "type must be number, string, boolean or "
                                 "date") from None

    def input(self, value: Any, path: Path_) -> InputClause:
        d = self.mapping(value, path, ("name", "type", "allowed", "description"),
                         required=("name", "type"))
        name = str(self.text(d["name"], (*path, "name")))
        type_ = self._type(d, path)
        return InputClause(name=name, type=type_,
                           allowed=self._allowed(d, path, name, type_),
                           description=self.text(d.get("description"), (*path, "description"),
                                                 optional=True))

    def output(self, value: Any, path: Path_) -> OutputClause:
        d = self.mapping(value, path, ("name", "type", "allowed", "default", "description"),
                         required=("name", "type"))
        name = str(self.text(d["name"], (*path, "name")))
        type_ = self._type(d, path)
        allowed = self._allowed(d, path, name, type_)
        default: Any = NO_DEFAULT
        if "default" in d:
            try:
                default = coercer(OutputClause(name, type_, allowed))(d["default"])
            except FactError as e:
                raise self.doc.error((*path, "default"), f"{e.reason} (expected "
                                     f"{e.expected})") from None
        return OutputClause(name=name, type=type_, allowed=allowed, default=default,
                            description=self.text(d.get("description"), (*path, "description"),
                                                  optional=True))

    def rule(self, value: Any, path: Path_, index: int, inputs: list[InputClause],
             outputs: list[OutputClause]) -> Rule:
        d = self.mapping(value, path, ("id", "when", "then", "basis", "annotation"),
                         required=("then",))
        when = d.get("when") or {}
        self.mapping(when, (*path, "when"), [i.name for i in inputs])
        then = self.mapping(d["then"], (*path, "then"), [o.name for o in outputs])
        cells = tuple(
            cell_to_feel(when[i.name], i.type) if i.name in when else "-" for i in inputs
        )
        values = []
        for o in outputs:
            if o.name in then:
                try:
                    values.append(coercer(o)(then[o.name]))
                except FactError as e:
                    raise self.doc.error((*path, "then", o.name),
                                         f"{e.reason} (expected {e.expected})") from None
            elif o.has_default:
                values.append(o.default)
            else:
                raise self.doc.error((*path, "then"),
                                     f"output {o.name!r} has no value and no default")
        rid = d.get("id", f"R{index + 1}")
        return Rule(
            id=str(rid),
            when=cells,
            then=tuple(values),
            basis=self.text(d.get("basis"), (*path, "basis"), optional=True),
            annotation=self.text(d.get("annotation"), (*path, "annotation"), optional=True),
        )

    def test_case(self, value: Any, path: Path_) -> TestCase:
        d = self.mapping(value, path, ("name", "on", "decision", "input", "expect",
                                       "expect_rules", "exception"),
                         required=("name", "input"))
        facts = self.mapping(d["input"], (*path, "input"), list(d["input"] or {}))
        expect = d.get("expect") or {}
        if not isinstance(expect, Mapping):
            raise self.doc.error((*path, "expect"), "expected a mapping of output → value")
        if not expect and not d.get("exception"):
            raise self.doc.error(path, "a test needs `expect` or `exception: true`")
        rules = d.get("expect_rules")
        return TestCase(
            name=str(self.text(d["name"], (*path, "name"))),
            input=dict(facts),
            expect=dict(expect),
            on=self.date(d.get("on"), (*path, "on"), optional=True),
            decision=self.text(d.get("decision"), (*path, "decision"), optional=True),
            expect_exception=bool(d.get("exception", False)),
            expect_rules=tuple(str(r) for r in self.seq(rules, (*path, "expect_rules")))
            if rules is not None else None,
        )


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def feel_literal(value: Any) -> str:
    """A YAML literal as FEEL source."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    if isinstance(value, dt.date):
        return f'date("{value.isoformat()}")'
    text = nfkc(str(value)).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def cell_to_feel(value: Any, type_: ValueType) -> str:
    """A `when` cell as FEEL unary-test source (see docs/criteria-yaml.md, Cells)."""
    if isinstance(value, list):
        return ", ".join(feel_literal(v) for v in value) if value else "-"
    if not isinstance(value, str):
        return feel_literal(value)
    text = nfkc(value)
    if type_ is ValueType.STRING:
        if text == "-" or text.startswith(_FEEL_START):
            return text
        return feel_literal(text)
    if type_ is ValueType.DATE:
        return _dates_outside_strings(text)
    return text


def _dates_outside_strings(text: str) -> str:
    parts = re.split(r'("(?:[^"\\]|\\.)*")', text)
    return "".join(
        p if p.startswith('"') else _ISO_DATE.sub(r'date("\1")', p) for p in parts
    )


def load_file(path: str | Path) -> Criterion:
    """Load one criterion; errors name the file, line and field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LoadError(f"cannot read: {e.__class__.__name__}", file=str(p)) from None
    return loads(text, file=str(p))


def loads(text: str, *, file: str = "<string>") -> Criterion:
    doc = _Doc(file, text)
    try:
        return _Builder(doc).criterion()
    except LoadError:
        raise
    except CriteriaError as e:
        raise LoadError(str(e), file=file) from None


def iter_files(path: str | Path) -> Iterator[Path]:
    p = Path(path)
    if p.is_dir():
        yield from sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml"))
    else:
        yield p


def load_path(path: str | Path) -> list[Criterion]:
    """Every criterion in a file or (recursively) a folder; ids must be unique."""
    p = Path(path)
    if not p.exists():
        raise LoadError("no such file or folder", file=str(p))
    out: list[Criterion] = []
    seen: dict[str, Path] = {}
    for f in iter_files(p):
        c = load_file(f)
        if c.id in seen:
            raise LoadError(f"criterion id {c.id!r} is also used by {seen[c.id]}", file=str(f),
                            field="id")
        seen[c.id] = f
        out.append(c)
    return out
