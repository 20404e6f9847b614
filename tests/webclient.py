"""Logged-in test clients for the web app (kijun.web.auth).

`Browser` is a TestClient on https://testserver (so the Secure session cookie
travels, as it would for a real browser over https) that logs in through the
login form and, like a browser submitting one of kijun's forms, sends the
session's `csrf_token` (read from the page) with every form POST. Pass
`csrf=None` to post without it, or `csrf="…"` to send another value.

`add_user` stores a user directly; `bearer(engine, login)` makes an API token
and returns the request headers that carry it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from kijun.store import UserSummary, create_token, create_user, db

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx.*", category=UserWarning)
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"  # 21 characters: over the policy's 12
BASE_URL = "https://testserver"

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def add_user(
    engine: Engine,
    login: str,
    *roles: str,
    department: str = "住民課",
    name: str | None = None,
    password: str = PASSWORD,
) -> UserSummary:
    with db.session_scope(engine) as session:
        return create_user(session, login, name=name or f"テスト {login}", department=department,
                           roles=roles or ("staff",), password=password, actor="test")


def bearer(engine: Engine, login: str, name: str = "test") -> dict[str, str]:
    with db.session_scope(engine) as session:
        _, secret = create_token(session, login, name=name, actor="test")
    return {"Authorization": f"Bearer {secret}"}


def csrf_in(html: str) -> str | None:
    found = _CSRF.search(html)
    return found.group(1) if found else None


class Browser(TestClient):
    """A TestClient that logs in like a person and posts forms like a browser."""

    csrf_token: str | None = None

    def __init__(self, app: FastAPI, **kwargs: Any) -> None:
        kwargs.setdefault("base_url", BASE_URL)
        super().__init__(app, **kwargs)

    def log_in(self, login: str, password: str = PASSWORD, *, next: str | None = None) -> Any:
        """Log in through the form, as a fresh browser (cookies of before are dropped)."""
        self.cookies.clear()
        self.csrf_token = None
        page = self.get("/login", params={"next": next} if next else None)
        token = csrf_in(page.text)
        assert token, "the login form has no csrf_token"
        form = {"login": login, "password": password, "csrf_token": token}
        if next:
            form["next"] = next
        r = super().post("/login", data=form, follow_redirects=False)
        if r.status_code == 303:
            # the session's token is in every page's logout form
            self.csrf_token = csrf_in(self.get("/").text)
        return r

    def post(self, url: Any, *, data: Any = None, csrf: Any = True,  # type: ignore[override]
             **kwargs: Any) -> Any:
        if isinstance(data, dict) and "csrf_token" not in data:
            token = self.csrf_token if csrf is True else csrf
            if token is not None:
                data = {**data, "csrf_token": token}
        return super().post(url, data=data, **kwargs)


def form_posts(html: str) -> Iterable[str]:
    """Every <form method="post"> … </form> of a page."""
    return re.findall(r'<form[^>]*method="post".*?</form>', html, re.S)
