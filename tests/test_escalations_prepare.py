"""`prepare_mine` / `prepare_in` (the reporter's teams, chains and away leaders in one
statement) pick the same team, first leader and level as the step-by-step path
(`teams.team_for_request`, then `prepare`), on random teams, zones and away periods."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from supportbot.bot import escalations as policy
from supportbot.bot import teams
from supportbot.bot.errors import UserError
from supportbot.bot.standin.slack import WORKSPACE
from supportbot.storage import away as away_store
from supportbot.storage.away import AwayPeriod
from supportbot.storage.models import Team
from tests.rig import BotRig

LEADERS = ("U0LEAD01", "U0LEAD02", "U0LEAD03", "U0LEAD04")
AGENTS = ("U0AGENT01", "U0AGENT02", "U0AGENT03")
ZONES = ("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Mexico_City", "Europe/Madrid")


def _outcome(step: tuple[Team, policy.NewEscalation] | None) -> tuple[object, ...] | None:
    if step is None:
        return None
    team, new = step
    return team.id, new.first, new.row.level, new.row.ack_deadline_at, new.row.channel_id


def _step_by_step(rig: BotRig, user: str, channel: str | None, team_name: str | None) -> tuple[object, ...] | str:
    draft = policy.parse_quick("urgent Checkout fails for everyone")
    with rig.rt.transaction(readonly=True) as session:
        try:
            team = teams.team_for_request(session, workspace_id=WORKSPACE, user_id=user, channel_id=channel, team_name=team_name)
        except UserError as exc:
            return exc.key
        return _outcome((team, policy.prepare(session, team=team, reporter_id=user, draft=draft, clock=rig.clock)))  # type: ignore[return-value]


def _one_statement(rig: BotRig, user: str, channel: str | None, team_name: str | None) -> tuple[object, ...] | str:
    draft = policy.parse_quick("urgent Checkout fails for everyone")
    with rig.rt.transaction(readonly=True) as session:
        try:
            step = policy.prepare_mine(
                session, workspace_id=WORKSPACE, reporter_id=user, draft=draft, clock=rig.clock,
                channel_id=channel, team_name=team_name,
            )
        except UserError as exc:
            return exc.key
        return _outcome(step)  # type: ignore[return-value]


@pytest.mark.parametrize("seed", range(6))
def test_one_statement_finds_what_the_step_by_step_path_finds(rig: BotRig, seed: int) -> None:
    rnd = random.Random(seed)
    today = rig.clock.now().date()
    made: list[Team] = []
    for n in range(rnd.randint(1, 3)):
        leaders = tuple(rnd.sample(LEADERS, rnd.randint(1, 4)))
        members = tuple(rnd.sample(AGENTS, rnd.randint(0, 3)))
        made.append(rig.make_team(
            f"Team {n}", leaders=leaders, members=members, escalation_channel=f"C0ESC{n:04d}",
            digest_channel=f"C0DIG{n:04d}", timezone=rnd.choice(ZONES),
        ))
    with rig.rt.transaction() as session:
        for _ in range(rnd.randint(0, 8)):  # some overlap today in some zone, some do not
            start = today + timedelta(days=rnd.randint(-3, 2))
            away_store.add_period(session=session, period=AwayPeriod(
                workspace_id=WORKSPACE, user_id=rnd.choice(LEADERS), start_on=start,
                end_on=start + timedelta(days=rnd.randint(0, 2)), created_by="U0LEAD01",
                created_at=rig.clock.now(),
            ))
    for hour in (0, 6, 11, 13, 18, 23):
        rig.clock.set(datetime.combine(today, datetime.min.time(), tzinfo=rig.clock.now().tzinfo) + timedelta(hours=hour))
        for user in LEADERS + AGENTS + ("U0NOBODY1",):
            for channel in (None, "C0GENERAL", *(t.escalation_channel for t in made)):
                for team_name in (None, "team 0", "Team 2", "Nope"):
                    expected = _step_by_step(rig, user, channel, team_name)
                    assert _one_statement(rig, user, channel, team_name) == expected, (user, channel, team_name, hour)


def test_the_form_path_refuses_a_team_that_is_not_the_reporters(rig: BotRig) -> None:
    mine = rig.make_team("Tier1", leaders=("U0LEAD01",), members=("U0AGENT01",))
    other = rig.make_team("Tier2", leaders=("U0LEAD02",), members=("U0AGENT02",), escalation_channel="C0ESC0002")
    draft = policy.parse_quick("high Refunds stuck")
    with rig.rt.transaction(readonly=True) as session:
        assert policy.prepare_in(session, workspace_id=WORKSPACE, reporter_id="U0AGENT01", team_id=other.id or 0, draft=draft, clock=rig.clock) is None
        assert policy.prepare_in(session, workspace_id="T0OTHER01", reporter_id="U0AGENT01", team_id=mine.id or 0, draft=draft, clock=rig.clock) is None
        team, new = policy.prepare_in(session, workspace_id=WORKSPACE, reporter_id="U0AGENT01", team_id=mine.id or 0, draft=draft, clock=rig.clock) or (None, None)
    assert team is not None and new is not None
    assert (team.id, new.first, new.row.severity) == (mine.id, "U0LEAD01", "high")


def test_a_leader_away_on_their_own_local_day_is_skipped(rig: BotRig) -> None:
    """The period is read with the chain; the day is the leader's own (their first team's
    zone), which can differ from UTC's."""
    rig.make_team("Tier1", leaders=("U0LEAD01", "U0LEAD02"), members=("U0AGENT01",), timezone="Pacific/Kiritimati")
    now = rig.clock.now()
    rig.clock.set(datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo) + timedelta(hours=12))
    tomorrow_utc: date = rig.clock.now().date() + timedelta(days=1)  # already today in Kiritimati (UTC+14)
    with rig.rt.transaction() as session:
        away_store.add_period(session=session, period=AwayPeriod(
            workspace_id=WORKSPACE, user_id="U0LEAD01", start_on=tomorrow_utc, end_on=tomorrow_utc,
            created_by="U0LEAD01", created_at=rig.clock.now(),
        ))
    assert _one_statement(rig, "U0AGENT01", None, None) == _step_by_step(rig, "U0AGENT01", None, None)
    outcome = _one_statement(rig, "U0AGENT01", None, None)
    assert isinstance(outcome, tuple) and outcome[1:3] == ("U0LEAD02", 1)
