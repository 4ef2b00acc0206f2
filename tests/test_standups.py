"""Stand-ups end to end through the rig under a fixed clock: per-member time zones, the
thread, edits, blockers, the reminder, the cutoff, skipped days, pause, away members."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from supportbot.bot import standups
from supportbot.bot.scheduler import fire_times
from supportbot.bot.standin.slack import WORKSPACE
from supportbot.bot.timeutil import zone
from supportbot.storage import standups as store
from supportbot.storage.teams import get_team
from tests.rig import BotRig

TUE_0930 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
NY_0930 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 09:30 in New York (EST)


def schedule_id(rig: BotRig) -> int:
    with rig.rt.transaction(readonly=True) as session:
        rows = store.all_schedules(session=session)
        assert len(rows) == 1
        return rows[0].id or 0


def fire(rig: BotRig, when: datetime, tz: str = "UTC") -> None:
    rig.clock.set(when)
    standups.run_standup(rig.rt, schedule_id(rig), tz, scheduled_for=when)
    rig.deliver()


def check(rig: BotRig, when: datetime) -> None:
    rig.clock.set(when)
    standups.check(rig.rt)
    rig.deliver()


def prompt_id_of(call) -> int:  # type: ignore[no-untyped-def]
    for block in call.args.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id") == "standups.answer":
                return int(json.loads(element["value"])["prompt_id"])
    raise AssertionError("no Answer button")


def answer(rig: BotRig, user: str, pid: int, *, blocker: str = "", q0: str = "Closed 12 tickets", mood: str | None = "4") -> None:
    values: dict = {"standups.q0": q0, "standups.q1": "Refund backlog", "standups.blocker": blocker}
    if mood:
        values["standups.mood"] = {"type": "static_select", "selected_option": {"value": mood}}
    rig.submit("standups.answer_modal", values, user=user, private_metadata={"prompt_id": pid})
    rig.deliver()


def setup(rig: BotRig, standin, **team) -> None:  # type: ignore[no-untyped-def]
    standin.add_user("U0AGENT01", tz="America/New_York")
    standin.add_user("U0AGENT02", tz="UTC")
    rig.make_team(**team)
    response = rig.command("/standup", "schedule mon-fri 09:30", user="U0LEAD01", channel="C0ESCAL01")
    assert "09:30" in response.json()["text"]
    rig.settle()


def test_fire_times_follow_each_members_zone(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    setup(rig, standin)
    with rig.rt.transaction(readonly=True) as session:
        schedule = store.all_schedules(session=session)[0]
        team = get_team(session=session, team_id=schedule.team_id)
        assert team is not None
        zones = standups.member_zones(session, team)
        utc = list(fire_times(standups.trigger(schedule, "UTC"), rig.clock.now(), rig.clock.now() + timedelta(days=7)))
        ny = list(fire_times(standups.trigger(schedule, "America/New_York"), rig.clock.now(), rig.clock.now() + timedelta(days=7)))
    assert zones == {"U0AGENT01": "America/New_York", "U0AGENT02": "UTC"}  # from Slack's users.info
    assert utc[0] == TUE_0930  # Monday 09:30 has passed
    assert [d.weekday() for d in utc] == [1, 2, 3, 4, 0]  # no weekend
    assert ny[0] == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)


def test_standup_end_to_end(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    setup(rig, standin)
    fire(rig, TUE_0930, "UTC")
    posts = [c for c in standin.posts("C0DIGEST1") if not c.args.get("thread_ts")]
    assert len(posts) == 1 and "Stand-up" in posts[0].text_everywhere()
    assert len(standin.dms("U0AGENT02")) == 1
    assert standin.dms("U0AGENT01") == []  # 04:30 in New York: not yet
    fire(rig, NY_0930, "America/New_York")
    assert len(standin.dms("U0AGENT01")) == 1
    assert len([c for c in standin.posts("C0DIGEST1") if not c.args.get("thread_ts")]) == 1  # one message a day

    # AGENT02 answers (with a blocker that tries to ping) from the DM's Answer button.
    pid = prompt_id_of(standin.dms("U0AGENT02")[0])
    rig.clock.set(TUE_0930 + timedelta(minutes=10))
    rig.click("standups.answer", {"prompt_id": pid}, user="U0AGENT02", channel="D0AGENT02")
    opened = standin.ok_calls("views.open")
    assert len(opened) == 1 and "What did you do yesterday?" in opened[0].text_everywhere()
    answer(rig, "U0AGENT02", pid, blocker="Waiting on <!channel> access")
    replies = [c for c in standin.posts("C0DIGEST1") if c.args.get("thread_ts")]
    assert len(replies) == 1
    assert replies[0].args["thread_ts"] == posts[0].response["ts"]
    assert "Blocker" in replies[0].text_everywhere() and "&lt;!channel&gt;" in replies[0].text_everywhere()
    for leader in ("U0LEAD01", "U0LEAD02"):
        assert len([c for c in standin.dms(leader) if "blocked" in c.text_everywhere()]) == 1

    # Edit: the thread reply is updated in place, leaders are not told twice.
    rig.clock.advance(minutes=5)
    answer(rig, "U0AGENT02", pid, blocker="Waiting on access to the refunds tool", q0="Closed 14 tickets")
    updates = [c for c in standin.ok_calls("chat.update") if c.args.get("channel") == "C0DIGEST1"]
    assert len(updates) == 1 and "14 tickets" in updates[0].text_everywhere()
    assert len([c for c in standin.posts("C0DIGEST1") if c.args.get("thread_ts")]) == 1
    assert len([c for c in standin.dms("U0LEAD01") if "blocked" in c.text_everywhere()]) == 1

    # One reminder an hour after each member's own prompt, only to who has not answered.
    check(rig, TUE_0930 + timedelta(minutes=61))
    check(rig, TUE_0930 + timedelta(minutes=62))
    assert len(standin.dms("U0AGENT02")) == 1  # answered: no reminder
    check(rig, NY_0930 + timedelta(minutes=61))
    check(rig, NY_0930 + timedelta(minutes=90))
    reminders = [c for c in standin.dms("U0AGENT01") if "Reminder" in c.text_everywhere()]
    assert len(reminders) == 1

    # Cutoff (2 h after the latest zone's prompt): the message lists who answered and who not.
    check(rig, NY_0930 + timedelta(hours=2, minutes=1))
    check(rig, NY_0930 + timedelta(hours=2, minutes=2))
    summary = [c for c in standin.ok_calls("chat.update") if c.args.get("ts") == posts[0].response["ts"]]
    assert len(summary) == 1
    text = summary[0].text_everywhere()
    assert "Answered (1): <@U0AGENT02>" in text and "Did not answer (1): <@U0AGENT01>" in text

    # After the cutoff the answer cannot be changed.
    rig.click("standups.answer", {"prompt_id": pid}, user="U0AGENT02", channel="D0AGENT02")
    assert any("closed" in t for t in rig.ephemeral_texts())
    assert standin.pings() == [] and standin.rejected() == []


def test_skipped_day_pause_resume_and_away(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    setup(rig, standin)
    rig.command("/standup", "skip 2026-11-24", user="U0LEAD01", channel="C0ESCAL01")
    past = rig.command("/standup", "skip 2026-11-01", user="U0LEAD01", channel="C0ESCAL01").json()
    assert "Sun, Nov 1 is in the past." in past["text"] + str(past.get("blocks")), past
    fire(rig, TUE_0930, "UTC")
    assert standin.posts("C0DIGEST1") == [] and standin.dms("U0AGENT02") == []

    rig.command("/standup", "pause", user="U0LEAD01", channel="C0ESCAL01")
    fire(rig, TUE_0930 + timedelta(days=1), "UTC")
    check(rig, TUE_0930 + timedelta(days=1, minutes=5))
    assert standin.dms("U0AGENT02") == []

    rig.command("/standup", "resume", user="U0LEAD01", channel="C0ESCAL01")
    rig.command("/away", "2026-11-26", user="U0AGENT02")
    fire(rig, TUE_0930 + timedelta(days=2), "UTC")  # Thursday: AGENT02 is away
    assert standin.dms("U0AGENT02") == []
    fire(rig, TUE_0930 + timedelta(days=3), "UTC")  # Friday
    assert len(standin.dms("U0AGENT02")) == 1
    check(rig, TUE_0930 + timedelta(days=2, hours=6))
    thursday = [c for c in standin.ok_calls("chat.update") if "Away" in c.text_everywhere()]
    assert len(thursday) == 1 and "<@U0AGENT02>" in thursday[0].text_everywhere()


def test_members_own_timezone_and_leaders_only(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    setup(rig, standin)
    response = rig.command("/standup", "timezone Asia/Tokyo", user="U0AGENT02")
    assert "Asia/Tokyo" in response.json()["text"]
    tokyo = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # Tuesday 09:30 in Tokyo
    fire(rig, tokyo, "UTC")
    assert standin.dms("U0AGENT02") == []
    fire(rig, tokyo, "Asia/Tokyo")
    assert len(standin.dms("U0AGENT02")) == 1
    # A later Slack zone refresh does not override what the member typed.
    rig.command("/standup", "schedule mon-fri 09:30", user="U0LEAD01", channel="C0ESCAL01")
    with rig.rt.transaction(readonly=True) as session:
        assert store.timezone_of(session=session, workspace_id=WORKSPACE, user_id="U0AGENT02").timezone == "Asia/Tokyo"  # type: ignore[union-attr]
    denied = rig.command("/standup", "schedule mon-fri 09:30", user="U0AGENT01", channel="C0ESCAL01")
    assert "lead" in denied.json()["text"].lower()
    bad = rig.command("/standup", "timezone Mars/Base", user="U0AGENT01")
    assert "not a time zone" in bad.json()["text"]


def test_now_and_questions_modal(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    setup(rig, standin)
    rig.command("/standup", "questions", user="U0LEAD01", channel="C0ESCAL01")
    assert len(standin.ok_calls("views.open")) == 1
    with rig.rt.transaction(readonly=True) as session:
        team_id = store.all_schedules(session=session)[0].team_id
    rig.submit("standups.questions_modal", {"standups.questions": "Wins?\nFocus today?\n<!here> ping?", "standups.blocker_question": "Stuck on anything?"}, user="U0LEAD01", private_metadata={"team_id": team_id})
    response = rig.command("/standup", "now", user="U0LEAD01", channel="C0ESCAL01")
    assert "2 member" in response.json()["text"]
    rig.deliver()
    assert len(standin.dms("U0AGENT01")) == 1 and len(standin.dms("U0AGENT02")) == 1
    pid = prompt_id_of(standin.dms("U0AGENT01")[0])
    rig.click("standups.answer", {"prompt_id": pid}, user="U0AGENT01", channel="D0AGENT01")
    modal = standin.ok_calls("views.open")[-1].text_everywhere()
    assert "Wins?" in modal and "Stuck on anything?" in modal
    # Someone else's prompt cannot be answered.
    rig.click("standups.answer", {"prompt_id": pid}, user="U0AGENT02", channel="D0AGENT02")
    assert any("someone else" in t for t in rig.ephemeral_texts())
    # The scheduled firing the same day prompts nobody a second time.
    fire(rig, rig.clock.now().replace(hour=9, minute=30) + timedelta(days=0), "UTC")
    assert len(standin.dms("U0AGENT02")) == 1
    assert standin.pings() == [] and standin.rejected() == []


def test_daylight_saving_keeps_the_local_time(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    setup(rig, standin)
    rig.command("/standup", "timezone Europe/Madrid", user="U0AGENT02")
    with rig.rt.transaction(readonly=True) as session:
        schedule = store.all_schedules(session=session)[0]
    start = datetime(2027, 3, 25, tzinfo=UTC)  # Madrid moves to summer time on Sunday 28 March
    times = list(fire_times(standups.trigger(schedule, "Europe/Madrid"), start, start + timedelta(days=6)))
    assert [t.astimezone(UTC).hour for t in times] == [8, 8, 7, 7]  # Thu, Fri (CET), Mon, Tue (CEST)
    assert all(t.astimezone(zone("Europe/Madrid")).strftime("%H:%M") == "09:30" for t in times)


def test_answering_updates_the_prompt_dm(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    setup(rig, standin)
    fire(rig, TUE_0930, "UTC")
    prompt = standin.dms("U0AGENT02")[0]
    answer(rig, "U0AGENT02", prompt_id_of(prompt), mood=None)
    dm_updates = [c for c in standin.ok_calls("chat.update") if c.args.get("ts") == prompt.response["ts"]]
    assert len(dm_updates) == 1 and "edit it until 11:30" in dm_updates[0].text_everywhere()
