"""The DMN model read from XML: definitions, item definitions, DRG elements, boxed expressions.

Plain frozen dataclasses holding FEEL text; `kijun.criteria.dmn.evaluate`
compiles them once. References between elements stay as hrefs (`#id`, or
`namespace#id` across imports) and are resolved when a model set is compiled,
since an href may point into another file of the folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kijun.criteria.errors import ModelError


class DmnError(ModelError):
    """A DMN model that is malformed or uses something kijun does not support.

    The message names the element (its tag, id and name) and the reason.
    """


@dataclass(frozen=True, slots=True)
class TypeDef:
    """An item definition (or an anonymous one inside it)."""

    name: str
    #: a FEEL type name or another item definition's (possibly `import.name`); None for structures
    type_ref: str | None = None
    is_collection: bool = False
    #: unary tests text restricting the values
    allowed: str | None = None
    components: tuple[TypeDef, ...] = ()
    #: a function item definition: its output type (parameters are not checked)
    function_output: str | None = None
    is_function: bool = False


@dataclass(frozen=True, slots=True)
class Expr:
    """Base of the boxed expressions; `type_ref` is the declared type, if any."""

    id: str | None
    type_ref: str | None


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    text: str


@dataclass(frozen=True, slots=True)
class ContextEntry:
    #: None: the final result entry
    name: str | None
    type_ref: str | None
    value: Expr | None


@dataclass(frozen=True, slots=True)
class Context(Expr):
    entries: tuple[ContextEntry, ...]


@dataclass(frozen=True, slots=True)
class ListBox(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Relation(Expr):
    columns: tuple[tuple[str, str | None], ...]
    rows: tuple[tuple[Expr | None, ...], ...]


@dataclass(frozen=True, slots=True)
class Invocation(Expr):
    #: the called function as FEEL text (usually a BKM's name)
    callee: str
    bindings: tuple[tuple[str, Expr | None], ...]


@dataclass(frozen=True, slots=True)
class FunctionDef(Expr):
    parameters: tuple[tuple[str, str | None], ...]
    body: Expr | None
    kind: str = "FEEL"


@dataclass(frozen=True, slots=True)
class Conditional(Expr):
    if_: Expr
    then: Expr
    else_: Expr


@dataclass(frozen=True, slots=True)
class FilterBox(Expr):
    in_: Expr
    match: Expr


@dataclass(frozen=True, slots=True)
class Iterator(Expr):
    #: "for", "some" or "every"
    kind: str
    variable: str
    in_: Expr
    body: Expr


@dataclass(frozen=True, slots=True)
class InputClause:
    text: str
    type_ref: str | None
    allowed: str | None
    label: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class OutputClause:
    name: str | None
    type_ref: str | None
    allowed: str | None
    default: str | None
    label: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DtRule:
    id: str | None
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    annotations: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionTable(Expr):
    hit_policy: str
    aggregation: str | None
    inputs: tuple[InputClause, ...]
    outputs: tuple[OutputClause, ...]
    rules: tuple[DtRule, ...]
    #: the table's output label: names a single output's value in messages
    label: str | None = None
    #: the names of the rule-annotation columns (DMN 1.2+), in order
    annotation_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InputData:
    id: str
    name: str
    type_ref: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    id: str
    name: str
    type_ref: str | None
    #: hrefs of required decisions and input data
    information: tuple[str, ...]
    #: hrefs of required BKMs and decision services
    knowledge: tuple[str, ...]
    expression: Expr | None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Bkm:
    id: str
    name: str
    type_ref: str | None
    knowledge: tuple[str, ...]
    function: FunctionDef | None


@dataclass(frozen=True, slots=True)
class DecisionService:
    id: str
    name: str
    type_ref: str | None
    outputs: tuple[str, ...]
    encapsulated: tuple[str, ...]
    input_decisions: tuple[str, ...]
    input_data: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Import:
    name: str
    namespace: str
    location: str | None
    import_type: str | None


@dataclass(frozen=True, slots=True)
class Definitions:
    name: str
    namespace: str
    id: str | None
    imports: tuple[Import, ...] = ()
    item_definitions: tuple[TypeDef, ...] = ()
    inputs: tuple[InputData, ...] = ()
    decisions: tuple[Decision, ...] = ()
    bkms: tuple[Bkm, ...] = ()
    services: tuple[DecisionService, ...] = ()
    #: where it was read from, for messages
    source: str | None = field(default=None, compare=False)
