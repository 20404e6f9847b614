"""The app factory: `create_app(database_url)` builds the FastAPI app.

Nothing happens at import time. The engine is made from the URL given, else
`KIJUN_DATABASE_URL`, else `var/kijun.db` (see `kijun.store.db.database_url`);
at startup the schema is checked (`kijun db upgrade` migrates it).

Errors never show or log facts: SQLAlchemy's own messages carry statement
parameters, so database errors are logged by driver message only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kijun.criteria.errors import CriteriaError
from kijun.store import db
from kijun.store.errors import NotFoundError, SchemaError, StoreError
from kijun.store.recorder import DecisionRecorder
from kijun.web import present

log = logging.getLogger("kijun.web")

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def create_app(database_url: str | None = None) -> FastAPI:
    """The kijun web app on `database_url` (or `KIJUN_DATABASE_URL`, or var/kijun.db)."""
    from kijun.web import admin, api, auth, pages, workflow
    from kijun.web.security import SecurityHeadersMiddleware

    threads = web_threads()
    # A connection for every request thread, the reads done in the event loop and the
    # decision recorder: no connection is opened and closed per request.
    engine = db.make_engine(db.database_url(database_url), pool_size=threads + 4)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Pages run in worker threads. More threads than cores only fight over the GIL and
        # stretch every request (measured in docs/benchmarks.md): a few per process.
        to_thread.current_default_thread_limiter().total_tokens = threads
        try:
            await run_in_threadpool(db.check_schema, engine)
        except SchemaError as e:
            log.error("cannot start: %s", e)
            raise
        if not await run_in_threadpool(_has_users, engine):
            log.warning("no users yet, so nobody can log in: add one with `kijun user add "
                        "LOGIN --name … --department … --role …` (or `kijun demo-users`)")
        try:
            yield
        finally:
            await run_in_threadpool(recorder.close)
            engine.dispose()

    app = FastAPI(
        title="kijun",
        summary="判断基準（decision criteria）: decide a case and see why.",
        version=_version(),
        lifespan=lifespan,
        # Swagger UI and ReDoc load their scripts from a CDN: off. The schema stays.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        # every route needs a logged-in user unless marked @auth.public (kijun.web.auth);
        # POSTs from a browser session need its CSRF token
        dependencies=[Depends(auth.guard)],
    )
    app.state.engine = engine
    recorder = DecisionRecorder(engine)
    app.state.recorder = recorder
    app.state.templates = make_templates()
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # First: routes are matched in order, and machine clients call the API the most.
    app.include_router(api.router)
    from kijun.web import editor

    app.include_router(editor.router)  # before pages: /criteria/new is no criterion's page
    app.include_router(pages.router)
    app.include_router(workflow.router)
    from kijun.web import transfer

    app.include_router(transfer.router)
    app.include_router(admin.router)
    from kijun.web import measure

    app.include_router(measure.router)
    from kijun.web import account, users_admin

    app.include_router(account.router)
    app.include_router(users_admin.router)
    _install_error_handlers(app)
    auth.install(app)
    return app


#: worker threads per process for pages (env KIJUN_WEB_THREADS)
DEFAULT_THREADS = 4


def web_threads() -> int:
    """Worker threads per process: `KIJUN_WEB_THREADS`, else DEFAULT_THREADS."""
    value = os.environ.get("KIJUN_WEB_THREADS", "").strip()
    if not value:
        return DEFAULT_THREADS
    try:
        threads = int(value)
    except ValueError:
        raise ValueError(f"KIJUN_WEB_THREADS must be a whole number, not {value!r}") from None
    if not 1 <= threads <= 256:
        raise ValueError(f"KIJUN_WEB_THREADS must be between 1 and 256, not {threads}")
    return threads


def _has_users(engine: Engine) -> bool:
    from sqlalchemy import select

    from kijun.store.models import UserRow

    with db.session_scope(engine) as session:
        return session.scalars(select(UserRow.id).limit(1)).first() is not None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kijun")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.autoescape = True
    # The templates ship inside the package: no file-system check on every render.
    env.auto_reload = False
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(
        date_ja=present.date_ja,
        wareki=present.wareki,
        datetime_ja=present.datetime_ja,
        show=present.show,
        join_ja=present.join_ja,
        outcome_ja=present.outcome_ja,
        hit_policy_label=present.hit_policy_label,
        hit_policy_text=present.hit_policy_text,
        hit_policy_code=present.hit_policy_label_code,
    )
    env.globals.update(
        STATUS_JA=present.STATUS_JA,
        DECISION_STATUS_JA=present.DECISION_STATUS_JA,
        TYPE_JA=present.TYPE_JA,
    )
    return templates


# -- helpers used by the routers -----------------------------------------------------------------


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def recorder_of(request: Request) -> DecisionRecorder:
    """The app's decision recorder: decisions of concurrent requests commit together."""
    recorder: DecisionRecorder = request.app.state.recorder
    return recorder


@contextmanager
def session_for(request: Request) -> Iterator[Session]:
    """A session for one request; commits at the end, rolls back on error."""
    with db.session_scope(engine_of(request)) as session:
        yield session


def root_of(request: Request) -> str:
    """Where the app is mounted ("" at the site's root), for links and cookie paths."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    # Links are root-relative (never absolute URLs), prefixed when mounted under a path.
    # `user` and `csrf_token` are the logged-in user and their session's CSRF token
    # (kijun.web.auth), for the header and for every form that posts.
    state = request.state
    context = {
        "root": root_of(request),
        "user": getattr(state, "user", None),
        "csrf_token": getattr(state, "csrf_token", None),
        **context,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def api_error(status_code: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}}, status_code=status_code
    )


def error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    return render(request, "error.html", {"title": title, "message": message},
                  status_code=status_code)


# -- errors -----------------------------------------------------------------------------------


def _install_error_handlers(app: FastAPI) -> None:
    async def not_found(request: Request, exc: Exception) -> Response:
        if is_api(request):
            message = str(exc) if isinstance(exc, NotFoundError) else "not found"
            return api_error(404, "not_found", message)
        return error_page(request, 404, "ページが見つかりません",
                          "お探しのページ（または判断基準）は登録されていません。")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return await not_found(request, exc)
        if is_api(request):
            return api_error(exc.status_code, "http_error", str(exc.detail))
        return error_page(request, exc.status_code, "リクエストを処理できません",
                          "この操作は受け付けられません。")

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if is_api(request):
            problems = [
                {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
                for e in exc.errors()
            ]
            return api_error(422, "invalid_request", "the request body or query is not valid",
                             details=problems)
        return error_page(request, 422, "入力が正しくありません",
                          "アドレスの指定が正しくありません。一覧から選び直してください。")

    async def database_error(request: Request, exc: Exception) -> Response:
        # Never log str(exc): SQLAlchemy appends the statement and its parameters (facts).
        if isinstance(exc, DBAPIError):
            log.error("%s %s: %s", request.method, request.url.path, db.describe_db_error(exc))
        else:
            log.error("%s %s: database error (%s)", request.method, request.url.path,
                      type(exc).__name__)
        return _unavailable(request)

    async def store_error(request: Request, exc: Exception) -> Response:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return _unavailable(request)

    async def criteria_error(request: Request, exc: Exception) -> Response:
        # Engine errors name fields and rules, never fact values.
        log.error("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        if is_api(request):
            return api_error(500, "criterion_error", str(exc))
        return error_page(request, 500, "判断基準の内容に誤りがあります",
                          "この判断基準は現在の内容では評価できません。担当課に確認してください。")

    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(SQLAlchemyError, database_error)
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(CriteriaError, criteria_error)


def _unavailable(request: Request) -> Response:
    if is_api(request):
        return api_error(503, "database_unavailable", "the database could not be used")
    return error_page(request, 503, "データベースを利用できません",
                      "しばらくしてから、もう一度お試しください。続く場合はシステム管理者に"
                      "連絡してください。")
