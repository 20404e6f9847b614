"""The table editor: authors change a draft's decision tables in the browser, without JavaScript.

Routes (an author of the criterion's department, or an admin):

- `GET|POST /criteria/new` — a new criterion of the author's department, with a
  draft first version holding one empty table (one input, one output);
- `GET|POST /criteria/{id}/versions/{n}/draft` — a new draft version (the next
  number) copied from version n, with its 施行日 (和暦 accepted; left empty, tomorrow);
- `GET /criteria/{id}/versions/{n}/edit` — the editor of a draft: one form per
  decision table, the whole table as a grid of text fields, with the
  verification findings next to the rules;
- `POST /criteria/{id}/versions/{n}/edit` — one table's form with the button
  pressed as `action` (`save`, `add_rule_after:3`, `delete_rule:3`,
  `move_rule_up:3`, `move_rule_down:3`, `add_input`, `delete_input:2`,
  `move_input_left:2`, `move_input_right:2`, `add_output`, `delete_output:1`,
  `move_output_left:2`, `move_output_right:1`), or the version's 施行日 and 備考.

Every action is made on the posted form (`kijun.web.tableform`), then the
table is checked. Valid: the draft is saved through `save_criterion` (audited
as `version.update`; a submitted draft goes back to being written) and the
editor is shown again (303, at the field the action concerns). Not valid:
nothing is stored, and the form comes back as typed (422) with each error next
to its field and a summary above the table linking to them.

A form carries the fingerprint of the table it was made from: when someone
saved the table in between, nothing is stored (409) and the page says so,
keeping what was typed; saving again overwrites knowingly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kijun.criteria.errors import ModelError
from kijun.criteria.model import (
    LIFE_EVENTS,
    Criterion,
    DecisionTable,
    HitPolicy,
    InputClause,
    OutputClause,
    ValueType,
    Version,
    VersionStatus,
    parse_life_events,
)
from kijun.criteria.normalise import nfkc, parse_date, to_wareki
from kijun.store import get_criterion, review_state, save_criterion
from kijun.store.models import CriterionRow
from kijun.web.app import error_page, render, root_of, session_for
from kijun.web.auth import User, ensure_can_edit, require_role
from kijun.web.review import SEVERITY_JA, review
from kijun.web.tableform import (
    AGGREGATION_CHOICES,
    HIT_POLICY_CHOICES,
    TYPE_LABELS,
    Action,
    FieldError,
    FormShapeError,
    TableForm,
    apply,
    build,
    dom_id,
    table_fingerprint,
)

router = APIRouter(include_in_schema=False)

AUTHOR = require_role("author")

DATE_HINT = "和暦（令和8年4月1日、R8.4.1）でも西暦（2026-04-01）でも入力できます。"
DATE_ERROR = "施行日を「令和8年4月1日」や「2026-04-01」のように入力してください。"

#: what the editor reports after a stored change (`?done=` of the redirect)
DONE_JA = {
    "saved": "保存しました。",
    "unchanged": "変更はありませんでした（保存されている内容と同じです）。",
    "rule_added": "規則を追加して保存しました。",
    "rule_deleted": "規則を削除して保存しました。",
    "rule_moved": "規則の順番を変えて保存しました。",
    "input_added": "条件（入力）を追加して保存しました。",
    "input_deleted": "条件（入力）を削除して保存しました。",
    "input_moved": "条件（入力）の列の順番を変えて保存しました。",
    "output_added": "結果（出力）を追加して保存しました。",
    "output_deleted": "結果（出力）を削除して保存しました。",
    "output_moved": "結果（出力）の列の順番を変えて保存しました。",
    "created": "新しい版を下書きとして作りました。表を直して保存し、できあがったら"
               "判断基準のページから承認を依頼してください。",
    "criterion_created": "判断基準を作りました。条件と結果の名前と型を決め、"
                         "規則を追加してください。",
    "version_saved": "施行日と備考を保存しました。",
}

#: reserved: `/criteria/new` is the new-criterion page, not a criterion
RESERVED_IDS = frozenset({"new"})
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


def _edit_url(request: Request, criterion_id: str, number: int) -> str:
    return f"{root_of(request)}/criteria/{quote(criterion_id)}/versions/{number}/edit"


def _tomorrow() -> dt.date:
    return dt.date.today() + dt.timedelta(days=1)


def _form_data(form: Any) -> dict[str, str]:
    """The posted fields; the last value of a repeated field wins."""
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


# -- a new criterion ----------------------------------------------------------------------------


@router.get("/criteria/new")
def new_criterion_page(request: Request, user: User = Depends(AUTHOR)) -> Response:
    raw = {"effective_from": to_wareki(_tomorrow())}
    return _new_criterion_form(request, user, raw, {})


@router.post("/criteria/new")
async def new_criterion(request: Request, user: User = Depends(AUTHOR)) -> Response:
    form = await request.form()
    data = _form_data(form)
    events = [v for v in form.getlist("life_events") if isinstance(v, str)]
    return await run_in_threadpool(_new_criterion, request, user, data, events)


def _new_criterion(request: Request, user: User, data: Mapping[str, str],
                   events: Sequence[str] = ()) -> Response:
    raw = {k: data.get(k, "").strip()
           for k in ("id", "name", "basis", "description", "effective_from")}
    errors: dict[str, str] = {}
    life_events: tuple[str, ...] = ()
    try:
        life_events = parse_life_events(events)
    except ModelError:
        errors["life_events"] = "ライフイベントは一覧の中から選んでください。"
    cid = nfkc(raw["id"]).lower()
    raw["id"] = cid
    if not cid:
        errors["id"] = "識別子を入力してください。"
    elif len(cid) > 100:
        errors["id"] = "識別子は100文字以内にしてください。"
    elif not _ID.fullmatch(cid):
        errors["id"] = ("識別子は英小文字・数字・ハイフン（-）で書き、"
                        "英小文字か数字で始めてください（例：shussan-iwaikin）。")
    elif cid in RESERVED_IDS:
        errors["id"] = f"識別子「{cid}」は使えません。別の識別子にしてください。"
    name = raw["name"]
    if not name:
        errors["name"] = "名称を入力してください。"
    elif len(name) > 200:
        errors["name"] = "名称は200文字以内にしてください。"
    start = _date(raw["effective_from"], errors, default=_tomorrow())
    with session_for(request) as session:
        if "id" not in errors and session.get(CriterionRow, cid) is not None:
            errors["id"] = f"識別子「{cid}」はすでに使われています。別の識別子にしてください。"
        if errors or start is None:
            return _new_criterion_form(request, user, raw, errors, status_code=422,
                                       life_events=life_events)
        table = DecisionTable(
            name=name,
            hit_policy=HitPolicy.UNIQUE,
            inputs=(InputClause("条件1", ValueType.STRING),),
            outputs=(OutputClause("結果1", ValueType.STRING),),
            rules=(),
        )
        criterion = Criterion(
            id=cid,
            name=name,
            department=user.department,
            basis=raw["basis"] or None,
            description=raw["description"] or None,
            life_events=life_events,
            versions=(Version(1, start, (table,), status=VersionStatus.DRAFT),),
        )
        save_criterion(session, criterion, actor=user.login)
    return RedirectResponse(f"{_edit_url(request, cid, 1)}?done=criterion_created&table=1",
                            status_code=303)


def _date(text: str, errors: dict[str, str], *, default: dt.date | None = None) -> dt.date | None:
    if not text:
        if default is not None:
            return default
        errors["effective_from"] = "施行日を入力してください。"
        return None
    try:
        return parse_date(text)
    except ValueError:
        errors["effective_from"] = DATE_ERROR
        return None


def _new_criterion_form(request: Request, user: User, raw: Mapping[str, str],
                        errors: Mapping[str, str], *, status_code: int = 200,
                        life_events: Sequence[str] = ()) -> Response:
    return render(request, "new_criterion.html", {
        "raw": raw, "errors": errors, "department": user.department, "DATE_HINT": DATE_HINT,
        "LIFE_EVENTS": LIFE_EVENTS, "life_events": life_events,
    }, status_code=status_code)


# -- a new version ------------------------------------------------------------------------------


@router.get("/criteria/{criterion_id}/versions/{number}/draft")
def new_draft_page(request: Request, criterion_id: str, number: int,
                   user: User = Depends(AUTHOR)) -> Response:
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
    ensure_can_edit(user, c.department)
    source = _version(c, number)
    if source is None:
        return _no_version(request, c, number)
    raw = {"effective_from": to_wareki(_tomorrow()), "note": ""}
    return _new_draft_form(request, c, source, raw, {})


@router.post("/criteria/{criterion_id}/versions/{number}/draft")
async def new_draft(request: Request, criterion_id: str, number: int,
                    user: User = Depends(AUTHOR)) -> Response:
    data = _form_data(await request.form())
    return await run_in_threadpool(_new_draft, request, criterion_id, number, user, data)


def _new_draft(request: Request, criterion_id: str, number: int, user: User,
               data: Mapping[str, str]) -> Response:
    raw = {"effective_from": data.get("effective_from", "").strip(),
           "note": data.get("note", "").strip()}
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
        ensure_can_edit(user, c.department)
        source = _version(c, number)
        if source is None:
            return _no_version(request, c, number)
        errors: dict[str, str] = {}
        start = _date(raw["effective_from"], errors, default=_tomorrow())
        if start is None:
            return _new_draft_form(request, c, source, raw, errors, status_code=422)
        new_number = max(v.number for v in c.versions) + 1
        draft = Version(
            number=new_number,
            effective_from=start,
            decisions=source.decisions,
            status=VersionStatus.DRAFT,
            note=raw["note"] or None,
        )
        save_criterion(session, replace(c, versions=(*c.versions, draft)), actor=user.login)
    return RedirectResponse(f"{_edit_url(request, c.id, new_number)}?done=created&table=1",
                            status_code=303)


def _new_draft_form(request: Request, c: Criterion, source: Version, raw: Mapping[str, str],
                    errors: Mapping[str, str], *, status_code: int = 200) -> Response:
    return render(request, "new_version.html", {
        "c": c, "source": source, "raw": raw, "errors": errors, "DATE_HINT": DATE_HINT,
        "next_number": max(v.number for v in c.versions) + 1,
    }, status_code=status_code)


def _version(c: Criterion, number: int) -> Version | None:
    return next((v for v in c.versions if v.number == number), None)


def _no_version(request: Request, c: Criterion, number: int) -> Response:
    return error_page(request, 404, "版が見つかりません",
                      f"「{c.name}」に第{number}版はありません。")


def _draft(request: Request, c: Criterion, number: int) -> Version | Response:
    """The draft to edit, or the page saying why it cannot be edited."""
    version = _version(c, number)
    if version is None:
        return _no_version(request, c, number)
    if version.status is not VersionStatus.DRAFT:
        return _not_draft(request, c, version)
    return version


def _not_draft(request: Request, c: Criterion, version: Version) -> Response:
    return error_page(
        request, 409, "この版は編集できません",
        f"「{c.name}」の第{version.number}版は公開または廃止されているため、内容を変えられません。"
        "判断基準のページの「新しい版を作る」で下書きを作り、そちらを編集してください。",
    )


# -- the editor ---------------------------------------------------------------------------------


@router.get("/criteria/{criterion_id}/versions/{number}/edit")
def edit_page(request: Request, criterion_id: str, number: int, done: str | None = None,
              table: int | None = None, user: User = Depends(AUTHOR)) -> Response:
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
        ensure_can_edit(user, c.department)
        version = _draft(request, c, number)
        if isinstance(version, Response):
            return version
        return _render_editor(request, session, c, version,
                              done=DONE_JA.get(done or ""), done_table=table)


@router.post("/criteria/{criterion_id}/versions/{number}/edit")
async def edit_submit(request: Request, criterion_id: str, number: int,
                      user: User = Depends(AUTHOR)) -> Response:
    data = _form_data(await request.form())
    return await run_in_threadpool(_edit_submit, request, criterion_id, number, user, data)


def _edit_submit(request: Request, criterion_id: str, number: int, user: User,
                 data: Mapping[str, str]) -> Response:
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
        ensure_can_edit(user, c.department)
        version = _draft(request, c, number)
        if isinstance(version, Response):
            return version
        if data.get("action") == "save_version":
            return _save_version_info(request, session, c, version, user, data)
        try:
            index = int(data.get("table", ""))
            if not 0 <= index < len(version.decisions):
                raise FormShapeError("no such table")
            form = TableForm.from_post(data, index)
            applied = apply(form, Action.parse(data.get("action")))
        except (FormShapeError, ValueError):
            return error_page(request, 400, "送信内容を読み取れません",
                              "画面を開き直してから、もう一度操作してください。"
                              "入力した内容は保存されていません。")
        stored = version.decisions[index]
        built = build(form, version)
        if form.base != table_fingerprint(stored):
            # Someone saved this table since the form was made: keep what was typed, store
            # nothing, and let the next save overwrite knowingly.
            form.base = table_fingerprint(stored)
            return _render_editor(request, session, c, version, edited=form,
                                  errors=built.errors, conflict=True, status_code=409)
        if built.table is None:
            return _render_editor(request, session, c, version, edited=form,
                                  errors=built.errors, status_code=422)
        done = applied.done
        if table_fingerprint(built.table) == form.base:
            done = "unchanged" if applied.done == "saved" else applied.done
        else:
            decisions = list(version.decisions)
            decisions[index] = built.table
            changed = replace(version, decisions=tuple(decisions))
            versions = tuple(changed if v.number == number else v for v in c.versions)
            save_criterion(session, replace(c, versions=versions), actor=user.login)
    target = f"{_edit_url(request, c.id, number)}?done={done}&table={index + 1}"
    return RedirectResponse(f"{target}#{dom_id(index + 1, applied.focus)}", status_code=303)


def _save_version_info(request: Request, session: Session, c: Criterion, version: Version,
                       user: User, data: Mapping[str, str]) -> Response:
    raw = {"effective_from": data.get("effective_from", "").strip(),
           "note": data.get("note", "").strip()}
    errors: dict[str, str] = {}
    start = _date(raw["effective_from"], errors)
    if start is None:
        return _render_editor(request, session, c, version, version_raw=raw,
                              version_errors=errors, status_code=422)
    changed = replace(version, effective_from=start, note=raw["note"] or None)
    if changed != version:
        versions = tuple(changed if v.number == version.number else v for v in c.versions)
        save_criterion(session, replace(c, versions=versions), actor=user.login)
    done = "version_saved" if changed != version else "unchanged"
    return RedirectResponse(f"{_edit_url(request, c.id, version.number)}?done={done}#version",
                            status_code=303)


def _render_editor(
    request: Request,
    session: Session,
    c: Criterion,
    version: Version,
    *,
    edited: TableForm | None = None,
    errors: Mapping[str, FieldError] | None = None,
    conflict: bool = False,
    done: str | None = None,
    done_table: int | None = None,
    version_raw: Mapping[str, str] | None = None,
    version_errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    forms = [TableForm.from_table(t, i) for i, t in enumerate(version.decisions)]
    if edited is not None:
        forms[edited.index] = edited
    state, note = review_state(session, c.id, version.number)
    return render(request, "editor.html", {
        "c": c,
        "version": version,
        "forms": forms,
        # the findings are of the stored tables: not shown for a form that differs from them
        "edited": {edited.index} if edited is not None else set(),
        "errors": {edited.index: dict(errors or {})} if edited is not None else {},
        "conflict": edited.index if conflict and edited is not None else None,
        "review": review(version),
        "review_state": state,
        "review_note": note,
        "done": done if done_table is None or 1 <= done_table <= len(forms) else None,
        "done_table": done_table,
        "version_raw": version_raw or {
            "effective_from": to_wareki(version.effective_from), "note": version.note or "",
        },
        "version_errors": version_errors or {},
        "SEVERITY_JA": SEVERITY_JA,
        "TYPE_LABELS": TYPE_LABELS,
        "HIT_POLICY_CHOICES": HIT_POLICY_CHOICES,
        "AGGREGATION_CHOICES": AGGREGATION_CHOICES,
        "DATE_HINT": DATE_HINT,
        "dom_id": dom_id,
    }, status_code=status_code)
