"""Branch configuration moves into the log: each stored configuration becomes a
``branch_configured`` event at the end of its branch's log, and the column goes.

So every process and every restart reads the configuration the same way it reads everything
else: by catching up with the log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Append each stored configuration to its branch's log, then drop the column."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    rows = bind.execute(sa.text("SELECT id, config FROM branches WHERE config IS NOT NULL")).all()
    for branch, raw in rows:
        last = bind.execute(
            sa.text("SELECT seq, ts FROM events WHERE branch = :b ORDER BY seq DESC LIMIT 1"), {"b": branch}
        ).first()
        seq = (last[0] if last else 0) + 1
        # never earlier than the log's last event: a log's times only move forward
        ts = last[1] if last else now.isoformat(timespec="milliseconds")
        at = datetime.fromisoformat(ts).timestamp()
        body = json.dumps({"ts": ts, "type": "branch_configured", "config": json.loads(raw)}, ensure_ascii=False)
        bind.execute(
            sa.text(
                "INSERT INTO events (branch, seq, ts, at, type, body, actor, received_at) "
                "VALUES (:branch, :seq, :ts, :at, 'branch_configured', :body, 'migration:0002', :received)"
            ),
            {"branch": branch, "seq": seq, "ts": ts, "at": at, "body": body, "received": now.isoformat(timespec="milliseconds")},
        )
    # plain ALTER (SQLite >= 3.35 and PostgreSQL): a batch rebuild would trip the events' foreign key
    op.execute("ALTER TABLE branches DROP COLUMN config")


def downgrade() -> None:
    """Bring the column back with each branch's latest configuration (the events stay)."""
    op.add_column("branches", sa.Column("config", sa.Text, nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT branch, body FROM events WHERE type = 'branch_configured' ORDER BY branch, seq")).all()
    latest = {branch: json.loads(body)["config"] for branch, body in rows}
    for branch, config in latest.items():
        bind.execute(sa.text("UPDATE branches SET config = :c WHERE id = :b"), {"c": json.dumps(config, ensure_ascii=False), "b": branch})
