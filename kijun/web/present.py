"""Presentation helpers: Japanese labels and value formatting for the templates.

No decisions are made here; these functions only say in Japanese what the
model and the result already hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from kijun.criteria.model import (
    LIFE_EVENTS,
    Aggregation,
    DecisionTable,
    HitPolicy,
    ValueType,
    Version,
    VersionStatus,
)
from kijun.criteria.normalise import format_date_ja, to_wareki

#: Japan has no daylight saving time, so a fixed offset is exact.
JST = dt.timezone(dt.timedelta(hours=9), "JST")

STATUS_JA: dict[str, str] = {
    VersionStatus.DRAFT.value: "下書き",
    VersionStatus.PUBLISHED.value: "公開中",
    VersionStatus.RETIRED.value: "廃止",
}

DECISION_STATUS_JA: dict[str, str] = {
    "decided": "判定済み",
    "exception": "例外（該当規則なし）",
}

TYPE_JA: dict[ValueType, str] = {
    ValueType.NUMBER: "数値",
    ValueType.STRING: "文字列",
    ValueType.BOOLEAN: "はい／いいえ",
    ValueType.DATE: "日付",
}

HIT_POLICY_JA: dict[HitPolicy, tuple[str, str]] = {
    HitPolicy.UNIQUE: (
        "一意",
        "該当する規則は多くとも1つです。2つ以上の規則が該当した場合は判断基準の誤りとして扱い、"
        "判断しません。",
    ),
    HitPolicy.ANY: (
        "任意",
        "複数の規則が該当してもかまいませんが、その結果はすべて同じでなければなりません。",
    ),
    HitPolicy.PRIORITY: (
        "優先",
        "複数の規則が該当した場合は、出力の選択肢の並び順で先にある結果を採用します。",
    ),
    HitPolicy.FIRST: (
        "先頭",
        "上の行から順に確かめ、最初に該当した規則の結果を採用します。",
    ),
    HitPolicy.RULE_ORDER: (
        "規則順",
        "該当したすべての規則の結果を、表の行の順に並べて返します。",
    ),
    HitPolicy.OUTPUT_ORDER: (
        "出力順",
        "該当したすべての規則の結果を、出力の選択肢の並び順（優先度）に並べて返します。",
    ),
    HitPolicy.COLLECT: (
        "収集",
        "該当したすべての規則の結果を集めて返します。",
    ),
}

AGGREGATION_JA: dict[Aggregation, str] = {
    Aggregation.SUM: "合計",
    Aggregation.MIN: "最小値",
    Aggregation.MAX: "最大値",
    Aggregation.COUNT: "件数",
}


def hit_policy_label(table: DecisionTable) -> str:
    """e.g. 一意（UNIQUE） or 収集・合計（COLLECT SUM）."""
    name, _ = HIT_POLICY_JA[table.hit_policy]
    code = table.hit_policy.value
    if table.aggregation is not None:
        name = f"{name}・{AGGREGATION_JA[table.aggregation]}"
        code = f"{code} {table.aggregation.value}"
    return f"{name}（{code}）"


def hit_policy_text(table: DecisionTable) -> str:
    _, text = HIT_POLICY_JA[table.hit_policy]
    if table.aggregation is not None:
        text = (
            f"該当したすべての規則の結果の{AGGREGATION_JA[table.aggregation]}を返します。"
        )
    return text


def hit_policy_label_code(code: str) -> str:
    """A trace's hit policy text (`UNIQUE`, `RULE ORDER`, `COLLECT SUM`) in Japanese."""
    policy, agg = code, ""
    if code not in {p.value for p in HitPolicy}:
        policy, _, agg = code.rpartition(" ")
    try:
        name, _ = HIT_POLICY_JA[HitPolicy(policy)]
        if agg:
            name = f"{name}・{AGGREGATION_JA[Aggregation(agg)]}"
    except ValueError:
        return code
    return f"{name}（{code}）"


def wareki(d: dt.date | None) -> str:
    return to_wareki(d) if d is not None else ""


def date_ja(d: dt.date | None) -> str:
    """令和8年4月1日（2026-04-01）, or an empty string."""
    return format_date_ja(d) if d is not None else ""


def datetime_ja(moment: dt.datetime | None) -> str:
    """A stored timestamp in Japan time: 令和7年11月28日 14:05."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # stored as UTC
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(JST)
    return f"{to_wareki(local.date())} {local:%H:%M}"


def show(value: Any) -> str:
    """A value as staff read it: はい／いいえ, 和暦 dates, lists joined with 、."""
    if value is None:
        return "（値なし）"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, dt.datetime):
        return datetime_ja(value)
    if isinstance(value, dt.date):
        return format_date_ja(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, list | tuple):
        return "、".join(show(v) for v in value) if value else "（該当なし）"
    return str(value)


def outcome_ja(value: Mapping[str, Any]) -> str:
    """An impact outcome (`{"status", **outputs}`) as a clerk reads it."""
    status = value.get("status")
    if status == "exception":
        return "該当する規則なし（例外）"
    if status == "error":
        return "判断できない（入力の不足など）"
    if status == "conflict":
        return "規則の矛盾"
    shown = [f"{k} {show(v)}" for k, v in value.items() if k != "status"]
    return "、".join(shown) or "（結果なし）"


def join_ja(items: Iterable[Any]) -> str:
    return "、".join(str(i) for i in items)


def rule_count(version: Version | None) -> int:
    if version is None:
        return 0
    return sum(len(d.rules) for d in version.decisions)


def departments(items: Iterable[Any]) -> list[str]:
    """The distinct 担当課 of criteria (or their summaries), sorted."""
    return sorted({c.department for c in items if c.department})


def life_events(items: Iterable[Any]) -> list[str]:
    """The ライフイベント some criterion (or summary) names, in the vocabulary's order."""
    named = {e for c in items for e in c.life_events}
    return [e for e in LIFE_EVENTS if e in named]
