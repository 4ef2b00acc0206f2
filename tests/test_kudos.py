"""`/kudos` through the rig: shout-outs in the team channel, refusals, the daily cap, the
leaderboard, and the month's summary (once per team and month)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from supportbot.bot import kpis, kudos, teams
from supportbot.bot.standin.slack import WORKSPACE, SlackStandIn
from supportbot.handlers.blocks import escape as typed  # how Slack sends typed < > &
from supportbot.storage import kudos as store
from supportbot.storage.claims import try_claim
from supportbot.storage.kudos import Kudos
from tests.rig import BotRig

BO = "<@U0AGENT02|bo>"
ANA = "<@U0AGENT01|ana>"


def answer(response: Any) -> str:
    body = response.json()
    assert body.get("response_type", "ephemeral") == "ephemeral"
    return body.get("text", "") + json.dumps(body.get("blocks") or [], ensure_ascii=False)


def all_kudos(rig: BotRig) -> list[Kudos]:
    with rig.rt.transaction(readonly=True) as session:
        return list(
            store.kudos_received(
                session=session,
                workspace_id=WORKSPACE,
                user_id="U0AGENT02",
                since=datetime(2000, 1, 1, tzinfo=UTC),
                until=datetime(2100, 1, 1, tzinfo=UTC),
            )
        )


def clean(standin: SlackStandIn) -> None:
    assert standin.rejected() == [] and standin.pings() == []


def test_kudos_posts_to_the_team_channel_naming_everyone(
    rig: BotRig, standin: SlackStandIn
) -> None:
    rig.make_team()
    text = "Saved the <!channel> renewal & calmed <@U0LEAD02> down #Ownership"
    said = answer(
        rig.command(
            "/kudos", f"{BO} <@U0LEAD01|lead> {typed(text)}", user="U0AGENT01", channel="C0GENERAL"
        )
    )
    assert "<@U0AGENT02>" in said and "<#C0DIGEST1>" in said
    rig.deliver()
    [post] = standin.posts("C0DIGEST1")
    shown = post.text_everywhere()
    assert "<@U0AGENT02>" in shown and "<@U0LEAD01>" in shown and "<@U0AGENT01>" in shown
    assert "Saved the &lt;!channel&gt; renewal &amp; calmed &lt;@U0LEAD02&gt; down" in shown
    assert "#ownership" in shown
    assert "<@U0LEAD02>" not in shown
    [row] = all_kudos(rig)
    assert row.message == "Saved the <!channel> renewal & calmed <@U0LEAD02> down"
    assert (row.value, row.giver_id, row.channel_id) == ("ownership", "U0AGENT01", "C0DIGEST1")
    with rig.rt.transaction(readonly=True) as session:
        assert store.recipients_of(session=session, kudos_id=row.id or 0) == [
            "U0AGENT02",
            "U0LEAD01",
        ]
        assert (
            store.count_kudos(
                session=session,
                team_id=1,
                since=rig.clock.now() - timedelta(hours=1),
                until=rig.clock.now() + timedelta(seconds=1),
            )
            == 1
        )
    clean(standin)


def test_without_digest_channel_posts_where_typed(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(digest_channel=None)
    rig.command("/kudos", f"{BO} thanks for the cover", user="U0AGENT01", channel="C0RANDOM1")
    rig.deliver()
    assert len(standin.posts("C0RANDOM1")) == 1
    clean(standin)


def test_usage_self_and_outsiders(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    assert "Usage" in answer(rig.command("/kudos", "great job everyone", user="U0AGENT01"))
    assert "Usage" in answer(rig.command("/kudos", BO, user="U0AGENT01"))
    assert "Usage" in answer(rig.command("/kudos", f"{BO} #teamwork", user="U0AGENT01"))
    assert "can't give yourself" in answer(
        rig.command("/kudos", f"{ANA} {BO} we rock", user="U0AGENT01")
    )
    assert "/kudos top" in answer(rig.command("/kudos", "", user="U0AGENT01"))
    assert "not in any team" in answer(rig.command("/kudos", f"{BO} hi", user="U0OUTSIDE"))
    rig.deliver()
    assert all_kudos(rig) == [] and standin.posts() == []
    clean(standin)


def test_daily_cap_tells_the_giver_and_resets_next_day(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(settings={"kudos_cap": 2})
    assert "last kudos" not in answer(rig.command("/kudos", f"{BO} one", user="U0AGENT01"))
    assert "last kudos for today (2 a day)" in answer(
        rig.command("/kudos", f"{BO} two", user="U0AGENT01")
    )
    assert "given your 2 kudos for today" in answer(
        rig.command("/kudos", f"{BO} three", user="U0AGENT01")
    )
    assert len(all_kudos(rig)) == 2
    # someone else still can
    assert "posted" in answer(rig.command("/kudos", f"{BO} from lead", user="U0LEAD01"))
    rig.clock.advance(days=1)
    assert "posted" in answer(rig.command("/kudos", f"{BO} four", user="U0AGENT01"))
    rig.deliver()
    assert len(standin.posts("C0DIGEST1")) == 4
    clean(standin)


def test_default_cap_is_five_and_leaders_change_it_from_slack(rig: BotRig) -> None:
    rig.make_team()
    for i in range(5):
        rig.command("/kudos", f"{BO} thanks {i}", user="U0AGENT01")
    assert "given your 5 kudos" in answer(rig.command("/kudos", f"{BO} six", user="U0AGENT01"))
    assert "Only team leaders" in answer(rig.command("/kudos", "cap 7", user="U0AGENT01"))
    assert "Usage: `/kudos cap 7`" in answer(rig.command("/kudos", "cap lots", user="U0LEAD01"))
    assert "Usage: `/kudos cap 7`" in answer(rig.command("/kudos", "cap 0", user="U0LEAD01"))
    assert "can now give 7 kudos a day" in answer(rig.command("/kudos", "cap 7", user="U0LEAD01"))
    with rig.rt.transaction(readonly=True) as session:
        assert teams.find_team(session, WORKSPACE, "Tier1").settings["kudos_cap"] == 7
    assert "posted" in answer(rig.command("/kudos", f"{BO} six", user="U0AGENT01"))


def test_leaderboard_week_and_month(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.clock.set(datetime(2026, 11, 10, 12, tzinfo=UTC))  # earlier this month
    rig.command("/kudos", f"{ANA} early in the month", user="U0LEAD01")
    rig.clock.set(datetime(2026, 11, 23, 10, tzinfo=UTC))  # this week
    rig.command("/kudos", f"{BO} one", user="U0AGENT01")
    rig.command("/kudos", f"{BO} {ANA} two", user="U0LEAD01")
    rig.command("/kudos", f"{BO} three", user="U0LEAD02")

    week = answer(rig.command("/kudos", "top", user="U0AGENT01"))
    assert "this week" in week and "3 kudos since Mon, Nov 23" in week
    assert week.index("<@U0AGENT02> · 3") < week.index("<@U0AGENT01> · 1")
    month = answer(rig.command("/kudos", "top month", user="U0AGENT01"))
    assert (
        "this month" in month
        and "4 kudos since Sun, Nov 1" in month
        and "<@U0AGENT01> · 2" in month
    )
    assert "<@U0LEAD01> · 2" in month  # given
    assert "Usage" in answer(rig.command("/kudos", "top year", user="U0AGENT01"))
    clean(standin)


def test_leaderboard_empty(rig: BotRig) -> None:
    rig.make_team()
    assert "No kudos yet" in answer(rig.command("/kudos", "top week", user="U0AGENT01"))


def test_month_summary_once_per_team_and_month(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(timezone="America/New_York")
    rig.make_team(
        "Quiet",
        leaders=("U0LEAD09",),
        members=("U0AGENT09",),
        escalation_channel="C0ESCAL02",
        digest_channel=None,
    )
    rig.clock.set(datetime(2026, 11, 30, 15, tzinfo=UTC))
    rig.command("/kudos", f"{BO} {typed('<!here>')} saved the day #grit", user="U0AGENT01")
    rig.command("/kudos", f"{BO} {ANA} great pairing #grit", user="U0LEAD01")
    rig.clock.set(datetime(2026, 12, 1, 3, tzinfo=UTC))  # Nov 30, 22:00 in New York
    rig.command("/kudos", f"{ANA} late one", user="U0LEAD02")
    rig.deliver()
    posted = len(standin.posts())

    rig.clock.set(datetime(2026, 12, 1, 13, 59, tzinfo=UTC))  # Dec 1, 08:59 in New York
    kudos.send_month_summaries(rig.rt)
    rig.deliver()
    assert len(standin.posts()) == posted

    rig.clock.set(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))  # 09:00
    kudos.send_month_summaries(rig.rt)
    kudos.send_month_summaries(rig.rt)
    rig.clock.advance(hours=5)
    kudos.send_month_summaries(rig.rt)
    rig.deliver()
    summaries = [c for c in standin.posts() if "Shout-outs of the month" in c.text_everywhere()]
    [summary] = summaries
    assert summary.args["channel"] == "C0DIGEST1"
    text = summary.text_everywhere()
    assert "November 2026" in text and "3 kudos this month" in text
    assert "<@U0AGENT01> · 2" in text and "<@U0AGENT02> · 2" in text  # Nov 30 evening counts
    assert "#grit (2)" in text
    assert standin.posts("C0ESCAL02") == []  # the quiet team had nothing to celebrate
    clean(standin)


def test_install_jobs_adds_the_month_scan() -> None:
    added: list[str] = []

    class FakeScheduler:
        def every(self, job_id: str, *args: Any) -> None:
            added.append(job_id)

    kudos.install_jobs(FakeScheduler(), object())
    assert added == ["kudos.month_summary"]


def test_parse_message_and_channel_choice() -> None:
    assert kudos.parse_message("great save #Ownership ") == ("great save", "ownership")
    assert kudos.parse_message("#1 in the queue today") == ("#1 in the queue today", None)
    assert kudos.parse_message("fixed issue#12") == ("fixed issue#12", None)
    assert kudos.parse_message("#teamwork") == ("", "teamwork")


def test_typed_in_a_dm_without_team_channel_goes_to_the_team_channel(
    rig: BotRig, standin: SlackStandIn
) -> None:
    rig.make_team(digest_channel=None)
    said = answer(rig.command("/kudos", f"{BO} thanks", user="U0AGENT01", channel="D0DIRECT1"))
    assert "<#C0ESCAL01>" in said
    rig.deliver()
    assert len(standin.posts("C0ESCAL01")) == 1
    clean(standin)


def test_a_slot_taken_by_a_concurrent_request_counts_against_the_cap(rig: BotRig) -> None:
    """Two requests can both count 0 given; the per-slot claim lets only one of them through."""
    rig.make_team(settings={"kudos_cap": 1})
    with rig.rt.transaction() as session:  # the other request, mid-flight, took slot 1
        assert try_claim(
            session=session, key="kudos:slot:T0TEST01:U0AGENT01:2026-11-23:1", now=rig.clock.now()
        )
    assert "given your 1 kudos" in answer(rig.command("/kudos", f"{BO} race", user="U0AGENT01"))
    assert all_kudos(rig) == []


def test_spanish_team_reads_spanish(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(language="es")
    said = answer(rig.command("/kudos", f"{BO} gracias por cubrirme", user="U0AGENT01"))
    assert "publicado en" in said
    rig.deliver()
    [post] = standin.posts("C0DIGEST1")
    assert "de parte de <@U0AGENT01>" in post.text_everywhere()


def test_kudos_feed_the_kpi_digest_and_received_query(rig: BotRig) -> None:
    rig.make_team()
    rig.command("/kudos", f"{BO} one", user="U0AGENT01")
    rig.command("/kudos", f"{BO} {ANA} two", user="U0LEAD01")
    now = rig.clock.now()
    with rig.rt.transaction(readonly=True) as session:
        team = teams.find_team(session, WORKSPACE, "Tier1")
        assert (
            kpis.kudos_count(session, team, now - timedelta(days=1), now + timedelta(days=1)) == 2
        )
        got = store.kudos_received(
            session=session,
            workspace_id=WORKSPACE,
            user_id="U0AGENT01",
            since=now - timedelta(days=1),
            until=now + timedelta(days=1),
        )
        assert [k.message for k in got] == ["two"]
        assert (
            store.kudos_received(
                session=session,
                workspace_id=WORKSPACE,
                user_id="U0AGENT01",
                since=now + timedelta(seconds=1),
                until=now + timedelta(days=1),
            )
            == []
        )


def test_someone_in_two_teams_gives_in_the_shared_team(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.make_team(
        "Tier2",
        leaders=("U0LEAD09",),
        members=("U0AGENT01", "U0AGENT09"),
        escalation_channel="C0ESCAL02",
        digest_channel="C0DIGEST2",
    )
    said = answer(rig.command("/kudos", "<@U0AGENT09|nine> thanks", user="U0AGENT01"))
    assert "<#C0DIGEST2>" in said
    said = answer(rig.command("/kudos", "<@U0OTHER01|x> thanks", user="U0AGENT01"))
    assert "Tier1, Tier2" in said
    said = answer(rig.command("/kudos", "<@U0OTHER01|x> thanks team:tier1", user="U0AGENT01"))
    assert "<#C0DIGEST1>" in said
    assert "Tier2" in answer(rig.command("/kudos", "top team:Tier2", user="U0AGENT01"))
    rig.deliver()
    assert [len(standin.posts(c)) for c in ("C0DIGEST1", "C0DIGEST2")] == [1, 1]
    [first] = standin.posts("C0DIGEST1")
    assert "team:" not in first.text_everywhere()
    clean(standin)
