"""1:1 reminders end to end through the rig under a fixed clock: the agenda (talking points
carried forward, action items, coaching follow-ups and goals for the leader only, KPIs,
kudos, escalations), Done, Move to tomorrow, biweekly, away, restarts and two runtimes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from supportbot.bot import coaching, escalations, oneonones, teams
from supportbot.bot.runtime import Runtime
from supportbot.bot.scheduler import Scheduler, fire_times
from supportbot.bot.standin.slack import WORKSPACE
from supportbot.storage import coaching as coaching_store
from supportbot.storage import oneonones as store
from supportbot.storage.teams import get_team
from tests.rig import BotRig
from tests.test_standups_trust import in_two_runtimes

TUE_1430 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 30 min before Tuesday's 15:00 1:1
AGENT = "<@U0AGENT01|al>"


def schedule(rig: BotRig, text: str = f"{AGENT} weekly tue 15:00") -> int:
    response = rig.command("/oneonone", text, user="U0LEAD01", channel="C0ESCAL01")
    assert "1:1 with <@U0AGENT01>" in response.json()["text"], response.text
    with rig.rt.transaction(readonly=True) as session:
        return store.pair(session=session, workspace_id=WORKSPACE, leader_id="U0LEAD01", agent_id="U0AGENT01").id  # type: ignore[union-attr,return-value]


def remind(rig: BotRig, oid: int, when: datetime) -> None:
    rig.clock.set(when)
    oneonones.run_reminder(rig.rt, oid, scheduled_for=when)
    oneonones.check(rig.rt)
    rig.deliver()


def agendas(standin, user: str) -> list:  # type: ignore[no-untyped-def]
    return [c for c in standin.dms(user) if "1:1 with" in c.text_everywhere()]


def button_value(call, action_id: str) -> dict:  # type: ignore[no-untyped-def]
    for block in call.args.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return json.loads(element["value"])
    raise AssertionError(f"no {action_id} button")


def test_reminder_fires_thirty_minutes_before(rig: BotRig) -> None:
    rig.make_team(timezone="Europe/Madrid")
    oid = schedule(rig)
    with rig.rt.transaction(readonly=True) as session:
        row = store.get(session=session, oneonone_id=oid)
        assert row is not None
        team = get_team(session=session, team_id=row.team_id)
        assert team is not None
        times = list(fire_times(oneonones.reminder_trigger(row, team), rig.clock.now(), rig.clock.now() + timedelta(days=9)))
    assert times == [datetime(2026, 11, 24, 13, 30, tzinfo=UTC), datetime(2026, 12, 1, 13, 30, tzinfo=UTC)]  # 14:30 Madrid


def test_oneonone_end_to_end(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    team = rig.make_team()
    oid = schedule(rig)
    rig.command("/oneonone", "topic Weekend rota <!channel>", user="U0AGENT01")
    rig.command("/kudos", f"{AGENT} saved the refund queue", user="U0AGENT02", channel="C0ESCAL01")
    with rig.rt.transaction() as session:
        t = get_team(session=session, team_id=team.id or 0)
        assert t is not None
        coaching.add_note(session, team=t, author_id="U0LEAD01", agent_id="U0AGENT01", text="Check the macro habit", now=rig.clock.now(), follow_up_on=date(2026, 12, 1))
        coaching.add_goal(session, team=t, author_id="U0LEAD01", agent_id="U0AGENT01", spec=coaching.parse_goal("csat >= 92 by 2027-01-31", today=date(2026, 11, 23)), now=rig.clock.now())
        new = escalations.prepare(session, team=t, reporter_id="U0AGENT01", draft=escalations.Draft(severity="high", summary="Refund API down"), clock=rig.clock)
        escalations.save(session, [new], clock=rig.clock)
    rig.deliver()

    remind(rig, oid, TUE_1430)
    leader, agent = agendas(standin, "U0LEAD01"), agendas(standin, "U0AGENT01")
    assert len(leader) == 1 and len(agent) == 1
    for copy in (leader[0].text_everywhere(), agent[0].text_everywhere()):
        assert "Weekend rota @channel" in copy
        assert "saved the refund queue" in copy and "Kudos received* (1)" in copy
        assert "Refund API down" in copy and "ESC-" in copy
        assert "KPIs since" in copy
    assert "Check the macro habit" in leader[0].text_everywhere() and "CSAT ≥ 92" in leader[0].text_everywhere()
    assert "macro habit" not in agent[0].text_everywhere() and "CSAT ≥ 92" not in agent[0].text_everywhere()
    assert "oneonones.done" not in agent[0].text_everywhere()  # Done is the leader's

    remind(rig, oid, TUE_1430)  # the same firing again (a second replica, a restart)
    assert len(agendas(standin, "U0LEAD01")) == 1 and len(agendas(standin, "U0AGENT01")) == 1

    # Done: notes become a coaching note, the topic is discussed, an action item is added.
    meeting_id = button_value(leader[0], "oneonones.done")["meeting_id"]
    rig.clock.set(TUE_1430 + timedelta(minutes=60))
    rig.click("oneonones.done", {"meeting_id": meeting_id}, user="U0AGENT01", channel="D0AGENT01")
    assert any("Only the leader" in t for t in rig.ephemeral_texts())
    rig.click("oneonones.done", {"meeting_id": meeting_id}, user="U0LEAD01", channel="D0LEAD01")
    assert len(standin.ok_calls("views.open")) == 1
    with rig.rt.transaction(readonly=True) as session:
        topic_id = store.open_topics(session=session, oneonone_id=oid)[0].id
    rig.submit("oneonones.done_modal", {
        "oneonones.notes": "Talked rota; agreed swap",
        "oneonones.discussed": {"type": "checkboxes", "selected_options": [{"value": str(topic_id)}]},
        "oneonones.action_text": "Draft the rota proposal",
        "oneonones.action_owner": {"type": "static_select", "selected_option": {"value": "U0AGENT01"}},
        "oneonones.action_due": {"type": "datepicker", "selected_date": "2026-11-27"},
    }, user="U0LEAD01", private_metadata={"meeting_id": meeting_id})
    with rig.rt.transaction(readonly=True) as session:
        notes = coaching_store.notes_about(session=session, team_id=team.id or 0, agent_id="U0AGENT01")
        assert any(n.text == "Talked rota; agreed swap" for n in notes)
        assert store.open_topics(session=session, oneonone_id=oid) == []

    # Next week: the discussed topic is gone, a new one and the open action item show.
    rig.command("/oneonone", "topic Training budget", user="U0AGENT01")
    remind(rig, oid, TUE_1430 + timedelta(days=7))
    second = agendas(standin, "U0AGENT01")[-1].text_everywhere()
    assert "Training budget" in second and "Weekend rota" not in second
    assert "Draft the rota proposal" in second and "Fri, Nov 27" in second
    assert standin.pings() == [] and standin.rejected() == []


def test_topics_carry_forward_and_move_to_tomorrow(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    rig.make_team()
    oid = schedule(rig)
    rig.command("/oneonone", "topic Career plan", user="U0AGENT01")
    remind(rig, oid, TUE_1430)
    first = agendas(standin, "U0AGENT01")[0]
    move = button_value(first, "oneonones.move")
    rig.click("oneonones.move", move, user="U0AGENT01", channel="D0AGENT01")
    rig.click("oneonones.move", move, user="U0AGENT01", channel="D0AGENT01")  # a double click
    leader_copy = button_value(agendas(standin, "U0LEAD01")[0], "oneonones.move")
    rig.click("oneonones.move", leader_copy, user="U0LEAD01", channel="D0LEAD01")  # the other copy
    rig.deliver()
    with rig.rt.transaction(readonly=True) as session:
        assert store.get_meeting(session=session, meeting_id=move["meeting_id"]).at == TUE_1430 + timedelta(days=1, minutes=30)
    assert len([r for r in standin.responses if "already moved" in json.dumps(r)]) == 2
    assert len([c for c in standin.dms("U0LEAD01") if "moved your 1:1" in c.text_everywhere()]) == 1
    rig.clock.set(TUE_1430 + timedelta(days=1))  # Wednesday 14:30: 30 min before the moved one
    oneonones.check(rig.rt)
    oneonones.check(rig.rt)
    rig.deliver()
    assert len(agendas(standin, "U0AGENT01")) == 2 and len(agendas(standin, "U0LEAD01")) == 2
    # Not marked done: the talking point is carried to next week's agenda.
    remind(rig, oid, TUE_1430 + timedelta(days=7))
    latest = agendas(standin, "U0AGENT01")[-1].text_everywhere()
    assert "Career plan" in latest and "carried over" in latest


def test_biweekly_and_away(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    rig.make_team()
    oid = schedule(rig, f"{AGENT} biweekly tue 15:00")
    remind(rig, oid, TUE_1430)
    remind(rig, oid, TUE_1430 + timedelta(days=7))  # the off week
    assert len(agendas(standin, "U0AGENT01")) == 1
    rig.command("/away", "2026-12-08", user="U0LEAD01")
    remind(rig, oid, TUE_1430 + timedelta(days=14))  # the leader is away
    assert len(agendas(standin, "U0AGENT01")) == 1
    remind(rig, oid, TUE_1430 + timedelta(days=28))
    assert len(agendas(standin, "U0AGENT01")) == 2


def test_who_may_do_what(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    rig.make_team()
    rig.make_team("Tier2", leaders=("U0LEAD09",), members=("U0AGENT09",), escalation_channel="C0ESCAL09")
    denied = rig.command("/oneonone", f"{AGENT} weekly tue 15:00", user="U0LEAD09", channel="C0ESCAL09")
    assert "team you lead" in denied.json()["text"]
    denied = rig.command("/oneonone", "<@U0AGENT02|bo> weekly tue 15:00", user="U0AGENT01")
    assert "team you lead" in denied.json()["text"]
    assert "no 1:1" in rig.command("/oneonone", "topic hi", user="U0AGENT02").json()["text"]
    schedule(rig)
    listed = rig.command("/oneonone", "list", user="U0AGENT01").json()
    assert "<@U0LEAD01>" in json.dumps(listed) and "next Tue, Nov 24, 15:00" in json.dumps(listed)
    cancelled = rig.command("/oneonone", f"cancel {AGENT}", user="U0LEAD01", channel="C0ESCAL01")
    assert "cancelled" in cancelled.json()["text"]
    assert "no 1:1s" in rig.command("/oneonone", "list", user="U0AGENT01").json()["text"]
    help_text = rig.command("/oneonone", "help", user="U0AGENT01").json()
    assert "/oneonone topic" in json.dumps(help_text)


def test_two_runtimes_and_a_restart_send_each_reminder_once(rig: BotRig, standin, clock) -> None:  # type: ignore[no-untyped-def]
    rig.make_team()
    oid = schedule(rig)
    clock.set(TUE_1430)

    def job(rt: Runtime) -> None:
        oneonones.run_reminder(rt, oid, scheduled_for=TUE_1430)
        oneonones.check(rt)

    in_two_runtimes(rig, job)
    # A restarted bot inside the grace window catches up without repeating.
    restarted = BotRig(standin, rig.settings.database_url, clock)
    try:
        clock.set(TUE_1430 + timedelta(minutes=15))
        oneonones.check(restarted.rt)
        restarted.deliver()
    finally:
        restarted.close()
    rig.deliver()
    assert len(agendas(standin, "U0AGENT01")) == 1 and len(agendas(standin, "U0LEAD01")) == 1


def test_jobs_follow_the_rows(rig: BotRig) -> None:
    rig.make_team()
    scheduler = Scheduler(rig.clock)
    rig.rt.scheduler = scheduler  # as bot.jobs.install_all does
    oneonones.install_jobs(scheduler, rig.rt)
    assert [j for j in scheduler.job_ids() if j.startswith("oneonone:")] == []
    oid = schedule(rig)
    assert f"oneonone:{oid}" in scheduler.job_ids()
    rig.command("/oneonone", f"cancel {AGENT}", user="U0LEAD01", channel="C0ESCAL01")
    assert f"oneonone:{oid}" not in scheduler.job_ids()
    with rig.rt.transaction(readonly=True) as session:
        assert teams.find_team(session, WORKSPACE, "Tier1") is not None


def test_two_processes_send_each_reminder_once(tmp_path, rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    from tests.test_replicas import run_replicas

    rig.make_team()
    oid = schedule(rig)
    rig.command("/oneonone", "topic Weekend rota", user="U0AGENT01")
    run_replicas(tmp_path, standin, rig.settings.database_url, "2026-11-24T14:30:02+00:00", "supportbot.bot.oneonones:run_reminder", "--scheduled-for", TUE_1430.isoformat(), str(oid))
    assert len(agendas(standin, "U0AGENT01")) == 1 and len(agendas(standin, "U0LEAD01")) == 1
    assert "Weekend rota" in agendas(standin, "U0AGENT01")[0].text_everywhere()


def test_team_holiday_skips_the_reminder(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    rig.make_team()
    oid = schedule(rig)
    rig.command("/standup", "schedule mon-fri 09:30", user="U0LEAD01", channel="C0ESCAL01")
    rig.command("/standup", "skip 2026-11-24", user="U0LEAD01", channel="C0ESCAL01")
    remind(rig, oid, TUE_1430)
    assert agendas(standin, "U0AGENT01") == [] and agendas(standin, "U0LEAD01") == []
    remind(rig, oid, TUE_1430 + timedelta(days=7))
    assert len(agendas(standin, "U0AGENT01")) == 1


def test_a_leader_who_no_longer_leads_the_agent_cannot_close_it_nor_see_coaching(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    tier1 = rig.make_team()
    rig.make_team("Tier2", leaders=("U0LEAD09",), members=("U0AGENT09",), escalation_channel="C0ESCAL09")
    oid = schedule(rig)
    rig.command("/oneonone", "topic Weekend rota", user="U0AGENT01")
    remind(rig, oid, TUE_1430)
    meeting_id = button_value(agendas(standin, "U0LEAD01")[0], "oneonones.done")["meeting_id"]
    with rig.rt.transaction() as session:  # LEAD01 moves over to lead Tier2 only
        t1 = get_team(session=session, team_id=tier1.id or 0)
        assert t1 is not None
        teams.update_team(session, t1, now=rig.clock.now(), leaders=["U0LEAD02"])
        teams.update_team(session, teams.find_team(session, WORKSPACE, "Tier2"), now=rig.clock.now(), leaders=["U0LEAD09", "U0LEAD01"])
    rig.click("oneonones.done", {"meeting_id": meeting_id}, user="U0LEAD01", channel="D0LEAD01")
    assert standin.ok_calls("views.open") == []
    with rig.rt.transaction(readonly=True) as session:
        topic_id = store.open_topics(session=session, oneonone_id=oid)[0].id
    rig.submit("oneonones.done_modal", {
        "oneonones.discussed": {"type": "checkboxes", "selected_options": [{"value": str(topic_id)}]},
    }, user="U0LEAD01", private_metadata={"meeting_id": meeting_id})
    with rig.rt.transaction(readonly=True) as session:
        assert store.get_meeting(session=session, meeting_id=meeting_id).done_at is None  # type: ignore[union-attr]
        assert len(store.open_topics(session=session, oneonone_id=oid)) == 1
    remind(rig, oid, TUE_1430 + timedelta(days=7))  # no agenda (with coaching) for an old leader
    assert len(agendas(standin, "U0LEAD01")) == 1 and len(agendas(standin, "U0AGENT01")) == 1
    assert standin.pings() == [] and standin.rejected() == []
