"""The App Home through the rig: published on app_home_opened (views.publish in the
stand-in), the leader view with live data from every feature and its Acknowledge and
Agenda buttons, the agent view with its stand-up Answer button, both languages, and the
100-block limit with many big teams."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from supportbot.bot.standin.slack import SlackStandIn
from supportbot.storage import escalations as esc_store
from supportbot.storage import kpis as kpi_store
from tests.rig import BotRig
from tests.test_kpis_math import ticket
from tests.test_pulse import MEMBERS, add_standup_moods, answer, buttons, close_current, open_now

LEAD = "U0LEAD01"
ANA = "<@U0AGENT01|ana>"
BO = "<@U0AGENT02|bo>"


def open_home(rig: BotRig, standin: SlackStandIn, user: str) -> dict[str, Any]:
    standin.home.pop(user, None)
    rig.event({"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home", "event_ts": "1.2"})
    return standin.home[user]


def text_of(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


def home_click(rig: BotRig, action_id: str, value: dict[str, Any], *, user: str) -> None:
    """A button clicked on the Home tab: Slack sends the view, no channel, no response_url."""
    rig.interactive({
        "type": "block_actions",
        "team": {"id": "T0TEST01", "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0TEST01"},
        "api_app_id": "A0APP0001",
        "trigger_id": f"trigger-home-{action_id}-{rig.clock.now().timestamp()}",
        "container": {"type": "view", "view_id": "V0HOME001"},
        "view": {"id": "V0HOME001", "type": "home", "callback_id": "", "private_metadata": "", "state": {"values": {}}, "hash": "h"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": json.dumps(value), "action_ts": f"{rig.clock.now().timestamp():.6f}"}],
    })


def buttons_in(view: dict[str, Any], action_id: str) -> list[dict[str, Any]]:
    found = []
    for block in view["blocks"]:
        for element in [block.get("accessory") or {}, *(block.get("elements") or [])]:
            if element.get("action_id") == action_id:
                found.append(json.loads(element["value"]))
    return found


def add_tickets(rig: BotRig) -> None:
    rows = [
        ticket(f"T{day}{n}", f"2026-11-{17 + day:02d}T0{n}:00", agent_id="U0AGENT01", first_response=5 + day, solved_at=f"2026-11-{17 + day:02d}T09:00", csat=5 if n else 3)
        for day in range(7)
        for n in range(1 + day % 3)
    ]
    with rig.rt.transaction() as session:
        kpi_store.upsert_tickets(session=session, workspace_id="T0TEST01", rows=rows, now=rig.clock.now())


def test_leader_home_with_live_data_and_its_buttons(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(members=MEMBERS)
    for member in MEMBERS:
        standin.add_user(member)
    # last week's pulse, with results
    rig.clock.set(datetime(2026, 11, 16, 10, 0, tzinfo=UTC))
    open_now(rig)
    for member in MEMBERS[:5]:
        answer(rig, member, buttons(standin, member)[-1], mood="4", workload="5", enps="9")
    close_current(rig)
    # this morning
    rig.clock.set(datetime(2026, 11, 23, 9, 55, tzinfo=UTC))
    add_tickets(rig)
    rig.command("/kpis", "target csat 92", user=LEAD)
    rig.command("/escalate", "urgent Customer <!here> can't pay #12345", user="U0AGENT01", channel="C0ESCAL01")
    rig.command("/coach", f"{ANA} check the refund macro follow-up:2026-11-25", user=LEAD, channel="C0ESCAL01")
    rig.command("/oneonone", f"{BO} weekly mon 15:00", user=LEAD, channel="C0ESCAL01")
    rig.command("/oneonone", f"{ANA} weekly tue 11:00", user=LEAD, channel="C0ESCAL01")
    rig.command("/oneonone", "topic Weekend rota", user="U0AGENT02")
    rig.command("/away", "2026-11-26..2026-11-27 dentist", user="U0AGENT03")
    rig.command("/standup", "schedule mon-fri 09:00", user=LEAD)
    rig.command("/standup", "now", user=LEAD)
    rig.deliver()
    prompt = json.loads(next(e for b in standin.dms("U0AGENT01")[-1].args["blocks"] for e in b.get("elements") or [] if e.get("action_id") == "standups.answer")["value"])
    rig.submit("standups.answer_modal", {"standups.q0": "Refunds", "standups.blocker": "VPN is down"}, user="U0AGENT01", private_metadata=prompt)
    open_now(rig)
    answer(rig, "U0AGENT01", buttons(standin, "U0AGENT01")[-1])
    add_standup_moods(rig, 1, date(2026, 11, 23), {m: 4 for m in MEMBERS[1:6]})
    rig.clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    rig.deliver()

    home = open_home(rig, standin, LEAD)
    shown = text_of(home)
    assert "Team Tier1" in shown
    assert "Open escalations (1)" in shown and "ESC-1" in shown and "Customer @here can't pay" in shown and "<!here>" not in shown and "open 5m" in shown
    [ack] = buttons_in(home, "escalation.ack")
    assert "CSAT" in shown and "92%" in shown and any(c in shown for c in "▁▂▃▄▅▆▇█")
    assert "Not answered: <@U0AGENT02>" in shown and "Blocked: <@U0AGENT01>" in shown
    assert "<@U0AGENT02> · Mon 15:00 · 1 talking points" in shown and "<@U0AGENT01> · Tue 11:00" in shown
    assert "Wed, Nov 25 · <@U0AGENT01>: check the refund macro" in shown
    assert "Open now: 1 of 6 answered" in shown and "Workload *5.0/5*" in shown
    assert "Stand-up mood *4.0/5* (5 people)" in shown
    assert "<@U0AGENT03>: Thu, Nov 26 → Fri, Nov 27" in shown
    assert len(home["blocks"]) <= 100

    # Acknowledge from the Home tab: the escalation handler serves it, the tab refreshes
    published = len(standin.ok_calls("views.publish"))
    home_click(rig, "escalation.ack", ack, user=LEAD)
    with rig.rt.transaction(readonly=True) as session:
        esc = esc_store.get_escalation(session=session, escalation_id=ack["id"])
        assert esc is not None and esc.status == "acknowledged" and esc.acknowledged_by == LEAD
    rig.clock.advance(seconds=3)
    rig.deliver()
    assert len(standin.ok_calls("views.publish")) == published + 1
    refreshed = standin.home[LEAD]
    assert buttons_in(refreshed, "escalation.ack") == [] and "acknowledged" in text_of(refreshed)

    # the agenda of today's 1:1 opens in a modal
    [first_agenda, _second] = buttons_in(refreshed, "home.agenda")
    home_click(rig, "home.agenda", first_agenda, user=LEAD)
    modal = standin.ok_calls("views.open")[-1].args["view"]
    assert "Weekend rota" in text_of(modal) and modal["title"]["text"] == "1:1 agenda"
    home_click(rig, "home.agenda", {"o": first_agenda["o"], "at": first_agenda["at"] + 60}, user=LEAD)
    home_click(rig, "home.agenda", first_agenda, user="U0AGENT05")
    notes = [text_of(c.args) for c in standin.dms(LEAD)] + [text_of(c.args) for c in standin.dms("U0AGENT05")]
    assert any("no longer on the calendar" in n for n in notes) and any("isn't yours" in n for n in notes)
    assert standin.rejected() == [] and standin.pings() == []


def test_agent_home_in_spanish_with_the_standup_button(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(members=MEMBERS, language="es")
    for member in MEMBERS:
        standin.add_user(member)
    rig.command("/escalate", "high Reembolso atascado", user="U0AGENT01", channel="C0ESCAL01")
    rig.command("/coach", f"goal {ANA} csat >= 90 by 2026-12-31", user=LEAD)
    rig.command("/kudos", f"{ANA} gracias por cubrir el turno", user="U0AGENT02")
    rig.command("/oneonone", f"{ANA} weekly wed 10:00", user=LEAD, channel="C0ESCAL01")
    rig.command("/oneonone", "topic Plan de formación", user="U0AGENT01")
    rig.command("/standup", "schedule mon-fri 09:00", user=LEAD)
    rig.command("/standup", "now", user=LEAD)
    rig.deliver()

    home = open_home(rig, standin, "U0AGENT01")
    shown = text_of(home)
    assert "Tu día" in shown and "Tus escalados abiertos (1)" in shown and "Reembolso atascado" in shown
    assert "Tus objetivos en Tier1" in shown and "CSAT" in shown
    assert "Reconocimientos recibidos este mes (1)" in shown and "gracias por cubrir el turno" in shown
    assert "Tu próximo 1:1" in shown and "Con <@U0LEAD01> · mié 10:00" in shown and "Plan de formación" in shown
    assert "Esperando tu respuesta" in shown
    assert "Team Tier1" not in shown and "Equipo Tier1" not in shown  # no leader view for agents
    [prompt] = buttons_in(home, "home.standup_answer")
    # Answer from the Home tab: the stand-up's modal, then the tab shows it answered
    home_click(rig, "home.standup_answer", prompt, user="U0AGENT01")
    modal = standin.ok_calls("views.open")[-1].args["view"]
    assert modal["callback_id"] == "home.standup_answer_modal"
    rig.submit("home.standup_answer_modal", {"standups.q0": "Cerré 12 tickets"}, user="U0AGENT01", private_metadata=modal["private_metadata"])
    rig.deliver()
    refreshed = text_of(standin.home["U0AGENT01"])
    assert "Respondido" in refreshed and "Editar" in refreshed
    assert any("Cerré 12 tickets" in c.text_everywhere() for c in standin.posts())  # the thread got it
    assert standin.rejected() == [] and standin.pings() == []


def test_people_in_no_team_get_the_quick_reference(rig: BotRig, standin: SlackStandIn) -> None:
    shown = text_of(open_home(rig, standin, "U0NOBODY1"))
    assert "not in a team yet" in shown and "/escalate" in shown


def test_messages_tab_does_not_publish(rig: BotRig, standin: SlackStandIn) -> None:
    rig.event({"type": "app_home_opened", "user": "U0AGENT01", "channel": "D0AGENT01", "tab": "messages", "event_ts": "1.3"})
    assert standin.home == {}


def test_many_big_teams_stay_inside_100_blocks(rig: BotRig, standin: SlackStandIn) -> None:
    teams = []
    for t in range(10):
        members = tuple(f"U0M{t}{i:03d}" for i in range(60))
        teams.append(rig.make_team(f"Team{t}", members=members, escalation_channel=f"C0ESC{t:04d}"))
        for member in members if t == 0 else ():
            standin.add_user(member)
    for t in range(3):
        for i in range(12):
            rig.command("/escalate", f"normal Problem {t}-{i}", user=f"U0M{t}{i:03d}", channel=f"C0ESC{t:04d}")
    rig.command("/standup", "schedule mon-fri 09:00 team:Team0", user=LEAD)
    rig.command("/standup", "now team:Team0", user=LEAD)
    for i in range(30):
        rig.command("/away", "2026-11-24..2026-11-25", user=f"U0M0{i:03d}")
    rig.deliver()
    home = open_home(rig, standin, LEAD)
    shown = text_of(home)
    assert len(home["blocks"]) <= 100
    assert "Open escalations (12)" in shown and "…and 7 more" in shown
    assert "…and 40 more" in shown  # 60 not answered, 20 named
    assert "…and 22 more" in shown  # 30 away, 8 listed
    assert "more teams" in shown
    assert standin.rejected() == []
