"""Whether a reminder, escalation or nudge still applies just before it is sent
(bot.domain.obligations.applies), and its text with the settled obligations left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import texts
from bot.domain.obligations import applies
from db import outbox

STALE_KINDS = frozenset({"reminder"})  # superseded by the next day's catch-up
CHECKED_KINDS = frozenset({"reminder", "escalation", "nudge"})  # dropped once reported
# Steps that announce a deadline still ahead: wrong once it has passed.
PRE_DEADLINE_STEPS = frozenset({"before", "day_before", "due"})


_NOTHING: dict[str, datetime] = {}


@dataclass
class _Facts:
    """What the database says now about the obligations of the messages being checked."""

    keys: dict[tuple[int, int], dict[str, datetime]]  # (task, unit) → cycle keys reported
    done: set[tuple[int, int]]  # (task, unit) pairs whose part is complete
    active: set[int]  # contacts still bound and active


def _unchanged(
    kind: str, stored: list[dict[str, Any]], still: set[tuple[int, int, str]], now: datetime
) -> bool:
    """Whether every stored line (each naming its obligation) still applies as it stands: the
    case where `_text_now` keeps the text, told from the stored lines' fields directly."""
    for x in stored:
        ref = outbox.line_ref(x)
        if ref is None or (ref[0], ref[1], x.get("cycle_key")) not in still:
            return False
        if (
            kind in STALE_KINDS
            and x.get("step") in PRE_DEADLINE_STEPS
            and datetime.fromisoformat(str(x["deadline"])) <= now
        ):
            return False
    return True


def _text_now(
    row: outbox.Due, items: list[outbox.ItemKey], facts: _Facts, now: datetime
) -> str | None:
    """A checked message's text with the obligations settled since planning left out."""
    if not items:
        return row.text
    open_items = [
        i
        for i in items
        if applies(
            i.cycle_key,
            facts.keys.get((i.task_id, i.unit_id), _NOTHING),
            (i.task_id, i.unit_id) in facts.done,
        )
        and i.contact_id in facts.active
    ]
    if not open_items:
        return None
    still = {(i.task_id, i.unit_id, i.cycle_key) for i in open_items}
    stored = list((row.meta or {}).get("lines", []))
    if len(open_items) == len(items) and _unchanged(row.kind, stored, still, now):
        return row.text  # the usual case, decided without re-reading the lines
    if not stored:
        # A text that cannot be re-rendered (e.g. a nudge): all of it applies, or none.
        return row.text if len(open_items) == len(items) else None
    lines = [texts.line_from_json(x) for x in stored]
    refs = [outbox.line_ref(x) for x in stored]
    if all(ref is not None for ref in refs):
        kept = [
            line
            for line, ref in zip(lines, refs, strict=True)
            if ref is not None and (ref[0], ref[1], line.cycle_key) in still
        ]
    elif len(lines) == len(items):
        # Written before lines named their obligation: one item per line, same order.
        kept = [
            line
            for line, item in zip(lines, items, strict=True)
            if (item.task_id, item.unit_id, item.cycle_key) in still
        ]
    else:
        return row.text if len(open_items) == len(items) else None
    if row.kind in STALE_KINDS:
        kept = [x for x in kept if not (x.step in PRE_DEADLINE_STEPS and x.deadline <= now)]
    if not kept:
        return None
    if len(kept) == len(lines):
        return row.text
    render = {"escalation": texts.escalation, "nudge": texts.unit_nudge}.get(
        row.kind, texts.reminder
    )
    return render(kept)[0][0]
