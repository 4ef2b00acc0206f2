"""Escalation policy: raising one, who may act on it, acknowledge / resolve / reassign, and
re-escalation when nobody acknowledges in time.

Every change is stored first, with its history, and the Slack side effects are enqueued
in the same transaction as outbox messages of the kinds below (rendered in handlers/).
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.away import away_among, is_away
from supportbot.bot.clock import Clock
from supportbot.bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from supportbot.bot.outbox import enqueue
from supportbot.bot.runtime import Runtime
from supportbot.bot.scheduler import Scheduler
from supportbot.storage import escalations as store
from supportbot.storage import teams as team_store
from supportbot.storage.escalations import ACKNOWLEDGED, OPEN, RESOLVED, Escalation, EscalationEvent
from supportbot.storage.models import Team

log = logging.getLogger(__name__)

SEVERITIES = teams.SEVERITIES
CATEGORIES = ("billing", "technical", "shipping", "account", "other")
OUTCOMES = ("fixed", "refund", "credit", "replacement", "workaround", "no_action")
DEFAULT_MAX_ROUNDS = 5
SCAN_SECONDS = 30

SUMMARY_MAX = 3000
CUSTOMER_MAX = 255
TICKET_MAX = 500
TRIED_MAX = 3000
NOTE_MAX = 3000

# Outbox kinds (renderers live in handlers/escalations.py).
KIND_POST = "escalation.post"  # the channel message with its buttons; stores its ts
KIND_UPDATE = "escalation.update"  # chat.update of that message to the current state
KIND_THREAD = "escalation.thread"  # a note in the message's thread
KIND_DM = "escalation.dm"  # a DM about the escalation to one person

# History actions.
CREATED, ACKED, RESOLVED_ACTION, REASSIGNED = "created", "acknowledged", "resolved", "reassigned"
REESCALATED, REMINDED, MARKED_OVERDUE = "re_escalated", "reminded", "overdue"

REF = re.compile(r"^\s*(?:ESC-?)?(\d{1,9})\s*$", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>]+")
_TICKET_HASH = re.compile(r"(?<![\w&#])#(\d{2,12})\b")


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


# ----- parsing what people type --------------------------------------------------------
@dataclass
class Draft:
    severity: str
    summary: str
    ticket_ref: str | None = None
    customer: str | None = None
    category: str = "other"
    tried: str | None = None


def parse_quick(text: str) -> Draft:
    """`[urgent|high|normal|low] <summary>` (as typed, Slack's formatting already undone):
    the severity word is optional, a `#12345` or a URL in the text becomes the ticket
    reference (the summary keeps it too)."""
    text = (text or "").strip()
    severity = "normal"
    first, _sep, rest = text.partition(" ")
    if first.lower().rstrip(":") in SEVERITIES:
        severity, text = first.lower().rstrip(":"), rest.strip()
    ticket = None
    url = _URL.search(text)
    hashed = _TICKET_HASH.search(text)
    if url:
        ticket = url.group(0).rstrip(").,;:!?]'\"")
    elif hashed:
        ticket = "#" + hashed.group(1)
    return Draft(severity=severity, summary=text, ticket_ref=ticket)


def parse_ref(text: str) -> int | None:
    """`ESC-42`, `esc42` or `42` -> 42."""
    match = REF.match(text or "")
    return int(match.group(1)) if match else None


def check_draft(draft: Draft) -> Draft:
    """Validate a draft; errors name the modal block they belong under."""
    summary = (draft.summary or "").strip()
    if not summary:
        raise InvalidInput("escalations.need_summary", field="summary")
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput("escalations.too_long", field="summary", limit=SUMMARY_MAX)
    if draft.severity not in SEVERITIES:
        raise InvalidInput("escalations.bad_severity", field="severity", value=draft.severity)
    if draft.category not in CATEGORIES:
        raise InvalidInput("escalations.bad_category", field="category", value=draft.category)
    customer = (draft.customer or "").strip() or None
    if customer and len(customer) > CUSTOMER_MAX:
        raise InvalidInput("escalations.too_long", field="customer", limit=CUSTOMER_MAX)
    ticket = (draft.ticket_ref or "").strip() or None
    if ticket and (len(ticket) > TICKET_MAX or any(c.isspace() for c in ticket)):
        raise InvalidInput("escalations.bad_ticket", field="ticket")
    tried = (draft.tried or "").strip() or None
    if tried and len(tried) > TRIED_MAX:
        raise InvalidInput("escalations.too_long", field="tried", limit=TRIED_MAX)
    return Draft(draft.severity, summary, ticket, customer, draft.category, tried)


# ----- who is told ---------------------------------------------------------------------
def present_leaders(session: Session, team: Team, at: datetime) -> list[str]:
    """The chain of leaders who are not away (all of them when everybody is away)."""
    assert team.id is not None
    chain = team_store.leaders_of(session=session, team_id=team.id)
    away = away_among(session, workspace_id=team.workspace_id, user_ids=chain, at=at)
    return [uid for uid in chain if uid not in away] or chain


def timeout_for(team: Team, severity: str) -> timedelta:
    return timedelta(seconds=int(teams.ack_timeouts(team).get(severity, 3600)))


def max_rounds(team: Team) -> int:
    try:
        return max(0, int(teams.setting(team, "max_rounds", DEFAULT_MAX_ROUNDS)))
    except (TypeError, ValueError):
        return DEFAULT_MAX_ROUNDS


def _dm(
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


def _update(session: Session, esc: Escalation, *, clock: Clock, key: str) -> None:
    enqueue(
        session,
        workspace_id=esc.workspace_id,
        kind=KIND_UPDATE,
        data={"id": esc.id},
        clock=clock,
        dedupe_key=f"esc:{esc.id}:update:{key}",
    )


def _thread(
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


# ----- raising -------------------------------------------------------------------------
@dataclass
class NewEscalation:
    """A checked escalation and who is told first, ready to be stored."""

    row: Escalation
    first: str


def prepare(
    session: Session, *, team: Team, reporter_id: str, draft: Draft, clock: Clock
) -> NewEscalation:
    """Everything creation needs to read (validation, deadline, the chain), no writes."""
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


def store_new(session: Session, new: NewEscalation, *, clock: Clock) -> Escalation:
    """Store it with its number and history, and enqueue the channel post and the DM."""
    return store_many(session, [new], clock=clock)[0]


def store_many(session: Session, news: list[NewEscalation], *, clock: Clock) -> list[Escalation]:
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
        messages.append((esc.workspace_id, KIND_POST, {"id": esc.id}, f"esc:{esc.id}:post"))
        messages.append(
            (
                esc.workspace_id,
                KIND_DM,
                {"id": esc.id, "user": new.first, "reason": "new", "by": None},
                f"esc:{esc.id}:dm:new:{new.first}",
            )
        )
    store.enqueue_new(session=session, messages=messages, now=clock.now())
    return rows


@dataclass
class _Waiting:
    new: NewEscalation
    done: bool = False
    result: Escalation | None = None
    error: BaseException | None = None


class GroupCommit:
    """Stores new escalations for one database; requests that arrive together are written
    in one transaction.

    SQLite takes one writer at a time, and under a burst its busy handler (sleep, retry)
    starves some writers for seconds. Here writers queue instead: one of them writes
    everything queued so far in one BEGIN/COMMIT while later arrivals wait for the next
    batch, so a burst of `/escalate` commands is acknowledged quickly. A batch that fails
    is retried one by one, so a bad row fails alone.
    """

    def __init__(self) -> None:
        self._queue: list[_Waiting] = []
        self._changed = threading.Condition()
        self._writing = False  # a thread is writing a batch; the others wait for it

    def save(self, rt: Runtime, new: NewEscalation) -> Escalation:
        mine = _Waiting(new)
        batch: list[_Waiting] = []
        with rt.lending_slot() as give_back:
            with self._changed:
                self._queue.append(mine)
                if self._writing:
                    with give_back():  # no CPU used while others' batches are written
                        while self._writing and not mine.done:
                            self._changed.wait()
                if not mine.done:
                    self._writing = True
                    batch, self._queue = self._queue, []
            if batch:
                try:
                    self._write(rt, batch)
                finally:
                    with self._changed:
                        self._writing = False
                        self._changed.notify_all()
        if mine.error is not None:
            raise mine.error
        assert mine.result is not None
        return mine.result

    @staticmethod
    def _write(rt: Runtime, batch: list[_Waiting]) -> None:
        try:
            with rt.transaction() as session:
                rows = store_many(session, [w.new for w in batch], clock=rt.clock)
            for waiting, row in zip(batch, rows, strict=True):
                waiting.result = row
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for waiting in batch:
                    GroupCommit._write(rt, [waiting])
        finally:
            for waiting in batch:
                waiting.done = True


_group_commits: weakref.WeakKeyDictionary[Any, GroupCommit] = weakref.WeakKeyDictionary()
_group_commits_lock = threading.Lock()


def save(rt: Runtime, new: NewEscalation) -> Escalation:
    """Store a prepared escalation in its own (possibly shared) transaction."""
    import os

    if "group" in os.environ.get("SUPPORTBOT_BENCH_OFF", "").split(","):
        with rt.transaction() as session:
            return store_new(session, new, clock=rt.clock)
    with _group_commits_lock:
        group = _group_commits.get(rt.engine)
        if group is None:
            group = _group_commits[rt.engine] = GroupCommit()
    return group.save(rt, new)


def create(
    session: Session, *, team: Team, reporter_id: str, draft: Draft, clock: Clock
) -> tuple[Escalation, str]:
    """Store a new escalation and enqueue its channel post and the primary leader's DM.

    Returns the escalation and the leader who is told first.
    """
    new = prepare(session, team=team, reporter_id=reporter_id, draft=draft, clock=clock)
    return store_new(session, new, clock=clock), new.first


# ----- finding and permission ----------------------------------------------------------
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
    return Conflict("escalations.already_acked", ref=esc.ref, user=esc.acknowledged_by or "")


def check_can_acknowledge(session: Session, esc: Escalation, user_id: str) -> None:
    """Before taking the write lock: a second click or a refusal needs no write."""
    require_actor(session, esc, user_id)
    if esc.status != OPEN:
        raise _already(esc)


def check_can_resolve(session: Session, esc: Escalation, user_id: str) -> None:
    """Before opening the resolve modal: refuse early rather than after typing a note."""
    require_actor(session, esc, user_id)
    if esc.status == RESOLVED:
        raise _already(esc)


check_can_reassign = check_can_resolve


# ----- handling ------------------------------------------------------------------------
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
    _update(session, fresh, clock=clock, key="ack")
    if fresh.reporter_id != actor_id:
        _dm(session, fresh, user=fresh.reporter_id, reason="acknowledged", by=actor_id,
            clock=clock, key="ack")
    return fresh


def check_resolution(outcome: str | None, note: str | None) -> tuple[str, str]:
    note = (note or "").strip()
    if not note:
        raise InvalidInput("escalations.need_note", field="note")
    if len(note) > NOTE_MAX:
        raise InvalidInput("escalations.too_long", field="note", limit=NOTE_MAX)
    if outcome not in OUTCOMES:
        raise InvalidInput("escalations.bad_outcome", field="outcome")
    return outcome, note


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
    _update(session, fresh, clock=clock, key="resolve")
    if fresh.reporter_id != actor_id:
        _dm(session, fresh, user=fresh.reporter_id, reason="resolved", by=actor_id,
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
    _update(session, fresh, clock=clock, key=f"reassign{n}")
    _thread(session, fresh, clock=clock, key=f"reassign{n}", note="reassigned",
            user=new_owner, by=actor_id)
    if new_owner != actor_id:
        _dm(session, fresh, user=new_owner, reason="reassigned", by=actor_id, clock=clock,
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


# ----- when nobody answers -------------------------------------------------------------
def reescalate_one(session: Session, escalation_id: int, *, clock: Clock) -> str | None:
    """Take the next step for one escalation whose deadline passed: tell the next leader in
    the chain, then remind every leader each interval up to the cap, then stop (overdue).

    Each step is a conditional UPDATE on (id, level, deadline passed): a second replica or
    a re-run after a restart finds nothing to do. Returns what was done.
    """
    now = clock.now()
    esc = store.get_escalation(session=session, escalation_id=escalation_id)
    if esc is None or esc.status != OPEN or esc.ack_deadline_at is None:
        return None
    if esc.ack_deadline_at > now:
        return None
    team = team_of(session, esc)
    assert team.id is not None
    chain = team_store.leaders_of(session=session, team_id=team.id)
    timeout = timeout_for(team, esc.severity)
    level, was_overdue = esc.level, esc.overdue
    cap = max_rounds(team)
    waited = _seconds(now - esc.created_at)

    # Next leader in the chain who is not away; past the chain, reminder rounds.
    target: str | None = None
    next_level = level + 1
    while next_level < len(chain):
        uid = chain[next_level]
        if not is_away(session, workspace_id=esc.workspace_id, user_id=uid, at=now):
            target = uid
            break
        next_level += 1
    if target is not None:
        action, values = REESCALATED, {"ack_deadline_at": now + timeout, "overdue": True}
    else:
        next_level = max(next_level, len(chain))
        round_no = next_level - len(chain) + 1
        if round_no <= cap:
            action, values = REMINDED, {"ack_deadline_at": now + timeout, "overdue": True}
        else:
            action, values = MARKED_OVERDUE, {"ack_deadline_at": None, "overdue": True}
    if not store.advance_level(
        session=session, escalation_id=escalation_id, level=level, new_level=next_level,
        now=now, values=values,
    ):
        return None
    fresh = store.get_escalation(session=session, escalation_id=escalation_id)
    assert fresh is not None
    step = f"L{next_level}"
    if action == REESCALATED:
        assert target is not None
        store.add_event(session=session, escalation=fresh, actor_id=None, action=action,
                        at=now, detail=f"level={next_level} to={target}")
        _dm(session, fresh, user=target, reason="reescalated", clock=clock, key=step)
        _thread(session, fresh, clock=clock, key=step, note="reescalated", user=target,
                waited=waited)
    elif action == REMINDED:
        round_no = next_level - len(chain) + 1
        store.add_event(session=session, escalation=fresh, actor_id=None, action=action,
                        at=now, detail=f"round={round_no}/{cap}")
        for uid in present_leaders(session, team, now):
            _dm(session, fresh, user=uid, reason="reminder", clock=clock, key=step)
        _thread(session, fresh, clock=clock, key=step, note="reminded", round=round_no,
                cap=cap, waited=waited)
    else:
        store.add_event(session=session, escalation=fresh, actor_id=None, action=action,
                        at=now, detail=f"after {cap} rounds")
        _thread(session, fresh, clock=clock, key=step, note="gave_up", cap=cap, waited=waited)
    if not was_overdue or action == MARKED_OVERDUE:
        _update(session, fresh, clock=clock, key=step)
    return action


def check_deadlines(rt: Runtime) -> int:
    """The periodic job: one step for every open escalation past its deadline."""
    with rt.transaction(readonly=True) as session:
        ids = store.due_for_reescalation(session=session, now=rt.clock.now())
    done = 0
    for escalation_id in ids:
        try:
            with rt.transaction() as session:
                if reescalate_one(session, escalation_id, clock=rt.clock):
                    done += 1
        except Exception:  # one bad row must not stop the others
            log.exception("re-escalating escalation %s failed", escalation_id)
    if done:
        rt.outbox.kick()
    return done


def install_jobs(scheduler: Scheduler, rt: Runtime) -> None:
    scheduler.every(
        "escalations.deadlines",
        "Re-escalate unacknowledged escalations",
        SCAN_SECONDS,
        check_deadlines,
        rt,
    )
