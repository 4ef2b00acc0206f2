"""`supportbot digest` on demand (dry run and a real post to the stand-in), and the
escalation figures KPIs read from the escalations table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportbot.bot import kpis, teams
from supportbot.bot.cli import main
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE
from supportbot.storage import escalations as esc_store
from supportbot.storage import kpis as store
from supportbot.storage import kudos as kudos_store
from supportbot.storage.db import make_engine, transaction
from supportbot.storage.teams import get_team
from tests.rig import SIGNING_SECRET


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def team_db(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    with transaction(engine) as session:
        team = teams.create_team(
            session, workspace_id=WORKSPACE, name="Tier1", leaders=["U0LEAD01"],
            members=["U0AGENT01"], escalation_channel="C0ESCAL01", digest_channel="C0DIGEST1",
            timezone="Europe/Madrid", language="es", now=z("2026-11-01T00:00"),
        )
        rows = []
        for i in range(3):
            row = {name: None for name in store.TICKET_FIELDS}
            created = z("2026-11-20T09:00") + timedelta(hours=i)
            row.update(ticket_id=f"D{i}", created_at=created, agent_id="U0AGENT01",
                       first_response_at=created + timedelta(minutes=5), frt_seconds=300,
                       solved_at=created + timedelta(hours=1), csat=5, csat_good=True, category="billing")
            rows.append(row)
        store.upsert_tickets(session=session, workspace_id=WORKSPACE, rows=rows, now=z("2026-11-21T00:00"))
        team_id = team.id
    yield engine, team_id
    engine.dispose()


def cli(argv, monkeypatch, database_url, capsys, **env):  # type: ignore[no-untyped-def]
    monkeypatch.chdir("/tmp")
    monkeypatch.setenv("DATABASE_URL", database_url)
    for key in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL"):
        monkeypatch.setenv(key, env.get(key, ""))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_digest_dry_run_prints_without_slack(team_db, monkeypatch, database_url, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli(["digest", "--team", "Tier1", "--date", "2026-11-20", "--dry-run"], monkeypatch, database_url, capsys)
    assert code == 0, err
    assert "C0DIGEST1" in out and "KPIS DIARIOS · TIER1 · VIE 20 NOV" in out  # the team's language
    assert "100,0\xa0%" in out and "100.0%" not in out and "billing" in out  # Spanish figures (Babel)


def test_digest_posts_once_and_again_on_request(team_db, standin, monkeypatch, database_url, capsys) -> None:  # type: ignore[no-untyped-def]
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": standin.url}
    argv = ["digest", "--team", "Tier1", "--date", "2026-11-20"]
    code, out, err = cli(argv, monkeypatch, database_url, capsys, **env)
    assert code == 0, err
    assert len(standin.posts("C0DIGEST1")) == 1
    assert len(standin.ok_calls("files.completeUploadExternal")) == 1
    code, out, _ = cli(argv, monkeypatch, database_url, capsys, **env)
    assert code == 1 and "already posted" in out
    code, out, _ = cli([*argv, "--again"], monkeypatch, database_url, capsys, **env)
    assert code == 0 and len(standin.posts("C0DIGEST1")) == 2
    assert standin.rejected() == []


def test_escalation_figures(team_db) -> None:  # type: ignore[no-untyped-def]
    esc = esc_store
    engine, team_id = team_db
    day_start, day_end = z("2026-11-19T23:00"), z("2026-11-20T23:00")  # 2026-11-20 in Madrid

    def add(n: int, created: str, ack: str | None, resolved: str | None, deadline: str) -> None:
        session.add(esc.Escalation(
            workspace_id=WORKSPACE, team_id=team_id, number=n, severity="high", summary="x",
            reporter_id="U0AGENT01", status="resolved" if resolved else ("acknowledged" if ack else "open"),
            created_at=z(created), acknowledged_at=z(ack) if ack else None,
            resolved_at=z(resolved) if resolved else None, ack_deadline_at=z(deadline),
        ))

    with transaction(engine) as session:
        add(1, "2026-11-20T09:00", "2026-11-20T09:10", "2026-11-20T10:00", "2026-11-20T09:15")
        add(2, "2026-11-20T11:00", "2026-11-20T11:30", None, "2026-11-20T11:15")
        add(3, "2026-11-20T20:00", None, None, "2026-11-20T20:15")  # open past its deadline
        add(4, "2026-11-19T12:00", None, None, "2026-11-21T12:00")  # before, not yet due
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        figures = kpis.escalation_figures(session, team, day_start, day_end, now=z("2026-11-22T00:00"))
    assert figures is not None
    assert (figures.opened, figures.acknowledged, figures.resolved) == (3, 2, 1)
    assert figures.median_ack_minutes == pytest.approx(20.0)  # 10 and 30 minutes
    assert figures.median_resolve_minutes == pytest.approx(60.0)
    assert figures.overdue_open == 1


def test_digest_counts_kudos_of_the_day(team_db) -> None:  # type: ignore[no-untyped-def]
    kudos = kudos_store
    engine, team_id = team_db
    with transaction(engine) as session:
        for when in ("2026-11-20T08:00", "2026-11-20T20:00", "2026-11-21T08:00"):
            session.add(kudos.Kudos(workspace_id=WORKSPACE, team_id=team_id, giver_id="U0LEAD01", message="thanks", channel_id="C0GENERAL", created_at=z(when)))
    with transaction(engine) as session:
        team = get_team(session=session, team_id=team_id)
        digest = kpis.build_digest(session, team=team, day=datetime(2026, 11, 20).date(), now=z("2026-11-23T08:00"))
    assert digest.kudos == 2
    assert digest.report.volume == 3 and digest.report.csat == 100.0
    assert len(digest.chart_days) == 14 and digest.chart["volume"][-1] == 3.0
