"""Registered datasets and weights: the ``datasets`` and ``weights`` tables.

A dataset is a folder in a supported format (pascal-part, cub200, ilsvrc-part) indexed once at
registration; weights are a file copied under the data dir with its checksum. Runs name them.

Revision ID: 0003_assets
Revises: 0002_run_lease
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_assets"
down_revision = "0002_run_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "weights",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("arch", sa.String(32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("layout", sa.String(16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("num_tensors", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("weights")
    op.drop_table("datasets")
