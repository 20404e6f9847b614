"""The JSON API: list criteria, read one, decide a case.

Every route needs `Authorization: Bearer <token>` (`kijun token create`) or a
browser session (whose POSTs carry the header `X-CSRF-Token`); without one the
answer is 401. Deciding needs the role staff, author, approver or admin (else
403); the decision is recorded in the name of the token's or session's user.

Errors are `{"error": {"code", "message"}}` with 404 (unknown criterion) or
422 (a fact missing or mistyped, no version in force, unknown decision, a
broken hit policy, an unknown life event to filter by). Messages name inputs,
never their values.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from kijun.criteria.decide import as_date, decide, version_in_force
from kijun.criteria.errors import FactError, HitPolicyError, NoVersionError
from kijun.criteria.model import LIFE_EVENTS, Criterion
from kijun.criteria.normalise import nfkc
from kijun.criteria.serial import criterion_to_dict, version_to_dict
from kijun.criteria.verify import verify_version
from kijun.store import NewDecision, get_criterion, list_criteria
from kijun.web.app import api_error, recorder_of, session_for
from kijun.web.auth import DECIDERS, User, bearer_scheme, require_role
from kijun.web.forms import decision_inputs

# The bearer scheme documents the token in the OpenAPI schema; kijun.web.auth.guard checks it.
router = APIRouter(prefix="/api", tags=["criteria"], dependencies=[Security(bearer_scheme)])


class DecideRequest(BaseModel):
    """A case to decide."""

    model_config = ConfigDict(extra="forbid")

    facts: dict[str, Any] = Field(description="Facts by input name, e.g. {\"定住\": true}.")
    on: str | None = Field(
        default=None,
        description="Decide as of this date (YYYY-MM-DD; 和暦 also accepted). Default: today.",
    )
    decision: str | None = Field(
        default=None, description="The decision to answer; default: the version's top decision."
    )


@router.get("/criteria", response_model=None)
def api_criteria(
    request: Request,
    department: str | None = Query(default=None, description="Only criteria of this 担当課."),
    life_event: str | None = Query(
        default=None,
        description="Only criteria concerning this ライフイベント (one of "
        f"{', '.join(LIFE_EVENTS)}; full-width forms are accepted).",
    ),
) -> dict[str, Any] | JSONResponse:
    """Every stored criterion with the version in force today and its life events.

    Filters (by 担当課, by ライフイベント) combine. An unknown life event is a 422
    `unknown_life_event` listing the known ones.
    """
    event = nfkc(life_event or "") or None
    if event is not None and event not in LIFE_EVENTS:
        return api_error(422, "unknown_life_event",
                         f"unknown life event {event[:30]!r}", known=list(LIFE_EVENTS))
    with session_for(request) as session:
        summaries = list_criteria(session)
    return {
        "criteria": [
            s.to_dict() for s in summaries
            if (department is None or s.department == department)
            and (event is None or event in s.life_events)
        ]
    }


@router.get("/criteria/{criterion_id}")
def api_criterion(request: Request, criterion_id: str) -> dict[str, Any]:
    """One criterion with every version, in kijun's canonical JSON form."""
    with session_for(request) as session:
        return criterion_to_dict(get_criterion(session, criterion_id))


@router.post("/criteria/{criterion_id}/decide", response_model=None)
async def api_decide(
    request: Request,
    criterion_id: str,
    body: DecideRequest,
    user: User = Depends(require_role(*DECIDERS)),
) -> dict[str, Any] | JSONResponse:
    """Decide a case and record it; the result is `DecisionResult.to_dict()`.

    An exception outcome (no rule decides the case) is a result with
    `"status": "exception"`, not an error. The stored decision keeps only the
    facts the decision reads; its id is returned as `decision_id`, once the
    decision is committed.
    """
    # No worker thread: the criterion is kept per stored revision (one indexed read, which
    # never waits for writers) and deciding takes microseconds; the write goes to the
    # recorder's thread. A thread hop and the fight for the GIL would cost more.
    criterion = _read_criterion(request, criterion_id)
    try:
        day = as_date(body.on)
    except FactError:
        return api_error(422, "invalid_date", "`on` is not a date (expected YYYY-MM-DD)")
    try:
        version = version_in_force(criterion, day)
    except NoVersionError as e:
        return api_error(422, "no_version", str(e))
    names = [d.name for d in version.decisions]
    if body.decision is not None and body.decision not in names:
        return api_error(422, "unknown_decision",
                         f"version {version.number} has no decision named {body.decision!r}",
                         known=names)
    try:
        result = decide(criterion, body.facts, day, decision=body.decision)
    except FactError as e:
        return api_error(422, "fact_error", str(e), input=e.input)
    except HitPolicyError as e:
        return api_error(422, "hit_policy_violation", str(e), rules=e.rules)
    _, inputs = decision_inputs(version, result.decision)
    used = {c.name: body.facts[c.name] for c in inputs if c.name in body.facts}
    pending = recorder_of(request).submit(NewDecision(
        criterion.id, result, used, user.login, department=user.department,
        role=user.deciding_role))
    decision_id = await asyncio.wrap_future(pending)
    # to_dict() is plain JSON already: skip FastAPI's jsonable_encoder walk.
    return JSONResponse({**result.to_dict(), "decision_id": decision_id})


def _read_criterion(request: Request, criterion_id: str) -> Criterion:
    with session_for(request) as session:
        return get_criterion(session, criterion_id)


@router.get("/criteria/{criterion_id}/versions/{number}", response_model=None)
def api_version(request: Request, criterion_id: str, number: int) -> dict[str, Any] | JSONResponse:
    """One version's content (decision tables, rules with 根拠) and lifecycle."""
    with session_for(request) as session:
        criterion = get_criterion(session, criterion_id)
    try:
        version = criterion.version(number)
    except KeyError:
        return api_error(404, "not_found", f"criterion {criterion_id!r} has no version {number}")
    return {"criterion": criterion.id, **version_to_dict(version)}


class CheckRequest(BaseModel):
    """Which version to verify."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(default=None, description="Version number; default: the newest.")


@router.post("/criteria/{criterion_id}/check", response_model=None)
def api_check(
    request: Request, criterion_id: str, body: CheckRequest | None = None
) -> dict[str, Any] | JSONResponse:
    """Verify a version: gaps, conflicts, masked rules, … (see `kijun check`)."""
    with session_for(request) as session:
        criterion = get_criterion(session, criterion_id)
    if not criterion.versions:
        return api_error(422, "no_version", f"criterion {criterion_id!r} has no version")
    wanted = body.version if body is not None else None
    try:
        version = (criterion.version(wanted) if wanted is not None
                   else max(criterion.versions, key=lambda v: v.number))
    except KeyError:
        return api_error(404, "not_found", f"criterion {criterion_id!r} has no version {wanted}")
    report = verify_version(version)
    return {"criterion": criterion.id, "version": version.number,
            "has_errors": report.has_errors, **report.to_dict()}
