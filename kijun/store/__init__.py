"""kijun.store: the database — SQLAlchemy 2 models, Alembic migrations, repositories
and the hash-chained audit log.

Repositories take a `Session` and never commit; wrap them in
`session_scope(engine)` so a change and its audit entries commit together.
"""

from kijun.store.audit import AuditEntry, AuditProblem, AuditReport
from kijun.store.db import (
    check_schema,
    current_revision,
    database_url,
    display_url,
    head_revision,
    make_engine,
    open_session,
    session_scope,
    upgrade,
)
from kijun.store.errors import (
    AuditError,
    ImmutableVersionError,
    NotFoundError,
    SchemaError,
    StoreError,
    VerificationError,
    VersionStatusError,
)
from kijun.store.repository import (
    CriterionSummary,
    DecisionRecord,
    SaveReport,
    VersionSummary,
    get_criterion,
    list_criteria,
    list_decisions,
    list_versions,
    publish_version,
    record_decision,
    retire_version,
    save_criterion,
)

__all__ = [
    "AuditEntry",
    "AuditError",
    "AuditProblem",
    "AuditReport",
    "CriterionSummary",
    "DecisionRecord",
    "ImmutableVersionError",
    "NotFoundError",
    "SaveReport",
    "SchemaError",
    "StoreError",
    "VerificationError",
    "VersionStatusError",
    "VersionSummary",
    "check_schema",
    "current_revision",
    "database_url",
    "display_url",
    "get_criterion",
    "head_revision",
    "list_criteria",
    "list_decisions",
    "list_versions",
    "make_engine",
    "open_session",
    "publish_version",
    "record_decision",
    "retire_version",
    "save_criterion",
    "session_scope",
    "upgrade",
]
