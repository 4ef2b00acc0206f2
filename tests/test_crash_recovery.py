"""Kill -9 the bot after it stored an escalation but before Slack got the post; the next
process delivers it, once."""

from __future__ import annotations

import time
from pathlib import Path

from sqlmodel import select

from bot import teams
from bot.clock import SystemClock
from storage.db import make_engine, transaction
from storage.escalations import Escalation
from tests.procs import BotProcess
from tests.slack_standin import WORKSPACE


def make_team(database_url: str) -> None:
    engine = make_engine(database_url)
    with transaction(engine) as session:
        teams.create_team(
            session, workspace_id=WORKSPACE, name="Tier1", leaders=["U0LEAD01", "U0LEAD02"],
            members=["U0AGENT01"], escalation_channel="C0ESCAL01", digest_channel=None,
            timezone="UTC", language="en", now=SystemClock().now(),
        )
    engine.dispose()


def test_escalation_stored_before_a_crash_is_posted_once_after_restart(tmp_path: Path, standin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    make_team(database_url)
    standin.fail("chat.postMessage", "internal_error", status=500, times=10_000)  # Slack down
    first = BotProcess(tmp_path, standin, database_url)
    response = first.command("/escalate", "urgent Checkout fails for ACME #4711", user="U0AGENT01", channel="C0ESCAL01")
    assert response.status_code == 200 and "ESC-1" in response.text
    engine = make_engine(database_url)
    with transaction(engine) as session:
        assert session.exec(select(Escalation)).one().summary.startswith("Checkout fails")
    first.kill()
    assert standin.posts() == []

    standin.faults.clear()  # Slack is back
    second = BotProcess(tmp_path, standin, database_url)
    try:
        posted = standin.wait_for(lambda: standin.posts("C0ESCAL01"), timeout=40)
        assert posted, second.output()
        standin.wait_for(lambda: standin.dms("U0LEAD01"), timeout=20)
        time.sleep(2)  # anything duplicated would show up by now
        channel_posts = [c for c in standin.posts("C0ESCAL01") if "ESC-1" in c.text_everywhere() and not c.args.get("thread_ts")]
        assert len(channel_posts) == 1
        assert len([c for c in standin.dms("U0LEAD01") if "ESC-1" in c.text_everywhere()]) == 1
    finally:
        assert second.terminate() == 0
    engine.dispose()
