"""Withdrawing an escalation raised by mistake: only whoever raised it, and only until a
leader acknowledges it. It stays in the history (status `withdrawn`, listed by
`/escalate list withdrawn`), re-escalation stops (it is no longer open), and the channel
message and the leaders' DMs are updated to say so."""

from __future__ import annotations

from sqlmodel import Session

from supportbot.bot.clock import Clock
from supportbot.bot.errors import Conflict, NotAllowed
from supportbot.bot.escalations.notify import KIND_DM_UPDATE, WITHDRAWN_ACTION, refresh_message
from supportbot.bot.outbox import enqueue
from supportbot.storage import escalations as store
from supportbot.storage.escalations import OPEN, RESOLVED, WITHDRAWN, Escalation
from supportbot.storage.models import Team


def check_can_withdraw(esc: Escalation, user_id: str) -> None:
    """Before taking the write lock: refusals need no write."""
    if user_id != esc.reporter_id:
        raise NotAllowed(
            "escalations.withdraw_not_reporter", ref=esc.ref, user=f"<@{esc.reporter_id}>"
        )
    if esc.status != OPEN:
        raise too_late(esc)


def too_late(esc: Escalation) -> Conflict:
    """Why an escalation that is no longer open cannot be withdrawn."""
    if esc.status == WITHDRAWN:
        return Conflict("escalations.already_withdrawn", ref=esc.ref)
    if esc.status == RESOLVED and not esc.acknowledged_by:
        return Conflict("escalations.already_resolved", ref=esc.ref, user=esc.resolved_by or "")
    return Conflict(
        "escalations.withdraw_too_late", ref=esc.ref, user=esc.acknowledged_by or ""
    )


def withdraw(session: Session, esc: Escalation, *, actor_id: str, clock: Clock) -> Escalation:
    """Open -> withdrawn by a conditional UPDATE, so a leader acknowledging at the same
    moment either wins (and the withdrawal is refused) or loses cleanly. DMs already sent
    to leaders are updated; alerts not yet sent are dropped at delivery (they only go out
    for open escalations)."""
    assert esc.id is not None
    check_can_withdraw(esc, actor_id)
    now = clock.now()
    changed = store.transition(
        session=session,
        escalation_id=esc.id,
        from_statuses=(OPEN,),
        values={"status": WITHDRAWN, "ack_deadline_at": None},
    )
    fresh = store.get_escalation(session=session, escalation_id=esc.id)
    assert fresh is not None
    if not changed:
        raise too_late(fresh)
    store.add_event(
        session=session, escalation=fresh, actor_id=actor_id, action=WITHDRAWN_ACTION, at=now
    )
    refresh_message(session, fresh, clock=clock, key="withdrawn")
    for dm in store.sent_dms(session=session, escalation_id=esc.id):
        if dm.get("user") == fresh.reporter_id:
            continue
        enqueue(
            session,
            workspace_id=fresh.workspace_id,
            kind=KIND_DM_UPDATE,
            data={"id": fresh.id, "channel": dm["channel"], "ts": dm["ts"], "by": actor_id},
            clock=clock,
            dedupe_key=f"esc:{esc.id}:dm_update:{dm['channel']}:{dm['ts']}",
        )
    return fresh


def withdrawn_for_team(session: Session, team: Team, limit: int = 40) -> tuple[list[Escalation], int]:
    """The team's withdrawn escalations (newest first, at most `limit`) and how many."""
    assert team.id is not None
    rows = list(store.list_withdrawn(session=session, team_id=team.id, limit=limit))
    return rows, store.count_withdrawn(session=session, team_id=team.id)
