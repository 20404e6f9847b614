"""Administration pages: the audit log, for admins only.

The log is the town hall's record of who changed what; its entries hold no
facts, passwords or tokens (see kijun.store.audit). The chain check walks
every entry, so it runs when asked, not on every page view.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from kijun.store.audit import list_entries
from kijun.store.audit import verify as verify_chain
from kijun.web.app import render, session_for
from kijun.web.auth import User, require_role

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50

#: action → what it means, for the page
ACTIONS_JA = {
    "criterion.create": "判断基準の登録",
    "criterion.update": "判断基準の情報の変更",
    "version.create": "版の登録",
    "version.update": "下書きの保存",
    "version.submit": "承認の依頼",
    "version.return": "差し戻し",
    "version.publish": "公開",
    "version.retire": "廃止",
    "decision.record": "判断の記録",
    "user.create": "利用者の追加",
    "user.update": "利用者の情報の変更",
    "user.disable": "利用者の無効化",
    "user.enable": "利用者の有効化",
    "user.password": "パスワードの変更",
    "user.password.rehash": "パスワードの保存形式の更新",
    "token.create": "APIトークンの発行",
    "token.revoke": "APIトークンの失効",
    "session.login": "ログイン",
    "session.logout": "ログアウト",
}
FAMILIES_JA = {
    "criterion": "判断基準",
    "version": "版（作成・承認・公開）",
    "decision": "判断の記録",
    "user": "利用者",
    "token": "APIトークン",
    "session": "ログイン・ログアウト",
}


def _detail(detail: dict[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True)


@router.get("/admin/audit")
def audit_page(
    request: Request,
    before: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    check: bool = False,
    _user: User = Depends(require_role("admin")),
) -> Response:
    with session_for(request) as session:
        entries = list_entries(session, limit=PAGE_SIZE + 1, before=before,
                               action=action or None, actor=actor or None)
        report = verify_chain(session) if check else None
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    return render(request, "audit.html", {
        "nav": "audit",
        "entries": entries,
        "next_before": entries[-1].seq if more and entries else None,
        "action": action or "",
        "actor": actor or "",
        "report": report,
        "ACTIONS_JA": ACTIONS_JA,
        "FAMILIES_JA": FAMILIES_JA,
        "detail_text": _detail,
    })
