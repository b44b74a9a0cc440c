"""Drop follower_changes and its triggers: the webhook no longer keeps followers' rows in memory.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TRIGGERS = {
    "followers_changed_insert": "AFTER INSERT ON followers BEGIN "
    "INSERT INTO follower_changes (openid) VALUES (NEW.openid); END",
    "followers_changed_update": "AFTER UPDATE ON followers BEGIN "
    "INSERT INTO follower_changes (openid) VALUES (NEW.openid); END",
    "followers_changed_delete": "AFTER DELETE ON followers BEGIN "
    "INSERT INTO follower_changes (openid) VALUES (OLD.openid); END",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("follower_changes")


def downgrade() -> None:
    op.create_table(
        "follower_changes",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
