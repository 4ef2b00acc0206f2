"""Kudos: public shout-outs between teammates, a daily giving cap, leaderboards and the
month's summary. The message is stored exactly as typed and escaped only when shown."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot import teams
from supportbot.bot.clock import Clock
from supportbot.bot.errors import InvalidInput, NotAllowed
from supportbot.bot.outbox import enqueue
from supportbot.bot.timeutil import local, local_midnight
from supportbot.storage import kudos as store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim
from supportbot.storage.kudos import Kudos
from supportbot.storage.models import Team

log = logging.getLogger(__name__)

DEFAULT_CAP = 5
MAX_CAP = 100
MAX_RECIPIENTS = 10
MESSAGE_MAX = 1500
BOARD_SIZE = 10
MONTH_TOP = 5
POST_KIND = "kudos.post"
MONTH_KIND = "kudos.month"
MONTH_SUMMARY_AT = time(9, 0)
MONTH_SUMMARY_DAYS = 3  # a summary still goes out if the bot was down on the 1st
PERIODS = ("week", "month")

_VALUE = re.compile(r"(?:^|\s)#([\w-]{1,40})\s*$", re.UNICODE)


def cap_of(team: Team) -> int:
    try:
        return max(1, int(teams.setting(team, "kudos_cap", DEFAULT_CAP)))
    except (TypeError, ValueError):
        return DEFAULT_CAP


def parse_message(text: str) -> tuple[str, str | None]:
    """`great save on the refund #ownership` -> ("great save on the refund", "ownership")."""
    text = (text or "").replace("\x00", "").strip()
    match = _VALUE.search(text)
    if not match:
        return text, None
    return text[: match.start()].strip(), match.group(1).lower()


def post_channel(team: Team, channel_id: str | None) -> str:
    """The team's digest channel, else where the command was typed (never a DM)."""
    if team.digest_channel:
        return team.digest_channel
    if channel_id and channel_id[:1] in ("C", "G"):
        return channel_id
    return team.escalation_channel


def day_bounds(team: Team, now: datetime) -> tuple[datetime, datetime, date]:
    today = local(now, team.timezone).date()
    start = local_midnight(today, team.timezone)
    end = local_midnight(today + timedelta(days=1), team.timezone)
    return start, end, today


def giving_team(
    session: Session,
    *,
    workspace_id: str,
    giver_id: str,
    channel_id: str | None,
    recipients: Sequence[str],
    team_name: str | None = None,
) -> Team:
    """The giver's team; for someone in several, the channel's team, else the one all the
    recipients share with them, else the usual "which team?" question."""
    mine = team_store.teams_of_user(session=session, workspace_id=workspace_id, user_id=giver_id)
    if len(mine) > 1 and not team_name:
        here = [t for t in mine if channel_id in (t.escalation_channel, t.digest_channel)]
        if len(here) == 1:
            return here[0]
        shared = [t for t in mine if all(teams.is_in_team(session, t, r) for r in recipients)]
        if len(shared) == 1:
            return shared[0]
    return teams.team_for_request(
        session,
        workspace_id=workspace_id,
        user_id=giver_id,
        channel_id=channel_id,
        team_name=team_name,
        mine=mine,
    )


@dataclass
class Given:
    kudos: Kudos
    recipients: list[str]
    given_today: int
    cap: int

    @property
    def reached_cap(self) -> bool:
        return self.given_today >= self.cap


def give(
    session: Session,
    *,
    team: Team,
    giver_id: str,
    recipients: Sequence[str],
    text: str,
    channel_id: str | None,
    clock: Clock,
) -> Given:
    """Store a kudos and queue its post; refuses self-kudos and gifts past the daily cap."""
    assert team.id is not None
    message, value = parse_message(text)
    recipients = list(dict.fromkeys(recipients))
    if not recipients or not message:
        raise InvalidInput("kudos.usage")
    if giver_id in recipients:
        raise InvalidInput("kudos.no_self")
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidInput("kudos.too_many", max=MAX_RECIPIENTS)
    if len(message) > MESSAGE_MAX:
        raise InvalidInput("kudos.too_long", max=MESSAGE_MAX)
    for uid in recipients:
        teams.check_user_id(uid)
    now = clock.now()
    cap = cap_of(team)
    start, end, today = day_bounds(team, now)
    given = store.count_given(
        session=session, workspace_id=team.workspace_id, giver_id=giver_id, since=start, until=end
    )
    # One claim per daily slot: two kudos sent at the same moment cannot both take the last.
    for slot in range(given + 1, cap + 1):
        if try_claim(
            session=session,
            key=f"kudos:slot:{team.workspace_id}:{giver_id}:{today.isoformat()}:{slot}",
            now=now,
        ):
            break
    else:
        raise NotAllowed("kudos.cap_reached", cap=cap)
    kudos = store.add_kudos(
        session=session,
        kudos=Kudos(
            workspace_id=team.workspace_id,
            team_id=team.id,
            giver_id=giver_id,
            message=message,
            value=value,
            channel_id=post_channel(team, channel_id),
            created_at=now,
        ),
        recipients=recipients,
    )
    enqueue(
        session,
        workspace_id=team.workspace_id,
        kind=POST_KIND,
        data={"kudos_id": kudos.id},
        clock=clock,
        dedupe_key=f"kudos:{kudos.id}:post",
    )
    return Given(kudos, recipients, given + 1, cap)


def set_cap(session: Session, *, team: Team, leader_id: str, cap_text: str, now: datetime) -> int:
    teams.require_leader(session, team, leader_id)
    raw = (cap_text or "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_CAP:
        raise InvalidInput("kudos.bad_cap", max=MAX_CAP)
    cap = int(raw)
    teams.update_team(session, team, now=now, settings={"kudos_cap": cap})
    return cap


# ----- leaderboards -------------------------------------------------------------------
@dataclass
class Board:
    period: str
    start: datetime
    end: datetime
    received: list[tuple[str, int]]
    given: list[tuple[str, int]]
    total: int
    values: list[tuple[str, int]]


def period_bounds(team: Team, period: str, now: datetime) -> tuple[datetime, datetime]:
    """This calendar week (from Monday) or month in the team's zone, whole."""
    today = local(now, team.timezone).date()
    if period == "month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
    else:
        first = today - timedelta(days=today.weekday())
        following = first + timedelta(days=7)
    return local_midnight(first, team.timezone), local_midnight(following, team.timezone)


def board(session: Session, *, team: Team, start: datetime, end: datetime, period: str) -> Board:
    assert team.id is not None
    kw: dict[str, Any] = {"session": session, "team_id": team.id, "since": start, "until": end}
    return Board(
        period=period,
        start=start,
        end=end,
        received=store.received_counts(**kw)[:BOARD_SIZE],
        given=store.given_counts(**kw)[:BOARD_SIZE],
        total=store.count_kudos(**kw),
        values=store.value_counts(**kw)[:5],
    )


def leaderboard(session: Session, *, team: Team, period: str, now: datetime) -> Board:
    if period not in PERIODS:
        raise InvalidInput("kudos.top_usage")
    start, end = period_bounds(team, period, now)
    return board(session, team=team, start=start, end=end, period=period)


# ----- the month's summary ------------------------------------------------------------
def month_bounds(team: Team, month: str) -> tuple[datetime, datetime]:
    year, mon = (int(p) for p in month.split("-"))
    first = date(year, mon, 1)
    following = date(year + (mon == 12), mon % 12 + 1, 1)
    return local_midnight(first, team.timezone), local_midnight(following, team.timezone)


def previous_month(day: date) -> str:
    last = day.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def month_board(session: Session, *, team: Team, month: str) -> Board:
    start, end = month_bounds(team, month)
    return board(session, team=team, start=start, end=end, period=month)


def summary_channel(team: Team) -> str:
    return team.digest_channel or team.escalation_channel


def queue_month_summaries(session: Session, *, clock: Clock) -> int:
    """On the 1st (from 09:00 team time) queue last month's shout-outs, once per team."""
    now = clock.now()
    queued = 0
    for team in team_store.list_teams(session=session):
        assert team.id is not None
        here = local(now, team.timezone)
        if here.day > MONTH_SUMMARY_DAYS or (here.day == 1 and here.time() < MONTH_SUMMARY_AT):
            continue
        month = previous_month(here.date())
        if not try_claim(session=session, key=f"kudos:month:{team.id}:{month}", now=now):
            continue
        start, end = month_bounds(team, month)
        if store.count_kudos(session=session, team_id=team.id, since=start, until=end) == 0:
            continue  # nothing to celebrate; the claim keeps us from asking again
        enqueue(
            session,
            workspace_id=team.workspace_id,
            kind=MONTH_KIND,
            data={"team_id": team.id, "month": month},
            clock=clock,
            dedupe_key=f"kudos:month:{team.id}:{month}",
        )
        queued += 1
    return queued


def send_month_summaries(rt: Any) -> None:
    """Job: checks every quarter hour whether a team's month has ended."""
    rt.queue_and_deliver(queue_month_summaries, "kudos month summaries")


def install_jobs(scheduler: Any, rt: Any) -> None:
    scheduler.every(
        "kudos.month_summary", "Kudos: shout-outs of the month", 900, send_month_summaries, rt
    )
