"""Members' answers to a stand-up prompt, and the day's summary."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from supportbot.bot.clock import Clock
from supportbot.bot.errors import InvalidInput, NotAllowed, NotFound
from supportbot.bot.outbox import enqueue
from supportbot.bot.standups.schedules import (
    ANSWER_KIND,
    ANSWER_MAX,
    ANSWER_UPDATE_KIND,
    BLOCKER_KIND,
    is_blocker,
)
from supportbot.storage import standups as store
from supportbot.storage import teams as team_store
from supportbot.storage.standups import AWAY, PROMPTED, StandupPrompt, StandupRun

log = logging.getLogger(__name__)


# ----- answers ------------------------------------------------------------------------
@dataclass
class Answered:
    prompt: StandupPrompt
    run: StandupRun
    first: bool


def answerable(session: Session, *, prompt_id: int, user_id: str, now: datetime) -> tuple[StandupPrompt, StandupRun]:
    prompt = store.get_prompt(session=session, prompt_id=prompt_id)
    run = store.get_run(session=session, run_id=prompt.run_id) if prompt else None
    if prompt is None or run is None:
        raise NotFound("standups.prompt_gone")
    if prompt.user_id != user_id:
        raise NotAllowed("standups.not_your_prompt")
    if run.closed or now >= prompt.cutoff_at:
        raise NotAllowed("standups.closed")
    return prompt, run


def answer(
    session: Session,
    *,
    prompt_id: int,
    user_id: str,
    answers: list[str],
    blocker: str | None,
    mood: int | None,
    clock: Clock,
) -> Answered:
    now = clock.now()
    prompt, run = answerable(session, prompt_id=prompt_id, user_id=user_id, now=now)
    answers = [(a or "").replace("\x00", "").strip()[:ANSWER_MAX] for a in answers]
    blocker = (blocker or "").replace("\x00", "").strip()[:ANSWER_MAX] or None
    if not any(answers) and not blocker:
        first_block = "standups.q0" if run.questions else "standups.blocker"
        raise InvalidInput("standups.answer_empty", field=first_block)
    if mood is not None and not 1 <= mood <= 5:
        mood = None
    first = prompt.answered_at is None
    had_blocker = is_blocker(prompt.blocker) if not first else False
    prompt.answers, prompt.blocker, prompt.mood = answers, blocker, mood
    prompt.answered_at = prompt.answered_at or now
    prompt.status = PROMPTED
    prompt.version += 1
    store.save(session=session, row=prompt)
    ws = prompt.workspace_id
    if first:
        enqueue(
            session, workspace_id=ws, kind=ANSWER_KIND, data={"prompt_id": prompt.id},
            clock=clock, dedupe_key=f"standup:answer:{prompt.id}",
        )
    else:
        enqueue(
            session, workspace_id=ws, kind=ANSWER_UPDATE_KIND,
            data={"prompt_id": prompt.id, "version": prompt.version}, clock=clock,
            dedupe_key=f"standup:answer:{prompt.id}:v{prompt.version}",
        )
    if is_blocker(blocker) and not had_blocker:
        for leader in team_store.leaders_of(session=session, team_id=run.team_id):
            enqueue(
                session, workspace_id=ws, kind=BLOCKER_KIND,
                data={"prompt_id": prompt.id, "leader_id": leader}, clock=clock,
                dedupe_key=f"standup:blocker:{prompt.id}:v{prompt.version}:{leader}",
            )
    return Answered(prompt, run, first)


@dataclass
class Summary:
    run: StandupRun
    answered: list[StandupPrompt]
    missing: list[str]
    away: list[str]
    blockers: list[StandupPrompt]


def summary(session: Session, run: StandupRun) -> Summary:
    assert run.id is not None
    prompts = list(store.prompts_of(session=session, run_id=run.id))
    answered = [p for p in prompts if p.answered_at is not None]
    return Summary(
        run=run,
        answered=answered,
        missing=[p.user_id for p in prompts if p.answered_at is None and p.status != AWAY],
        away=[p.user_id for p in prompts if p.status == AWAY and p.answered_at is None],
        blockers=[p for p in answered if is_blocker(p.blocker)],
    )


def is_team_holiday(session: Session, *, team_id: int, day: date) -> bool:
    """A day the team's leaders skipped with `/standup skip` (1:1 reminders respect it too)."""
    row = store.schedule_of_team(session=session, team_id=team_id)
    return row is not None and day.isoformat() in row.skip_days


