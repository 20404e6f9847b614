"""Recent decisions of a criterion without sorting them all: index (criterion_id, id).

The criterion page lists a criterion's newest decisions. With an index on
`criterion_id` alone PostgreSQL fetched and sorted every decision of the
criterion on each page view (tens of thousands after a busy month); the
composite index hands them over newest first. It replaces the old index,
which it covers.

Revision ID: 0006_decision_order
Revises: 0005_life_events
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_decision_order"
down_revision: str | None = "0005_life_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_decisions_criterion_id_id", "decisions", ["criterion_id", "id"])
    op.drop_index("ix_decisions_criterion_id", table_name="decisions")


def downgrade() -> None:
    op.create_index("ix_decisions_criterion_id", "decisions", ["criterion_id"])
    op.drop_index("ix_decisions_criterion_id_id", table_name="decisions")
