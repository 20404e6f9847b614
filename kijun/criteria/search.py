"""Full-text search over criteria, for Japanese: a character-bigram index.

Japanese has no spaces between words, so a word index does not work, and
the trigram indexes of SQLite FTS5 and PostgreSQL pg_trgm cannot find the
two-character words staff search for most (手当, 児童, 転入). A bigram index
over every text of a criterion finds any substring of two characters or
more; one-character queries fall back to a unigram index. Candidates from the
index are then checked by substring, so results are exact.

Text is normalised the same way on both sides: NFKC (full-width letters
and digits, half-width kana), case folded, katakana read as hiragana (ジドウ
finds じどう), white space removed. The index is built from `Criterion`
objects, so it works on any store; it is small (a town has hundreds of
criteria, not millions) and rebuilt when the criteria change.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kijun.criteria.model import Criterion, InputClause, OutputClause

_KATAKANA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}


def normalise(text: str) -> str:
    """The form both the index and the query use."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_KATAKANA)
    return "".join(folded.split())


def _grams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True, slots=True)
class Field:
    """One searchable text of a criterion: where it is (for people) and what it says."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class Hit:
    criterion_id: str
    score: int
    #: the fields that matched, best first, for showing why a criterion was found
    fields: tuple[Field, ...]


# Where a match counts most: a hit in the name ranks above one in a rule's 注記.
_WEIGHTS = {"名称": 100, "識別子": 60, "担当課": 40, "ライフイベント": 40, "根拠": 30, "説明": 20}


def fields_of(c: Criterion) -> Iterator[Field]:
    yield Field("名称", c.name)
    yield Field("識別子", c.id)
    if c.department:
        yield Field("担当課", c.department)
    for event in c.life_events:
        yield Field("ライフイベント", event)
    if c.basis:
        yield Field("根拠", c.basis)
    if c.description:
        yield Field("説明", c.description)
    for v in c.versions:
        if v.note:
            yield Field(f"第{v.number}版の備考", v.note)
        for t in v.decisions:
            yield Field(f"判断「{t.name}」", t.name)
            if t.description:
                yield Field(f"判断「{t.name}」の説明", t.description)
            clauses: list[InputClause | OutputClause] = [*t.inputs, *t.outputs]
            for clause in clauses:
                yield Field(f"判断「{t.name}」の項目", clause.name)
                if clause.description:
                    yield Field(f"項目「{clause.name}」の説明", clause.description)
                for value in clause.allowed or ():
                    if isinstance(value, str):
                        yield Field(f"項目「{clause.name}」の値", value)
            for r in t.rules:
                if r.basis:
                    yield Field(f"規則{r.id}の根拠", r.basis)
                if r.annotation:
                    yield Field(f"規則{r.id}の注記", r.annotation)
    for test in c.tests:
        yield Field("テストケース", test.name)


class SearchIndex:
    """Bigram postings over the fields of some criteria."""

    def __init__(self, criteria: Iterable[Criterion]) -> None:
        #: per criterion, its fields with their normalised text (deduplicated)
        self.docs: dict[str, list[tuple[Field, str]]] = {}
        self.postings: dict[str, set[str]] = {}
        for c in criteria:
            seen: dict[tuple[str, str], tuple[Field, str]] = {}
            for f in fields_of(c):
                norm = normalise(f.text)
                if norm:
                    seen.setdefault((f.label, norm), (f, norm))
            self.docs[c.id] = list(seen.values())
            for _, norm in seen.values():
                for g in _grams(norm) | set(norm):
                    self.postings.setdefault(g, set()).add(c.id)

    def search(self, query: str) -> list[Hit]:
        """Criteria containing every term of `query` (terms split at spaces), best first."""
        terms = [normalise(t) for t in query.split()]
        terms = [t for t in terms if t]
        if not terms:
            return []
        candidates: set[str] | None = None
        for term in terms:
            for g in _grams(term):
                ids = self.postings.get(g, set())
                candidates = set(ids) if candidates is None else candidates & ids
                if not candidates:
                    return []
        hits = []
        for cid in sorted(candidates or ()):
            matched: list[Field] = []
            score = 0
            for term in terms:
                found = [(f, norm) for f, norm in self.docs[cid] if term in norm]
                if not found:
                    break
                best = max(_WEIGHTS.get(f.label, 10) for f, _ in found)
                score += best + (50 if any(norm == term for _, norm in found) else 0)
                matched += [f for f, _ in found if f not in matched]
            else:
                matched.sort(key=lambda f: -_WEIGHTS.get(f.label, 10))
                hits.append(Hit(cid, score, tuple(matched)))
        hits.sort(key=lambda h: (-h.score, h.criterion_id))
        return hits
