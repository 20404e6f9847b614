"""Life events (ライフイベント) of a criterion: a JSON list on `criteria`.

Revision ID: 0005_life_events
Revises: 0004_events
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_life_events"
down_revision: str | None = "0004_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing criteria concern no life event yet: the server default gives them [].
    # (Dropping the default afterwards would make SQLite rebuild `criteria`, which the
    # versions' foreign keys forbid; the model declares the same default.)
    with op.batch_alter_table("criteria") as batch:
        batch.add_column(
            sa.Column("life_events", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("criteria") as batch:
        batch.drop_column("life_events")
