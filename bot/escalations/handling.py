"""Finding an escalation, who may act on it, and acting: acknowledge, resolve, reassign.
Each change is a conditional UPDATE (storage.escalations.transition), so of two people
clicking at once one wins and the other is told who got there first."""

from __future__ import annotations

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.clock import Clock
from supportbot.bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from supportbot.bot.escalations.notify import (
    ACKED,
    REASSIGNED,
    RESOLVED_ACTION,
    refresh_message,
    tell,
    thread_note,
)
from supportbot.bot.escalations.parsing import check_resolution, parse_ref
from supportbot.storage import escalations as store
from supportbot.storage import teams as team_store
from supportbot.storage.escalations import (
    ACKNOWLEDGED,
    OPEN,
    RESOLVED,
    WITHDRAWN,
    Escalation,
    EscalationEvent,
)
from supportbot.storage.models import Team


def get(session: Session, *, workspace_id: str, escalation_id: int) -> Escalation:
    esc = store.get_escalation(session=session, escalation_id=escalation_id)
    if esc is None or esc.workspace_id != workspace_id:
        raise NotFound("escalations.not_found", ref=f"#{escalation_id}")
    return esc


def get_by_ref(session: Session, *, workspace_id: str, text: str) -> Escalation:
    number = parse_ref(text)
    esc = (
        store.get_by_number(session=session, workspace_id=workspace_id, number=number)
        if number is not None
        else None
    )
    if esc is None:
        raise NotFound("escalations.not_found", ref=f"ESC-{number}" if number else "?")
    return esc


def team_of(session: Session, esc: Escalation) -> Team:
    team = team_store.get_team(session=session, team_id=esc.team_id)
    if team is None:
        raise NotFound("escalations.not_found", ref=esc.ref)
    return team


def may_act(session: Session, esc: Escalation, user_id: str) -> bool:
    return user_id == esc.owner_id or teams.is_leader(session, team_of(session, esc), user_id)


def require_actor(session: Session, esc: Escalation, user_id: str) -> None:
    if not may_act(session, esc, user_id):
        raise NotAllowed("escalations.not_allowed", ref=esc.ref, team=team_of(session, esc).name)


def _already(esc: Escalation) -> Conflict:
    """The error for someone whose change lost: says who got there first."""
    if esc.status == RESOLVED:
        return Conflict("escalations.already_resolved", ref=esc.ref, user=esc.resolved_by or "")
    if esc.status == WITHDRAWN:
        return Conflict("escalations.already_withdrawn", ref=esc.ref)
    return Conflict("escalations.already_acked", ref=esc.ref, user=esc.acknowledged_by or "")


def check_can_acknowledge(session: Session, esc: Escalation, user_id: str) -> None:
    """Before taking the write lock: a second click or a refusal needs no write."""
    require_actor(session, esc, user_id)
    if esc.status != OPEN:
        raise _already(esc)


def check_can_resolve(session: Session, esc: Escalation, user_id: str) -> None:
    """Before opening the resolve modal: refuse early rather than after typing a note."""
    require_actor(session, esc, user_id)
    if esc.status in (RESOLVED, WITHDRAWN):
        raise _already(esc)


check_can_reassign = check_can_resolve


def acknowledge(session: Session, esc: Escalation, *, actor_id: str, clock: Clock) -> Escalation:
    assert esc.id is not None
    require_actor(session, esc, actor_id)
    now = clock.now()
    changed = store.transition(
        session=session,
        escalation_id=esc.id,
        from_statuses=(OPEN,),
        values={
            "status": ACKNOWLEDGED,
            "acknowledged_at": now,
            "acknowledged_by": actor_id,
            "owner_id": esc.owner_id or actor_id,
            "ack_deadline_at": None,
        },
    )
    fresh = store.get_escalation(session=session, escalation_id=esc.id)
    assert fresh is not None
    if not changed:
        raise _already(fresh)
    store.add_event(session=session, escalation=fresh, actor_id=actor_id, action=ACKED, at=now)
    refresh_message(session, fresh, clock=clock, key="ack")
    if fresh.reporter_id != actor_id:
        tell(session, fresh, user=fresh.reporter_id, reason="acknowledged", by=actor_id,
            clock=clock, key="ack")
    return fresh


def resolve(
    session: Session,
    esc: Escalation,
    *,
    actor_id: str,
    outcome: str | None,
    note: str | None,
    clock: Clock,
) -> Escalation:
    assert esc.id is not None
    outcome, note = check_resolution(outcome, note)
    require_actor(session, esc, actor_id)
    now = clock.now()
    was_open = esc.status == OPEN
    changed = store.transition(
        session=session,
        escalation_id=esc.id,
        from_statuses=(OPEN, ACKNOWLEDGED),
        values={
            "status": RESOLVED,
            "resolved_at": now,
            "resolved_by": actor_id,
            "outcome": outcome,
            "resolution_note": note,
            "owner_id": esc.owner_id or actor_id,
            "acknowledged_at": esc.acknowledged_at or now,
            "acknowledged_by": esc.acknowledged_by or actor_id,
            "ack_deadline_at": None,
        },
    )
    fresh = store.get_escalation(session=session, escalation_id=esc.id)
    assert fresh is not None
    if not changed:
        raise _already(fresh)
    if was_open:
        store.add_event(session=session, escalation=fresh, actor_id=actor_id, action=ACKED, at=now)
    store.add_event(
        session=session, escalation=fresh, actor_id=actor_id, action=RESOLVED_ACTION, at=now,
        detail=f"outcome={outcome}",
    )
    refresh_message(session, fresh, clock=clock, key="resolve")
    if fresh.reporter_id != actor_id:
        tell(session, fresh, user=fresh.reporter_id, reason="resolved", by=actor_id,
            clock=clock, key="resolve")
    return fresh


def reassign(
    session: Session, esc: Escalation, *, actor_id: str, new_owner: str | None, clock: Clock
) -> Escalation:
    """Make `new_owner` the owner (an open escalation counts as acknowledged by the actor)."""
    assert esc.id is not None
    if not new_owner or not teams.USER_ID.match(new_owner):
        raise InvalidInput("escalations.need_user", field="user")
    require_actor(session, esc, actor_id)
    if esc.owner_id == new_owner and esc.status != RESOLVED:
        raise InvalidInput("escalations.already_owner", field="user", user=new_owner)
    now = clock.now()
    was_open, old_owner = esc.status == OPEN, esc.owner_id
    changed = store.transition(
        session=session,
        escalation_id=esc.id,
        from_statuses=(OPEN, ACKNOWLEDGED),
        values={
            "status": ACKNOWLEDGED,
            "owner_id": new_owner,
            "acknowledged_at": esc.acknowledged_at or now,
            "acknowledged_by": esc.acknowledged_by or actor_id,
            "ack_deadline_at": None,
        },
        extra_where=(store.owner_is(esc.owner_id),),
    )
    fresh = store.get_escalation(session=session, escalation_id=esc.id)
    assert fresh is not None
    if not changed:
        if fresh.status == RESOLVED:
            raise _already(fresh)
        raise Conflict("escalations.already_reassigned", ref=fresh.ref, user=fresh.owner_id or "")
    if was_open:
        store.add_event(session=session, escalation=fresh, actor_id=actor_id, action=ACKED, at=now)
    store.add_event(
        session=session, escalation=fresh, actor_id=actor_id, action=REASSIGNED, at=now,
        detail=f"from={old_owner or '-'} to={new_owner}",
    )
    n = len(store.events_of(session=session, escalation_id=esc.id))
    refresh_message(session, fresh, clock=clock, key=f"reassign{n}")
    thread_note(session, fresh, clock=clock, key=f"reassign{n}", note="reassigned",
            user=new_owner, by=actor_id)
    if new_owner != actor_id:
        tell(session, fresh, user=new_owner, reason="reassigned", by=actor_id, clock=clock,
            key=f"reassign{n}")
    return fresh


def history(session: Session, esc: Escalation) -> list[EscalationEvent]:
    assert esc.id is not None
    return list(store.events_of(session=session, escalation_id=esc.id))


def open_for_team(session: Session, team: Team, limit: int = 40) -> tuple[list[Escalation], int]:
    """The team's unresolved escalations (oldest first, at most `limit`) and how many there are."""
    assert team.id is not None
    rows = list(store.list_unresolved(session=session, team_id=team.id, limit=limit))
    return rows, store.count_unresolved(session=session, team_id=team.id)
