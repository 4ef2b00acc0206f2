"""`/coach` through the rig: notes, the older-notes button, the message shortcut, goals,
follow-up reminders, and every refusal (agents, other teams' leaders, former leaders)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from supportbot.bot import coaching, teams
from supportbot.bot.standin.slack import WORKSPACE, SlackStandIn
from supportbot.handlers.blocks import escape as typed  # how Slack sends typed < > &
from supportbot.handlers.coaching import Id
from supportbot.storage import coaching as store
from supportbot.storage import kpis as kpi_store
from supportbot.storage.coaching import CoachingNote, Goal
from tests.rig import BotRig

BO = "<@U0AGENT02|bo>"
ANA = "<@U0AGENT01|ana>"


def answer(response: Any) -> str:
    body = response.json()
    assert body.get("response_type", "ephemeral") == "ephemeral"
    return body.get("text", "") + json.dumps(body.get("blocks") or [], ensure_ascii=False)


def notes(rig: BotRig, agent: str = "U0AGENT02") -> list[CoachingNote]:
    with rig.rt.transaction(readonly=True) as session:
        return list(store.notes_about(session=session, team_id=1, agent_id=agent, limit=100))


def goals(rig: BotRig, agent: str = "U0AGENT02") -> list[Goal]:
    with rig.rt.transaction(readonly=True) as session:
        return list(store.goals_of(session=session, team_id=1, agent_id=agent, include_done=True))


def nothing_public(standin: SlackStandIn) -> None:
    assert standin.posts() == []
    assert standin.rejected() == [] and standin.pings() == []


# ----- notes ----------------------------------------------------------------------------
def test_note_is_saved_exactly_privately_with_tags_and_follow_up(
    rig: BotRig, standin: SlackStandIn
) -> None:
    rig.make_team()
    text = "Great save <!channel> on the refund & <@U0LEAD02> #praise #Improvement follow-up:2026-11-25"
    response = rig.command("/coach", f"{BO} {typed(text)}", user="U0LEAD01", channel="C0ESCAL01")
    said = answer(response)
    assert "<@U0AGENT02>" in said and "Wed, Nov 25" in said and "#praise" in said
    [note] = notes(rig)
    assert note.text == text
    assert note.tags == ["praise", "improvement"]
    assert note.follow_up_on == date(2026, 11, 25) and note.follow_up_sent is False
    assert (note.author_id, note.agent_id, note.workspace_id) == (
        "U0LEAD01",
        "U0AGENT02",
        WORKSPACE,
    )
    rig.deliver()
    nothing_public(standin)


def test_listing_shows_newest_first_escaped_and_pages_older_ones(
    rig: BotRig, standin: SlackStandIn
) -> None:
    rig.make_team()
    for i in range(7):
        rig.command(
            "/coach", f"{BO} note {i} {typed('<!here>')} *bold*", user="U0LEAD01" if i % 2 else "U0LEAD02"
        )
        rig.clock.advance(minutes=1)
    response = rig.command("/coach", BO, user="U0LEAD01")
    body = response.json()
    shown = json.dumps(body["blocks"])
    assert shown.index("note 6") < shown.index("note 2")
    assert "note 1" not in shown and "note 0" not in shown
    assert "&lt;!here&gt;" in shown and "<!here>" not in shown
    button = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]][0]
    assert button["action_id"] == Id.OLDER

    rig.click(Id.OLDER, button["value"], user="U0LEAD02", channel="C0GENERAL")
    [older] = standin.responses
    text = json.dumps(older)
    assert "note 1" in text and "note 0" in text and "note 2" not in text
    assert Id.OLDER not in text  # nothing older left
    assert older["response_type"] == "ephemeral"
    nothing_public(standin)


def test_empty_list_and_usage(rig: BotRig) -> None:
    rig.make_team()
    assert "No notes yet" in answer(rig.command("/coach", BO, user="U0LEAD01"))
    assert "/coach @agent note" in answer(rig.command("/coach", "whatever", user="U0LEAD01"))
    assert "one agent" in answer(rig.command("/coach", f"{BO} {ANA} hi", user="U0LEAD01"))
    assert "/coach goal @ana csat" in answer(rig.command("/coach", "help", user="U0AGENT01"))
    assert "already passed" in answer(
        rig.command("/coach", f"{BO} x follow-up:2026-11-01", user="U0LEAD01")
    )
    assert "not a date" in answer(
        rig.command("/coach", f"{BO} x follow-up:<!channel>", user="U0LEAD01")
    )
    assert notes(rig) == []


def test_agents_other_leaders_and_former_leaders_are_refused(
    rig: BotRig, standin: SlackStandIn
) -> None:
    rig.make_team()
    rig.make_team(
        "Tier2",
        leaders=("U0LEAD09",),
        members=("U0AGENT09",),
        escalation_channel="C0ESCAL02",
        digest_channel=None,
    )
    rig.command("/coach", f"{BO} private thing", user="U0LEAD01")

    # an agent: cannot write, cannot read
    assert "Only team leaders" in answer(rig.command("/coach", f"{BO} snooping", user="U0AGENT01"))
    said = answer(rig.command("/coach", BO, user="U0AGENT01"))
    assert "Only team leaders" in said and "private thing" not in said
    # another team's leader
    said = answer(rig.command("/coach", BO, user="U0LEAD09"))
    assert "agents of a team you lead" in said and "private thing" not in said
    assert "agents of a team you lead" in answer(rig.command("/coach", f"{BO} hi", user="U0LEAD09"))
    assert "agents of a team you lead" in answer(
        rig.command("/coach", f"goals {BO}", user="U0LEAD09")
    )
    # ... nor through a forged "older" button
    rig.click(Id.OLDER, {"t": 1, "a": "U0AGENT02", "b": 999}, user="U0LEAD09", channel="C0GENERAL")
    assert "private thing" not in json.dumps(standin.responses)
    assert "agents of a team you lead" in standin.responses[-1]["text"]

    # a leader who leaves the team loses access at once
    with rig.rt.transaction() as session:
        team = teams.find_team(session, WORKSPACE, "Tier1")
        teams.update_team(session, team, now=rig.clock.now(), leaders=["U0LEAD02"])
    said = answer(rig.command("/coach", BO, user="U0LEAD01"))
    assert "private thing" not in said and "Only team leaders" in said
    assert "private thing" in answer(rig.command("/coach", BO, user="U0LEAD02"))
    assert len(notes(rig)) == 1
    rig.deliver()
    nothing_public(standin)


def test_self_and_non_member(rig: BotRig) -> None:
    rig.make_team()
    assert "not about yourself" in answer(
        rig.command("/coach", "<@U0LEAD01|me> note", user="U0LEAD01")
    )
    assert "agents of a team you lead" in answer(
        rig.command("/coach", "<@U0STRANGER|x> note", user="U0LEAD01")
    )
    said = answer(rig.command("/coach", "<@U0LEAD02|co> note", user="U0LEAD01"))
    assert "not its leaders" in said
    assert notes(rig, "U0STRANGER") == [] and notes(rig, "U0LEAD02") == []


# ----- the message shortcut -------------------------------------------------------------
def shortcut_payload(
    user: str, *, author: str = "U0AGENT02", text: str = "Customer says <!channel> hi"
) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": Id.SHORTCUT,
        "team": {"id": WORKSPACE, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "team_id": WORKSPACE},
        "channel": {"id": "C0GENERAL", "name": "general"},
        "message": {"type": "message", "user": author, "ts": "1700000001.000200", "text": text},
        "message_ts": "1700000001.000200",
        "trigger_id": "trigger-shortcut-1",
        "response_url": "",
        "api_app_id": "A0APP0001",
    }


def test_shortcut_opens_prefilled_modal_and_submission_saves(
    rig: BotRig, standin: SlackStandIn
) -> None:
    rig.make_team()
    payload = shortcut_payload("U0LEAD01")
    payload["response_url"] = standin.response_url_base + "sc1"
    rig.interactive(payload)
    [opened] = standin.ok_calls("views.open")
    modal = opened.args["view"]
    assert modal["callback_id"] == Id.NOTE_MODAL
    link = "https://acme.slack.com/archives/C0GENERAL/p1700000001000200"
    by_block = {b.get("block_id"): b for b in modal["blocks"]}
    assert by_block[Id.LINK]["element"]["initial_value"] == link
    assert by_block[Id.AGENT]["element"]["initial_user"] == "U0AGENT02"
    assert "&lt;!channel&gt;" in json.dumps(modal)

    response = rig.submit(
        Id.NOTE_MODAL,
        {
            Id.AGENT: {"type": "users_select", "selected_user": "U0AGENT02"},
            Id.NOTE: "Handled this one well",
            Id.TAGS: {"type": "checkboxes", "selected_options": [{"value": "praise"}]},
            Id.FOLLOW_UP: {"type": "datepicker", "selected_date": "2026-11-30"},
            Id.LINK: link,
        },
        user="U0LEAD01",
        private_metadata=modal["private_metadata"],
    )
    assert response.json()["response_action"] == "update"
    [note] = notes(rig)
    assert (note.text, note.tags, note.source_link) == ("Handled this one well", ["praise"], link)
    assert note.follow_up_on == date(2026, 11, 30)
    listing = answer(rig.command("/coach", BO, user="U0LEAD01"))
    assert f"<{link}|message>" in listing
    nothing_public(standin)


def test_shortcut_refusals(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.make_team(
        "Tier2", leaders=("U0LEAD09",), members=("U0AGENT09",), escalation_channel="C0ESCAL02"
    )
    payload = shortcut_payload("U0AGENT01")
    payload["response_url"] = standin.response_url_base + "sc2"
    rig.interactive(payload)
    assert standin.ok_calls("views.open") == []
    assert "Only team leaders" in standin.responses[-1]["text"]

    # another team's leader can open the form but not save a note about our agent
    response = rig.submit(
        Id.NOTE_MODAL,
        {Id.AGENT: {"type": "users_select", "selected_user": "U0AGENT02"}, Id.NOTE: "x"},
        user="U0LEAD09",
    )
    body = response.json()
    assert body["response_action"] == "errors" and Id.AGENT in body["errors"]
    response = rig.submit(
        Id.NOTE_MODAL,
        {
            Id.AGENT: {"type": "users_select", "selected_user": "U0AGENT02"},
            Id.NOTE: "x",
            Id.LINK: "javascript:alert(1)",
        },
        user="U0LEAD01",
    )
    assert Id.LINK in response.json()["errors"]
    assert notes(rig) == []
    nothing_public(standin)


# ----- follow-up reminders --------------------------------------------------------------
def test_follow_up_reminder_dms_the_leader_that_morning_once(
    rig: BotRig, standin: SlackStandIn
) -> None:
    rig.make_team(timezone="Europe/Madrid")
    rig.command("/coach", f"{BO} check the {typed('<!everyone>')} macro follow-up:2026-11-25", user="U0LEAD01")
    rig.command("/coach", f"{BO} no reminder here", user="U0LEAD01")

    rig.clock.set(datetime(2026, 11, 25, 7, 59, tzinfo=UTC))  # 08:59 in Madrid
    coaching.send_follow_ups(rig.rt)
    rig.deliver()
    assert standin.dms("U0LEAD01") == []

    rig.clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))  # 09:00 in Madrid
    coaching.send_follow_ups(rig.rt)
    coaching.send_follow_ups(rig.rt)
    rig.deliver()
    [dm] = standin.dms("U0LEAD01")
    text = dm.text_everywhere()
    assert (
        "Follow-up today" in text
        and "<@U0AGENT02>" in text
        and "check the &lt;!everyone&gt; macro" in text
    )
    assert standin.dms("U0LEAD02") == []

    rig.clock.advance(days=1)
    coaching.send_follow_ups(rig.rt)
    rig.deliver()
    assert len(standin.dms("U0LEAD01")) == 1
    assert [n.follow_up_sent for n in notes(rig)] == [False, True]
    assert standin.rejected() == [] and standin.pings() == []


def test_follow_up_of_a_former_leader_is_not_sent(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.command("/coach", f"{BO} follow-up:2026-11-24 check in", user="U0LEAD01")
    with rig.rt.transaction() as session:
        assert [
            n.text for n in coaching.open_follow_ups(session, team_id=1, leader_id="U0LEAD01")
        ] == ["follow-up:2026-11-24 check in"]
        team = teams.find_team(session, WORKSPACE, "Tier1")
        teams.update_team(session, team, now=rig.clock.now(), leaders=["U0LEAD02"])
        assert coaching.open_follow_ups(session, team_id=1, leader_id="U0LEAD01") == []
    rig.clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    coaching.send_follow_ups(rig.rt)
    rig.deliver()
    assert standin.posts() == []


def test_install_jobs_adds_the_scan() -> None:
    added: list[str] = []

    class FakeScheduler:
        def every(self, job_id: str, *args: Any) -> None:
            added.append(job_id)

    coaching.install_jobs(FakeScheduler(), object())
    assert added == ["coaching.follow_ups"]


# ----- goals ----------------------------------------------------------------------------
def seed_tickets(rig: BotRig) -> None:
    """U0AGENT02 in the last 30 days: 10 rated tickets, 9 good (CSAT 90%); old ones ignored."""
    rows = []
    base = rig.clock.now() - timedelta(days=5)
    for i in range(10):
        row = {name: None for name in kpi_store.TICKET_FIELDS}
        row.update(
            ticket_id=f"T{i}",
            created_at=base + timedelta(hours=i),
            agent_id="U0AGENT02",
            solved_at=base + timedelta(hours=i, minutes=30),
            csat=5 if i < 9 else 1,
            csat_good=i < 9,
        )
        rows.append(row)
    old = {name: None for name in kpi_store.TICKET_FIELDS}
    old.update(
        ticket_id="OLD",
        created_at=base - timedelta(days=60),
        agent_id="U0AGENT02",
        solved_at=base - timedelta(days=60),
        csat=1,
        csat_good=False,
    )
    rows.append(old)
    with rig.rt.transaction() as session:
        kpi_store.upsert_tickets(
            session=session, workspace_id=WORKSPACE, rows=rows, now=rig.clock.now()
        )


def test_kpi_and_text_goals_with_progress_and_done(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    seed_tickets(rig)
    said = answer(rig.command("/coach", f"goal {BO} csat >= 92 by 2027-01-31", user="U0LEAD01"))
    assert (
        "Goal saved" in said
        and "CSAT ≥ 92.0%" in said
        and "90.0% over the last 30 days: not there yet" in said
    )
    said = answer(rig.command("/coach", f"goal {BO} csat &lt;= 95 by 2027-01-31", user="U0LEAD02"))
    assert "on target" in said
    said = answer(
        rig.command(
            "/coach",
            f"goal {BO} “Shadow a senior on 5 {typed('<!here>')} billing calls” by 2027-01-15",
            user="U0LEAD01",
        )
    )
    assert "Shadow a senior on 5 &lt;!here&gt; billing calls" in said

    kpi, kpi2, text_goal = sorted(goals(rig), key=lambda g: g.id or 0)
    assert (kpi.kind, kpi.metric, kpi.op, kpi.target, kpi.due_on) == (
        "kpi",
        "csat",
        ">=",
        92.0,
        date(2027, 1, 31),
    )
    assert kpi2.op == "<="
    assert (text_goal.kind, text_goal.text, text_goal.metric) == (
        "text",
        "Shadow a senior on 5 <!here> billing calls",
        None,
    )

    listing = answer(rig.command("/coach", f"goals {BO}", user="U0LEAD02"))
    assert listing.index(f"Goal {text_goal.id}") < listing.index(
        f"Goal {kpi.id}"
    )  # soonest due first
    assert "90.0%" in listing

    assert "is done" in answer(rig.command("/coach", f"done {kpi.id}", user="U0LEAD02"))
    assert "already done" in answer(rig.command("/coach", f"done {kpi.id}", user="U0LEAD01"))
    assert {g.id: g.status for g in goals(rig)} == {
        kpi.id: "done",
        kpi2.id: "open",
        text_goal.id: "open",
    }
    listing = answer(rig.command("/coach", f"goals {BO}", user="U0LEAD01"))
    assert "done Mon, Nov 23" in listing

    with rig.rt.transaction(readonly=True) as session:
        team = teams.find_team(session, WORKSPACE, "Tier1")
        progress = coaching.goals_with_progress(
            session, team=team, agent_id="U0AGENT02", now=rig.clock.now()
        )
    assert [p.goal.id for p in progress] == [text_goal.id, kpi2.id]
    assert progress[1].available and progress[1].value == 90.0 and progress[1].met is True
    assert progress[0].available is False
    nothing_public(standin)


def test_goal_refusals_and_bad_input(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.make_team(
        "Tier2", leaders=("U0LEAD09",), members=("U0AGENT09",), escalation_channel="C0ESCAL02"
    )
    rig.command("/coach", f"goal {BO} fcr >= 80 by 2027-01-31", user="U0LEAD01")
    [goal] = goals(rig)
    assert "Only team leaders" in answer(
        rig.command("/coach", f"goal {BO} csat >= 1 by 2027-01-31", user="U0AGENT01")
    )
    assert "Only team leaders" in answer(rig.command("/coach", f"goals {BO}", user="U0AGENT02"))
    assert "no goal" in answer(rig.command("/coach", f"done {goal.id}", user="U0LEAD09"))
    assert "no goal" in answer(rig.command("/coach", f"done {goal.id}", user="U0AGENT02"))
    assert "no goal" in answer(rig.command("/coach", "done 999", user="U0LEAD01"))
    assert "Usage: `/coach done 12`" in answer(rig.command("/coach", "done soon", user="U0LEAD01"))
    said = answer(rig.command("/coach", f"goal {BO} happiness >= 3 by 2027-01-31", user="U0LEAD01"))
    assert "not a KPI" in said and "csat" in said
    assert "already passed" in answer(
        rig.command("/coach", f"goal {BO} csat >= 90 by 2026-01-01", user="U0LEAD01")
    )
    assert "not a date" in answer(
        rig.command("/coach", f"goal {BO} csat >= 90 by <!channel>", user="U0LEAD01")
    )
    assert "Usage" in answer(rig.command("/coach", f"goal {BO} csat >= 90", user="U0LEAD01"))
    assert [g.status for g in goals(rig)] == ["open"]
    assert standin.pings() == [] and standin.rejected() == []


def test_add_note_api_for_other_features(rig: BotRig) -> None:
    rig.make_team()
    with rig.rt.transaction() as session:
        team = teams.find_team(session, WORKSPACE, "Tier1")
        note = coaching.add_note(
            session,
            team=team,
            author_id="U0LEAD02",
            agent_id="U0AGENT01",
            text="From the 1:1",
            tags=("#goal", "nonsense"),
            now=rig.clock.now(),
            follow_up_on=date(2026, 12, 1),
        )
        assert note.tags == ["goal"]
    assert [n.text for n in notes(rig, "U0AGENT01")] == ["From the 1:1"]


def test_goal_with_no_data_says_so(rig: BotRig) -> None:
    rig.make_team()
    said = answer(rig.command("/coach", f"goal {BO} csat >= 92 by 2027-01-31", user="U0LEAD01"))
    assert "no data in the last 30 days" in said


def test_spanish_team_reads_spanish(rig: BotRig) -> None:
    rig.make_team(language="es")
    said = answer(rig.command("/coach", f"{BO} bien hecho", user="U0LEAD01"))
    assert "Nota privada sobre <@U0AGENT02> guardada" in said
    assert "Solo los líderes" in answer(rig.command("/coach", BO, user="U0AGENT01"))


def test_done_day_is_the_teams_local_day(rig: BotRig, clock: Any) -> None:
    rig.make_team(timezone="Asia/Tokyo", language="es")
    clock.set(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # 23:30 in Tokyo, Monday 23
    answer(rig.command("/coach", f"goal {BO} “Shadow a senior” by 2027-01-15", user="U0LEAD01"))
    (goal,) = goals(rig)
    clock.set(datetime(2026, 11, 23, 15, 30, tzinfo=UTC))  # 00:30 on Tuesday 24 in Tokyo
    answer(rig.command("/coach", f"done {goal.id}", user="U0LEAD01"))
    listing = answer(rig.command("/coach", f"goals {BO}", user="U0LEAD01"))
    assert "mar 24 nov" in listing, listing
