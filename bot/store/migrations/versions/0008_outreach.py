"""Reaching people (issue 15): broadcasts and their batches, monthly mass counts, delivery receipts, reminder
consent, WeChat tags and the region tags each follower carries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("approver", sa.String(length=64), nullable=True),
        sa.Column("created_at", TZ_DATETIME, nullable=False),
        sa.Column("approved_at", TZ_DATETIME, nullable=True),
        sa.Column("sent_at", TZ_DATETIME, nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("over_limit", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "broadcast_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("clientmsgid", sa.String(length=64), nullable=False),
        sa.Column("openids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("msg_id", sa.String(length=64), nullable=True),
        sa.Column("sent_at", TZ_DATETIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("total_count", sa.Integer(), nullable=True),
        sa.Column("filter_count", sa.Integer(), nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=True),
        sa.Column("receipt_at", TZ_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcasts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "seq", name="uq_broadcast_batch"),
        sa.UniqueConstraint("clientmsgid"),
    )
    with op.batch_alter_table("broadcast_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broadcast_batches_msg_id"), ["msg_id"], unique=False)
    op.create_table(
        "mass_counts",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("openid", "month"),
    )
    op.create_table(
        "delivery_receipts",
        sa.Column("msgid", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("received_at", TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("msgid"),
    )
    op.create_table(
        "reminder_consents",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.Column("answered_at", TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("openid"),
    )
    op.create_table(
        "wechat_tags",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "follower_tags",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("openid", "tag"),
    )


def downgrade() -> None:
    for table in ("follower_tags", "wechat_tags", "reminder_consents", "delivery_receipts",
                  "mass_counts", "broadcast_batches", "broadcasts"):
        op.drop_table(table)
