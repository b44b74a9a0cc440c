"""users.sessions_ended_at: a console session is an encrypted cookie the server does not keep, so logging out
records when the account's sessions ended; a cookie issued before it (a copy taken from a shared computer or
a log) no longer opens the console.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sessions_ended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("sessions_ended_at")
