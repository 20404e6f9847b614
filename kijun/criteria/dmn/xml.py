"""Read DMN 1.1–1.5 XML into `kijun.criteria.dmn.model`.

Elements are matched by local name, whatever the namespace: the five DMN
versions differ in namespace but hardly in the elements kijun reads, and
vendor extensions (`extensionElements`, DMNDI diagrams) are skipped. A
malformed or unsupported element raises `DmnError` naming it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from kijun.criteria.dmn.model import (
    Bkm,
    Conditional,
    Context,
    ContextEntry,
    Decision,
    DecisionService,
    DecisionTable,
    Definitions,
    DmnError,
    DtRule,
    Expr,
    FilterBox,
    FunctionDef,
    Import,
    InputClause,
    InputData,
    Invocation,
    Iterator,
    ListBox,
    Literal,
    OutputClause,
    Relation,
    TypeDef,
)

#: The expression elements kijun evaluates.
_EXPRESSIONS = frozenset(
    {
        "literalExpression",
        "decisionTable",
        "context",
        "relation",
        "list",
        "invocation",
        "functionDefinition",
        "conditional",
        "filter",
        "for",
        "some",
        "every",
    }
)
_KNOWN_UNSUPPORTED = frozenset({"unaryTests"})
_HIT_POLICIES = frozenset(
    {"UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER"}
)
_AGGREGATIONS = frozenset({"SUM", "MIN", "MAX", "COUNT"})


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def describe(el: ET.Element) -> str:
    """`<decision id="d1" name="Age">` for messages."""
    parts = [local(el.tag)]
    for attr in ("id", "name", "label"):
        if el.get(attr):
            parts.append(f'{attr}="{el.get(attr)}"')
    return "<" + " ".join(parts) + ">"


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if local(c.tag) == name]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def _text(el: ET.Element | None) -> str | None:
    """The `<text>` of an element (or None)."""
    if el is None:
        return None
    t = _child(el, "text")
    if t is None:
        return None
    return t.text or ""


def _type_ref(el: ET.Element) -> str | None:
    """typeRef as attribute (DMN 1.2+) or child element (1.1), without a `feel:` prefix."""
    ref = el.get("typeRef")
    if ref is None:
        holder = _child(el, "typeRef")
        ref = holder.text if holder is not None else None
    if ref is None:
        return None
    ref = ref.strip()
    # DMN 1.1 QNames: `feel:number`; a prefix naming an import is kept (`a.b` form is FEEL's).
    if ":" in ref:
        prefix, rest = ref.split(":", 1)
        if prefix in ("feel", "FEEL", "xsd", "dmn"):
            ref = rest
    return ref or None


def _description(el: ET.Element) -> str | None:
    d = _child(el, "description")
    return (d.text or "").strip() or None if d is not None else None


def _href(el: ET.Element) -> str:
    href = el.get("href")
    if not href:
        raise DmnError(f"{describe(el)}: a reference needs an href")
    return href


def _name(el: ET.Element) -> str:
    name = el.get("name")
    if not name:
        variable = _child(el, "variable")
        name = variable.get("name") if variable is not None else None
    if not name:
        raise DmnError(f"{describe(el)}: an element needs a name")
    return name.strip()


def _variable_type(el: ET.Element) -> str | None:
    variable = _child(el, "variable")
    return _type_ref(variable) if variable is not None else _type_ref(el)


def read_item_definition(el: ET.Element) -> TypeDef:
    name = el.get("name") or el.get("label")
    if not name:
        raise DmnError(f"{describe(el)}: an item definition needs a name")
    allowed = _text(_child(el, "allowedValues"))
    function = _child(el, "functionItem")
    return TypeDef(
        name=name.strip(),
        type_ref=_type_ref(el),
        is_collection=el.get("isCollection", "false").strip() == "true",
        allowed=allowed,
        components=tuple(read_item_definition(c) for c in _children(el, "itemComponent")),
        function_output=None if function is None else function.get("outputTypeRef"),
        is_function=function is not None,
    )


def _expression_child(el: ET.Element, required: bool = True) -> Expr | None:
    """The one boxed expression inside `el` (a decision, context entry, binding …)."""
    for c in el:
        tag = local(c.tag)
        if tag in _EXPRESSIONS or tag in _KNOWN_UNSUPPORTED:
            return read_expression(c)
    if required:
        raise DmnError(f"{describe(el)}: no expression")
    return None


def read_expression(el: ET.Element) -> Expr:
    tag = local(el.tag)
    ident = el.get("id")
    type_ref = _type_ref(el)
    if tag == "literalExpression":
        text = _text(el)
        if text is None:
            if _child(el, "importedValues") is not None:
                raise DmnError(f"{describe(el)}: importedValues are not supported")
            text = ""
        return Literal(ident, type_ref, text)
    if tag == "decisionTable":
        return _decision_table(el)
    if tag == "context":
        entries = []
        for entry in _children(el, "contextEntry"):
            variable = _child(entry, "variable")
            name = None if variable is None else variable.get("name")
            entries.append(
                ContextEntry(
                    name,
                    None if variable is None else _type_ref(variable),
                    _expression_child(entry, required=False),
                )
            )
        return Context(ident, type_ref, tuple(entries))
    if tag == "list":
        return ListBox(ident, type_ref, tuple(read_expression(c) for c in el if _is_expr(c)))
    if tag == "relation":
        columns = tuple((_name(c), _type_ref(c)) for c in _children(el, "column"))
        rows = []
        for row in _children(el, "row"):
            cells = tuple(read_expression(c) for c in row if _is_expr(c))
            if len(cells) != len(columns):
                raise DmnError(
                    f"{describe(row)} in {describe(el)}: {len(cells)} cells for "
                    f"{len(columns)} columns"
                )
            rows.append(cells)
        return Relation(ident, type_ref, columns, tuple(rows))
    if tag == "invocation":
        callee = _expression_child(el)
        if not isinstance(callee, Literal):
            raise DmnError(f"{describe(el)}: the invoked function must be a literal expression")
        bindings = []
        for b in _children(el, "binding"):
            param = _child(b, "parameter")
            if param is None or not param.get("name"):
                raise DmnError(f"{describe(b)} in {describe(el)}: a binding needs a parameter")
            bindings.append((str(param.get("name")).strip(), _expression_child(b, required=False)))
        return Invocation(ident, type_ref, callee.text.strip(), tuple(bindings))
    if tag in ("functionDefinition", "encapsulatedLogic"):
        params = tuple((_name(p), _type_ref(p)) for p in _children(el, "formalParameter"))
        return FunctionDef(
            ident, type_ref, params, _expression_child(el, required=False), el.get("kind", "FEEL")
        )
    if tag == "conditional":
        parts = []
        for part in ("if", "then", "else"):
            holder = _child(el, part)
            if holder is None:
                raise DmnError(f"{describe(el)}: a conditional needs <{part}>")
            parts.append(_required(_expression_child(holder), holder))
        return Conditional(ident, type_ref, parts[0], parts[1], parts[2])
    if tag == "filter":
        return FilterBox(ident, type_ref, _part(el, "in"), _part(el, "match"))
    if tag in ("for", "some", "every"):
        iterator = el.get("iteratorVariable")
        if not iterator:
            raise DmnError(f"{describe(el)}: an iterator needs an iteratorVariable")
        body = _part(el, "return" if tag == "for" else "satisfies")
        return Iterator(ident, type_ref, tag, iterator.strip(), _part(el, "in"), body)
    raise DmnError(f"{describe(el)}: {tag} expressions are not supported")


def _is_expr(el: ET.Element) -> bool:
    tag = local(el.tag)
    return tag in _EXPRESSIONS or tag in _KNOWN_UNSUPPORTED


def _required(expr: Expr | None, el: ET.Element) -> Expr:
    if expr is None:
        raise DmnError(f"{describe(el)}: no expression")
    return expr


def _part(el: ET.Element, name: str) -> Expr:
    holder = _child(el, name)
    if holder is None:
        raise DmnError(f"{describe(el)}: needs <{name}>")
    return _required(_expression_child(holder), holder)


def _decision_table(el: ET.Element) -> DecisionTable:
    hit_policy = (el.get("hitPolicy") or "UNIQUE").strip().upper().replace("_", " ")
    if hit_policy not in _HIT_POLICIES:
        raise DmnError(f"{describe(el)}: unknown hit policy {hit_policy!r}")
    aggregation = el.get("aggregation")
    if aggregation is not None:
        aggregation = aggregation.strip().upper()
        if aggregation not in _AGGREGATIONS:
            raise DmnError(f"{describe(el)}: unknown aggregation {aggregation!r}")
        if hit_policy != "COLLECT":
            raise DmnError(f"{describe(el)}: aggregation {aggregation} needs hit policy COLLECT")
    inputs = []
    for i in _children(el, "input"):
        expression = _child(i, "inputExpression")
        if expression is None:
            raise DmnError(f"{describe(i)} in {describe(el)}: an input needs an inputExpression")
        inputs.append(
            InputClause(
                _text(expression) or "",
                _type_ref(expression),
                _text(_child(i, "inputValues")),
                i.get("label"),
                _description(i),
            )
        )
    outputs = []
    for o in _children(el, "output"):
        outputs.append(
            OutputClause(
                o.get("name"),
                _type_ref(o),
                _text(_child(o, "outputValues")),
                _text(_child(o, "defaultOutputEntry")),
                o.get("label"),
                _description(o),
            )
        )
    if not outputs:
        raise DmnError(f"{describe(el)}: a decision table needs at least one output")
    if len(outputs) > 1 and any(not o.name for o in outputs):
        raise DmnError(f"{describe(el)}: with several outputs each output needs a name")
    rules = []
    for r in _children(el, "rule"):
        when = tuple(_text(e) or "-" for e in _children(r, "inputEntry"))
        then = tuple(_text(e) or "" for e in _children(r, "outputEntry"))
        if len(when) != len(inputs):
            raise DmnError(
                f"{describe(r)} in {describe(el)}: {len(when)} input entries for "
                f"{len(inputs)} inputs"
            )
        if len(then) != len(outputs):
            raise DmnError(
                f"{describe(r)} in {describe(el)}: {len(then)} output entries for "
                f"{len(outputs)} outputs"
            )
        notes = tuple(_text(a) or "" for a in _children(r, "annotationEntry"))
        rules.append(DtRule(r.get("id"), when, then, notes, _description(r)))
    return DecisionTable(
        el.get("id"),
        _type_ref(el),
        hit_policy,
        aggregation,
        tuple(inputs),
        tuple(outputs),
        tuple(rules),
        el.get("outputLabel"),
        tuple((a.get("name") or "").strip() for a in _children(el, "annotation")),
    )


def _requirements(el: ET.Element) -> tuple[tuple[str, ...], tuple[str, ...]]:
    information: list[str] = []
    knowledge: list[str] = []
    for req in _children(el, "informationRequirement"):
        for c in req:
            if local(c.tag) in ("requiredDecision", "requiredInput"):
                information.append(_href(c))
    for req in _children(el, "knowledgeRequirement"):
        for c in req:
            if local(c.tag) == "requiredKnowledge":
                knowledge.append(_href(c))
    return tuple(information), tuple(knowledge)


def read_definitions(root: ET.Element, source: str | None = None) -> Definitions:
    if local(root.tag) != "definitions":
        raise DmnError(f"{describe(root)}: a DMN file's root must be <definitions>")
    model_name = root.get("name") or (Path(source).stem if source else "model")
    namespace = root.get("namespace") or ""
    imports, items, inputs, decisions, bkms, services = [], [], [], [], [], []
    for el in root:
        tag = local(el.tag)
        where = f"{describe(el)} in model {model_name!r}"
        try:
            if tag == "import":
                imports.append(
                    Import(
                        (el.get("name") or "").strip(),
                        el.get("namespace") or "",
                        el.get("locationURI"),
                        el.get("importType"),
                    )
                )
            elif tag == "itemDefinition":
                items.append(read_item_definition(el))
            elif tag == "inputData":
                inputs.append(InputData(_id(el), _name(el), _variable_type(el)))
            elif tag == "decision":
                information, knowledge = _requirements(el)
                decisions.append(
                    Decision(
                        _id(el),
                        _name(el),
                        _variable_type(el),
                        information,
                        knowledge,
                        _expression_child(el, required=False),
                        _description(el),
                    )
                )
            elif tag == "businessKnowledgeModel":
                _, knowledge = _requirements(el)
                logic = _child(el, "encapsulatedLogic")
                function: FunctionDef | None = None
                if logic is not None:
                    read = read_expression(logic)
                    if not isinstance(read, FunctionDef):
                        raise DmnError("encapsulated logic must be a function definition")
                    function = read
                bkms.append(Bkm(_id(el), _name(el), _variable_type(el), knowledge, function))
            elif tag == "decisionService":
                services.append(
                    DecisionService(
                        _id(el),
                        _name(el),
                        _variable_type(el),
                        tuple(_href(c) for c in _children(el, "outputDecision")),
                        tuple(_href(c) for c in _children(el, "encapsulatedDecision")),
                        tuple(_href(c) for c in _children(el, "inputDecision")),
                        tuple(_href(c) for c in _children(el, "inputData")),
                    )
                )
        except DmnError as e:
            msg = str(e)
            raise DmnError(msg if msg.startswith(describe(el)) else f"{where}: {msg}") from None
    return Definitions(
        model_name,
        namespace,
        root.get("id"),
        tuple(imports),
        tuple(items),
        tuple(inputs),
        tuple(decisions),
        tuple(bkms),
        tuple(services),
        source,
    )


def _id(el: ET.Element) -> str:
    return el.get("id") or _name(el)


def parse_dmn(text: str | bytes, source: str | None = None) -> Definitions:
    """Read one DMN document from a string."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise DmnError(f"{source or 'DMN text'}: not well-formed XML: {e}") from None
    return read_definitions(root, source)


def read_dmn(path: str | Path) -> Definitions:
    p = Path(path)
    return parse_dmn(p.read_bytes(), str(p))
