"""Raising an escalation: check the draft and find who is told first (`prepare`, reads
only), then store it with its history and its first messages (`save`, the one way
escalations are stored; the command and the modal reach it through `submit`, which
shares a transaction with escalations raised at the same moment)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.away import away_among, away_during, near_days
from supportbot.bot.clock import Clock
from supportbot.bot.escalations.chain import timeout_for
from supportbot.bot.escalations.notify import CREATED, KIND_DM, KIND_POST, post_key
from supportbot.bot.escalations.parsing import Draft, check_draft
from supportbot.bot.runtime import Runtime
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
    return _new(team, chain, away, reporter_id=reporter_id, draft=draft, now=now)


def prepare_mine(
    session: Session,
    *,
    workspace_id: str,
    reporter_id: str,
    draft: Draft,
    clock: Clock,
    channel_id: str | None = None,
    team_name: str | None = None,
) -> tuple[Team, NewEscalation]:
    """`prepare` for the reporter's team as `teams.team_for_request` finds it, with the
    reporter's teams, their chains and who of them is away read in one statement: what
    `/escalate` runs on every escalation."""
    now = clock.now()
    mine = _chains(session, workspace_id=workspace_id, reporter_id=reporter_id, now=now)
    team = teams.team_for_request(
        session, workspace_id=workspace_id, user_id=reporter_id, channel_id=channel_id,
        team_name=team_name, mine=[c.team for c in mine],
    )
    chain = next(c for c in mine if c.team is team)
    return team, _from_chain(session, chain, reporter_id=reporter_id, draft=draft, now=now)


def prepare_in(
    session: Session, *, workspace_id: str, reporter_id: str, team_id: int, draft: Draft, clock: Clock
) -> tuple[Team, NewEscalation] | None:
    """`prepare_mine` for the team the form names; None when it is not one of the
    reporter's teams (the caller says which of the two it is)."""
    now = clock.now()
    mine = _chains(session, workspace_id=workspace_id, reporter_id=reporter_id, now=now)
    chain = next((c for c in mine if c.team.id == team_id), None)
    if chain is None:
        return None
    return chain.team, _from_chain(session, chain, reporter_id=reporter_id, draft=draft, now=now)


def _chains(session: Session, *, workspace_id: str, reporter_id: str, now: datetime) -> list[team_store.TeamChain]:
    first, last = near_days(now)
    return team_store.teams_with_chains(
        session=session, workspace_id=workspace_id, user_id=reporter_id, first=first, last=last
    )


def _from_chain(
    session: Session, chain: team_store.TeamChain, *, reporter_id: str, draft: Draft, now: datetime
) -> NewEscalation:
    draft = check_draft(draft)
    away = away_during(session, workspace_id=chain.team.workspace_id, periods=chain.away, at=now)
    return _new(chain.team, chain.leaders, away, reporter_id=reporter_id, draft=draft, now=now)


def _new(
    team: Team, chain: Sequence[str], away: set[str], *, reporter_id: str, draft: Draft, now: datetime
) -> NewEscalation:
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
        level=list(chain).index(first),
        ack_deadline_at=now + timeout_for(team, draft.severity),
        channel_id=team.escalation_channel,
    )
    return NewEscalation(row=row, first=first)


def save(session: Session, news: Sequence[NewEscalation], *, clock: Clock) -> list[Escalation]:
    """Store them with their numbers and history, and enqueue each one's channel post and
    first leader's DM (sent after the transaction commits): the one way escalations are
    stored, whether one (tests, jobs) or a batch (`submit`)."""
    rows = store.insert_many(session=session, escalations=[new.row for new in news])
    store.add_events(
        session=session,
        events=[
            {
                "workspace_id": esc.workspace_id,
                "escalation_id": esc.id,
                "actor_id": esc.reporter_id,
                "action": CREATED,
                "detail": f"severity={esc.severity} told={new.first}",
                "at": esc.created_at,
            }
            for esc, new in zip(rows, news, strict=True)
        ],
    )
    messages: list[tuple[str, str, dict[str, Any], str]] = []
    for esc, new in zip(rows, news, strict=True):
        # The channel rides along for the outbox's pacing (deliveries.post_target); the
        # post itself goes to the team's channel as it is when it is sent.
        post = {"id": esc.id, "channel": esc.channel_id}
        messages.append((esc.workspace_id, KIND_POST, post, post_key(esc)))
        dm = {"id": esc.id, "user": new.first, "reason": "new", "by": None}
        messages.append((esc.workspace_id, KIND_DM, dm, f"esc:{esc.id}:dm:new:{new.first}"))
    store.enqueue_new(session=session, messages=messages, now=clock.now())
    return rows


def submit(rt: Runtime, new: NewEscalation) -> Escalation:
    """What the command and the modal call: `save` in its own transaction, shared with the
    escalations raised at the same moment (the runtime's group commit)."""
    return rt.group_commit.write(rt, new, _save_batch)


def _save_batch(rt: Runtime, session: Session, news: list[NewEscalation]) -> list[Escalation]:
    return save(session, news, clock=rt.clock)
