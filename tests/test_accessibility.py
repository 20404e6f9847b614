"""WCAG 2.1 AA, checked automatically (JIS X 8341-3 follows WCAG 2.1).

1. **Contrast** (1.4.3, 1.4.11), from kijun/web/static/kijun.css itself: the
   colour tokens and rules are parsed, the cascade is worked out for the
   buttons and badges the templates use (in each state: hover, active, focus),
   and WCAG's relative luminance and contrast ratio are computed here. Text
   needs 4.5:1 against every background it can sit on; focus indicators and
   the boundaries of form controls and buttons need 3:1.
2. **Structure**, over every page the app renders for every role: each page
   reached by following links from the catalogue, and the pages that answer
   forms or refuse them (decide results, exceptions and conflicts, form errors
   of every editor and admin form, one-time passwords and tokens, login, 403,
   404, 422, CSRF); every page template must be among them. Checked: lang="ja", a title, one <main> and one <h1>, headings that do
   not skip levels, a label for every form control, text alternatives for
   images, unique ids and references to ids that exist, header cells in every
   table, links and buttons with names (and visible text inside the name,
   2.5.3), no positive tabindex, fieldsets with legends, well-formed markup
   (4.1.1). The HTML parser is the standard library's.
3. **axe-core** in Chromium over the main pages, when both are there: Chromium
   from Debian (`.ci/run`), axe-core from npm (`package.json`, installed by
   `.ci/run` with `npm ci`). It is injected into the page by Playwright; the app
   itself never serves or loads it. Skips, saying why, when either is missing.
"""

from __future__ import annotations

import html as html_lib
import io
import itertools
import json
import re
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from kijun.criteria.formats.yaml import load_file, loads
from kijun.store import create_token, db, open_session, save_criterion, submit_draft
from kijun.web.app import create_app
from tests.webclient import PASSWORD, Browser, add_user

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "kijun" / "web" / "static" / "kijun.css"
TEMPLATES = ROOT / "kijun" / "web" / "templates"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

TEXT_RATIO = 4.5  # 1.4.3 (normal-size text; kijun has no text that counts as large only)
UI_RATIO = 3.0  # 1.4.11 (component boundaries, focus indicators)


# == 1. contrast ================================================================================


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG 2.1 relative luminance (sRGB)."""
    r, g, b = (_channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_contrast_formula_matches_wcags_examples() -> None:
    white, black = (255, 255, 255), (0, 0, 0)
    assert contrast(white, black) == pytest.approx(21.0)
    assert contrast(white, white) == pytest.approx(1.0)
    assert contrast((0x76, 0x76, 0x76), white) == pytest.approx(4.54, abs=0.01)
    assert contrast((0x77, 0x77, 0x77), white) < 4.5 < contrast((0x76, 0x76, 0x76), white)


NAMED = {"white": (255, 255, 255), "black": (0, 0, 0)}
_HEX = re.compile(r"#([0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3,4})\b")
_RGB = re.compile(r"rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)(?:[\s,/]+([\d.]+%?))?\s*\)")

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Rule:
    selector: str  # one selector of the rule's list
    decls: dict[str, str]
    order: int
    media: str | None


@dataclass
class Stylesheet:
    variables: dict[str, str]
    rules: list[Rule]

    @classmethod
    def parse(cls, text: str) -> Stylesheet:
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        rules: list[Rule] = []
        _parse_block(text, None, rules)
        variables: dict[str, str] = {}
        for r in rules:
            if r.selector == ":root":
                variables.update({k: v for k, v in r.decls.items() if k.startswith("--")})
        return cls(variables, rules)

    def substitute(self, value: str) -> str:
        """`value` with every var(--x, fallback) replaced (recursively)."""
        for _ in range(10):
            m = re.search(r"var\(\s*(--[\w-]+)\s*(?:,\s*([^()]*(?:\([^()]*\))?[^()]*))?\)", value)
            if not m:
                return value
            name, fallback = m.group(1), m.group(2)
            if name in self.variables:
                replacement = self.variables[name]
            else:
                assert fallback is not None, f"{name} is not defined and has no fallback"
                replacement = fallback.strip()
            value = value[: m.start()] + replacement + value[m.end():]
        raise AssertionError(f"var() nested too deep: {value}")

    def colour(self, value: str) -> Colour | None:
        """The colour named in a declaration's value (None: none, or transparent)."""
        value = self.substitute(value)
        if (m := _HEX.search(value)) is not None:
            h = m.group(1)
            if len(h) in (3, 4):
                h = "".join(ch * 2 for ch in h)
            if len(h) == 8:
                assert h[6:].lower() == "ff", f"translucent colour {value}: not handled"
            return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
        if (m := _RGB.search(value)) is not None:
            assert m.group(4) in (None, "1", "100%"), f"translucent colour {value}: not handled"
            return (int(m.group(1)), int(m.group(2)), int(m.group(3)))
        for word in re.findall(r"[a-z]+", value.lower()):
            if word in NAMED:
                return NAMED[word]
        return None

    def screen_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.media is None or "print" not in r.media]


def _parse_block(text: str, media: str | None, out: list[Rule]) -> None:
    i = 0
    while True:
        start = text.find("{", i)
        if start < 0:
            return
        prelude = text[i:start].strip()
        # the matching brace
        depth, j = 1, start + 1
        while depth:
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
            j += 1
        body = text[start + 1: j - 1]
        if prelude.startswith("@media"):
            _parse_block(body, prelude, out)
        elif not prelude.startswith("@"):
            decls: dict[str, str] = {}
            for part in body.split(";"):
                if ":" in part:
                    name, _, value = part.partition(":")
                    decls[name.strip().lower()] = value.replace("!important", "").strip()
            for selector in prelude.split(","):
                out.append(Rule(" ".join(selector.split()), decls, len(out), media))
        i = j


@pytest.fixture(scope="module")
def css() -> Stylesheet:
    return Stylesheet.parse(CSS.read_text(encoding="utf-8"))


# -- selectors and the cascade, for single elements (buttons, badges) ----------------------------

_COMPOUND = re.compile(r"^([a-z][a-z0-9]*|\*)?((?:\.[\w-]+|::?[\w-]+(?:\([^)]*\))?|\[[^\]]*\])*)$")


@dataclass(frozen=True)
class Element:
    tag: str
    classes: frozenset[str]
    states: frozenset[str] = frozenset()


def _compound(selector: str) -> tuple[str | None, list[str], list[str], list[str], list[str]] | None:
    """(type, classes, pseudo-classes, pseudo-elements, attributes) of a selector without
    combinators; None for one with combinators."""
    if re.search(r"[\s>+~]", selector):
        return None
    m = _COMPOUND.match(selector)
    assert m, f"selector not understood: {selector}"
    rest = m.group(2)
    return (
        m.group(1),
        re.findall(r"\.([\w-]+)", rest),
        re.findall(r"(?<!:):([\w-]+)", rest),
        re.findall(r"::([\w-]+)", rest),
        re.findall(r"\[([^\]]*)\]", rest),
    )


def _matches(selector: str, el: Element) -> tuple[int, int, int] | None:
    """The specificity of `selector` if it selects `el` itself, else None."""
    parts = _compound(selector)
    if parts is None:
        return None
    tag, classes, pseudos, elements, attrs = parts
    if elements or attrs:
        return None
    if tag not in (None, "*", el.tag):
        return None
    if not set(classes) <= el.classes or not set(pseudos) <= el.states:
        return None
    return (0, len(classes) + len(pseudos), 1 if tag not in (None, "*") else 0)


@dataclass
class Computed:
    colour: Colour | None
    background: Colour | None  # None: transparent (the surface shows through)
    border: Colour | None


def computed(css: Stylesheet, el: Element, inherited: Colour) -> Computed:
    """Text, background and border colours of `el` after the cascade."""
    won: dict[str, tuple[tuple[int, int, int], int, str]] = {}
    for rule in css.screen_rules():
        spec = _matches(rule.selector, el)
        if spec is None:
            continue
        for name, value in rule.decls.items():
            key = {"background-color": "background", "border-color": "border"}.get(name, name)
            if key not in ("color", "background", "border"):
                continue
            if key == "border" and css.colour(value) is None and name == "border":
                value = "currentcolor" if "solid" in value else value
            rank = (spec, rule.order)
            if key not in won or rank >= won[key][:2]:
                won[key] = (spec, rule.order, value)
    colour = css.colour(won["color"][2]) if "color" in won else inherited
    assert colour is not None

    def pick(key: str) -> Colour | None:
        if key not in won:
            return None
        value = won[key][2]
        if "currentcolor" in value.lower():
            return colour
        return css.colour(value)

    return Computed(colour, pick("background"), pick("border"))


# -- what the CSS defines --------------------------------------------------------------------------

def _is_component(selector: str) -> bool:
    return bool(re.search(r"\.(button|badge)\b", selector))


def surfaces(css: Stylesheet) -> dict[str, Colour]:
    """Every background text can sit on: the page's, and each container's (selector → colour)."""
    found: dict[str, Colour] = {"body": _body(css)[1]}
    for rule in css.screen_rules():
        if _is_component(rule.selector) or "::" in rule.selector:
            continue  # components are checked as a whole; pseudo-elements here hold no text
        for name in ("background", "background-color"):
            if name in rule.decls and (c := css.colour(rule.decls[name])) is not None:
                found[rule.selector] = c
    return found


def _body(css: Stylesheet) -> tuple[Colour, Colour]:
    [body] = [r for r in css.screen_rules() if r.selector == "body"]
    colour, background = css.colour(body.decls["color"]), css.colour(body.decls["background"])
    assert colour and background
    return colour, background


def _link(css: Stylesheet) -> Colour:
    [a] = [r for r in css.screen_rules() if r.selector == "a" and "color" in r.decls]
    colour = css.colour(a.decls["color"])
    assert colour
    return colour


def _fmt(c: Colour) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


def test_the_stylesheet_is_understood(css: Stylesheet) -> None:
    """The parser found the tokens and rules (else the checks below would check nothing)."""
    assert css.variables["--color-text"] and css.colour("var(--color-primary)") == (0, 0x17, 0xC1)
    assert len(css.rules) > 150
    assert len(surfaces(css)) >= 8
    # the cascade below handles one-element selectors only: no colours of a button or a
    # badge may hang on its ancestors
    for rule in css.screen_rules():
        if _is_component(rule.selector) and _compound(rule.selector) is None:
            assert not {"color", "background", "background-color", "border-color"} & set(
                rule.decls), rule.selector


def test_body_text_links_and_every_text_colour_on_every_background(css: Stylesheet) -> None:
    """Text (4.5:1): each colour given to text, against every background it may sit on."""
    body_text, page = _body(css)
    assert contrast(body_text, page) >= 7  # AAA for running text, as the design system has
    texts: dict[str, Colour] = {"body": body_text, "a": _link(css)}
    paired: list[tuple[str, Colour, Colour]] = []
    for rule in css.screen_rules():
        if _is_component(rule.selector) or "color" not in rule.decls:
            continue
        colour = css.colour(rule.decls["color"])
        if colour is None:
            continue  # inherit, currentColor
        own = next((css.colour(rule.decls[k]) for k in ("background", "background-color")
                    if k in rule.decls), None)
        if own is not None:
            paired.append((rule.selector, colour, own))
        else:
            texts[rule.selector] = colour
    failures = []
    for selector, colour in texts.items():
        for where, background in surfaces(css).items():
            ratio = contrast(colour, background)
            if ratio < TEXT_RATIO:
                failures.append(f"{selector} {_fmt(colour)} on {where} {_fmt(background)}: "
                                f"{ratio:.2f}")
    for selector, colour, background in paired:
        ratio = contrast(colour, background)
        if ratio < TEXT_RATIO:
            failures.append(f"{selector} {_fmt(colour)} on its {_fmt(background)}: {ratio:.2f}")
    assert not failures, "text below 4.5:1:\n" + "\n".join(failures)


def _used_components() -> set[tuple[str, frozenset[str]]]:
    """(element, class list) of every button and badge in the templates; a class made in
    the template (`badge--{{ sev }}`) stands for each such modifier of the stylesheet."""
    sheet = CSS.read_text(encoding="utf-8")
    used: set[tuple[str, frozenset[str]]] = set()
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag, value in re.findall(r'<(a|button|span|input|label|p|div)\b[^<]*?class="([^"]*)"',
                                     text):
            static = re.sub(r"\{[{%].*?[%}]\}", " ", value)
            words = [w for w in static.split() if not w.endswith("--")]
            made = re.findall(r"\b([\w-]+--)\{\{", value)
            if not {"button", "badge"} & set(words):
                continue
            variants = [frozenset(words)]
            for prefix in made:
                modifiers = set(re.findall(rf"\.({re.escape(prefix)}[\w-]+)", sheet))
                assert modifiers, prefix
                variants = [v | {m} for v in variants for m in modifiers]
            used.update((tag, v) for v in variants)
    return used


STATES = (frozenset(), frozenset({"hover"}), frozenset({"active"}),
          frozenset({"hover", "active"}), frozenset({"focus-visible"}),
          frozenset({"hover", "focus-visible"}))


def test_buttons_and_badges_in_every_state(css: Stylesheet) -> None:
    """Text on buttons and badges (4.5:1) and the edge of every button (3:1), as the
    templates combine their classes, at rest, hovered, pressed and focused."""
    body_text, _ = _body(css)
    backgrounds = surfaces(css)
    used = _used_components()
    assert ("button", frozenset({"button", "button--secondary"})) in used
    assert ("a", frozenset({"badge", "badge--error"})) in used
    failures = []
    for tag, classes in sorted(used, key=lambda u: (u[0], sorted(u[1]))):
        is_button = "button" in classes
        interactive = is_button or tag == "a"
        for states in STATES if interactive else (frozenset(),):
            el = Element(tag, classes, states)
            c = computed(css, el, _link(css) if tag == "a" else body_text)
            name = f"<{tag} class=\"{' '.join(sorted(classes))}\"> {':'.join(sorted(states))}"
            assert c.colour is not None
            grounds = ({"own": c.background} if c.background is not None else backgrounds)
            for where, bg in grounds.items():
                ratio = contrast(c.colour, bg)
                if ratio < TEXT_RATIO:
                    failures.append(f"{name}: text {_fmt(c.colour)} on {where} "
                                    f"{_fmt(bg)}: {ratio:.2f}")
            if not is_button:
                continue
            # 1.4.11: the button's edge (its border, or its fill) against the page around it
            for where, bg in backgrounds.items():
                edges = [x for x in (c.border, c.background) if x is not None]
                assert edges, name
                ratio = max(contrast(x, bg) for x in edges)
                if ratio < UI_RATIO:
                    failures.append(f"{name}: edge {'/'.join(map(_fmt, edges))} on {where} "
                                    f"{_fmt(bg)}: {ratio:.2f}")
    assert not failures, "buttons and badges:\n" + "\n".join(failures)


def test_focus_is_visible_on_every_background(css: Stylesheet) -> None:
    """2.4.7 and 1.4.11: every focus style draws an outline of 3:1 against every background,
    and none takes the outline away without drawing another indicator."""
    focus_rules = [r for r in css.screen_rules() if re.search(r":focus", r.selector)]
    assert any(r.selector == ":focus-visible" for r in focus_rules)
    failures = []
    for rule in focus_rules:
        outline = rule.decls.get("outline")
        if outline is None:
            continue
        if outline.strip() in ("none", "0"):
            # only the skip link's target, <main tabindex="-1">, which is no control
            if rule.selector != "main:focus" and "box-shadow" not in rule.decls:
                failures.append(f"{rule.selector}: outline removed")
            continue
        colour = css.colour(outline)
        assert colour is not None, rule.selector
        for where, bg in surfaces(css).items():
            ratio = contrast(colour, bg)
            if ratio < UI_RATIO:
                failures.append(f"{rule.selector}: outline {_fmt(colour)} on {where} "
                                f"{_fmt(bg)}: {ratio:.2f}")
    # the outline sits outside the element, on the page: dark buttons need no other colour
    [base] = [r for r in focus_rules if r.selector == ":focus-visible"]
    assert int(re.search(r"(\d+)px", base.decls["outline"]).group(1)) >= 2  # type: ignore[union-attr]
    assert not failures, "focus indicators:\n" + "\n".join(failures)


def test_form_controls_have_a_visible_edge(css: Stylesheet) -> None:
    """1.4.11: text fields and selects stand out from every background (3:1), by their border
    or their fill; so does the error state's border."""
    failures = []
    checked = 0
    for rule in css.screen_rules():
        if not re.search(r"(\.input|\bselect|\btextarea|\[aria-invalid)", rule.selector):
            continue
        if re.search(r":(hover|disabled)", rule.selector):
            continue  # hover adds to the resting edge; disabled controls are exempt
        border = next((css.colour(rule.decls[k]) for k in ("border", "border-color")
                       if k in rule.decls), None)
        if border is None:
            continue
        checked += 1
        fill = next((css.colour(rule.decls[k]) for k in ("background", "background-color")
                     if k in rule.decls), None)
        for where, bg in surfaces(css).items():
            ratio = max(contrast(border, bg), contrast(fill, bg) if fill else 0)
            if ratio < UI_RATIO:
                failures.append(f"{rule.selector}: border {_fmt(border)} on {where} "
                                f"{_fmt(bg)}: {ratio:.2f}")
    assert checked >= 2
    assert not failures, "form controls:\n" + "\n".join(failures)


def test_no_text_is_smaller_than_16px(css: Stylesheet) -> None:
    """The issue's floor (and 1.4.4 resizable text: sizes in rem, never in px)."""
    small = []
    for rule in css.rules:
        size = rule.decls.get("font-size")
        if size is None or size in ("inherit", "100%"):
            continue
        m = re.fullmatch(r"([\d.]+)(rem|em|px)", size)
        assert m, f"{rule.selector}: font-size {size} not understood"
        if m.group(2) == "px" or float(m.group(1)) < 1:
            small.append(f"{rule.selector}: {size}")
    assert not small, small


# == 2. structure of every page ==================================================================

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def iter(self, *tags: str) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                if not tags or child.tag in tags:
                    yield child
                yield from child.iter(*tags)

    def text(self) -> str:
        parts: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag == "img":
                parts.append(child.attrs.get("alt", ""))
            elif child.tag not in ("script", "style", "template"):
                parts.append(child.text())
        return " ".join(" ".join(parts).split())

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, 0)
        self.stack = [self.root]
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [k for k, _ in attrs]
        for dup in {k for k in names if names.count(k) > 1}:
            self.problems.append(f"line {self.getpos()[0]}: <{tag}> has {dup}= twice")
        node = Node(tag, {k: v or "" for k, v in attrs}, self.getpos()[0], self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.stack[-1].tag == tag:
            self.stack.pop()
            return
        self.problems.append(f"line {self.getpos()[0]}: </{tag}> closes "
                             f"<{self.stack[-1].tag}> (line {self.stack[-1].line})")
        if any(n.tag == tag for n in self.stack[1:]):
            while self.stack[-1].tag != tag:
                self.stack.pop()
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(html: str) -> tuple[Node, list[str]]:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    problems = list(builder.problems)
    for node in builder.stack[1:]:
        problems.append(f"<{node.tag}> (line {node.line}) is never closed")
    return builder.root, problems


def _ids(root: Node) -> dict[str, Node]:
    return {n.attrs["id"]: n for n in root.iter() if "id" in n.attrs}


def _name_from(root: Node, node: Node, ids: dict[str, Node]) -> str:
    """The accessible name of a control or link (aria-labelledby, aria-label, label, text)."""
    if ref := node.attrs.get("aria-labelledby", "").split():
        return " ".join(ids[i].text() for i in ref if i in ids).strip()
    if label := node.attrs.get("aria-label", "").strip():
        return label
    if node.tag in ("input", "select", "textarea"):
        if node.attrs.get("type") in ("submit", "button", "reset"):
            return node.attrs.get("value", "").strip()
        if node.attrs.get("type") == "image":
            return node.attrs.get("alt", "").strip()
        texts = []
        if node_id := node.attrs.get("id"):
            texts += [lab.text() for lab in root.iter("label") if lab.attrs.get("for") == node_id]
        texts += [a.text() for a in node.ancestors() if a.tag == "label"]
        if any(t.strip() for t in texts):
            return " ".join(texts).strip()
    else:
        if text := node.text():
            return text
    return node.attrs.get("title", "").strip()


def audit_page(html: str) -> list[str]:
    """Every structural WCAG problem of one page (empty: none found)."""
    root, problems = parse_html(html)
    [doc] = [n for n in root.iter("html")] or [None]
    if doc is None or doc.attrs.get("lang") != "ja":
        problems.append('<html> has no lang="ja" (3.1.1)')
    titles = [t.text() for head in root.iter("head") for t in head.iter("title")]
    if len(titles) != 1 or not titles[0]:
        problems.append(f"the page needs one non-empty <title> (2.4.2): {titles}")
    if len(list(root.iter("main"))) != 1:
        problems.append("the page needs exactly one <main>")
    # ids: unique, and what refers to one names one that exists
    seen: dict[str, int] = {}
    for n in root.iter():
        if "id" in n.attrs:
            seen[n.attrs["id"]] = seen.get(n.attrs["id"], 0) + 1
    problems += [f'id="{i}" is used {k} times (4.1.1)' for i, k in seen.items() if k > 1]
    ids = _ids(root)
    for n in root.iter():
        for attr in ("aria-describedby", "aria-labelledby", "aria-controls"):
            for ref in n.attrs.get(attr, "").split():
                if ref not in ids:
                    problems.append(f'<{n.tag}> {attr}="{ref}": no such id (line {n.line})')
        if n.tag == "label" and (ref := n.attrs.get("for")) and ref not in ids:
            problems.append(f'<label for="{ref}">: no such id (line {n.line})')
        href = n.attrs.get("href", "")
        if n.tag == "a" and href.startswith("#") and href[1:] not in ids:
            problems.append(f'<a href="{href}">: no such id on the page (line {n.line})')
        tabindex = n.attrs.get("tabindex")
        if tabindex is not None and int(tabindex) > 0:
            problems.append(f"<{n.tag}> tabindex={tabindex} (2.4.3, line {n.line})")
    # headings
    levels = [(int(h.tag[1]), h.text(), h.line) for h in root.iter("h1", "h2", "h3", "h4",
                                                                     "h5", "h6")]
    h1s = [h for h in levels if h[0] == 1]
    if len(h1s) != 1:
        problems.append(f"{len(h1s)} <h1> (one per page)")
    if levels and levels[0][0] != 1:
        problems.append(f"the first heading is <h{levels[0][0]}> {levels[0][1]!r}, not <h1>")
    for (prev, _, _), (level, text, line) in itertools.pairwise(levels):
        if level > prev + 1:
            problems.append(f"<h{level}> {text!r} after <h{prev}> skips a level (line {line})")
    for level, text, line in levels:
        if not text:
            problems.append(f"an empty <h{level}> (line {line})")
    # form controls and buttons
    for n in root.iter("input", "select", "textarea", "button"):
        if n.tag == "input" and n.attrs.get("type") == "hidden":
            continue
        name = _name_from(root, n, ids)
        if not name:
            problems.append(f"<{n.tag} name={n.attrs.get('name')!r} id={n.attrs.get('id')!r}> "
                            f"has no label (1.3.1, 4.1.2, line {n.line})")
    for fs in root.iter("fieldset"):
        first = next((c for c in fs.children if isinstance(c, Node)), None)
        if first is None or first.tag != "legend" or not first.text():
            problems.append(f"<fieldset> without a <legend> first (line {fs.line})")
    # links and 2.5.3 (label in name)
    for n in root.iter("a", "button"):
        if n.tag == "a" and "href" not in n.attrs:
            continue
        name = _name_from(root, n, ids)
        if not name:
            problems.append(f"<{n.tag} href={n.attrs.get('href')!r}> has no text (2.4.4, "
                            f"line {n.line})")
        visible = _visible_text(n)
        if n.attrs.get("aria-label") and visible and visible not in name:
            problems.append(f"<{n.tag}> shows {visible!r} but is named {name!r} (2.5.3, "
                            f"line {n.line})")
    # images
    for n in root.iter("img", "area"):
        if "alt" not in n.attrs:
            problems.append(f"<{n.tag} src={n.attrs.get('src')!r}> has no alt (1.1.1)")
    for n in root.iter("svg"):
        hidden = n.attrs.get("aria-hidden") == "true"
        named = n.attrs.get("role") == "img" and (
            n.attrs.get("aria-label") or n.attrs.get("aria-labelledby")
            or any(t.text() for t in n.iter("title")))
        if not hidden and not named:
            problems.append(f"<svg> (line {n.line}) is neither hidden nor named (1.1.1)")
    # tables
    for t in root.iter("table"):
        if not any(True for _ in t.iter("th")):
            problems.append(f"<table> (line {t.line}) has no header cells (1.3.1)")
    # scrollable regions that take focus have a name
    focusable = ("a", "button", "input", "select", "textarea")
    for n in root.iter():
        if n.attrs.get("tabindex") == "0" and n.tag not in focusable and not (
                n.attrs.get("aria-label") or n.attrs.get("aria-labelledby")):
            problems.append(f"<{n.tag} tabindex=0> has no name (4.1.2, line {n.line})")
    return problems


def _visible_text(n: Node) -> str:
    """The text shown on screen (without .visually-hidden parts)."""
    parts: list[str] = []
    for child in n.children:
        if isinstance(child, str):
            parts.append(child)
        elif "visually-hidden" not in child.attrs.get("class", "").split():
            parts.append(_visible_text(child))
    return " ".join(" ".join(parts).split())


def test_the_audit_finds_what_it_looks_for() -> None:
    """Each check fires on a page made to break it (the audit is not vacuous)."""
    bad = textwrap.dedent("""\
        <!doctype html><html><head><title></title></head><body>
        <main><h1>一</h1><h1>二</h1><h3>三</h3>
        <input type="text" name="q"><select id="s"></select><label for="nothing">x</label>
        <button type="submit"></button><a href="/x"></a><a href="#missing">x</a>
        <img src="a.png"><svg></svg><table><tr><td>1</td></tr></table>
        <div tabindex="2" id="d"></div><p id="d" aria-describedby="gone"></p>
        <div class="scroll" tabindex="0"></div><fieldset><p>x</p></fieldset>
        <button aria-label="保存">削除</button><div><span></div>
        </main></body></html>""")
    found = "\n".join(audit_page(bad))
    for expected in ('no lang="ja"', "<title>", "2 <h1>", "skips a level",
                     "name='q'", "id='s'", 'label for="nothing"', "<button href=None> has no text",
                     "<a href='/x'> has no text", 'href="#missing"', "has no alt", "<svg>",
                     "no header cells", "tabindex=2", 'id="d" is used 2 times',
                     'aria-describedby="gone"', "tabindex=0> has no name", "<legend>",
                     "(2.5.3", "</div> closes <span>"):
        assert expected in found, f"{expected!r} not reported in:\n{found}"


# -- the app, with pages of every kind ------------------------------------------------------------

FEES = textwrap.dedent("""\
    id: tesuuryou
    name: 証明書の交付手数料
    department: こども・長寿課
    basis: 奈義町手数料条例
    versions:
      - effective_from: 2019-05-01
        decisions:
          - name: 手数料
            hit_policy: UNIQUE
            inputs:
              - {name: 種類, type: string, allowed: [住民票, 印鑑登録証明書]}
              - {name: 通数, type: number}
              - {name: 申請日, type: date}
              - {name: 減免, type: boolean}
            outputs: [{name: 手数料, type: number}]
            rules:
              - {when: {種類: 住民票, 通数: "[1..10]", 申請日: "-", 減免: false}, then: {手数料: 300}, basis: 第2条}
              - {when: {種類: 印鑑登録証明書, 通数: "[1..10]", 申請日: "-", 減免: false}, then: {手数料: 300}, basis: 第3条}
              - {when: {種類: "-", 通数: "-", 申請日: "-", 減免: true}, then: {手数料: 0}, basis: 第5条}
              - {when: {種類: 住民票, 通数: 5, 申請日: "-", 減免: false}, then: {手数料: 0}, basis: 第9条}
      - effective_from: 2030-04-01
        status: draft
        decisions:
          - name: 手数料
            hit_policy: UNIQUE
            inputs:
              - {name: 種類, type: string, allowed: [住民票, 印鑑登録証明書]}
              - {name: 通数, type: number}
              - {name: 申請日, type: date}
              - {name: 減免, type: boolean}
            outputs: [{name: 手数料, type: number}]
            rules:
              - {when: {種類: 住民票, 通数: "[1..10]", 申請日: "-", 減免: false}, then: {手数料: 350}, basis: 第2条（改正）}
              - {when: {種類: 印鑑登録証明書, 通数: "[1..10]", 申請日: "-", 減免: false}, then: {手数料: 300}, basis: 第3条}
              - {when: {種類: "-", 通数: "-", 申請日: "-", 減免: true}, then: {手数料: 0}, basis: 第5条}
    tests:
      - {name: 住民票1通, on: 2025-04-01, input: {種類: 住民票, 通数: 1, 申請日: 2025-04-01, 減免: false}, expect: {手数料: 300}}
""")
PAGE = "/criteria/tesuuryou"
DEPARTMENT = "こども・長寿課"
USERS = {  # role → (login, department)
    "admin": ("a11y-admin", "総務課"),
    "author": ("a11y-author", DEPARTMENT),
    "approver": ("a11y-approver", DEPARTMENT),
    "staff": ("a11y-staff", "住民課"),
    "viewer": ("a11y-viewer", "教育委員会"),
}
DECIDE_OK = {"fact.種類": "住民票", "fact.通数": "2", "fact.申請日": "令和7年4月1日",
             "fact.減免": "false", "on": "2025-04-01"}
DECIDE_EXCEPTION = {**DECIDE_OK, "fact.通数": "20"}
DECIDE_CONFLICT = {**DECIDE_OK, "fact.通数": "5"}  # two rules of a UNIQUE table match
DECIDE_INVALID = {**DECIDE_OK, "fact.通数": "たくさん", "fact.申請日": "いつか"}


def _load(url: str) -> None:
    db.upgrade(url)
    with open_session(url) as session:
        for name in ("jidou-teate", "shussan-iwaikin"):
            save_criterion(session, load_file(ROOT / "content" / "nagi" / f"{name}.yaml"),
                           actor="test")
        save_criterion(session, loads(FEES), actor="test", justification="テスト（抜けと矛盾を残す）")
        submit_draft(session, "tesuuryou", 2, actor="a11y-author")
    engine = db.make_engine(url)
    try:
        for role, (login, department) in USERS.items():
            add_user(engine, login, role, department=department, name=f"試験 {role}")
        add_user(engine, "a11y-other", "staff", department="住民課", name="試験 その他")
        with db.session_scope(engine) as session:
            create_token(session, "a11y-other", name="窓口端末", actor="test")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('a11y') / 'kijun.db'}"
    _load(url)
    return url


@dataclass
class Page:
    name: str
    role: str
    status: int
    html: str
    template: str | None


def _page(name: str, role: str, r: Any) -> Page:
    template = getattr(r, "template", None)
    return Page(name, role, r.status_code, r.text, getattr(template, "name", None))


#: links the crawl does not follow: downloads, the JSON API, static files
_NOT_PAGES = re.compile(r"^/(static|api)/|/export\.|\.(dmn|xlsx|yaml|xes|csv|json)(\?|$)")
CRAWL_LIMIT = 60  # pages per role; one page per path and set of query parameters


def _crawl(b: Browser, role: str) -> Iterator[Page]:
    """Every page reachable by links from the catalogue, as `role` sees them (GET only:
    no form is submitted). One page per path and set of query parameter names."""
    queue, seen, fetched = ["/"], set(), 0
    while queue and fetched < CRAWL_LIMIT:
        target = queue.pop(0)
        parts = urlsplit(target)
        key = (parts.path, frozenset(k for k, _ in parse_qsl(parts.query)))
        if key in seen or _NOT_PAGES.search(target):
            continue
        seen.add(key)
        r = b.get(target)
        fetched += 1
        if not r.headers.get("content-type", "").startswith("text/html"):
            continue
        yield _page(f"link {target}", role, r)
        for href in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', r.text):
            href = html_lib.unescape(href).split("#")[0]
            if href.startswith("/") and not href.startswith("//"):
                queue.append(href)


def _editor_fields(html: str) -> dict[str, str]:
    from tests.test_editor_web import table_form

    return table_form(html, 1)


def _pages_for(app: Any, role: str) -> Iterator[Page]:
    """Every page `role` reaches by links, the pages that answer forms (results, errors,
    one-time secrets), and the error pages of what `role` may not do."""
    login = USERS[role][0]
    with Browser(app) as b:
        assert b.log_in(login).status_code == 303
        yield from _crawl(b, role)

        def get(name: str, path: str, status: int = 200, **kw: Any) -> Page:
            r = b.get(path, **kw)
            assert r.status_code == status, (role, name, r.status_code)
            return _page(name, role, r)

        def post(name: str, path: str, data: Any, status: int = 200, **kw: Any) -> Page:
            r = b.post(path, data=data, **kw)
            assert r.status_code == status, (role, name, r.status_code, r.text[:300])
            return _page(name, role, r)

        yield get("catalogue search", "/", params={"q": "手当", "department": DEPARTMENT})
        yield get("catalogue no hits", "/", params={"q": "存在しない言葉"})
        yield post("account errors", "/account/password",
                   {"current_password": "wrong password!", "new_password": "short",
                    "new_password_confirm": "other"}, 422)
        yield post("csrf refused", "/account/password", {}, 403, csrf=None)
        yield get("not found", "/criteria/no-such-thing", 404)
        yield get("invalid address", PAGE, 422, params={"version": "abc"})
        if role != "viewer":
            yield get("decide form", f"{PAGE}/decide")
            yield post("decide result", f"{PAGE}/decide", DECIDE_OK)
            yield post("decide exception", f"{PAGE}/decide", DECIDE_EXCEPTION)
            yield post("decide conflict", f"{PAGE}/decide", DECIDE_CONFLICT, 422)
            yield post("decide errors", f"{PAGE}/decide", DECIDE_INVALID, 422)
        else:
            yield get("forbidden", f"{PAGE}/decide", 403)
        if role in ("author", "admin"):
            yield get("new criterion", "/criteria/new")
            yield post("new criterion errors", "/criteria/new",
                       {"id": "Bad Id!", "name": "", "effective_from": "いつか"}, 422)
            yield get("new version", f"{PAGE}/versions/1/draft")
            editor = get("editor", f"{PAGE}/versions/2/edit")
            yield editor
            fields = _editor_fields(editor.html)
            cell = next(k for k, v in fields.items() if v == "[1..10]")
            yield post("editor errors", f"{PAGE}/versions/2/edit",
                       {**fields, cell: "[[[", "action": "save"}, 422)
            yield post("editor conflict", f"{PAGE}/versions/2/edit",
                       {**fields, "base": "stale", "action": "save"}, 409)
            yield get("import", "/import")
            yield post("import errors", "/import", {"criterion": "tesuuryou"}, 422,
                       files={"file": ("bad.yaml", io.BytesIO(b"id: [unclosed"),
                                       "application/yaml")})
        else:
            yield get("forbidden editor", "/criteria/new", 403)
        if role in ("approver", "admin"):
            yield get("review queue", "/review")
            yield post("publish errors", f"{PAGE}/versions/2/publish",
                       {"effective_from": "いつか"}, 422)
        if role == "admin":
            yield get("audit log checked", "/admin/audit", params={"check": "true"})
            yield post("new user errors", "/admin/new-user",
                       {"login": "a11y-staff", "name": "", "department": ""}, 422)
            yield get("user: yourself", f"/admin/users/{login}")
            yield post("user errors", "/admin/users/a11y-other", {"name": ""}, 422)
            yield post("user: disable yourself", f"/admin/users/{login}/disable", {}, 409)
            yield post("user: token errors", "/admin/users/a11y-other/tokens",
                       {"token_name": ""}, 422)
            yield post("new user's password", "/admin/new-user",
                       {"login": "a11y-new", "name": "新 職員", "department": "住民課",
                        "roles": ["viewer"]})
            yield post("new token", "/admin/users/a11y-other/tokens", {"token_name": "連携"})
            yield post("password reset", "/admin/users/a11y-new/password", {})
        else:
            yield get("forbidden admin", "/admin/users", 403)


def _anonymous_pages(app: Any) -> Iterator[Page]:
    with Browser(app) as b:
        r = b.get("/login")
        yield _page("login", "visitor", r)
        token = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
        assert token
        r = b.post("/login", data={"login": "", "password": "", "csrf_token": token.group(1)})
        yield _page("login errors", "visitor", r)
        r = b.post("/login", data={"login": "nobody", "password": "wrong password",
                                   "csrf_token": token.group(1)})
        yield _page("login refused", "visitor", r)
        yield _page("not found", "visitor", b.get("/no/such/page"))


@pytest.fixture(scope="module")
def pages(app_url: str) -> list[Page]:
    app = create_app(app_url)
    found = list(_anonymous_pages(app))
    for role in USERS:
        found += list(_pages_for(app, role))
    return found


def test_every_page_of_every_role_passes_the_structural_audit(pages: list[Page]) -> None:
    assert len(pages) > 80
    report = []
    for page in pages:
        problems = audit_page(page.html)
        if problems:
            report.append(f"{page.role} / {page.name} ({page.status}, {page.template}):\n  "
                          + "\n  ".join(problems))
    assert not report, "\n".join(report)


def test_no_link_leads_to_an_error(pages: list[Page]) -> None:
    broken = [f"{p.role}: {p.name} → {p.status}" for p in pages
              if p.name.startswith("link ") and p.status != 200]
    assert not broken, broken


def test_every_page_template_is_audited(pages: list[Page]) -> None:
    """Each page template was rendered above; a new page needs a way in (a link, or a
    line in `_pages_for`)."""
    own = {p.name for p in TEMPLATES.glob("*.html")
           if not p.name.startswith("_") and p.name != "base.html"}
    rendered = {p.template for p in pages}
    assert not own - rendered, f"never rendered, so never audited: {sorted(own - rendered)}"
    for role in ("visitor", *USERS):
        assert any(p.role == role for p in pages), role


# == 3. axe-core in Chromium =====================================================================

CHROMIUM = Path("/usr/bin/chromium")
AXE_PAGES = (  # (role, path) — the main pages, logged in as someone who can see them
    ("visitor", "/login"),
    ("staff", "/"),
    ("staff", "/criteria/jidou-teate"),
    ("staff", f"{PAGE}/decide"),
    ("author", f"{PAGE}/versions/2/edit"),
    ("author", "/import"),
    ("approver", "/review"),
    ("approver", f"{PAGE}?version=2"),
    ("admin", "/admin/audit"),
    ("admin", "/admin/users"),
    ("admin", "/admin/users/a11y-other"),
    ("admin", "/admin/new-user"),
    ("staff", "/account"),
)


def _axe_ready() -> str | None:
    """Why axe cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    from tests.test_browser import CHROMIUM as configured

    if not configured.exists():
        return f"Chromium not found at {configured} (apt-get install chromium)"
    if not AXE.exists():
        return f"axe-core not found at {AXE.relative_to(ROOT)} (npm ci, as .ci/run does)"
    return None


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    why = _axe_ready()
    if why:
        pytest.skip(why)
    import uvicorn

    from tests.test_browser import _free_port

    url = f"sqlite:///{tmp_path_factory.mktemp('axe') / 'kijun.db'}"
    _load(url)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("kijun did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _axe_run(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'best-practice']},
            resultTypes: ['violations'],
        });
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
    }""")
    assert isinstance(result, list)
    return result


def test_axe_finds_no_violations_on_the_main_pages(live_server: str) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS
    from tests.test_browser import CHROMIUM as configured

    report: list[str] = []
    checked = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(configured), headless=True,
                                    args=CHROMIUM_ARGS)
        try:
            # axe works here: it finds what a broken page gets wrong
            context = browser.new_context(bypass_csp=True)
            page = context.new_page()
            page.set_content('<html><head><title>x</title></head><body><main>'
                             '<img src="data:,"><input type="text"></main></body></html>')
            assert {"image-alt", "label", "html-has-lang"} <= {v["id"] for v in _axe_run(page)}
            context.close()
            for role in ("visitor", "staff", "author", "approver", "admin"):
                paths = [path for r, path in AXE_PAGES if r == role]
                # the app's CSP forbids every script (rightly): the test's own injection of
                # axe is let through by Playwright, the app is unchanged
                context = browser.new_context(locale="ja-JP", bypass_csp=True,
                                              viewport={"width": 1024, "height": 1366})
                page = context.new_page()
                if role != "visitor":
                    page.goto(live_server + "/login")
                    page.get_by_label("利用者ID").fill(USERS[role][0])
                    page.get_by_label("パスワード").fill(PASSWORD)
                    page.get_by_role("button", name="ログイン").click()
                    page.wait_for_url(live_server + "/")
                for path in paths:
                    page.goto(live_server + path)
                    for v in _axe_run(page):
                        nodes = "; ".join(f"{n['target']}" for n in v["nodes"][:5])
                        report.append(f"{role} {path}: {v['id']} ({v['impact']}): {v['help']} "
                                      f"— {nodes}")
                    checked += 1
                context.close()
        finally:
            browser.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                              encoding="utf-8")
    assert checked == len(AXE_PAGES)
    assert not report, "axe-core:\n" + "\n".join(report)

