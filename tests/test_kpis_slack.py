"""`/kpis` through the real Bolt app, and the daily digest on schedule under a controlled
clock: posted once to the digest channel (claims), caught up after downtime, chart PNG
uploaded into its thread with the files upload v2 steps."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from supportbot.bot import kpis
from supportbot.bot.runtime import Runtime, build_runtime
from supportbot.bot.scheduler import fire_times, last_fire_time
from supportbot.bot.standin.slack import WORKSPACE
from supportbot.storage import kpis as store
from supportbot.storage.teams import get_team
from tests.rig import BotRig


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def answer(response) -> str:  # type: ignore[no-untyped-def]
    body = response.json()
    return body.get("text", "") + json.dumps(body.get("blocks") or [], ensure_ascii=False)


def row(tid: str, created: datetime, **fields) -> dict:  # type: ignore[no-untyped-def]
    out = {name: None for name in store.TICKET_FIELDS}
    out.update(ticket_id=tid, created_at=created, **fields)
    if out.get("first_response_at"):
        out["frt_seconds"] = int((out["first_response_at"] - created).total_seconds())
    return out


def seed(rig: BotRig) -> None:
    """Sunday 2026-11-22 (UTC team): 12 tickets; 12 good ratings by U0AGENT01 ..."""
    rows = []
    base = z("2026-11-22T08:00")
    for i in range(12):
        created = base + timedelta(minutes=30 * i)
        rows.append(
            row(
                f"S{i}", created, agent_id="U0AGENT01" if i % 2 else "U0AGENT02",
                first_response_at=created + timedelta(minutes=10 + i), solved_at=created + timedelta(hours=1),
                csat=5 if i < 9 else 2, csat_good=i < 9, nps=10 if i < 6 else 7,
                handle_time_seconds=600, agent_replies=1 if i < 8 else 2,
                channel="email" if i < 8 else "chat", category="billing" if i < 5 else "login",
            )
        )
    # Monday morning so far and the same hours a week earlier
    rows.append(row("M1", z("2026-11-23T08:00"), agent_id="U0AGENT01", first_response_at=z("2026-11-23T08:05")))
    rows.append(row("W1", z("2026-11-16T08:00"), agent_id="U0AGENT01", first_response_at=z("2026-11-16T08:30")))
    rows.append(row("W2", z("2026-11-16T11:00"), agent_id="U0AGENT01"))  # after the same hour: not compared
    with rig.rt.transaction() as session:
        store.upsert_tickets(session=session, workspace_id=WORKSPACE, rows=rows, now=rig.clock.now())


def test_kpis_today_with_week_ago_comparison(rig: BotRig) -> None:
    rig.make_team()
    seed(rig)
    response = rig.command("/kpis", "", user="U0AGENT01")
    assert response.json()["response_type"] == "ephemeral"
    text = answer(response)
    assert "KPIs · Tier1 · Mon, Nov 23" in text
    assert "5.0 min" in text  # today's first response
    assert "Mon, Nov 16, 00:00 – Mon, Nov 16, 10:00 (UTC)" in text
    assert "-25.0 min" in text  # 5 min now vs 30 min a week ago, same hours
    assert "no data" in text  # nothing solved today: CSAT etc. say so
    assert standin_clean(rig)


def standin_clean(rig: BotRig) -> bool:
    return rig.standin.rejected() == [] and rig.standin.pings() == []


def test_kpis_yesterday_agent_targets_and_samples(rig: BotRig) -> None:
    rig.make_team()
    seed(rig)
    text = answer(rig.command("/kpis", "yesterday <@U0AGENT01|ana>", user="U0LEAD01"))
    assert "KPIs · Tier1 · Sun, Nov 22" in text
    assert "75.0%" in text and "n=12" in text  # CSAT 9 of 12
    assert "target 90%" in text and ":x:" in text
    assert "<@U0AGENT01>" in text
    assert "low sample" in text  # the agent's 6 ratings
    assert "email 8" in text and "billing 5" in text
    assert standin_clean(rig)


def test_kpis_target_help_and_usage(rig: BotRig) -> None:
    rig.make_team()
    assert "Only the leaders of" in answer(rig.command("/kpis", "target csat 70", user="U0AGENT01"))
    assert "is now 70%" in answer(rig.command("/kpis", "target csat 70", user="U0LEAD01"))
    seed(rig)
    text = answer(rig.command("/kpis", "2026-11-22", user="U0AGENT02"))
    assert "target 70%" in text and ":white_check_mark:" in text
    help_text = answer(rig.command("/kpis", "help", user="U0AGENT02"))
    assert "/kpis last-week" in help_text and "90th percentile" in help_text
    usage = answer(rig.command("/kpis", "fortnight <!here>", user="U0AGENT02"))
    assert "Try `/kpis`" in usage and "&lt;!here&gt;" in usage
    assert "not a valid target" in answer(rig.command("/kpis", "target csat 300", user="U0LEAD01"))
    assert "not a date" in answer(rig.command("/kpis", "2026-02-30", user="U0LEAD01"))
    assert standin_clean(rig)


def test_kpis_empty_team_says_no_data(rig: BotRig) -> None:
    rig.make_team()
    response = rig.command("/kpis", "last-month", user="U0AGENT01")
    assert response.status_code == 200 and not response.text  # acked at once: a long period
    (answered,) = rig.standin.responses
    text = answered["text"] + json.dumps(answered["blocks"], ensure_ascii=False)
    assert answered["response_type"] == "ephemeral" and answered["_problems"] == []
    assert "KPIs · Tier1 · October 2026" in text
    assert "no data" in text and "*0.0%*" not in text and "*+0*" not in text
    assert "not in any team" in answer(rig.command("/kpis", "", user="U0NOBODY1"))


def digest_fire(rig: BotRig, team_id: int) -> datetime:
    with rig.rt.transaction() as session:
        team = get_team(session=session, team_id=team_id)
        trigger = kpis.digest_trigger(team)
    when = last_fire_time(trigger, rig.clock.now(), timedelta(minutes=30))
    assert when is not None
    return when


def test_digest_on_schedule_once_with_chart_in_thread(rig: BotRig) -> None:
    team = rig.make_team()
    seed(rig)
    rig.clock.set(z("2026-11-23T09:00"))
    when = digest_fire(rig, team.id)
    assert when == z("2026-11-23T09:00")
    kpis.run_digest(rig.rt, team.id, scheduled_for=when)
    kpis.run_digest(rig.rt, team.id, scheduled_for=when)  # a second replica / restart
    rig.deliver()
    rig.deliver()
    posts = rig.standin.posts("C0DIGEST1")
    assert len(posts) == 1
    text = json.dumps(posts[0].args, ensure_ascii=False)
    assert "Daily KPIs · Tier1 · Sun, Nov 22" in text
    assert "75.0%" in text and "login" in text and "billing" in text
    assert "First-contact resolution by category" in text
    completes = rig.standin.ok_calls("files.completeUploadExternal")
    assert len(completes) == 1
    assert completes[0].args["thread_ts"] == posts[0].response["ts"]
    file_id = completes[0].args["files"][0]["id"]
    assert rig.standin.uploads[file_id][:8] == b"\x89PNG\r\n\x1a\n"
    assert standin_clean(rig)


def test_digest_missed_while_down_is_caught_up_within_grace(rig: BotRig) -> None:
    team = rig.make_team(timezone="Europe/Madrid", settings={"digest_time": "08:30"})
    seed(rig)
    # the bot comes back at 08:50 Madrid (07:50Z): the 08:30 firing is inside the grace window
    rig.clock.set(z("2026-11-23T07:50"))
    when = digest_fire(rig, team.id)
    assert when == z("2026-11-23T07:30")
    kpis.run_digest(rig.rt, team.id, scheduled_for=when)
    rig.deliver()
    assert len(rig.standin.posts("C0DIGEST1")) == 1
    # weekends have no firing
    with rig.rt.transaction() as session:
        trigger = kpis.digest_trigger(get_team(session=session, team_id=team.id))
    saturday = list(fire_times(trigger, z("2026-11-27T12:00"), z("2026-11-30T12:00")))
    assert [t.astimezone(UTC) for t in saturday] == [z("2026-11-30T07:30")]


def test_digest_skips_a_team_without_channel_and_stale_schedule(rig: BotRig) -> None:
    team = rig.make_team(digest_channel=None)
    kpis.run_digest(rig.rt, team.id, scheduled_for=z("2026-11-23T09:00"))
    other = rig.make_team("Tier2", settings={"digest_time": "10:00"})
    kpis.run_digest(rig.rt, other.id, scheduled_for=z("2026-11-23T09:00"))  # old 09:00 job
    rig.deliver()
    assert rig.standin.posts() == []


def test_install_jobs_adds_one_cron_per_team(rig: BotRig) -> None:
    from supportbot.bot.scheduler import Scheduler

    rig.make_team()
    rig.make_team("Tier2", digest_channel=None)
    scheduler = Scheduler(rig.clock)
    kpis.install_jobs(scheduler, rig.rt)
    ids = scheduler.job_ids()
    assert "kpis.digest.sync" in ids
    assert len([i for i in ids if i.startswith("kpis.digest:")]) == 1


def today_report(rig: BotRig, rt: Runtime | None = None) -> kpis.Report:
    rt = rt or rig.rt
    now = rig.clock.now()
    with rt.transaction(readonly=True) as session:
        team = get_team(session=session, team_id=1)
        assert team is not None
        period = kpis.parse_period("today", now=now, tz=team.timezone)
        return kpis.summary(session, team=team, period=period, now=now, answers=rt.kpi_answers).current


def test_each_runtime_keeps_its_own_answers(rig: BotRig) -> None:
    rig.make_team()
    seed(rig)
    first = today_report(rig)
    other = build_runtime(rig.rt.settings, engine=rig.rt.engine, clock=rig.clock)
    assert today_report(rig, other) == first
    assert (other.kpi_answers.hits, other.kpi_answers.misses) == (0, 2)  # computed, not reused
    assert rig.rt.kpi_answers.hits == 0


def test_cached_answers_follow_imports_escalations_and_time(rig: BotRig) -> None:
    rig.make_team()
    seed(rig)
    late = row("U1", z("2026-11-23T09:00:10"), agent_id="U0AGENT02")  # unanswered: breached at 10:00:10
    with rig.rt.transaction() as session:
        store.upsert_tickets(session=session, workspace_id=WORKSPACE, rows=[late], now=rig.clock.now())
    first = today_report(rig)
    assert (first.volume, first.sla_n, first.escalations.opened) == (2, 1, 0)

    hits = rig.rt.kpi_answers.hits
    assert today_report(rig) == first
    assert rig.rt.kpi_answers.hits > hits  # the ticket figures were not computed again

    with rig.rt.transaction() as session:  # an import: the next answer sees it at once
        store.upsert_tickets(session=session, workspace_id=WORKSPACE, rows=[row("M2", z("2026-11-23T09:30"), agent_id="U0AGENT01", first_response_at=z("2026-11-23T09:45"))], now=rig.clock.now())
    assert (today_report(rig).volume, today_report(rig).sla_n) == (3, 2)

    rig.command("/escalate", "high Refund stuck for ACME", user="U0AGENT02", channel="C0ESCAL01")
    rig.clock.advance(seconds=1)
    assert today_report(rig).escalations.opened == 1  # escalations are never cached

    rig.clock.advance(seconds=40)  # U1 is now past its 60-minute target
    assert today_report(rig).sla_n == 3
    assert "KPIs · Tier1 · Mon, Nov 23" in answer(rig.command("/kpis", "today", user="U0LEAD01"))


def test_a_slow_chart_upload_holds_no_write_lock(rig: BotRig) -> None:
    """The chart is uploaded while its message is rendered, in a read transaction: other
    writers (a /kudos, an escalation) are not kept waiting for Slack."""
    import threading
    import time

    team = rig.make_team()
    seed(rig)
    rig.clock.set(z("2026-11-23T09:00"))
    kpis.run_digest(rig.rt, team.id, scheduled_for=digest_fire(rig, team.id))
    rig.standin.fail("files.getUploadURLExternal", "internal_error", status=500, times=2, delay=1.5)
    delivering = threading.Thread(target=rig.deliver)
    delivering.start()
    assert rig.standin.wait_for(lambda: rig.standin.posts("C0DIGEST1"), timeout=10)
    time.sleep(0.3)  # the chart's render is now waiting on Slack
    started = time.monotonic()
    with rig.rt.transaction() as session:
        store.upsert_tickets(session=session, workspace_id=WORKSPACE, rows=[row("X1", z("2026-11-23T08:30"))], now=rig.clock.now())
    waited = time.monotonic() - started
    delivering.join(timeout=30)
    assert waited < 0.5, f"a writer waited {waited:.2f} s behind the chart upload"
    assert [c for c in rig.standin.calls if c.method == "files.getUploadURLExternal"], "the upload was attempted meanwhile"


def test_spanish_team_sees_spanish_figures_and_english_team_english(rig: BotRig) -> None:
    """Issue 15: figures and dates through Babel (bot/formats.py) in the team's language."""
    rig.make_team(language="es")
    seed(rig)
    text = answer(rig.command("/kpis", "2026-11-22", user="U0AGENT02"))
    assert "75,0\xa0%" in text and "75.0%" not in text  # CSAT 9/12


def test_spanish_digest_shows_spanish_date_and_percent(rig: BotRig) -> None:
    team = rig.make_team(language="es")
    seed(rig)
    rig.clock.set(z("2026-11-23T09:00"))
    kpis.run_digest(rig.rt, team.id, scheduled_for=digest_fire(rig, team.id))
    rig.deliver()
    posts = rig.standin.posts("C0DIGEST1")
    assert len(posts) == 1
    text = json.dumps(posts[0].args, ensure_ascii=False)
    assert "KPIs diarios · Tier1 · dom 22 nov" in text
    assert "75,0\xa0%" in text and "75.0%" not in text


def test_english_team_keeps_english_figures(rig: BotRig) -> None:
    rig.make_team()
    seed(rig)
    text = answer(rig.command("/kpis", "2026-11-22", user="U0AGENT02"))
    assert "75.0%" in text and "75,0" not in text
