"""Read a DMN 1.1–1.5 model as a kijun criterion version.

A kijun criterion holds decision tables whose cells are FEEL unary tests and
whose outputs are values, each rule with its 根拠. A DMN model maps onto that
when every decision is a decision table over number, string, boolean or date
inputs, and every output entry is a constant. Anything else (literal
expressions, contexts, business knowledge models, decision services,
imports) is refused with a `DmnError` naming the element and the reason:
such a model can still be evaluated as it is with `DmnModels` (`kijun decide
FILE.dmn`), but it cannot become a criterion without losing meaning.

The 根拠 and 注記 annotation columns and the `kijun:criterion` extension that
`version_to_dmn` writes are read back, so export → import keeps a version's
content; a model from another modeler has no 施行日 or criterion id, and the
caller supplies them (`DmnImportOptions`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from kijun.criteria.dmn import model as m
from kijun.criteria.dmn.model import DmnError
from kijun.criteria.dmn.xml import local, read_definitions
from kijun.criteria.errors import ModelError
from kijun.criteria.feel import ast, compile_expression, parse_expression
from kijun.criteria.formats.dmn import ANNOTATION_COLUMN, BASIS_COLUMN, KIJUN
from kijun.criteria.model import (
    NO_DEFAULT,
    Aggregation,
    Criterion,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    Rule,
    ValueType,
    Version,
    VersionStatus,
    parse_life_events,
    validate_criterion,
)

_TYPES = {
    "number": ValueType.NUMBER,
    "integer": ValueType.NUMBER,
    "long": ValueType.NUMBER,
    "double": ValueType.NUMBER,
    "decimal": ValueType.NUMBER,
    "string": ValueType.STRING,
    "boolean": ValueType.BOOLEAN,
    "date": ValueType.DATE,
}
_BASIS_NAMES = frozenset({BASIS_COLUMN, "basis", "Basis"})
_ANNOTATION_NAMES = frozenset({ANNOTATION_COLUMN, "annotation", "Annotation", "注釈"})
#: Built-ins an output entry may call and still be a constant.
_CONSTANT_FUNCTIONS = frozenset({"date"})


@dataclass(frozen=True, slots=True)
class DmnImportOptions:
    """What the DMN file may not say: used when its `kijun:criterion` extension is absent.

    Values given here win over the file's extension.
    """

    criterion_id: str | None = None
    version: int | None = None
    effective_from: dt.date | None = None
    status: VersionStatus | None = None
    department: str | None = None
    #: the version number when neither `version` nor the file gives one
    default_version: int = 1


def _root(source: str | bytes | Path) -> tuple[ET.Element, str]:
    if isinstance(source, Path):
        try:
            data: str | bytes = source.read_bytes()
        except OSError as e:
            raise DmnError(f"{source}: {e.strerror or e}") from None
        where = str(source)
    else:
        data, where = source, "DMN text"
    try:
        return ET.fromstring(data), where
    except ET.ParseError as e:
        raise DmnError(f"{where}: not well-formed XML: {e}") from None


def read_metadata(source: str | bytes | Path) -> dict[str, str]:
    """The attributes of the file's `kijun:criterion` extension ({} for other modelers' files)."""
    root, _ = _root(source)
    return _kijun_meta(root)


def criterion_from_dmn(
    source: str | bytes | Path, options: DmnImportOptions | None = None
) -> Criterion:
    """A criterion with one version read from DMN XML (a path, or the document's text)."""
    opts = options or DmnImportOptions()
    root, where = _root(source)
    definitions = read_definitions(root, where)
    meta = _kijun_meta(root)
    criterion_id = opts.criterion_id or meta.get("id")
    if not criterion_id:
        raise DmnError(
            f"{where}: the model has no kijun criterion id (no <kijun:criterion> extension); "
            "give one (kijun import --criterion ID)"
        )
    effective = opts.effective_from or _meta_date(meta, "effective_from", where)
    if effective is None:
        raise DmnError(
            f"{where}: the model has no 施行日 (effective_from); "
            "give one (kijun import --effective-from YYYY-MM-DD)"
        )
    try:
        status = opts.status or VersionStatus(meta.get("status", VersionStatus.DRAFT.value))
    except ValueError:
        raise DmnError(f"{where}: <kijun:criterion status=...>: unknown status "
                       f"{meta['status']!r}") from None
    version = Version(
        number=opts.version or _meta_int(meta, "version", where) or opts.default_version,
        effective_from=effective,
        effective_to=_meta_date(meta, "effective_to", where),
        status=status,
        decisions=_Reader(definitions).tables(),
        note=meta.get("note"),
    )
    criterion = Criterion(
        id=criterion_id,
        name=definitions.name,
        versions=(version,),
        department=opts.department or meta.get("department"),
        description=_description(root),
        basis=meta.get("basis"),
        life_events=_meta_life_events(meta, where),
    )
    try:
        validate_criterion(criterion)
    except ModelError as e:
        raise DmnError(f"{where}: {e}") from None
    return criterion


def _kijun_meta(root: ET.Element) -> dict[str, str]:
    for ext in root:
        if local(ext.tag) == "extensionElements":
            found = ext.find(f"{{{KIJUN}}}criterion")
            if found is not None:
                return dict(found.attrib)
    return {}


def _description(root: ET.Element) -> str | None:
    for el in root:
        if local(el.tag) == "description":
            return (el.text or "").strip() or None
    return None


def _meta_date(meta: Mapping[str, str], key: str, where: str) -> dt.date | None:
    text = meta.get(key)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DmnError(f"{where}: <kijun:criterion {key}=...>: not a date: {text!r}") from None


def _meta_life_events(meta: Mapping[str, str], where: str) -> tuple[str, ...]:
    """`life_events="出生・こども 引越し"`: names separated by white space (or commas)."""
    text = meta.get("life_events") or ""
    try:
        return parse_life_events(text.replace(",", " ").replace("、", " ").split())
    except ModelError as e:
        raise DmnError(f"{where}: <kijun:criterion life_events=...>: {e}") from None


def _meta_int(meta: Mapping[str, str], key: str, where: str) -> int | None:
    text = meta.get(key)
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise DmnError(f"{where}: <kijun:criterion {key}=...>: not a version number: {text!r}")
    return int(text)


def _element(kind: str, ident: str | None, name: str | None) -> str:
    parts = [kind]
    if ident:
        parts.append(f'id="{ident}"')
    if name:
        parts.append(f'name="{name}"')
    return "<" + " ".join(parts) + ">"


class _Reader:
    """Turns the decisions of one `Definitions` into kijun decision tables."""

    def __init__(self, definitions: m.Definitions) -> None:
        self.definitions = definitions
        self.items = {t.name: t for t in definitions.item_definitions}
        self.inputs = {i.name: i for i in definitions.inputs}
        self.decisions = {d.name: d for d in definitions.decisions}
        self._refuse_unsupported()

    def _refuse_unsupported(self) -> None:
        d = self.definitions
        reason = "a kijun criterion holds decision tables only; evaluate the file with kijun decide"
        if d.imports:
            i = d.imports[0]
            raise DmnError(f"{_element('import', None, i.name)}: imports between models: {reason}")
        if d.bkms:
            b = d.bkms[0]
            raise DmnError(
                f"{_element('businessKnowledgeModel', b.id, b.name)}: business knowledge "
                f"models: {reason}"
            )
        if d.services:
            s = d.services[0]
            raise DmnError(
                f"{_element('decisionService', s.id, s.name)}: decision services: {reason}"
            )
        if not d.decisions:
            raise DmnError(f"{_element('definitions', d.id, d.name)}: the model has no decision")

    def tables(self) -> tuple[DecisionTable, ...]:
        return tuple(self._table(d) for d in self.definitions.decisions)

    # -- one decision ---------------------------------------------------------------------

    def _table(self, decision: m.Decision) -> DecisionTable:
        where = _element("decision", decision.id, decision.name)
        expr = decision.expression
        if not isinstance(expr, m.DecisionTable):
            kind = "no decision logic" if expr is None else f"a {type(expr).__name__} expression"
            raise DmnError(
                f"{where}: has {kind}; a kijun criterion holds decision tables only "
                "(evaluate the file with kijun decide)"
            )
        try:
            inputs = tuple(self._input(c) for c in expr.inputs)
            outputs = self._outputs(decision, expr)
            rules = tuple(
                self._rule(k, r, expr, inputs, outputs) for k, r in enumerate(expr.rules, 1)
            )
        except DmnError as e:
            raise DmnError(f"{where}: {e}") from None
        return DecisionTable(
            name=decision.name,
            hit_policy=HitPolicy(expr.hit_policy),
            aggregation=Aggregation(expr.aggregation) if expr.aggregation else None,
            inputs=inputs,
            outputs=outputs,
            rules=rules,
            description=decision.description,
        )

    def _input(self, clause: m.InputClause) -> InputClause:
        text = clause.text.strip()
        where = _element("input", None, clause.label or text)
        name, type_ref = self._input_source(text, where)
        value_type, allowed = self._type(clause.type_ref or type_ref, where)
        if clause.allowed is not None:
            allowed = _constants(clause.allowed, value_type, f"{where} <inputValues>")
        return InputClause(
            name=name, type=value_type, allowed=allowed, description=clause.description
        )

    def _input_source(self, text: str, where: str) -> tuple[str, str | None]:
        """The kijun input name an input expression reads, and the type declared for it."""
        if text in self.inputs:
            return text, self.inputs[text].type_ref
        if text in self.decisions:
            whole = self.decisions[text]
            table = whole.expression
            if isinstance(table, m.DecisionTable) and len(table.outputs) == 1:
                return _single_output_name(whole, table), whole.type_ref
            raise DmnError(f"{where}: {text!r} is a decision without exactly one output; "
                           "read one of its outputs as Decision.output")
        head, _, tail = text.partition(".")
        producer = self.decisions.get(head.strip())
        if producer is not None and isinstance(producer.expression, m.DecisionTable):
            for o in producer.expression.outputs:
                if o.name == tail.strip():
                    return o.name, o.type_ref
        raise DmnError(
            f"{where}: input expression {text!r} is not the name of an input data or a "
            "decision (kijun criteria read facts and decision outputs by name)"
        )

    def _type(self, type_ref: str | None, where: str) -> tuple[ValueType, tuple[Any, ...] | None]:
        seen: set[str] = set()
        allowed: tuple[Any, ...] | None = None
        allowed_text: str | None = None
        ref = type_ref
        while ref is not None and ref not in _TYPES:
            item = self.items.get(ref)
            if item is None or ref in seen:
                raise DmnError(
                    f"{where}: type {ref!r} is not supported (kijun inputs and outputs are "
                    "number, string, boolean or date)"
                )
            seen.add(ref)
            if item.is_collection or item.components or item.is_function:
                raise DmnError(
                    f"{where}: type {ref!r} is a collection or structure; kijun inputs and "
                    "outputs are single values"
                )
            allowed_text = allowed_text or item.allowed
            ref = item.type_ref
        if ref is None:
            raise DmnError(f"{where}: no typeRef; kijun needs each input's and output's type")
        value_type = _TYPES[ref]
        if allowed_text is not None:
            allowed = _constants(allowed_text, value_type, f"{where} allowed values")
        return value_type, allowed

    def _outputs(self, decision: m.Decision, table: m.DecisionTable) -> tuple[OutputClause, ...]:
        single = len(table.outputs) == 1
        result = []
        for clause in table.outputs:
            name = _single_output_name(decision, table) if single else (clause.name or "")
            where = _element("output", None, name)
            value_type, allowed = self._type(
                clause.type_ref or (decision.type_ref if single else None), where
            )
            if clause.allowed is not None:
                allowed = _constants(clause.allowed, value_type, f"{where} <outputValues>")
            default: Any = NO_DEFAULT
            if clause.default is not None:
                default = _constant(clause.default, value_type, f"{where} <defaultOutputEntry>")
            result.append(
                OutputClause(
                    name=name,
                    type=value_type,
                    allowed=allowed,
                    default=default,
                    description=clause.description,
                )
            )
        return tuple(result)

    def _rule(
        self,
        number: int,
        rule: m.DtRule,
        table: m.DecisionTable,
        inputs: tuple[InputClause, ...],
        outputs: tuple[OutputClause, ...],
    ) -> Rule:
        where = _element("rule", rule.id, None) + f" (rule {number})"
        basis: list[str] = []
        notes: list[str] = []
        for name, text in zip(table.annotation_names, rule.annotations, strict=False):
            if not text.strip():
                continue
            (basis if name in _BASIS_NAMES else notes).append(text.strip())
        if not table.annotation_names:
            notes = [a.strip() for a in rule.annotations if a.strip()]
        then = tuple(
            _constant(text, out.type, f"{where} output {out.name!r}")
            for text, out in zip(rule.outputs, outputs, strict=True)
        )
        return Rule(
            id=(rule.description or "").strip() or rule.id or f"R{number}",
            when=tuple(cell.strip() or "-" for cell in rule.inputs),
            then=then,
            basis="\n".join(basis) or None,
            annotation="\n".join(notes) or None,
        )


def _single_output_name(decision: m.Decision, table: m.DecisionTable) -> str:
    clause = table.outputs[0]
    return clause.name or clause.label or table.label or decision.name


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if isinstance(item, tuple):
                    for sub in item:
                        yield from _nodes(sub)
                elif isinstance(item, ast.Node):
                    yield from _nodes(item)


def _is_constant(tree: ast.Node) -> bool:
    callees = {
        id(n.callee)
        for n in _nodes(tree)
        if isinstance(n, ast.Invocation)
        and isinstance(n.callee, ast.Name)
        and n.callee.name in _CONSTANT_FUNCTIONS
    }
    return all(not isinstance(n, ast.Name) or id(n) in callees for n in _nodes(tree))


def _constant(text: str, value_type: ValueType, where: str) -> Any:
    """An output entry's value: a FEEL literal of the output's type (or null)."""
    try:
        tree = parse_expression(text)
    except ModelError as e:
        raise DmnError(f"{where}: {e}") from None
    if not _is_constant(tree):
        raise DmnError(
            f"{where}: {text.strip()!r} is not a constant; kijun rules give values "
            "(expressions over inputs need kijun decide on the DMN file)"
        )
    value = compile_expression(text).evaluate({})
    return _typed(value, value_type, text, where)


def _constants(text: str, value_type: ValueType, where: str) -> tuple[Any, ...]:
    """Allowed values: a comma-separated list of literals."""
    try:
        tree = parse_expression(f"[{text}]")
    except ModelError:
        tree = None
    if tree is None or not _is_constant(tree) or any(isinstance(n, ast.Range)
                                                     for n in _nodes(tree)):
        raise DmnError(
            f"{where}: {text.strip()!r}: kijun allowed values are a list of literals "
            '(like "a", "b")'
        )
    values = compile_expression(f"[{text}]").evaluate({})
    return tuple(_typed(v, value_type, text, where) for v in values)


def _typed(value: Any, value_type: ValueType, text: str, where: str) -> Any:
    if value is None:
        return None
    ok = {
        ValueType.NUMBER: isinstance(value, Decimal),
        ValueType.STRING: isinstance(value, str),
        ValueType.BOOLEAN: isinstance(value, bool),
        ValueType.DATE: isinstance(value, dt.date) and not isinstance(value, dt.datetime),
    }[value_type]
    if not ok:
        raise DmnError(f"{where}: {text.strip()!r} is not a {value_type.value}")
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value
