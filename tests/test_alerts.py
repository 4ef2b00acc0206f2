"""Alerts before it is too late, through the real app: tickets go in (POST /api/tickets or
the store), the scan job runs, and what reaches the Slack stand-in is checked - the SLA-risk
message once and grouped, its in-place updates, the Escalate button opening /escalate's
form with the ticket filled in, spike DMs once per spike, the per-team settings, Spanish,
and two replicas scanning at once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportbot.bot import alerts
from supportbot.bot.app import build_app
from supportbot.bot.cli import main
from supportbot.bot.runtime import Runtime, build_runtime
from supportbot.bot.standin.slack import WORKSPACE, SlackStandIn
from supportbot.handlers.alerts import Id
from supportbot.handlers.escalations import Id as EscId
from supportbot.storage import alerts as alert_store
from supportbot.storage import escalations as esc_store
from supportbot.storage import kpis as store
from tests.rig import BotRig
from tests.test_replicas import run_replicas

TOKEN = "ingest-secret-token-0123"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the clock fixture: Monday 10:00 UTC


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def row(tid: str, created: datetime, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {name: None for name in store.TICKET_FIELDS}
    out.update(ticket_id=tid, created_at=created, **fields)
    if out.get("first_response_at"):
        out["frt_seconds"] = int((out["first_response_at"] - created).total_seconds())
    if out.get("team"):
        out["team_key"] = out["team"].lower()
    return out


def put(rig: BotRig, *rows: dict[str, Any]) -> None:
    with rig.rt.transaction() as session:
        store.upsert_tickets(session=session, workspace_id=WORKSPACE, rows=list(rows), now=rig.clock.now())


def api(rig: BotRig, body: Any) -> None:
    response = rig.http.post(
        f"{rig.url}/api/tickets", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}, timeout=30,
    )
    assert response.status_code == 200, response.text


def scan(rig: BotRig) -> None:
    """A scan without the per-minute claim (as after a sync): what is sent once is decided
    by the rows, however often it runs."""
    alerts.scan_now(rig.rt)
    rig.deliver()


def sla_posts(standin: SlackStandIn, channel: str = "C0ESCAL01") -> list[Any]:
    return [c for c in standin.posts(channel) if "first-reply target" in c.text_everywhere() or "primera respuesta" in c.text_everywhere()]


def buttons(call: Any) -> list[dict[str, Any]]:
    return [
        b["accessory"] for b in call.args["blocks"] if b.get("accessory", {}).get("action_id") == Id.ESCALATE
    ]


def ticket_lines(call: Any) -> list[str]:
    return [b["text"]["text"] for b in call.args["blocks"] if b["type"] == "section" and "*Ticket " in b["text"]["text"]]


@pytest.fixture
def api_rig(standin, database_url, clock):  # type: ignore[no-untyped-def]
    bot = BotRig(standin, database_url, clock, ingest_token=TOKEN)
    yield bot
    bot.close()


# ----- SLA risk -----------------------------------------------------------------------------
def test_sla_risk_posted_once_grouped_and_updated_in_place(api_rig: BotRig, standin: SlackStandIn) -> None:
    rig = api_rig
    rig.make_team()
    api(rig, [
        # at risk: 50 and 55 minutes of a 60-minute target (the team default and its own)
        {"ticket_id": "A1", "created_at": "2026-11-23T09:10:00Z", "agent_slack_id": "U0AGENT01", "status": "open"},
        {"ticket_id": "B2", "created_at": "2026-11-23T09:05:00Z", "team": "Tier1", "sla_target_minutes": 60},
        # not yet (30 of 60 minutes), already breached, answered, solved, another team's
        {"ticket_id": "C3", "created_at": "2026-11-23T09:30:00Z", "agent_slack_id": "U0AGENT02"},
        {"ticket_id": "D4", "created_at": "2026-11-23T08:30:00Z", "agent_slack_id": "U0AGENT02"},
        {"ticket_id": "E5", "created_at": "2026-11-23T09:00:00Z", "first_response_at": "2026-11-23T09:20:00Z", "agent_slack_id": "U0AGENT01"},
        {"ticket_id": "F6", "created_at": "2026-11-23T09:02:00Z", "status": "solved", "agent_slack_id": "U0AGENT01"},
        {"ticket_id": "G7", "created_at": "2026-11-23T09:00:00Z", "team": "Tier2"},
    ])
    scan(rig)
    [post] = sla_posts(standin)
    text = post.text_everywhere()
    assert "2 tickets close to missing" in text and "80%" in text
    lines = ticket_lines(post)
    assert [line.split("*")[1] for line in lines] == ["Ticket B2", "Ticket A1"]  # nearest deadline first
    assert "waiting 55m of 1h" in lines[0] and "unassigned" in lines[0]
    assert "waiting 50m of 1h" in lines[1] and "<@U0AGENT01>" in lines[1]
    assert len(buttons(post)) == 2
    for absent in ("C3", "D4", "E5", "F6", "G7"):
        assert f"Ticket {absent}" not in text

    rig.clock.advance(seconds=30)
    scan(rig)
    rig.clock.advance(seconds=30)
    scan(rig)
    assert len(sla_posts(standin)) == 1  # once, however often the scan runs
    assert standin.ok_calls("chat.update") == []

    rig.clock.set(z("2026-11-23T10:03"))
    api(rig, {"ticket_id": "A1", "created_at": "2026-11-23T09:10:00Z", "agent_slack_id": "U0AGENT01", "first_response_at": "2026-11-23T10:02:00Z"})
    scan(rig)
    [update] = standin.ok_calls("chat.update")
    assert update.args["ts"] == post.response["ts"] and update.args["channel"] == post.response["channel"]
    assert "answered in time (first reply after 52m)" in update.text_everywhere()
    assert len(buttons(update)) == 1  # B2 keeps its button; A1 has its outcome instead

    rig.clock.set(z("2026-11-23T10:06"))
    scan(rig)
    updates = standin.ok_calls("chat.update")
    assert len(updates) == 2 and "breached: no first reply within 1h" in updates[-1].text_everywhere()
    assert buttons(updates[-1]) == []
    scan(rig)
    assert len(standin.ok_calls("chat.update")) == 2

    rig.clock.set(z("2026-11-23T10:21"))  # C3 has now waited 51 of 60 minutes: a new message
    scan(rig)
    scan(rig)
    posts = sla_posts(standin)
    assert len(posts) == 2 and "1 ticket close to missing" in posts[1].text_everywhere()
    assert [line.split("*")[1] for line in ticket_lines(posts[1])] == ["Ticket C3"]
    assert standin.rejected() == [] and standin.pings() == []


def test_a_long_list_is_split_into_messages_slack_accepts(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    put(rig, *[row(f"T{i:02d}", z("2026-11-23T09:05") + timedelta(seconds=5 * i), agent_id="U0AGENT01") for i in range(45)])
    scan(rig)
    posts = sla_posts(standin)
    assert [len(ticket_lines(p)) for p in posts] == [40, 5]
    assert ticket_lines(posts[0])[0].startswith("*Ticket T00*") and ticket_lines(posts[1])[-1].startswith("*Ticket T44*")
    assert standin.rejected() == []


def test_late_reply_and_closing_without_reply(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    put(rig, row("L1", z("2026-11-23T09:10"), agent_id="U0AGENT01"), row("S2", z("2026-11-23T09:11"), agent_id="U0AGENT02"))
    scan(rig)
    assert len(ticket_lines(sla_posts(standin)[0])) == 2
    rig.clock.set(z("2026-11-23T10:20"))
    put(
        rig,
        row("L1", z("2026-11-23T09:10"), agent_id="U0AGENT01", first_response_at=z("2026-11-23T10:15")),
        row("S2", z("2026-11-23T09:11"), agent_id="U0AGENT02", status="closed", solved_at=z("2026-11-23T10:05")),
    )
    scan(rig)
    text = standin.ok_calls("chat.update")[-1].text_everywhere()
    assert "breached: first reply after 1h 5m (target 1h)" in text
    assert "closed without a reply, in time" in text


def test_escalate_button_opens_the_filled_form_and_creates_the_escalation(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    put(rig, row("Z-981", z("2026-11-23T09:10"), agent_id="U0AGENT01"))
    scan(rig)
    [post] = sla_posts(standin)
    [button] = buttons(post)
    assert button["text"]["text"] == "Escalate"

    rig.click(Id.ESCALATE, button["value"], user="U0LEAD01", message={"ts": post.response["ts"], "text": ""})
    [opened] = standin.ok_calls("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == EscId.CREATE_MODAL
    by_id = {b["block_id"]: b for b in view["blocks"]}
    assert by_id[EscId.TICKET]["element"]["initial_value"] == "Z-981"
    summary = by_id[EscId.SUMMARY]["element"]["initial_value"]
    assert "Z-981" in summary and "50m" in summary and "1h" in summary
    assert by_id[EscId.SEVERITY]["element"]["initial_option"]["value"] == "high"

    response = rig.submit(
        EscId.CREATE_MODAL,
        {
            EscId.SUMMARY: summary,
            EscId.TICKET: "Z-981",
            EscId.SEVERITY: {"type": "static_select", "selected_option": {"value": "high"}},
            EscId.CATEGORY: {"type": "static_select", "selected_option": {"value": "other"}},
        },
        user="U0LEAD01",
        private_metadata=view["private_metadata"],
    )
    assert response.json()["response_action"] == "update"
    rig.deliver()
    with rig.rt.transaction() as session:
        [esc] = esc_store.list_unresolved(session=session, team_id=_team(rig).id)
    assert esc.ticket_ref == "Z-981" and esc.severity == "high" and esc.reporter_id == "U0LEAD01"
    assert any("ESC-1" in c.text_everywhere() for c in standin.posts("C0ESCAL01"))

    # someone outside the team, and an alert that is gone, get a clear private answer
    rig.click(Id.ESCALATE, button["value"], user="U0STRANGER")
    rig.click(Id.ESCALATE, {"a": 999}, user="U0LEAD01")
    answers = rig.ephemeral_texts()
    assert any("Tier1" in a for a in answers[:1])
    assert "no longer stored" in answers[1] and "/escalate" in answers[1]
    assert len(standin.ok_calls("views.open")) == 1
    assert standin.rejected() == []


# ----- spikes -------------------------------------------------------------------------------
def day_counts(session: Any, team: Any) -> alert_store.AlertCounts:
    """Monday's alerts (the team is on UTC)."""
    return alert_store.alert_counts(session=session, team_id=team.id, start=z("2026-11-23T00:00"), end=z("2026-11-24T00:00"))


def seed_history(rig: BotRig, counts: list[int], *, hour: str = "09:00") -> None:
    """`counts[k]` tickets (one a minute) in the hour from `hour` on the Monday k+1 weeks
    ago, each answered two minutes after it came in."""
    rows = []
    for week, n in enumerate(counts, start=1):
        day = NOW - timedelta(weeks=week)
        start = day.replace(hour=int(hour[:2]), minute=int(hour[3:]))
        for i in range(n):
            created = start + timedelta(minutes=i, seconds=30)
            rows.append(row(f"H{week}-{hour}-{i}", created, agent_id="U0AGENT01", first_response_at=created + timedelta(minutes=2)))
    put(rig, *rows)


def spike_dms(standin: SlackStandIn, user: str) -> list[Any]:
    return [c for c in standin.dms(user) if "Spike" in c.text_everywhere() or "Pico" in c.text_everywhere()]


def test_spike_alerts_each_leader_once_per_spike_and_says_how_far(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    seed_history(rig, [3, 4, 5, 4])
    put(rig, *[
        row(f"N{i}", z("2026-11-23T09:00") + timedelta(minutes=2 * i), agent_id="U0AGENT01",
            first_response_at=z("2026-11-23T09:01") + timedelta(minutes=2 * i))
        for i in range(20)
    ])
    scan(rig)
    [dm] = spike_dms(standin, "U0LEAD01")
    assert len(spike_dms(standin, "U0LEAD02")) == 1
    text = dm.text_everywhere()
    assert "20 new tickets in the last hour" in text
    assert "3, 4, 5, 4" in text and "mean 4.0" in text and "standard deviation 0.7" in text
    assert "mean + 3 × standard deviation (6.1)" in text and "at least 5 tickets above the mean" in text
    assert "unanswered" not in text and "without a first reply" not in text  # all answered: no second spike

    for minutes in (1, 15, 30):  # still above the line: no further alert
        rig.clock.set(NOW + timedelta(minutes=minutes))
        scan(rig)
    assert len(spike_dms(standin, "U0LEAD01")) == 1

    rig.clock.set(z("2026-11-23T12:00"))  # quiet for over an hour: that spike is over
    scan(rig)
    rig.clock.set(z("2026-11-23T13:00"))
    put(rig, *[row(f"P{i}", z("2026-11-23T12:05") + timedelta(minutes=i), agent_id="U0AGENT02") for i in range(8)])
    scan(rig)
    dms = spike_dms(standin, "U0LEAD01")
    assert len(dms) == 3  # a new spike: 8 new tickets, and the same 8 still without a reply
    assert "8 new tickets" in dms[1].text_everywhere() + dms[2].text_everywhere()
    assert "8 tickets of the last hour still without a first reply" in dms[1].text_everywhere() + dms[2].text_everywhere()
    assert "0, 0, 0, 0" in dms[1].text_everywhere()
    with rig.rt.transaction() as session:
        assert day_counts(session, _team(rig)).spikes == 3
    assert standin.rejected() == [] and standin.pings() == []


def test_no_spike_below_the_line_or_without_four_weeks_of_history(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    put(rig, *[row(f"N{i}", z("2026-11-23T09:10") + timedelta(minutes=i), first_response_at=z("2026-11-23T09:59"), agent_id="U0AGENT01") for i in range(30)])
    scan(rig)  # no ticket older than four weeks: nothing to compare with
    assert spike_dms(standin, "U0LEAD01") == []
    seed_history(rig, [10, 30, 20, 25])  # mean 21.25, sd 7.4: the line is 43.5
    scan(rig)
    assert spike_dms(standin, "U0LEAD01") == []


# ----- settings and languages --------------------------------------------------------------
def run_cli(argv: list[str], monkeypatch, database_url: str, capsys) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.chdir("/tmp")
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _team(rig: BotRig) -> Any:
    from supportbot.bot import teams

    with rig.rt.transaction() as session:
        return teams.find_team(session, WORKSPACE, "Tier1")


def test_alerts_on_and_off_per_team(rig: BotRig, standin: SlackStandIn, monkeypatch, database_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    rig.make_team()
    seed_history(rig, [1, 1, 1, 1])
    put(rig, *[row(f"N{i}", z("2026-11-23T09:05") + timedelta(minutes=i), agent_id="U0AGENT01") for i in range(10)])

    code, out, _ = run_cli(["team", "update", "Tier1", "--alerts", "none"], monkeypatch, database_url, capsys)
    assert code == 0 and "alerts:" in out
    scan(rig)
    assert standin.posts() == []

    code, out, err = run_cli(["team", "update", "Tier1", "--alerts", "sla,bogus"], monkeypatch, database_url, capsys)
    assert code != 0 and "--alerts sla,spikes" in out + err
    code, out, err = run_cli(["team", "update", "Tier1", "--sla-alert-share", "0"], monkeypatch, database_url, capsys)
    assert code != 0 and "1 to 100" in out + err

    run_cli(["team", "update", "Tier1", "--alerts", "spikes"], monkeypatch, database_url, capsys)
    scan(rig)
    assert sla_posts(standin) == [] and len(spike_dms(standin, "U0LEAD01")) == 2  # new and unanswered

    # SLA on, flagged from 90% of the target: only tickets that waited 54 minutes or more
    code, _, _ = run_cli(["team", "update", "Tier1", "--alerts", "sla", "--sla-alert-share", "90", "--sla-minutes", "60"], monkeypatch, database_url, capsys)
    assert code == 0
    scan(rig)
    [post] = sla_posts(standin)
    assert [line.split("*")[1] for line in ticket_lines(post)] == ["Ticket N0", "Ticket N1"]
    assert "90%" in post.text_everywhere()
    assert alerts.enabled(_team(rig)) == {"sla"}


def test_spike_min_extra_from_the_cli(rig: BotRig, standin: SlackStandIn, monkeypatch, database_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    rig.make_team()
    seed_history(rig, [1, 1, 1, 1])  # the usual: 1 ticket in that hour
    put(rig, *[row(f"N{i}", z("2026-11-23T09:05") + timedelta(minutes=i), agent_id="U0AGENT01") for i in range(10)])
    for bad in ("0", "10001"):
        code, out, err = run_cli(["team", "update", "Tier1", "--spike-min-extra", bad], monkeypatch, database_url, capsys)
        assert code == 2 and "1 to 10000" in err and "--spike-min-extra 5" in err
    assert alerts.spike_min_extra(_team(rig)) == 5
    # 10 tickets, 9 above the usual: not a spike once a spike needs 12 more
    code, out, _ = run_cli(["team", "update", "Tier1", "--spike-min-extra", "12"], monkeypatch, database_url, capsys)
    assert code == 0 and "spike_min_extra:    12" in out
    scan(rig)
    assert spike_dms(standin, "U0LEAD01") == []
    run_cli(["team", "update", "Tier1", "--spike-min-extra", "9"], monkeypatch, database_url, capsys)
    scan(rig)
    dms = spike_dms(standin, "U0LEAD01")
    assert len(dms) == 2 and "at least 9 tickets above the mean" in dms[0].text_everywhere()
    with pytest.raises(SystemExit):
        main(["team", "update", "--help"])
    assert "--spike-min-extra N" in capsys.readouterr().out


def test_spanish(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(language="es")
    seed_history(rig, [0, 1, 0, 1])
    put(rig, *[row(f"N{i}", z("2026-11-23T09:05") + timedelta(minutes=i), agent_id="U0AGENT01") for i in range(8)])
    scan(rig)
    [post] = sla_posts(standin)
    text = post.text_everywhere()
    assert "tickets a punto de incumplir su objetivo de primera respuesta" in text and "esperando" in text
    assert {b["text"]["text"] for b in buttons(post)} == {"Escalar"}
    dms = spike_dms(standin, "U0LEAD01")
    assert len(dms) == 2
    both = dms[0].text_everywhere() + dms[1].text_everywhere()
    assert "8 tickets nuevos en la última hora" in both and "desviación típica" in both
    rig.clock.set(z("2026-11-23T10:10"))
    scan(rig)
    assert "incumplido: sin primera respuesta en 1h" in standin.ok_calls("chat.update")[-1].text_everywhere()


# ----- the daily digest --------------------------------------------------------------------
def test_digest_counts_the_days_alerts(rig: BotRig, standin: SlackStandIn) -> None:
    from supportbot.bot import kpis

    rig.make_team()
    put(rig, row("A1", z("2026-11-23T09:10"), agent_id="U0AGENT01"), row("B2", z("2026-11-23T09:05"), agent_id="U0AGENT02"))
    scan(rig)
    rig.clock.set(z("2026-11-23T10:08"))
    put(rig, row("A1", z("2026-11-23T09:10"), agent_id="U0AGENT01", first_response_at=z("2026-11-23T10:07")))
    scan(rig)  # A1 answered in time, B2 breached
    rig.clock.set(z("2026-11-24T09:00"))
    with rig.rt.transaction() as session:
        assert kpis.queue_digest(session, team=_team(rig), day=NOW.date(), clock=rig.clock)
    rig.deliver()
    [digest] = [c for c in standin.posts("C0DIGEST1") if not c.args.get("thread_ts")]
    text = digest.text_everywhere()
    assert "*Alerts:* 2 tickets flagged close to their first-reply target (1 of them breached), 0 ticket spikes" in text
    assert "Tickets of the day that missed their first-reply target: 1." in text


# ----- replicas -----------------------------------------------------------------------------
def test_two_runtimes_scanning_at_once_post_once(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    seed_history(rig, [1, 2, 1, 2])
    put(rig, *[row(f"N{i}", z("2026-11-23T09:05") + timedelta(seconds=20 * i), agent_id="U0AGENT01") for i in range(12)])
    other = build_runtime(rig.settings, clock=rig.clock, pace_seconds=0)
    build_app(other, token_verification=False)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def replica(rt: Runtime) -> None:
        try:
            for _ in range(3):
                barrier.wait()
                alerts.scan_now(rt)
                rt.outbox.drain()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(rt,)) for rt in (rig.rt, other)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    other.engine.dispose()
    rig.deliver()
    assert errors == []
    [post] = sla_posts(standin)
    assert len(ticket_lines(post)) == 12
    assert len(spike_dms(standin, "U0LEAD01")) == 2 and len(spike_dms(standin, "U0LEAD02")) == 2
    with rig.rt.transaction() as session:
        assert day_counts(session, _team(rig)) == alert_store.AlertCounts(12, 0, 2)


def test_the_minute_job_scans_once_per_minute(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    put(rig, row("A1", z("2026-11-23T09:05"), agent_id="U0AGENT01"))
    assert alerts.scan(rig.rt) == 1
    put(rig, row("A2", z("2026-11-23T09:06"), agent_id="U0AGENT01"))
    rig.clock.set(NOW + timedelta(seconds=50))
    assert alerts.scan(rig.rt) == 0  # this minute was scanned (by this or another replica)
    rig.clock.set(NOW + timedelta(minutes=1))
    assert alerts.scan(rig.rt) == 1
    rig.deliver()
    assert len(sla_posts(standin)) == 2
    rig.clock.set(z("2026-11-24T11:00"))  # on the hour, claims older than a day go
    alerts.scan(rig.rt)
    with rig.rt.transaction() as session:
        from sqlmodel import select

        from supportbot.storage.models import JobClaim

        keys = [c.key for c in session.exec(select(JobClaim)).all()]
    assert keys == ["alerts:scan:2026-11-24T11:00"]


def test_two_processes_scanning_at_once_post_once(tmp_path: Path, rig: BotRig, standin: SlackStandIn, database_url: str) -> None:
    rig.make_team()
    put(rig, *[row(f"N{i}", z("2026-11-23T09:05") + timedelta(minutes=i), agent_id="U0AGENT01") for i in range(5)])
    run_replicas(tmp_path, standin, database_url, "2026-11-23T10:00:00+00:00", "supportbot.bot.alerts:scan")
    [post] = sla_posts(standin)
    assert len(ticket_lines(post)) == 5


def test_the_scan_runs_every_minute_in_supportbot_run(rig: BotRig) -> None:
    from supportbot.bot import jobs
    from supportbot.bot.scheduler import Scheduler

    scheduler = Scheduler(rig.clock)
    jobs.install_all(scheduler, rig.rt)
    assert "alerts.scan" in scheduler.job_ids()
    job = scheduler._aps.get_job("alerts.scan")
    assert job.trigger.interval == timedelta(seconds=60)


def test_ticket_text_from_the_helpdesk_cannot_ping(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    put(rig, row("<!channel>", z("2026-11-23T09:10"), agent_id="U0AGENT01"),
        row("X2", z("2026-11-23T09:10"), team="Tier1", agent_id="not-a-slack-id", agent_email="<!here>@example.com"))
    scan(rig)
    [post] = sla_posts(standin)
    assert "&lt;!channel&gt;" in post.text_everywhere() and "&lt;!here&gt;@example.com" in post.text_everywhere()
    assert standin.pings() == [] and standin.rejected() == []
