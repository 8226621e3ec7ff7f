"""Staff accounts: managers and tellers sign in to the browser with a user name and password.

One row per user; the password only as an argon2 hash. ``branches`` is a JSON list of branch
ids (empty for an admin, one for a manager or teller, one or more for an area manager).
``password_changed_at`` is part of every session's id, so changing it signs the user out
everywhere; ``disabled_at`` does the same for good.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the staff users' table."""
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("branches", sa.Text, nullable=False),
        sa.Column("counter", sa.String(64), nullable=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("password_changed_at", sa.String(40), nullable=False),
        sa.Column("last_sign_in_at", sa.String(40), nullable=True),
        sa.Column("disabled_at", sa.String(40), nullable=True),
        sa.UniqueConstraint("username", name="uq_staff_users_username"),
    )


def downgrade() -> None:
    """Drop the staff users (their sessions end with them)."""
    op.drop_table("staff_users")
