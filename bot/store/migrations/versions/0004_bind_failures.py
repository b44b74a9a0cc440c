"""bind_failures: failed binding attempts per day and per follower, name or resident (issue 12); the old
per-follower counter on followers goes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bind_failures",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "subject"),
    )
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy of followers would lose its triggers.
    op.drop_column("followers", "bind_fail_day")
    op.drop_column("followers", "bind_failures")


def downgrade() -> None:
    op.add_column("followers", sa.Column("bind_failures", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("followers", sa.Column("bind_fail_day", sa.Date(), nullable=True))
    op.drop_table("bind_failures")
