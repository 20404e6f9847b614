"""Review and publish in the browser: an author submits a draft, an approver of the
owning department publishes it with its 施行日 or returns it with a reason.

The approver sees the draft on the criterion page, with its verification
findings and its difference from (and impact against) the published version;
these routes only change the review state. Error-level findings block
publishing unless the approver writes a justification, as on the CLI.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from kijun.criteria.model import Criterion
from kijun.criteria.normalise import parse_date
from kijun.store import (
    StoreError,
    VerificationError,
    get_criterion,
    publish_version,
    return_draft,
    review_queue,
    submit_draft,
)
from kijun.web.app import error_page, render, root_of, session_for
from kijun.web.auth import User, ensure_can_approve, ensure_can_edit, require_role

router = APIRouter(include_in_schema=False)


def _back(request: Request, criterion_id: str, number: int, flash: str) -> Response:
    root = root_of(request)
    return RedirectResponse(
        f"{root}/criteria/{criterion_id}?version={number}&done={flash}", status_code=303
    )


@router.get("/review")
def queue_page(request: Request, user: User = Depends(require_role("approver"))) -> Response:
    """Drafts waiting for approval in the approver's department (all, for an admin)."""
    department = None if user.is_admin else user.department
    with session_for(request) as session:
        waiting = review_queue(session, department=department)
        returned = review_queue(session, department=department, state="returned")
    return render(request, "review.html", {"waiting": waiting, "returned": returned,
                                           "department": department})


@router.post("/criteria/{criterion_id}/versions/{number}/submit")
async def submit(
    request: Request, criterion_id: str, number: int,
    user: User = Depends(require_role("author")),
) -> Response:
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
        ensure_can_edit(user, c.department)
        try:
            submit_draft(session, criterion_id, number, actor=user.login)
        except StoreError as e:
            return error_page(request, 409, "承認を依頼できません", _ja(e))
    return _back(request, criterion_id, number, "submitted")


@router.post("/criteria/{criterion_id}/versions/{number}/return")
async def send_back(
    request: Request, criterion_id: str, number: int,
    user: User = Depends(require_role("approver")),
) -> Response:
    form = await request.form()
    reason = str(form.get("reason", "")).strip()
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
        ensure_can_approve(user, c.department)
        if not reason:
            return _review_form_error(request, c, number,
                                      return_error="差し戻す理由を書いてください。")
        try:
            return_draft(session, criterion_id, number, actor=user.login, reason=reason)
        except StoreError as e:
            return error_page(request, 409, "差し戻せません", _ja(e))
    return _back(request, criterion_id, number, "returned")


@router.post("/criteria/{criterion_id}/versions/{number}/publish")
async def publish(
    request: Request, criterion_id: str, number: int,
    user: User = Depends(require_role("approver")),
) -> Response:
    form = await request.form()
    start_text = str(form.get("effective_from", "")).strip()
    justification = str(form.get("justification", "")).strip() or None
    with session_for(request) as session:
        c = get_criterion(session, criterion_id)
        ensure_can_approve(user, c.department)
        try:
            start = parse_date(start_text) if start_text else None
        except ValueError:
            return _review_form_error(
                request, c, number,
                date_error="施行日を「令和8年4月1日」や「2026-04-01」の形で入力してください。",
            )
        try:
            publish_version(session, criterion_id, number, actor=user.login,
                            effective_from=start, justification=justification)
        except VerificationError as e:
            return _review_form_error(
                request, c, number,
                justification_error=(
                    f"この版には要修正の検証結果が{len(e.messages)}件あります。修正して"
                    "もらうか、それでも施行する理由を「理由」に書いてください（監査ログに残ります）。"
                ),
            )
        except StoreError as e:
            return error_page(request, 409, "公開できません", _ja(e))
    return _back(request, criterion_id, number, "published")


def _review_form_error(request: Request, c: Criterion, number: int, **errors: str) -> Response:
    """The criterion page again, with the review form's error next to its field."""
    from kijun.web.pages import criterion_context

    context = criterion_context(request, c, number)
    context["review_errors"] = errors
    return render(request, "criterion.html", context, status_code=422)


def _ja(e: Exception) -> str:
    text = str(e)
    if "already waiting" in text:
        return "この版はすでに承認を待っています。"
    if "not waiting" in text:
        return "この版は承認待ちではありません。"
    if "only a draft" in text:
        return "下書きの版だけが対象です。この版はすでに公開または廃止されています。"
    if "overlap" in text or "take effect on" in text:
        return "施行期間がほかの版と重なります。施行日を確かめてください。"
    return "操作を完了できませんでした。画面を読み込み直してから、もう一度お試しください。"

