"""Two real bot processes sharing one database run the same scheduled job at the same
moment: every message goes out once (on PostgreSQL with SUPPORTBOT_TEST_POSTGRES=1)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from supportbot.bot import teams
from supportbot.bot.standin.slack import BOT_TOKEN, WORKSPACE, SlackStandIn
from supportbot.storage.db import make_engine, transaction


def run_replicas(tmp_path: Path, standin: SlackStandIn, database_url: str, now: str, target: str, *args: str, count: int = 2) -> None:
    go = tmp_path / f"go-{target.replace(':', '-')}"
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "x" * 12, "SLACK_API_URL": standin.url, "DATABASE_URL": database_url}
    procs = [
        subprocess.Popen([sys.executable, "-m", "tests.replica_worker", str(go), now, target, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(count)
    ]
    import time

    time.sleep(2.5)  # both have imported everything and are waiting
    go.write_text("go")
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs


def make_team(database_url: str, clock, **kw) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    with transaction(engine) as session:
        teams.create_team(
            session, workspace_id=WORKSPACE, name=kw.get("name", "Tier1"), leaders=["U0LEAD01", "U0LEAD02"],
            members=["U0AGENT01", "U0AGENT02"], escalation_channel="C0ESCAL01", digest_channel="C0DIGEST1",
            timezone="UTC", language="en", now=clock.now(),
        )
    engine.dispose()


def texts(calls: Sequence) -> list[str]:  # type: ignore[type-arg]
    return [c.text_everywhere() for c in calls]


def test_reescalation_sent_once_by_two_replicas(tmp_path: Path, standin, database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    from supportbot.bot import escalations

    make_team(database_url, clock)
    engine = make_engine(database_url)
    with transaction(engine) as session:
        team = teams.find_team(session, WORKSPACE, "Tier1")
        new = escalations.prepare(session, team=team, reporter_id="U0AGENT01", draft=escalations.Draft(severity="urgent", summary="Payment page down"), clock=clock)
        escalations.save(session, [new], clock=clock)
    engine.dispose()
    later = (clock.now() + timedelta(minutes=6)).isoformat()
    run_replicas(tmp_path, standin, database_url, later, "supportbot.bot.escalations:check_deadlines")
    dms_to_second = [c for c in standin.dms("U0LEAD02")]
    assert len(dms_to_second) == 1, texts(dms_to_second)
    assert len(standin.posts("C0ESCAL01")) == 2  # the escalation post and one thread notice


def test_digest_sent_once_by_two_replicas(tmp_path: Path, standin, database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    make_team(database_url, clock)
    at = "2026-11-23T09:00:00+00:00"  # Monday 09:00 UTC, the team's digest time
    run_replicas(tmp_path, standin, database_url, "2026-11-23T09:00:30+00:00", "supportbot.bot.kpis:run_digest", "--scheduled-for", at, "1")
    top_level = [c for c in standin.posts("C0DIGEST1") if not c.args.get("thread_ts")]
    assert len(top_level) == 1, texts(top_level)
    assert len(standin.ok_calls("files.completeUploadExternal")) == 1


def test_follow_up_reminder_sent_once_by_two_replicas(tmp_path: Path, standin, database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from supportbot.bot import coaching

    make_team(database_url, clock)
    engine = make_engine(database_url)
    with transaction(engine) as session:
        team = teams.find_team(session, WORKSPACE, "Tier1")
        coaching.add_note(session, team=team, author_id="U0LEAD01", agent_id="U0AGENT01", text="Check the refund macro", now=clock.now(), follow_up_on=date(2026, 11, 24))
    engine.dispose()
    run_replicas(tmp_path, standin, database_url, "2026-11-24T09:01:00+00:00", "supportbot.bot.coaching:send_follow_ups")
    assert len([c for c in standin.dms("U0LEAD01") if "refund macro" in c.text_everywhere()]) == 1
