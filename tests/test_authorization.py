"""Every command and button against every role: a leader of the team, a leader of another
team, a member, and someone in no team. Allowed or refused is judged by what changed in
the database (or what was opened), never by wording."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlmodel import col, func, select

from supportbot.bot import oneonones
from supportbot.storage.away import AwayPeriod
from supportbot.storage.coaching import CoachingNote, Goal
from supportbot.storage.escalations import Escalation
from supportbot.storage.kudos import Kudos
from supportbot.storage.models import Team, TeamMember
from supportbot.storage.oneonones import OneOnOne, OneOnOneMeeting, OneOnOneTopic
from supportbot.storage.standups import StandupPrompt, StandupRun, StandupSchedule
from tests.rig import BotRig

ROLES = {
    "leader": "U0LEAD01",
    "other_leader": "U0LEAD09",
    "member": "U0AGENT01",
    "outsider": "U0OUTSIDE",
}


def setup(rig: BotRig) -> int:
    """Tier1 (leaders LEAD01, LEAD02; members AGENT01, AGENT02) and Tier2 (LEAD09, AGENT09);
    returns the id of an open Tier1 escalation raised by AGENT02."""
    rig.make_team()
    rig.make_team("Tier2", leaders=("U0LEAD09",), members=("U0AGENT09",), escalation_channel="C0ESCAL02", digest_channel="C0DIGEST2")
    rig.command("/escalate", "high Refund stuck for ACME", user="U0AGENT02", channel="C0ESCAL01")
    rig.command("/coach", "goal <@U0AGENT02|b> csat >= 90 by 2027-01-31", user="U0LEAD01")
    with rig.rt.transaction(readonly=True) as session:
        return session.exec(select(Escalation.id)).one()


def count(rig: BotRig, model: type, *where) -> int:  # type: ignore[no-untyped-def]
    with rig.rt.transaction(readonly=True) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def esc_status(rig: BotRig) -> str:
    with rig.rt.transaction(readonly=True) as session:
        return session.exec(select(Escalation.status).where(Escalation.team_id == 1)).first() or ""


def tier1_target(rig: BotRig) -> object:
    with rig.rt.transaction(readonly=True) as session:
        team = session.exec(select(Team).where(Team.name == "Tier1")).one()
        return (team.settings or {}).get("kpi_targets", {}).get("csat")


def views_opened(rig: BotRig) -> int:
    return len(rig.standin.ok_calls("views.open"))


def modals_opened(callback_id: str, **meta: object) -> Callable[[BotRig], int]:
    """How many modals `callback_id` were opened whose private_metadata holds `meta`."""

    def measure(rig: BotRig) -> int:
        count = 0
        for call in rig.standin.ok_calls("views.open"):
            view = call.args.get("view") or {}
            view = json.loads(view) if isinstance(view, str) else view
            data = json.loads(view.get("private_metadata") or "{}")
            count += view.get("callback_id") == callback_id and meta.items() <= data.items()
        return count

    return measure


# ----- stand-ups and 1:1s --------------------------------------------------------------
TUE_1430 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 30 min before a Tuesday 15:00 1:1


def tier1_id(rig: BotRig) -> int:
    with rig.rt.transaction(readonly=True) as session:
        return session.exec(select(Team.id).where(Team.name == "Tier1")).one() or 0


def standups_scheduled(rig: BotRig) -> int:
    """Both teams get a stand-up, so a leader of Tier2 has one of their own that a command
    could change instead; returns Tier1's team id."""
    for uid in ("U0AGENT01", "U0AGENT02", "U0AGENT09"):
        rig.standin.add_user(uid)
    rig.command("/standup", "schedule mon-fri 09:30", user="U0LEAD01", channel="C0ESCAL01")
    rig.command("/standup", "schedule mon-fri 10:00", user="U0LEAD09", channel="C0ESCAL02")
    assert count(rig, StandupSchedule) == 2
    return tier1_id(rig)


def standup_paused(rig: BotRig) -> int:
    team_id = standups_scheduled(rig)
    rig.command("/standup", "pause", user="U0LEAD01", channel="C0ESCAL01")
    assert tier1_standup(rig)[2] is True
    return team_id


def standup_prompted(rig: BotRig) -> int:
    """Tier1's stand-up started now; returns the id of the member's (AGENT01's) prompt."""
    team_id = standups_scheduled(rig)
    rig.command("/standup", "now", user="U0LEAD01", channel="C0ESCAL01")
    rig.deliver()
    with rig.rt.transaction(readonly=True) as session:
        return session.exec(
            select(StandupPrompt.id).join(StandupRun, col(StandupRun.id) == StandupPrompt.run_id)
            .where(StandupRun.team_id == team_id, StandupPrompt.user_id == "U0AGENT01")
        ).one() or 0


def tier1_standup(rig: BotRig) -> tuple[object, ...]:
    """Everything a leader can change about Tier1's stand-up."""
    with rig.rt.transaction(readonly=True) as session:
        row = session.exec(select(StandupSchedule).where(StandupSchedule.team_id == tier1_id(rig))).one()
        return (row.days, row.time, row.paused, tuple(row.skip_days), tuple(row.questions), row.blocker_question, row.channel_id)


def tier1_prompts(rig: BotRig) -> int:
    with rig.rt.transaction(readonly=True) as session:
        return session.exec(
            select(func.count()).select_from(StandupPrompt)
            .join(StandupRun, col(StandupRun.id) == StandupPrompt.run_id).where(StandupRun.team_id == tier1_id(rig))
        ).one()


def answered(rig: BotRig) -> int:
    return count(rig, StandupPrompt, col(StandupPrompt.answered_at).is_not(None))


def oneonone_reminded(rig: BotRig) -> int:
    """LEAD01's weekly 1:1 with AGENT01 (who added a talking point) was just reminded;
    returns the meeting id."""
    rig.command("/oneonone", "<@U0AGENT01|al> weekly tue 15:00", user="U0LEAD01", channel="C0ESCAL01")
    rig.command("/oneonone", "topic Weekend rota", user="U0AGENT01")
    with rig.rt.transaction(readonly=True) as session:
        oid = session.exec(select(OneOnOne.id)).one() or 0
    rig.clock.set(TUE_1430)
    oneonones.run_reminder(rig.rt, oid, scheduled_for=TUE_1430)
    rig.deliver()
    with rig.rt.transaction(readonly=True) as session:
        return session.exec(select(OneOnOneMeeting.id)).one() or 0


def oneonone_rows(rig: BotRig) -> list[tuple[object, ...]]:
    with rig.rt.transaction(readonly=True) as session:
        rows = session.exec(select(OneOnOne).order_by(col(OneOnOne.id))).all()
        return [(r.leader_id, r.agent_id, r.cadence, r.weekday, r.time, r.active) for r in rows]


def meeting_state(rig: BotRig) -> list[tuple[object, ...]]:
    with rig.rt.transaction(readonly=True) as session:
        return [(m.at, m.done_at) for m in session.exec(select(OneOnOneMeeting)).all()]


def away_of_agent02(rig: BotRig) -> int:
    return count(rig, AwayPeriod, AwayPeriod.user_id == "U0AGENT02")


def agent02_away(rig: BotRig) -> int:
    rig.command("/away", "2026-12-01..2026-12-03 dentist", user="U0AGENT02")
    assert away_of_agent02(rig) == 1
    return 0


def says(command: str, text: str, channel: str = "C0ESCAL01") -> Callable[[BotRig, str, int], object]:
    """The act of typing `command text` in `channel`."""
    return lambda r, u, e: r.command(command, text, user=u, channel=channel)


@dataclass
class Case:
    name: str
    act: Callable[[BotRig, str, int], object]
    measure: Callable[[BotRig], object]
    allowed: set[str]
    prepare: Callable[[BotRig], int] | None = None  # its result replaces the escalation id


CASES = [
    Case("/escalate creates for own team", lambda r, u, e: r.command("/escalate", "normal Printer on fire", user=u, channel="C0GENERAL"),
         lambda r: count(r, Escalation), {"leader", "other_leader", "member"}),
    Case("Acknowledge button", lambda r, u, e: r.click("escalation.ack", {"id": e}, user=u),
         esc_status, {"leader"}),
    Case("Resolve button opens the modal", lambda r, u, e: r.click("escalation.resolve", {"id": e}, user=u),
         views_opened, {"leader"}),
    Case("Reassign button opens the picker", lambda r, u, e: r.click("escalation.reassign", {"id": e}, user=u),
         views_opened, {"leader"}),
    Case("/kpis target", lambda r, u, e: r.command("/kpis", "target csat 97", user=u, channel="C0ESCAL01"),
         tier1_target, {"leader"}),
    Case("/coach note", lambda r, u, e: r.command("/coach", "<@U0AGENT02|b> Great calm call", user=u),
         lambda r: count(r, CoachingNote), {"leader"}),
    Case("/coach goal", lambda r, u, e: r.command("/coach", "goal <@U0AGENT02|b> nps >= 40 by 2027-02-01", user=u),
         lambda r: count(r, Goal), {"leader"}),
    Case("/coach done", lambda r, u, e: r.command("/coach", "done 1", user=u),
         lambda r: count(r, Goal, Goal.status == "done"), {"leader"}),
    Case("/kudos to a teammate", lambda r, u, e: r.command("/kudos", "<@U0AGENT02|b> thanks for the cover", user=u, channel="C0DIGEST1"),
         lambda r: count(r, Kudos), {"leader", "other_leader", "member"}),  # recognition crosses teams
    Case("/away marks a Tier1 member", lambda r, u, e: r.command("/away", "<@U0AGENT02|b> 2026-12-01 training", user=u),
         lambda r: count(r, AwayPeriod), {"leader"}),
    Case("/supportbot team add-member", lambda r, u, e: r.command("/supportbot", "team add-member <@U0NEW0001|n> team:Tier1", user=u),
         lambda r: count(r, TeamMember, TeamMember.team_id == 1), {"leader"}),
    Case("/away cancel of someone else's period", lambda r, u, e: r.command("/away", "cancel <@U0AGENT02|b>", user=u),
         away_of_agent02, {"leader"}, agent02_away),
    # Stand-ups: a leader changes their own team's; another team's leader reaches only theirs.
    Case("/standup schedule", says("/standup", "schedule mon,wed 08:15 cutoff:3h"),
         tier1_standup, {"leader"}, standups_scheduled),
    Case("/standup questions opens the modal", says("/standup", "questions"),
         lambda r: modals_opened("standups.questions_modal", team_id=tier1_id(r))(r), {"leader"}, standups_scheduled),
    Case("Stand-up questions modal submit", lambda r, u, e: r.submit("standups.questions_modal", {"standups.questions": "Wins?\nFocus today?", "standups.blocker_question": "Stuck?"}, user=u, private_metadata={"team_id": e}),
         tier1_standup, {"leader"}, standups_scheduled),
    Case("/standup pause", says("/standup", "pause"),
         tier1_standup, {"leader"}, standups_scheduled),
    Case("/standup pause team:Tier1", says("/standup", "pause team:Tier1", "C0GENERAL"),
         tier1_standup, {"leader"}, standups_scheduled),
    Case("/standup resume", says("/standup", "resume"),
         tier1_standup, {"leader"}, standup_paused),
    Case("/standup skip", says("/standup", "skip 2026-12-24"),
         tier1_standup, {"leader"}, standups_scheduled),
    Case("/standup now", says("/standup", "now"),
         tier1_prompts, {"leader"}, standups_scheduled),
    Case("Stand-up Answer button", lambda r, u, e: r.click("standups.answer", {"prompt_id": e}, user=u),
         modals_opened("standups.answer_modal"), {"member"}, standup_prompted),
    Case("Stand-up answer modal submit", lambda r, u, e: r.submit("standups.answer_modal", {"standups.q0": "Closed 12 tickets", "standups.blocker": "none"}, user=u, private_metadata={"prompt_id": e}),
         answered, {"member"}, standup_prompted),
    # 1:1s: LEAD01 leads AGENT01's; the agent may add topics and move it, only its leader closes it.
    Case("/oneonone schedule", says("/oneonone", "<@U0AGENT02|b> weekly wed 10:00"),
         oneonone_rows, {"leader"}, oneonone_reminded),
    Case("/oneonone cancel", says("/oneonone", "cancel <@U0AGENT01|al>"),
         oneonone_rows, {"leader"}, oneonone_reminded),
    Case("/oneonone topic", lambda r, u, e: r.command("/oneonone", "topic Career plan", user=u),
         lambda r: count(r, OneOnOneTopic), {"leader", "member"}, oneonone_reminded),
    Case("1:1 Done button opens the modal", lambda r, u, e: r.click("oneonones.done", {"meeting_id": e}, user=u),
         modals_opened("oneonones.done_modal"), {"leader"}, oneonone_reminded),
    Case("1:1 Move to tomorrow button", lambda r, u, e: r.click("oneonones.move", {"meeting_id": e}, user=u),
         meeting_state, {"leader", "member"}, oneonone_reminded),
    Case("1:1 Done modal submit", lambda r, u, e: r.submit("oneonones.done_modal", {"oneonones.notes": "Agreed a rota swap"}, user=u, private_metadata={"meeting_id": e}),
         lambda r: (meeting_state(r), count(r, CoachingNote)), {"leader"}, oneonone_reminded),
]


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matrix(rig: BotRig, standin, case: Case, role: str) -> None:  # type: ignore[no-untyped-def]
    target = setup(rig)
    if case.prepare is not None:
        target = case.prepare(rig)
    before = case.measure(rig)
    case.act(rig, ROLES[role], target)
    rig.deliver()
    changed = case.measure(rig) != before
    assert changed == (role in case.allowed), f"{case.name} by {role}: changed={changed}"
    assert standin.rejected() == [] and standin.pings() == []


@pytest.mark.parametrize("role", ["other_leader", "member", "outsider"])
def test_reading_coaching_is_refused(rig: BotRig, role: str) -> None:
    setup(rig)
    for text in ("<@U0AGENT02|b>", "goals <@U0AGENT02|b>"):
        answer = rig.command("/coach", text, user=ROLES[role]).json()
        assert answer["response_type"] == "ephemeral"
        assert "Coaching notes about" not in str(answer) and "Goal" not in str(answer.get("blocks"))


@pytest.mark.parametrize(("role", "allowed"), [("leader", True), ("other_leader", True), ("member", False), ("outsider", False)])
def test_delivery_status_is_for_leaders(rig: BotRig, role: str, allowed: bool) -> None:
    setup(rig)
    answer = rig.command("/supportbot", "status", user=ROLES[role]).json()
    assert ("Deliveries to Slack" in str(answer)) == allowed
