"""`/away`: mark, list, cancel; leaders mark their members; clear answers for bad input."""

from __future__ import annotations

from datetime import UTC, datetime

from supportbot.bot.away import is_away
from supportbot.bot.standin.slack import WORKSPACE
from tests.rig import BotRig


def say(rig: BotRig, text: str, user: str = "U0AGENT01") -> str:
    body = rig.command("/away", text, user=user).json()
    assert body["response_type"] == "ephemeral"
    return body.get("text", "") + str(body.get("blocks") or "")


def away(rig: BotRig, user: str, when: datetime) -> bool:
    with rig.rt.transaction(readonly=True) as session:
        return is_away(session, workspace_id=WORKSPACE, user_id=user, at=when)


def test_mark_list_cancel(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    rig.make_team(timezone="America/New_York")
    assert "You're away Tue, Nov 24 – Thu, Nov 26" in say(rig, "2026-11-24..2026-11-26 family &lt;!here&gt;")
    # 2026-11-24 00:30 in New York is 05:30 UTC; 04:30 UTC is still the 23rd there
    assert away(rig, "U0AGENT01", datetime(2026, 11, 24, 5, 30, tzinfo=UTC))
    assert not away(rig, "U0AGENT01", datetime(2026, 11, 24, 4, 30, tzinfo=UTC))
    listing = say(rig, "list", user="U0LEAD01")
    assert "<@U0AGENT01>" in listing and "family &lt;!here&gt;" in listing
    assert "Removed 1 away period" in say(rig, "cancel")
    assert not away(rig, "U0AGENT01", datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert "no current or upcoming" in say(rig, "cancel")
    assert standin.pings() == [] and standin.rejected() == []


def test_leader_marks_a_member_but_agents_cannot(rig: BotRig) -> None:
    rig.make_team()
    assert "<@U0AGENT02> is away" in say(rig, "<@U0AGENT02|b> 2026-12-01..2026-12-05 training", user="U0LEAD01")
    assert "only mark yourself" in say(rig, "<@U0AGENT02|b> 2026-12-01")
    assert "only mark yourself" in say(rig, "cancel <@U0AGENT02|b>")
    rig.make_team("Tier2", leaders=("U0LEAD09",), members=("U0AGENT09",), escalation_channel="C0ESCAL02")
    assert "only mark yourself" in say(rig, "<@U0AGENT02|b> 2026-12-01", user="U0LEAD09")
    assert "Removed 1" in say(rig, "cancel <@U0AGENT02|b>", user="U0LEAD01")


def test_bad_input_gets_usage(rig: BotRig) -> None:
    rig.make_team()
    assert "You're away Tue, Nov 24." in say(rig, "tomorrow")  # dates in words (bot/dates.py)
    assert "is not a date" in say(rig, "someday soon")
    assert "is not a date" in say(rig, "2026-02-30")
    assert "before the start" in say(rig, "2026-12-05..2026-12-01")
    assert "ended on Sun, Nov 1, in the past" in say(rig, "2026-11-01")
    assert "at most 366 days" in say(rig, "2026-12-01..2028-12-01")
    assert "/away list" in say(rig, "help")


def test_spanish(rig: BotRig) -> None:
    rig.make_team(language="es")
    assert "Ausente lun 30 nov." in say(rig, "2026-11-30")
    assert "terminó el dom 1 nov, en el pasado" in say(rig, "2026-11-01")
