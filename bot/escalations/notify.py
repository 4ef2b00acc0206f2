"""What the bot tells people about an escalation: outbox messages of the kinds below,
enqueued in the transaction that made the change (rendered at delivery by
handlers/escalations/deliveries.py), and the history's action names."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from supportbot.bot.clock import Clock
from supportbot.bot.outbox import enqueue
from supportbot.storage.escalations import Escalation

# Outbox kinds (rendered by handlers/escalations/deliveries.py).
KIND_POST = "escalation.post"  # the channel message with its buttons; stores its ts
KIND_UPDATE = "escalation.update"  # chat.update of that message to the current state
KIND_THREAD = "escalation.thread"  # a note in the message's thread
KIND_DM = "escalation.dm"  # a DM about the escalation to one person
KIND_DM_UPDATE = "escalation.dm_update"  # chat.update of a DM already sent (withdrawn)

# History actions.
CREATED, ACKED, RESOLVED_ACTION, REASSIGNED = "created", "acknowledged", "resolved", "reassigned"
REESCALATED, REMINDED, MARKED_OVERDUE = "re_escalated", "reminded", "overdue"
WITHDRAWN_ACTION = "withdrawn"


def post_key(esc: Escalation) -> str:
    """The outbox dedupe key of the escalation's channel post."""
    return f"esc:{esc.id}:post"


def tell(
    session: Session,
    esc: Escalation,
    *,
    user: str,
    reason: str,
    clock: Clock,
    key: str,
    by: str | None = None,
) -> None:
    enqueue(
        session,
        workspace_id=esc.workspace_id,
        kind=KIND_DM,
        data={"id": esc.id, "user": user, "reason": reason, "by": by},
        clock=clock,
        dedupe_key=f"esc:{esc.id}:dm:{key}:{user}",
    )


def refresh_message(session: Session, esc: Escalation, *, clock: Clock, key: str) -> None:
    enqueue(
        session,
        workspace_id=esc.workspace_id,
        kind=KIND_UPDATE,
        data={"id": esc.id},
        clock=clock,
        dedupe_key=f"esc:{esc.id}:update:{key}",
    )


def thread_note(
    session: Session, esc: Escalation, *, clock: Clock, key: str, note: str, **params: Any
) -> None:
    enqueue(
        session,
        workspace_id=esc.workspace_id,
        kind=KIND_THREAD,
        data={"id": esc.id, "note": note, "params": params},
        clock=clock,
        dedupe_key=f"esc:{esc.id}:thread:{key}",
    )
