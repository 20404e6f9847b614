"""The HTML pages: catalogue, criterion (and setting its life events), decide form and result,
health check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kijun.criteria.decide import decide, version_in_force
from kijun.criteria.errors import (
    CriteriaError,
    FactError,
    HitPolicyError,
    ModelError,
    NoVersionError,
)
from kijun.criteria.memo import IdentityCache
from kijun.criteria.model import (
    LIFE_EVENTS,
    Criterion,
    Version,
    VersionStatus,
    parse_life_events,
)
from kijun.criteria.normalise import nfkc, parse_date, to_wareki
from kijun.criteria.search import Hit, SearchIndex
from kijun.criteria.testing import TestReport, run_tests
from kijun.store import (
    NewDecision,
    get_criteria,
    get_criterion,
    list_decisions,
    record_decisions,
    review_state,
    save_criterion,
)
from kijun.web import present
from kijun.web.app import error_page, render, root_of, session_for
from kijun.web.auth import (
    DECIDERS,
    User,
    can_approve,
    can_edit,
    ensure_can_edit,
    public,
    require_role,
)
from kijun.web.forms import (
    NULL_LABEL,
    ON_FIELD,
    Field,
    FormInput,
    build_fields,
    decision_inputs,
    fact_error_ja,
    on_error_ja,
    read_form,
)
from kijun.web.review import SEVERITY_JA, DraftComparison, Review, compare_draft, review

router = APIRouter(include_in_schema=False)

RECENT_DECISIONS = 10


@router.get("/healthz")
@public
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


# -- catalogue ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatalogueRow:
    criterion: Criterion
    current: Version | None
    upcoming: Version | None
    rules: int


@router.get("/")
def catalogue(
    request: Request,
    department: str | None = None,
    q: str | None = None,
    status: str | None = None,
    life_event: str | None = None,
) -> Response:
    today = dt.date.today()
    with session_for(request) as session:
        criteria = get_criteria(session)
    rows = [_catalogue_row(c, today) for c in criteria]
    departments = present.departments(criteria)
    life_events = present.life_events(criteria)
    chosen = department or None
    shown = [r for r in rows if chosen is None or r.criterion.department == chosen]
    # a word outside the vocabulary is ignored, like an unknown status
    event = nfkc(life_event or "") or None
    if event not in LIFE_EVENTS:
        event = None
    if event is not None:
        shown = [r for r in shown if event in r.criterion.life_events]
    if status in CATALOGUE_STATUS:
        shown = [r for r in shown if _has_status(r, status)]
    query = (q or "").strip()
    found: dict[str, Hit] = {}
    if query:
        found = {h.criterion_id: h for h in SearchIndex(r.criterion for r in shown).search(query)}
        shown = sorted((r for r in shown if r.criterion.id in found),
                       key=lambda r: -found[r.criterion.id].score)
    return render(request, "index.html", {
        "rows": shown,
        "total": len(rows),
        "departments": departments,
        "department": chosen,
        "life_events": life_events,
        "life_event": event,
        "q": query,
        "hits": found,
        "status": status if status in CATALOGUE_STATUS else None,
        "statuses": CATALOGUE_STATUS,
        "today": today,
    })


#: the catalogue's status filter: value → label
CATALOGUE_STATUS = {
    "in_force": "本日施行中の版がある",
    "upcoming": "施行予定の版がある",
    "draft": "下書きの版がある",
    "none": "施行中の版がない",
}


def _catalogue_row(c: Criterion, today: dt.date) -> CatalogueRow:
    return _CATALOGUE_ROWS.get(c, lambda: _make_catalogue_row(c, today), key=today)


def _make_catalogue_row(c: Criterion, today: dt.date) -> CatalogueRow:
    current = c.version_on(today)
    return CatalogueRow(c, current, _upcoming(c, today), present.rule_count(current))


_CATALOGUE_ROWS: IdentityCache[CatalogueRow] = IdentityCache(2048)


def _has_status(row: CatalogueRow, status: str) -> bool:
    if status == "in_force":
        return row.current is not None
    if status == "upcoming":
        return row.upcoming is not None
    if status == "draft":
        return any(v.status is VersionStatus.DRAFT for v in row.criterion.versions)
    return row.current is None


def _upcoming(c: Criterion, today: dt.date) -> Version | None:
    later = [v for v, start, _ in c.in_force() if start > today]
    return later[0] if later else None


# -- one criterion --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    version: Version
    start: dt.date
    end: dt.date | None
    #: the version whose 施行日 ended this one (it had no 廃止日 of its own)
    successor: int | None
    in_force: bool
    selected: bool


@router.get("/criteria/{criterion_id}")
def criterion_page(
    request: Request, criterion_id: str, version: int | None = None, done: str | None = None
) -> Response:
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
    if version is not None:
        try:
            c.version(version)
        except KeyError:
            return error_page(request, 404, "版が見つかりません",
                              f"「{c.name}」に第{version}版はありません。")
    context = criterion_context(request, c, version)
    message = DONE_JA.get(done or "")
    # the life-events form says its outcome next to itself
    own = (done or "").startswith("life_events")
    context["done"] = None if own else message
    context["life_events_done"] = message if own else None
    return render(request, "criterion.html", context)


@router.post("/criteria/{criterion_id}/life-events")
async def set_life_events(
    request: Request, criterion_id: str, user: User = Depends(require_role("author"))
) -> Response:
    """Change a criterion's ライフイベント (the boxes ticked); its versions stay as they are."""
    form = await request.form()
    chosen = [v for v in form.getlist("life_events") if isinstance(v, str)]
    return await run_in_threadpool(_set_life_events, request, criterion_id, user, chosen)


def _set_life_events(
    request: Request, criterion_id: str, user: User, chosen: list[str]
) -> Response:
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
        ensure_can_edit(user, c.department)
        try:
            events = parse_life_events(chosen)
        except ModelError:
            return error_page(request, 422, "ライフイベントを保存できません",
                              "ライフイベントは一覧の中から選んでください。")
        report = save_criterion(session, replace(c, life_events=events), actor=user.login)
    done = "life_events_saved" if report.changed else "life_events_unchanged"
    root = root_of(request)
    return RedirectResponse(f"{root}/criteria/{criterion_id}?done={done}#life-events",
                            status_code=303)


#: what the review routes report back after redirecting here
DONE_JA = {
    "submitted": "承認を依頼しました。承認者の確認を待っています。",
    "returned": "差し戻しました。理由は作成者に表示されます。",
    "published": "公開しました。施行日から、この版で判断されます。",
    # kijun.web.transfer (取り込み)
    "imported": "ファイルを取り込み、下書きの版として保存しました。内容と検証結果を確かめてから、"
                "承認を依頼してください。",
    "import_updated": "ファイルの内容で下書きの版を更新しました。承認を依頼していた場合は、"
                      "内容を確かめてから、もう一度依頼してください。",
    "import_unchanged": "ファイルの内容はこの下書きの版と同じでした。変更はありません。",
    "life_events_saved": "ライフイベントを保存しました。",
    "life_events_unchanged": "ライフイベントは変わっていません。",
}


def criterion_context(request: Request, c: Criterion, version: int | None) -> dict[str, Any]:
    """Everything the criterion page shows, for `version` (default: the one in force)."""
    today = dt.date.today()
    chosen = c.version(version) if version is not None else _default_version(c, today)
    user = getattr(request.state, "user", None)
    with session_for(request) as session:
        recent = list_decisions(session, c.id, limit=RECENT_DECISIONS)
        state, note = (review_state(session, c.id, chosen.number)
                       if chosen is not None else (None, None))
    in_force_today = c.version_on(today)
    return {
        "c": c,
        "version": chosen,
        "review": _REVIEWS.get(chosen, lambda: review(chosen)) if chosen is not None else None,
        "tests": _TESTS.get(c, lambda: run_tests(c)) if c.tests and c.versions else None,
        "comparison": (_COMPARISONS.get(c, lambda: compare_draft(c, chosen), key=chosen.number)
                       if chosen is not None else None),
        "SEVERITY_JA": SEVERITY_JA,
        "review_state": state,
        "review_note": note,
        "review_errors": {},
        "may_edit": user is not None and can_edit(user, c.department),
        "may_approve": user is not None and can_approve(user, c.department),
        "in_force": in_force_today,
        "timeline": _timeline(c, chosen, in_force_today),
        "recent": recent,
        "today": today,
        "LIFE_EVENTS": LIFE_EVENTS,
    }


# Computed from immutable criteria (kijun.store.cache keeps one object per stored revision),
# so each is worked out once per revision, not on every page view.
_REVIEWS: IdentityCache[Review] = IdentityCache(1024)
_TESTS: IdentityCache[TestReport] = IdentityCache(1024)
_COMPARISONS: IdentityCache[DraftComparison | None] = IdentityCache(1024)


def _default_version(c: Criterion, today: dt.date) -> Version | None:
    """The version in force today, else the latest that was or will be, else the newest draft."""
    found = c.version_on(today)
    if found is not None:
        return found
    live = c.in_force()
    if live:
        past = [v for v, start, _ in live if start <= today]
        return past[-1] if past else live[0][0]
    return max(c.versions, key=lambda v: v.number) if c.versions else None


def _timeline(c: Criterion, chosen: Version | None, today: Version | None) -> list[TimelineEntry]:
    live = c.in_force()
    periods = {v.number: (start, end) for v, start, end in live}
    starts = {start: v.number for v, start, _ in live}
    entries = []
    for v in sorted(c.versions, key=lambda v: (v.effective_from, v.number)):
        start, end = periods.get(v.number, (v.effective_from, v.effective_to))
        successor = None
        if end is not None and end != v.effective_to and v.status is not VersionStatus.DRAFT:
            successor = starts.get(end)
        entries.append(TimelineEntry(
            version=v,
            start=start,
            end=end,
            successor=successor,
            in_force=today is not None and v.number == today.number,
            selected=chosen is not None and v.number == chosen.number,
        ))
    return entries


# -- deciding -------------------------------------------------------------------------------------


@router.get("/criteria/{criterion_id}/decide")
def decide_form(
    request: Request,
    criterion_id: str,
    decision: str | None = None,
    on: str | None = None,
    _user: User = Depends(require_role(*DECIDERS)),
) -> Response:
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
    on_text = (on or "").strip() or to_wareki(dt.date.today())
    errors: dict[str, str] = {}
    try:
        day = parse_date(on_text)
    except ValueError:
        errors[ON_FIELD] = on_error_ja()
        day = dt.date.today()
    form = _DecideForm.build(c, day, decision)
    if form.unknown_decision and decision is not None:
        return error_page(request, 404, "判断が見つかりません",
                          f"「{c.name}」のこの版に「{decision}」という判断はありません。")
    if form.version is None:
        errors[ON_FIELD] = _no_version_message(c, day)
    status = 422 if errors else 200
    return _render_form(request, c, form, {ON_FIELD: on_text}, errors, status_code=status)


@router.post("/criteria/{criterion_id}/decide")
async def decide_submit(
    request: Request, criterion_id: str, user: User = Depends(require_role(*DECIDERS))
) -> Response:
    form = await request.form()
    data = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    return await run_in_threadpool(_decide_submit, request, criterion_id, data, user)


def _decide_submit(
    request: Request, criterion_id: str, data: Mapping[str, str], user: User
) -> Response:
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
        on_text = data.get(ON_FIELD, "").strip()
        on_ok = True
        try:
            day = parse_date(on_text)
        except ValueError:
            on_ok, day = False, dt.date.today()
        form = _DecideForm.build(c, day, data.get("decision") or None)
        if form.version is None:
            message = (_no_version_message(c, day) if on_ok
                       else on_error_ja() if on_text else "判断日を入力してください。")
            return _render_form(request, c, form, {ON_FIELD: on_text}, {ON_FIELD: message},
                                status_code=422)
        entered = read_form(form.fields, data)
        notice = None
        if form.unknown_decision:
            notice = ("選んだ判断はこの判断日の版にないため、この版の判断に切り替えました。"
                      "入力内容を確かめてから、もう一度判断してください。")
        if data.get("_action") == "edit" or notice:
            return _render_form(request, c, form, entered.raw, {}, notice=notice)
        if entered.errors:
            return _render_form(request, c, form, entered.raw, entered.errors, status_code=422)
        assert entered.on is not None
        try:
            result = decide(c, entered.facts, entered.on, decision=form.decision)
        except FactError as e:
            field = next((f for f in form.fields if f.name == e.input), None)
            key = field.key if field is not None else ON_FIELD
            errors = {key: fact_error_ja(field, e)}
            return _render_form(request, c, form, entered.raw, errors, status_code=422)
        except HitPolicyError as e:
            return render(request, "conflict.html", {
                "c": c, "version": form.version, "error": e, "raw": entered.raw,
                "decision": form.decision, "policy": present.hit_policy_label_code(e.hit_policy),
            }, status_code=422)
        [decision_id] = record_decisions(session, [NewDecision(
            c.id, result, entered.facts, user.login, department=user.department,
            role=user.deciding_role)])
    assert result.version is not None
    return render(request, "result.html", {
        "c": c,
        "version": c.version(result.version.number),
        "result": result,
        "decision_id": decision_id,
        "entered": _entered_rows(form.fields, entered),
        "raw": entered.raw,
    })


@dataclass(frozen=True, slots=True)
class _DecideForm:
    version: Version | None
    decision: str | None
    fields: list[Field]
    unknown_decision: bool

    @classmethod
    def build(cls, c: Criterion, day: dt.date, decision: str | None) -> _DecideForm:
        try:
            version = version_in_force(c, day)
        except NoVersionError:
            return cls(None, None, [], False)
        unknown = False
        try:
            target, inputs = decision_inputs(version, decision)
        except CriteriaError:
            unknown = True
            target, inputs = decision_inputs(version, None)
        return cls(version, target, build_fields(inputs), unknown)


def _render_form(
    request: Request,
    c: Criterion,
    form: _DecideForm,
    raw: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    return render(request, "decide.html", {
        "c": c,
        "version": form.version,
        "decision": form.decision,
        "fields": form.fields,
        "raw": raw,
        "errors": errors,
        "notice": notice,
        "ON_FIELD": ON_FIELD,
        "NULL_LABEL": NULL_LABEL,
    }, status_code=status_code)


def _no_version_message(c: Criterion, day: dt.date) -> str:
    live = [v for v in c.versions if v.status is not VersionStatus.DRAFT]
    if not live:
        return "この判断基準には、まだ公開された版がありません。"
    return f"{present.date_ja(day)}に施行されている版がありません。判断日を確かめてください。"


def _entered_rows(fields: list[Field], entered: FormInput) -> list[tuple[str, str]]:
    return [(f.label, present.show(entered.facts.get(f.name))) for f in fields]
