"""DMN XML import and evaluation on small hand-written models, one per boxed expression."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from pathlib import Path

import pytest

from kijun.criteria.dmn import DmnError, DmnModels, parse_dmn
from kijun.criteria.dmn.tck import run_tck

NS = "https://www.omg.org/spec/DMN/20230324/MODEL/"


def model(body: str, *, name: str = "m", namespace: str = "urn:m", extra: str = "") -> str:
    return (
        f'<definitions xmlns="{NS}" name="{name}" namespace="{namespace}" id="d" {extra}>'
        f"{body}</definitions>"
    )


def compiled(body: str, **kw: str) -> DmnModels:
    return DmnModels([parse_dmn(model(body, **kw))])


def inp(name: str, type_ref: str = "number") -> str:
    return f'<inputData id="i_{name}" name="{name}"><variable name="{name}" typeRef="{type_ref}"/></inputData>'


def needs(*ids: str) -> str:
    return "".join(
        f'<informationRequirement><requiredInput href="#{i}"/></informationRequirement>'
        for i in ids
    )


def literal(text: str, type_ref: str | None = None) -> str:
    t = f' typeRef="{type_ref}"' if type_ref else ""
    return f"<literalExpression{t}><text>{escape(text, quote=False)}</text></literalExpression>"


def table(hit: str, inputs: list[str], outputs: str, rules: list[tuple[list[str], list[str]]],
          extra: str = "") -> str:
    ins = "".join(
        f"<input><inputExpression><text>{i}</text></inputExpression></input>" for i in inputs
    )
    rs = "".join(
        "<rule>"
        + "".join(f"<inputEntry><text>{escape(w, quote=False)}</text></inputEntry>" for w in when)
        + "".join(f"<outputEntry><text>{t}</text></outputEntry>" for t in then)
        + "</rule>"
        for when, then in rules
    )
    return f'<decisionTable hitPolicy="{hit}" {extra}>{ins}{outputs}{rs}</decisionTable>'


def decision(name: str, expression: str, requires: str = "", type_ref: str | None = None) -> str:
    t = f' typeRef="{type_ref}"' if type_ref else ""
    return (
        f'<decision id="d_{name}" name="{name}"><variable name="{name}"{t}/>'
        f"{requires}{expression}</decision>"
    )


AGE_RULES = [([">= 18"], ['"adult"']), (["< 18"], ['"minor"']), (["[10..20]"], ['"teen"'])]


@pytest.mark.parametrize(
    ("hit", "extra", "age", "expected"),
    [
        ("UNIQUE", "", 30, "adult"),
        ("UNIQUE", "", 15, None),  # two rules match: an error, so null
        ("FIRST", "", 15, "minor"),
        ("RULE ORDER", "", 15, ["minor", "teen"]),
        ("COLLECT", "", 15, ["minor", "teen"]),
        ("COLLECT", 'aggregation="COUNT"', 15, 2),
        ("ANY", "", 30, "adult"),
        ("ANY", "", 15, None),  # different outputs under ANY: null
    ],
)
def test_decision_table_hit_policies(hit: str, extra: str, age: int, expected: object) -> None:
    out = '<output name="r" typeRef="string"/>'
    m = compiled(inp("Age") + decision("D", table(hit, ["Age"], out, AGE_RULES, extra),
                                       needs("i_Age")))
    assert m.evaluate("D", {"Age": age}) == expected


def test_priority_and_output_order_follow_output_values() -> None:
    out = '<output name="r"><outputValues><text>"high","low"</text></outputValues></output>'
    rules = [(["-"], ['"low"']), ([">5"], ['"high"'])]
    for hit, expected in (("PRIORITY", "high"), ("OUTPUT ORDER", ["high", "low"])):
        m = compiled(inp("x") + decision("D", table(hit, ["x"], out, rules), needs("i_x")))
        assert m.evaluate("D", {"x": 6}) == expected


def test_collect_sum_min_max_and_default_output() -> None:
    out = '<output name="r" typeRef="number"><defaultOutputEntry><text>-1</text></defaultOutputEntry></output>'
    rules = [([">0"], ["10"]), ([">5"], ["5"])]
    for agg, expected in (("SUM", 15), ("MIN", 5), ("MAX", 10)):
        m = compiled(inp("x") + decision(
            "D", table("COLLECT", ["x"], out, rules, f'aggregation="{agg}"'), needs("i_x")))
        assert m.evaluate("D", {"x": 6}) == expected
    m = compiled(inp("x") + decision("D", table("UNIQUE", ["x"], out, rules[:1]), needs("i_x")))
    assert m.evaluate("D", {"x": -3}) == -1


def test_multiple_outputs_give_a_context_and_input_values_are_checked() -> None:
    outs = '<output name="a"/><output name="b"/>'
    dt = table("UNIQUE", ["x"], outs, [(["-"], ["1", '"one"'])])
    dt = dt.replace(
        "</inputExpression></input>",
        "</inputExpression><inputValues><text>[0..10]</text></inputValues></input>",
    )
    m = compiled(inp("x") + decision("D", dt, needs("i_x")))
    assert m.evaluate("D", {"x": 3}) == {"a": 1, "b": "one"}
    assert m.evaluate("D", {"x": 30}) is None  # outside the input values


def test_literal_expression_and_type_coercion() -> None:
    m = compiled(
        inp("x") + inp("s", "string")
        + decision("Double", literal("x * 2"), needs("i_x"), "number")
        + decision("Bad", literal("x * 2"), needs("i_x"), "string")
        + decision("Single", literal("[x]"), needs("i_x"), "number")
        + decision("S", literal("s"), needs("i_s"))
    )
    assert m.evaluate("Double", {"x": 21}) == 42
    assert m.evaluate("Bad", {"x": 21}) is None  # does not conform to its typeRef
    assert m.evaluate("Single", {"x": 5}) == 5  # a singleton list is its element
    assert m.evaluate("S", {"s": 5}) is None  # a number given for a string input


def test_item_definitions_structure_collection_allowed_values() -> None:
    items = (
        '<itemDefinition name="tAge"><typeRef>number</typeRef>'
        "<allowedValues><text>[0..150]</text></allowedValues></itemDefinition>"
        '<itemDefinition name="tPerson"><itemComponent name="name"><typeRef>string</typeRef>'
        '</itemComponent><itemComponent name="age"><typeRef>tAge</typeRef></itemComponent>'
        "</itemDefinition>"
        '<itemDefinition name="tNames" isCollection="true"><typeRef>string</typeRef></itemDefinition>'
    )
    m = compiled(
        items + inp("p", "tPerson") + inp("names", "tNames")
        + decision("Age", literal("p.age"), needs("i_p"))
        + decision("Count", literal("count(names)"), needs("i_names"))
    )
    assert m.evaluate("Age", {"p": {"name": "A", "age": 30}}) == 30
    assert m.evaluate("Age", {"p": {"name": "A", "age": 200}}) is None
    assert m.evaluate("Count", {"names": "solo"}) in (1, None)  # wrapped into a list


def test_context_relation_list() -> None:
    ctx = (
        "<context>"
        '<contextEntry><variable name="a"/>' + literal("x + 1") + "</contextEntry>"
        '<contextEntry><variable name="b"/>' + literal("a * 2") + "</contextEntry>"
        "</context>"
    )
    final = ctx.replace("</context>", "<contextEntry>" + literal("b") + "</contextEntry></context>")
    relation = (
        '<relation><column name="n"/><column name="v"/>'
        "<row>" + literal('"a"') + literal("1") + "</row>"
        "<row>" + literal('"b"') + literal("x") + "</row></relation>"
    )
    lst = "<list>" + literal("1") + literal("x") + "</list>"
    m = compiled(
        inp("x") + decision("C", ctx, needs("i_x")) + decision("F", final, needs("i_x"))
        + decision("R", relation, needs("i_x")) + decision("L", lst, needs("i_x"))
    )
    assert m.evaluate("C", {"x": 1}) == {"a": 2, "b": 4}
    assert m.evaluate("F", {"x": 1}) == 4
    assert m.evaluate("R", {"x": 7}) == [{"n": "a", "v": 1}, {"n": "b", "v": 7}]
    assert m.evaluate("L", {"x": 7}) == [1, 7]


BKM = (
    '<businessKnowledgeModel id="b_add" name="Add"><variable name="Add"/>'
    '<encapsulatedLogic><formalParameter name="a" typeRef="number"/>'
    '<formalParameter name="b" typeRef="number"/>' + literal("a + b") + "</encapsulatedLogic>"
    "</businessKnowledgeModel>"
)
USES_ADD = '<knowledgeRequirement><requiredKnowledge href="#b_add"/></knowledgeRequirement>'


def test_bkm_invocation_boxed_and_literal() -> None:
    boxed = (
        "<invocation>" + literal("Add")
        + '<binding><parameter name="a"/>' + literal("x") + "</binding>"
        + '<binding><parameter name="b"/>' + literal("10") + "</binding></invocation>"
    )
    m = compiled(
        inp("x") + BKM
        + decision("Boxed", boxed, needs("i_x") + USES_ADD)
        + decision("Call", literal("Add(x, 1)"), needs("i_x") + USES_ADD)
        + decision("Wrong", literal('Add(x, "a")'), needs("i_x") + USES_ADD)
    )
    assert m.evaluate("Boxed", {"x": 5}) == 15
    assert m.evaluate("Call", {"x": 5}) == 6
    assert m.evaluate("Wrong", {"x": 5}) is None  # an argument of the wrong type
    assert m.invoke("Add", {"a": 1, "b": 2}) == 3


def test_function_definition_box_in_a_context() -> None:
    ctx = (
        '<context><contextEntry><variable name="sq"/><functionDefinition>'
        '<formalParameter name="n"/>' + literal("n * n") + "</functionDefinition></contextEntry>"
        "<contextEntry>" + literal("sq(x)") + "</contextEntry></context>"
    )
    m = compiled(inp("x") + decision("D", ctx, needs("i_x")))
    assert m.evaluate("D", {"x": 9}) == 81


def test_decision_service_parameters_are_input_data_then_input_decisions() -> None:
    body = (
        inp("a", "string")
        + decision("Inner", literal('"never"'), type_ref="string")
        + decision(
            "Out", literal("a + Inner"),
            needs("i_a") + '<informationRequirement><requiredDecision href="#d_Inner"/>'
            "</informationRequirement>",
        )
        + '<decisionService id="ds" name="Svc"><variable name="Svc"/>'
        '<outputDecision href="#d_Out"/><inputDecision href="#d_Inner"/>'
        '<inputData href="#i_a"/></decisionService>'
        + decision("Use", literal('Svc("x", "y")'),
                   '<knowledgeRequirement><requiredKnowledge href="#ds"/></knowledgeRequirement>')
    )
    m = compiled(body)
    assert m.evaluate("Use", {}) == "xy"
    assert m.invoke("Svc", {"a": "p", "Inner": "q"}) == "pq"


def test_dmn15_conditional_filter_iterators() -> None:
    cond = (
        "<conditional><if>" + literal("x > 0") + "</if><then>" + literal('"pos"')
        + "</then><else>" + literal('"neg"') + "</else></conditional>"
    )
    filt = "<filter><in>" + literal("[1, 5, 9]") + "</in><match>" + literal("item > x")
    filt += "</match></filter>"
    for_ = '<for iteratorVariable="i"><in>' + literal("[1, 2]") + "</in><return>"
    for_ += literal("i * x") + "</return></for>"
    some = '<some iteratorVariable="i"><in>' + literal("[1, 2]") + "</in><satisfies>"
    some += literal("i > x") + "</satisfies></some>"
    every = some.replace("<some", "<every").replace("</some>", "</every>")
    m = compiled(
        inp("x") + decision("C", cond, needs("i_x")) + decision("F", filt, needs("i_x"))
        + decision("For", for_, needs("i_x")) + decision("Some", some, needs("i_x"))
        + decision("Every", every, needs("i_x"))
    )
    assert m.evaluate("C", {"x": 1}) == "pos"
    assert m.evaluate("C", {"x": -1}) == "neg"
    assert m.evaluate("F", {"x": 4}) == [5, 9]
    assert m.evaluate("For", {"x": 3}) == [3, 6]
    assert m.evaluate("Some", {"x": 1}) is True
    assert m.evaluate("Every", {"x": 1}) is False


def test_decisions_chain_in_requirement_order() -> None:
    body = (
        inp("x")
        + decision("A", literal("x + 1"), needs("i_x"))
        + decision("B", literal("A * 10"),
                   '<informationRequirement><requiredDecision href="#d_A"/>'
                   "</informationRequirement>")
    )
    assert compiled(body).evaluate("B", {"x": Decimal("1.5")}) == 25


def test_imports_give_qualified_names(tmp_path: Path) -> None:
    lib = model(inp("n", "string") + decision("Greeting", literal('"hi " + n'), needs("i_n")),
                name="Lib", namespace="urn:lib")
    main = model(
        '<import name="lib" namespace="urn:lib" importType="' + NS + '"/>'
        + decision("Main", literal('lib.Greeting + "!"'),
                   '<informationRequirement><requiredDecision href="urn:lib#d_Greeting"/>'
                   "</informationRequirement>"),
        name="Main", namespace="urn:main",
    )
    m = DmnModels([parse_dmn(main), parse_dmn(lib)])
    assert m.evaluate("Main", {"lib": {"n": "Ann"}}) == "hi Ann!"


def test_dmn11_namespace_and_type_ref_elements() -> None:
    text = (
        '<definitions xmlns="http://www.omg.org/spec/DMN/20151101/dmn.xsd" name="old" '
        'namespace="urn:old" id="o"><itemDefinition name="tN"><typeRef>feel:number</typeRef>'
        '</itemDefinition><inputData id="i" name="n"><variable name="n" typeRef="tN"/></inputData>'
        '<decision id="dd" name="D"><variable name="D"/>'
        '<informationRequirement><requiredInput href="#i"/></informationRequirement>'
        "<literalExpression><text>n + 1</text></literalExpression></decision></definitions>"
    )
    assert DmnModels([parse_dmn(text)]).evaluate("D", {"n": 1}) == 2


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (decision("D", table("WHATEVER", ["x"], '<output name="r"/>', [])), ["decisionTable", "WHATEVER"]),
        (decision("D", "<decisionTable><input><inputExpression><text>x</text></inputExpression>"
                       "</input><output/><rule><outputEntry><text>1</text></outputEntry></rule>"
                       "</decisionTable>"), ["decision", 'name="D"', "0 input entries"]),
        (decision("D", "<unknownBox/>") .replace("<unknownBox/>", literal("1 +")), ["decision 'D'", "FEEL"]),
        (decision("D", literal("x"), needs("nowhere")), ["'D'", "nowhere"]),
        ('<decision id="q"><literalExpression><text>1</text></literalExpression></decision>',
         ["decision", 'id="q"', "needs a name"]),
    ],
)
def test_bad_models_name_the_element(body: str, names: list[str]) -> None:
    with pytest.raises(DmnError) as err:
        compiled(body)
    for n in names:
        assert n in str(err.value)


def test_not_xml_and_wrong_root() -> None:
    with pytest.raises(DmnError, match="not well-formed"):
        parse_dmn("<definitions", "x.dmn")
    with pytest.raises(DmnError, match="root must be <definitions>"):
        parse_dmn("<model/>")


def test_tck_runner_on_a_tiny_folder(tmp_path: Path) -> None:
    folder = tmp_path / "level" / "0001-tiny"
    folder.mkdir(parents=True)
    (folder / "0001-tiny.dmn").write_text(
        model(inp("x") + decision("D", literal("x * 2"), needs("i_x")), name="0001-tiny")
    )
    tc = "http://www.omg.org/spec/DMN/20160719/testcase"
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    (folder / "0001-tiny-test-01.xml").write_text(
        f'<testCases xmlns="{tc}" xmlns:xsi="{xsi}" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        "<modelName>0001-tiny.dmn</modelName>"
        '<testCase id="ok"><inputNode name="x"><value xsi:type="xsd:decimal">2.5</value>'
        '</inputNode><resultNode name="D" type="decision"><expected>'
        '<value xsi:type="xsd:decimal">5.0</value></expected></resultNode></testCase>'
        '<testCase id="bad"><inputNode name="x"><value xsi:type="xsd:decimal">1</value>'
        '</inputNode><resultNode name="D" type="decision"><expected>'
        '<value xsi:type="xsd:decimal">3</value></expected></resultNode></testCase>'
        '<testCase id="err"><resultNode name="Nope" type="decision"><expected>'
        '<value xsi:nil="true"/></expected></resultNode></testCase>'
        "</testCases>"
    )
    report = run_tck(tmp_path / "level")
    summary = report.summary()
    assert (summary["total"], summary["passed"], summary["failed"], summary["errors"]) == (3, 1, 1, 1)
    assert summary["by_folder"] == {"level/0001-tiny": {"passed": 1, "total": 3}}
    out = tmp_path / "r.csv"
    report.write_csv(out)
    first = out.read_text().splitlines()[0]
    assert first == '"level/0001-tiny","0001-tiny-test-01","ok","SUCCESS",""'


def test_instance_of_item_definitions_checks_structure_not_allowed_values() -> None:
    items = (
        '<itemDefinition name="t255"><typeRef>number</typeRef>'
        "<allowedValues><text>[0..255]</text></allowedValues></itemDefinition>"
        '<itemDefinition name="tNumbers" isCollection="true"><typeRef>number</typeRef></itemDefinition>'
        '<itemDefinition name="tAnys" isCollection="true"><typeRef>Any</typeRef></itemDefinition>'
        '<itemDefinition name="tAB"><itemComponent name="a"><typeRef>string</typeRef>'
        '</itemComponent><itemComponent name="b"><typeRef>string</typeRef></itemComponent>'
        "</itemDefinition>"
    )
    cases = {
        "256 instance of t255": True,
        '"256" instance of t255': False,
        "[1, 2] instance of tNumbers": True,
        '[1, "2"] instance of tNumbers': False,
        "1 instance of tNumbers": False,
        '[1, "2", @"2018-12-08"] instance of tAnys': True,
        "[] instance of tAnys": True,
        '{a: "x", b: "y", c: 1} instance of tAB': True,  # more entries are fine
        '{a: "x"} instance of tAB': False,
        '{a: "x", b: [1]} instance of tAB': False,
        '[{a: "x", b: "y"}] instance of list<tAB>': True,
        "1 instance of tUndeclared": False,
    }
    body = items + "".join(
        decision(f"d{i}", literal(text)) for i, text in enumerate(cases)
    )
    m = compiled(body)
    for i, (text, expected) in enumerate(cases.items()):
        assert m.evaluate(f"d{i}", {}) is expected, text


def test_tck_compares_times_exactly() -> None:
    from kijun.criteria.dmn.tck import same
    from kijun.criteria.feel import values as fv

    a = fv.parse_temporal("2018-12-08T00:00:00.5")
    b = fv.parse_temporal("2018-12-08T00:00:00")
    assert same(a, a) and not same(a, b)  # FEEL's `=` would say true: it resolves to the second
