"""The audit log page: admins only, filters, paging, and the chain check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from kijun.criteria.formats.yaml import load_file
from kijun.store import db, save_criterion
from kijun.store.models import AuditEntryRow
from kijun.web.app import create_app

from .webclient import Browser, add_user

ROOT_CONTENT = Path(__file__).resolve().parent.parent / "content" / "nagi"


@pytest.fixture
def admin(engine: Engine, database_url: str) -> Iterator[Browser]:
    with db.session_scope(engine) as session:
        for name in ("jidou-teate", "shussan-iwaikin"):
            save_criterion(session, load_file(ROOT_CONTENT / f"{name}.yaml"), actor="loader")
    add_user(engine, "boss", "admin", department="総務課")
    add_user(engine, "clerk", "staff")
    with Browser(create_app(database_url)) as b:
        b.log_in("boss")
        yield b


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<th scope=\"row\">(\d+)</th>", html)


def test_admins_see_the_log_newest_first(admin: Browser) -> None:
    r = admin.get("/admin/audit")
    assert r.status_code == 200
    seqs = [int(s) for s in _rows(r.text)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) > 3
    assert "版の登録" in r.text and "loader" in r.text


def test_filters_and_paging(admin: Browser) -> None:
    page = admin.get("/admin/audit", params={"action": "criterion"}).text
    assert "判断基準の登録" in page and "版の登録" not in page
    page = admin.get("/admin/audit", params={"actor": "nobody"}).text
    assert "該当する記録はありません" in page
    everything = [int(s) for s in _rows(admin.get("/admin/audit").text)]
    older = [int(s) for s in _rows(admin.get("/admin/audit",
                                             params={"before": everything[2]}).text)]
    assert older and max(older) < everything[2]


def test_the_chain_check_finds_a_changed_entry(admin: Browser, engine: Engine) -> None:
    assert "改ざんは見つかりませんでした" in admin.get("/admin/audit",
                                                   params={"check": "true"}).text
    with engine.begin() as conn:
        conn.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 2)
                     .values(actor="someone-else"))
    page = admin.get("/admin/audit", params={"check": "true"}).text
    assert "不整合" in page and "記録2" in page


def test_only_admins(engine: Engine, database_url: str, admin: Browser) -> None:
    with Browser(create_app(database_url)) as clerk:
        clerk.log_in("clerk")
        assert clerk.get("/admin/audit").status_code == 403
        assert "監査ログ" not in clerk.get("/").text
    assert "監査ログ" in admin.get("/").text
