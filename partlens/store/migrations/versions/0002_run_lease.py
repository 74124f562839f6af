"""The run's lease and timings: ``queue``, ``worker_id``, ``lease_expires_at`` (indexed),
``attempts``, ``train_s`` and ``evaluate_s`` on ``runs``.

A worker holds a run through its lease (renewed from a heartbeat) and a reaper requeues runs
whose lease expired, counting ``attempts``. The server defaults give rows that already exist
``queue = ''`` and ``attempts = 0``; the other columns are nullable and start null.

Revision ID: 0002_run_lease
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_run_lease"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("queue", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("worker_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("train_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("evaluate_s", sa.Float(), nullable=True))
        batch.create_index("ix_runs_lease_expires_at", ["lease_expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_lease_expires_at")
        for column in (
            "evaluate_s",
            "train_s",
            "attempts",
            "lease_expires_at",
            "worker_id",
            "queue",
        ):
            batch.drop_column(column)
