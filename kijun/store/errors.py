"""Errors raised by the store.

Messages name the criterion, version or audit entry concerned and never echo
facts: a decision's facts may be personal data.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises."""


class NotFoundError(StoreError):
    """A criterion or version that is not in the database."""


class ImmutableVersionError(StoreError):
    """An attempt to change the content of a published (or retired) version."""

    def __init__(self, criterion_id: str, number: int, status: str) -> None:
        self.criterion_id = criterion_id
        self.number = number
        self.status = status
        super().__init__(
            f"criterion {criterion_id!r} version {number} is {status} and its content differs "
            f"from the stored one: {status} versions are immutable — add a new version instead"
        )


class VersionStatusError(StoreError):
    """A lifecycle step that is not allowed from the version's current status."""


class SchemaError(StoreError):
    """The database is not migrated to the revision this code expects."""


class AuditError(StoreError):
    """The audit log cannot be appended to (its head row is missing)."""


class VerificationError(StoreError):
    """Publishing a version with error-level verification findings, without a justification."""

    def __init__(self, criterion_id: str, number: int, messages: list[str]) -> None:
        self.criterion_id = criterion_id
        self.number = number
        self.messages = messages
        shown = "; ".join(messages[:3]) + ("; …" if len(messages) > 3 else "")
        super().__init__(
            f"criterion {criterion_id!r} version {number} has {len(messages)} error-level "
            f"verification finding(s): {shown}. Fix them, or publish with a justification "
            "(recorded in the audit log)"
        )


class UserError(StoreError):
    """A user, role, token or login that is not valid (duplicate login, unknown role …).

    Messages name the login or token id, never a password or a token.
    """


class PasswordPolicyError(UserError):
    """A password that is too short (or otherwise refused); the message never repeats it."""
