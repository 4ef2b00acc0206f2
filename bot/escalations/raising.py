"""Raising an escalation: check the draft and find who is told first (`prepare`, reads
only), then store it with its history and its first messages (`save`, the one way an
escalation is stored: the command, the modal, jobs and tests all use it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from supportbot.bot.away import away_among
from supportbot.bot.clock import Clock
from supportbot.bot.escalations.chain import timeout_for
from supportbot.bot.escalations.notify import CREATED, KIND_DM, KIND_POST
from supportbot.bot.escalations.parsing import Draft, check_draft
from supportbot.storage import escalations as store
from supportbot.storage import teams as team_store
from supportbot.storage.escalations import OPEN, Escalation
from supportbot.storage.models import Team


@dataclass
class NewEscalation:
    """A checked escalation and who is told first, ready to be stored."""

    row: Escalation
    first: str


def prepare(
    session: Session, *, team: Team, reporter_id: str, draft: Draft, clock: Clock
) -> NewEscalation:
    """Everything creation needs to read (validation, deadline, the chain), no writes: the
    caller may read in a read-only transaction and keep the write transaction short."""
    assert team.id is not None
    draft = check_draft(draft)
    now = clock.now()
    chain = team_store.leaders_of(session=session, team_id=team.id)
    away = away_among(session, workspace_id=team.workspace_id, user_ids=chain, at=now)
    first = ([uid for uid in chain if uid not in away] or chain)[0]
    row = Escalation(
        workspace_id=team.workspace_id,
        team_id=team.id,
        number=0,
        severity=draft.severity,
        category=draft.category,
        summary=draft.summary,
        customer=draft.customer,
        ticket_ref=draft.ticket_ref,
        tried=draft.tried,
        reporter_id=reporter_id,
        status=OPEN,
        created_at=now,
        level=chain.index(first),
        ack_deadline_at=now + timeout_for(team, draft.severity),
        channel_id=team.escalation_channel,
    )
    return NewEscalation(row=row, first=first)


def save(session: Session, new: NewEscalation, *, clock: Clock) -> Escalation:
    """Store it with its number and its history, and enqueue the channel post and the
    first leader's DM (sent after the transaction commits)."""
    esc = store.insert_escalation(session=session, escalation=new.row)
    store.add_event(
        session=session, escalation=esc, actor_id=esc.reporter_id, action=CREATED,
        at=esc.created_at, detail=f"severity={esc.severity} told={new.first}",
    )
    store.enqueue_new(
        session=session,
        messages=[
            (esc.workspace_id, KIND_POST, {"id": esc.id}, f"esc:{esc.id}:post"),
            (
                esc.workspace_id, KIND_DM, {"id": esc.id, "user": new.first, "reason": "new", "by": None},
                f"esc:{esc.id}:dm:new:{new.first}",
            ),
        ],
        now=clock.now(),
    )
    return esc
