"""Every command and button against every role: a leader of the team, a leader of another
team, a member, and someone in no team. Allowed or refused is judged by what changed in
the database (or what was opened), never by wording."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlmodel import func, select

from storage.away import AwayPeriod
from storage.coaching import CoachingNote, Goal
from storage.escalations import Escalation
from storage.kudos import Kudos
from storage.models import Team, TeamMember
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


@dataclass
class Case:
    name: str
    act: Callable[[BotRig, str, int], None]
    measure: Callable[[BotRig], object]
    allowed: set[str]


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
]


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matrix(rig: BotRig, standin, case: Case, role: str) -> None:  # type: ignore[no-untyped-def]
    escalation_id = setup(rig)
    before = case.measure(rig)
    case.act(rig, ROLES[role], escalation_id)
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
