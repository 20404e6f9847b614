"""Japanese full-text search over criteria: two-character words, 根拠 and 注記 text, kana."""

from __future__ import annotations

from pathlib import Path

import pytest

from kijun.criteria.formats.yaml import load_path
from kijun.criteria.search import SearchIndex, normalise

ROOT = Path(__file__).resolve().parent.parent
INDEX = SearchIndex(load_path(ROOT / "content" / "nagi"))


def ids(query: str) -> list[str]:
    return [h.criterion_id for h in INDEX.search(query)]


def test_two_character_words_find_their_criteria() -> None:
    assert set(ids("手当")[:2]) == {"jidou-teate", "zaitaku-ikuji-teate"}
    assert ids("児童")[0] == "jidou-teate"
    assert ids("祝金") == ["shussan-iwaikin"]


def test_a_word_in_a_rules_basis_finds_its_criterion() -> None:
    hits = INDEX.search("第22条")
    assert [h.criterion_id for h in hits] == ["tennyu-tetsuzuki"]
    assert "根拠" in hits[0].fields[0].label


def test_every_term_must_match() -> None:
    assert ids("転入 児童") == ["tennyu-tetsuzuki"]
    assert ids("転入　祝金") == []  # a full-width space separates terms too


def test_names_rank_above_notes() -> None:
    hits = INDEX.search("区分")
    assert hits[0].criterion_id == "jimu-kessai"
    assert hits[0].fields[0].label == "名称"


@pytest.mark.parametrize(("raw", "expected"), [
    ("ｼﾞﾄﾞｳ", "じどう"), ("ジドウ", "じどう"), ("ＭｙＮｕｍｂｅｒ", "mynumber"), ("児童 手当", "児童手当"),
])
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_katakana_and_hiragana_find_each_other() -> None:
    from kijun.criteria.formats.yaml import loads

    c = loads("""\
id: card
name: マイナンバーカードの更新
versions:
  - effective_from: 2024-04-01
    decisions:
      - name: 判定
        hit_policy: FIRST
        inputs: [{name: 年齢, type: number}]
        outputs: [{name: 更新, type: boolean}]
        rules:
          - {when: {年齢: "-"}, then: {更新: true}, basis: 番号法第17条}
""")
    index = SearchIndex([c])
    assert [h.criterion_id for h in index.search("まいなんばー")] == ["card"]
    assert [h.criterion_id for h in index.search("か")] == ["card"]  # one character
    assert index.search("") == [] and index.search("   ") == []
    assert index.search("住民票") == []
