"""delivery_receipts keyed by (event, msgid): a template send's and a mass send's ids are numbered apart, so
one id may name a receipt of each kind; keyed by msgid alone, the second was dropped as a duplicate. And a mass
send's counts kept with its receipt (`counts`), for a receipt pushed before its send was recorded.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 01:45:00
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PG_KEY = "delivery_receipts_pkey"  # PostgreSQL's name for the table's primary key


def _key(*columns: str) -> None:
    if op.get_bind().dialect.name == "sqlite":  # a key cannot be altered in place: the table is copied
        with warnings.catch_warnings():  # the copy's columns keep their old key flags until the new key is set
            warnings.filterwarnings("ignore", "Table '_alembic_tmp_delivery_receipts' specifies columns")
            with op.batch_alter_table("delivery_receipts", recreate="always") as batch:
                batch.create_primary_key("pk_delivery_receipts", list(columns))
    else:
        op.drop_constraint(PG_KEY, "delivery_receipts", type_="primary")
        op.create_primary_key(PG_KEY, "delivery_receipts", list(columns))


def upgrade() -> None:
    _key("event", "msgid")
    with op.batch_alter_table("delivery_receipts") as batch:
        batch.add_column(sa.Column("counts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_receipts") as batch:
        batch.drop_column("counts")
    _key("msgid")
