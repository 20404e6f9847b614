"""Review of drafts: submitted for approval, or returned with a reason.

Revision ID: 0003_review
Revises: 0002_users
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_review"
down_revision: str | None = "0002_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("criterion_versions") as batch:
        batch.add_column(sa.Column("review_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("submitted_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(
            op.f("ck_criterion_versions_review_state"),
            "review_state IS NULL OR review_state IN ('submitted', 'returned')",
        )


def downgrade() -> None:
    with op.batch_alter_table("criterion_versions") as batch:
        batch.drop_constraint(op.f("ck_criterion_versions_review_state"), type_="check")
        batch.drop_column("submitted_at")
        batch.drop_column("submitted_by")
        batch.drop_column("review_note")
        batch.drop_column("review_state")
