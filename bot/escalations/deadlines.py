"""When nobody acknowledges in time: tell the next leader in the chain, then remind every
leader each interval up to the team's cap, then mark it overdue. A job every
SCAN_SECONDS takes one step for each escalation past its deadline."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session

from supportbot.bot.away import is_away
from supportbot.bot.clock import Clock
from supportbot.bot.escalations.chain import max_rounds, present_leaders, timeout_for
from supportbot.bot.escalations.handling import team_of
from supportbot.bot.escalations.notify import (
    MARKED_OVERDUE,
    REESCALATED,
    REMINDED,
    refresh_message,
    tell,
    thread_note,
)
from supportbot.bot.runtime import Runtime
from supportbot.bot.scheduler import Scheduler
from supportbot.storage import escalations as store
from supportbot.storage import teams as team_store
from supportbot.storage.escalations import OPEN

log = logging.getLogger(__name__)

SCAN_SECONDS = 30


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


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
        tell(session, fresh, user=target, reason="reescalated", clock=clock, key=step)
        thread_note(session, fresh, clock=clock, key=step, note="reescalated", user=target,
                waited=waited)
    elif action == REMINDED:
        round_no = next_level - len(chain) + 1
        store.add_event(session=session, escalation=fresh, actor_id=None, action=action,
                        at=now, detail=f"round={round_no}/{cap}")
        for uid in present_leaders(session, team, now):
            tell(session, fresh, user=uid, reason="reminder", clock=clock, key=step)
        thread_note(session, fresh, clock=clock, key=step, note="reminded", round=round_no,
                cap=cap, waited=waited)
    else:
        store.add_event(session=session, escalation=fresh, actor_id=None, action=action,
                        at=now, detail=f"after {cap} rounds")
        thread_note(session, fresh, clock=clock, key=step, note="gave_up", cap=cap, waited=waited)
    if not was_overdue or action == MARKED_OVERDUE:
        refresh_message(session, fresh, clock=clock, key=step)
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
