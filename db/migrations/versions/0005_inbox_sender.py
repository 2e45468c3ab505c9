"""the sender of each stored update, as a column of the inbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 17:30:00

The pump reads an update's row and then the sender's account, one query after the other, on
every update; knowing the sender from the row itself, it reads both in one. The pump's
ordering (a person's later updates wait behind one waiting for a retry) and the drafts job
read the sender from this column too, instead of parsing every waiting payload. Updates
stored before this revision and not yet handled get their sender here.
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sender(payload: Any) -> int | None:
    """As db.inbox.sender_of (kept here as it was when this revision was written)."""
    if isinstance(payload, str | bytes):
        payload = json.loads(payload)
    if not isinstance(payload, dict):
        return None
    for body in payload.values():
        if isinstance(body, dict):
            user = body.get("from")
            if isinstance(user, dict) and isinstance(user.get("id"), int):
                return int(user["id"])
    return None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender_id", sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    waiting = conn.execute(
        sa.text("SELECT update_id, payload FROM inbox WHERE status = 'new'")
    ).all()
    for update_id, payload in waiting:
        sender = _sender(payload)
        if sender is not None:
            conn.execute(
                sa.text("UPDATE inbox SET sender_id = :sender WHERE update_id = :id"),
                {"sender": sender, "id": update_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_column("sender_id")
