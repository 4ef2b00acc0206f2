"""`supportbot doctor` against the Slack stand-in and a real database: each cause of
"nothing arrives" is reported on one line that says what to do; no secret is printed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from supportbot.bot import doctor, oneonones, standups, teams
from supportbot.bot.cli.doctor import SlackWeb
from supportbot.bot.standin.slack import BOT_TOKEN, BOT_USER, WORKSPACE, SlackStandIn
from supportbot.storage.db import make_engine, transaction, upgrade
from supportbot.storage.models import OutboxMessage
from tests.rig import SIGNING_SECRET
from tests.test_run_process import free_port

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday


def env_for(standin: SlackStandIn, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.url, "DATABASE_URL": database_url, **extra,
    }


def make_team(database_url: str, **overrides: Any) -> None:
    engine = make_engine(database_url)
    with transaction(engine) as session:
        args: dict[str, Any] = {
            "workspace_id": WORKSPACE, "name": "Tier1", "leaders": ["U0LEAD01"],
            "members": ["U0AGENT01", "U0AGENT02"], "escalation_channel": "C0ESCAL01",
            "digest_channel": "C0DIGEST1", "timezone": "Europe/Madrid", "language": "en",
            "now": NOW - timedelta(days=30),
        }
        teams.create_team(session, **{**args, **overrides})
    engine.dispose()


def healthy_slack(standin: SlackStandIn) -> None:
    for user in ("U0LEAD01", "U0AGENT01", "U0AGENT02"):
        standin.add_user(user, name=f"Person {user[-2:]}")
    standin.add_channel("C0ESCAL01", "escalations", private=True, member=True)
    standin.add_channel("C0DIGEST1", "support-digest", private=False, member=True)


def lines(standin: SlackStandIn, database_url: str, **extra: str) -> list[str]:
    env = env_for(standin, database_url, **extra)
    return [c.line for c in doctor.run_checks(SlackWeb, now=NOW, environ=env, env_file=None)]


def failures(found: list[str]) -> list[str]:
    return [line for line in found if line.startswith("✗")]


@pytest.fixture
def install(standin: SlackStandIn, database_url: str) -> str:
    make_team(database_url)
    healthy_slack(standin)
    return database_url


def test_a_healthy_install_passes_every_check(standin: SlackStandIn, install: str) -> None:
    found = lines(standin, install)
    assert failures(found) == [], found
    text_ = "\n".join(found)
    assert "✓ Slack token: works, bot @supportbot (U0BOT0001) in workspace Test (T0TEST01)" in text_
    assert "✓ scopes: all 9 the manifest asks for are granted" in text_
    assert "✓ Tier1: escalation channel #escalations (C0ESCAL01): the bot is a member" in text_
    assert "✓ Tier1: digest channel #support-digest (C0DIGEST1): the bot is a member" in text_
    assert "✓ Tier1: 1 leader and 2 members, all active Slack users" in text_
    assert "✓ Tier1: time zone Europe/Madrid" in text_
    # 10:00 UTC on Monday is 11:00 in Madrid: the next 09:00 digest is Tuesday's.
    assert "✓ Tier1: next digest Tue 24 Nov 09:00 Europe/Madrid, no stand-up scheduled" in text_
    assert any(line.startswith("✓ outbox (T0TEST01): 0 waiting, none failed") for line in found)


def test_private_channel_without_the_bot(standin: SlackStandIn, install: str) -> None:
    standin.add_channel("C0ESCAL01", "escalations", private=True, member=False)
    assert failures(lines(standin, install)) == [
        "✗ Tier1: escalation channel C0ESCAL01: Slack shows the bot no such channel: if it is private, "
        "/invite @supportbot there; otherwise set the right one with `supportbot team update Tier1 --escalation-channel C…`"
    ]


def test_channel_that_does_not_exist(standin: SlackStandIn, install: str) -> None:
    del standin.channels["C0DIGEST1"]
    [line] = failures(lines(standin, install))
    assert line.startswith("✗ Tier1: digest channel C0DIGEST1: Slack shows the bot no such channel")
    assert "--digest-channel" in line


def test_archived_channel(standin: SlackStandIn, install: str) -> None:
    standin.add_channel("C0ESCAL01", "escalations", private=True, member=True, archived=True)
    assert failures(lines(standin, install)) == [
        "✗ Tier1: escalation channel #escalations (C0ESCAL01) is archived: unarchive it in Slack or choose another with "
        "`supportbot team update Tier1 --escalation-channel C…`"
    ]


def test_public_channel_without_the_bot(standin: SlackStandIn, install: str) -> None:
    standin.add_channel("C0ESCAL01", "escalations", private=False, member=False)
    found = lines(standin, install)
    assert failures(found) == []
    assert "✓ Tier1: escalation channel #escalations (C0ESCAL01): public, the bot posts there with chat:write.public" in found
    standin.scopes.remove("chat:write.public")
    assert failures(lines(standin, install)) == [
        "✗ scopes: the app lacks chat:write.public, which the manifest asks for: update the app (App Manifest page: "
        "paste `supportbot manifest`, or add them on OAuth & Permissions), then reinstall it to the workspace",
        "✗ Tier1: escalation channel #escalations (C0ESCAL01): the bot is not a member and lacks chat:write.public: "
        "/invite @supportbot there",
    ]


def test_public_digest_channel_needs_the_bot_for_its_chart(standin: SlackStandIn, install: str) -> None:
    standin.add_channel("C0DIGEST1", "support-digest", private=False, member=False)
    assert failures(lines(standin, install)) == [
        "✗ Tier1: digest channel #support-digest (C0DIGEST1): the bot is not a member, so the digest's chart cannot "
        "be uploaded there: /invite @supportbot there"
    ]


def test_scopes_missing_since_a_manifest_change(standin: SlackStandIn, install: str) -> None:
    standin.scopes = [s for s in standin.scopes if s not in ("channels:read", "groups:read")]
    found = failures(lines(standin, install))
    assert found[0].startswith("✗ scopes: the app lacks channels:read, groups:read, which the manifest asks for")
    assert found[1:] == [
        "✗ Tier1: escalation channel C0ESCAL01: cannot be checked, the app lacks groups:read: add it (see scopes) and reinstall",
        "✗ Tier1: digest channel C0DIGEST1: cannot be checked, the app lacks channels:read: add it (see scopes) and reinstall",
    ]


class FakeSlack:
    """For the one answer the stand-in (like Slack) never gives a bot token: a private
    channel it can see but is not in."""

    def channel(self, channel_id: str) -> dict[str, Any]:
        return {"id": channel_id, "name": "escalations", "is_private": True, "is_member": False, "is_archived": False}


def test_visible_private_channel_without_the_bot() -> None:
    team = type("T", (), {"name": "Tier1"})()
    me = doctor.Identity("T1", "Test", BOT_USER, "supportbot", frozenset({"chat:write.public"}))
    check = doctor.check_channel(FakeSlack(), team, "C0ESCAL01", [("escalation channel", "--escalation-channel")], me)  # type: ignore[arg-type]
    assert check.line == "✗ Tier1: escalation channel #escalations (C0ESCAL01): the bot is not a member of this private channel: /invite @supportbot there"


def test_people_who_left_or_never_were(standin: SlackStandIn, install: str) -> None:
    standin.add_user("U0AGENT02", name="Ana Gone", deleted=True)
    standin.add_user("U0LEAD01", name="Lea Left", deleted=True)
    del standin.users["U0AGENT01"]
    assert failures(lines(standin, install)) == [
        "✗ Tier1: leader U0LEAD01 (Lea Left) is deactivated in Slack: `supportbot team update Tier1 --leader …` (the full list, without them)",
        "✗ Tier1: member U0AGENT01 is not a user of this workspace: `supportbot team update Tier1 --remove-member U0AGENT01`",
        "✗ Tier1: member U0AGENT02 (Ana Gone) is deactivated in Slack: `supportbot team update Tier1 --remove-member U0AGENT02`",
    ]


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth", "account_inactive"])
def test_revoked_or_wrong_token(standin: SlackStandIn, install: str, error: str) -> None:
    standin.revoke(error)
    found = failures(lines(standin, install))
    assert len(found) == 1, found  # the team checks that need Slack are skipped, not repeated
    assert found[0].startswith(f"✗ Slack token (SLACK_BOT_TOKEN): Slack answered {error}: ")
    assert ("reinstall the app" if error != "invalid_auth" else "copy the Bot User OAuth Token") in found[0]


def test_slack_unreachable(standin: SlackStandIn, install: str) -> None:
    api = f"http://127.0.0.1:{free_port()}/api/"
    found = failures(lines(standin, install, SLACK_API_URL=api))
    assert found == [f"✗ Slack token: Slack is unreachable at {api} ([Errno 111] Connection refused): check the network, a proxy, or SLACK_API_URL"]


def test_team_of_another_workspace(standin: SlackStandIn, install: str) -> None:
    make_team(install, workspace_id="T0OTHER01", name="Elsewhere")
    assert "✗ Elsewhere: belongs to workspace T0OTHER01, but SLACK_BOT_TOKEN is for T0TEST01: use that workspace's token, or remove the team" in failures(lines(standin, install))


def set_sql(database_url: str, statement: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_time_zone_that_is_not_a_zone(standin: SlackStandIn, install: str) -> None:
    set_sql(install, "UPDATE team SET timezone = 'Mars/Olympus' WHERE name = 'Tier1'")
    assert failures(lines(standin, install)) == [
        "✗ Tier1: time zone 'Mars/Olympus' is not an IANA name: `supportbot team update Tier1 --timezone Area/City`",
        "✗ Tier1: nothing can be scheduled until the time zone is fixed",
    ]


def test_next_standup_and_oneonone(standin: SlackStandIn, install: str) -> None:
    engine = make_engine(install)
    with transaction(engine) as session:
        team = teams.find_team(session, WORKSPACE, "Tier1")
        schedule = standups.set_schedule(session, team=team, leader_id="U0LEAD01", days="mon-fri", at="09:30", channel_id=None, now=NOW)
        # Monday and Tuesday off. Without that, Bogota's 09:30 today (14:30 UTC) would be next.
        schedule.skip_days = ["2026-11-23", "2026-11-24"]
        standups.set_member_timezone(session, workspace_id=WORKSPACE, user_id="U0AGENT02", tz="America/Bogota", source="user", now=NOW)
        oneonones.schedule(session, workspace_id=WORKSPACE, leader_id="U0LEAD01", agent_id="U0AGENT01", cadence="weekly", weekday=3, at="15:00", now=NOW)
    engine.dispose()
    found = lines(standin, install)
    assert failures(found) == [], found
    assert "✓ Tier1: time zone Europe/Madrid (members also in America/Bogota)" in found
    assert [line for line in found if line.startswith("✓ Tier1: next")] == ["✓ Tier1: next digest Tue 24 Nov 09:00 Europe/Madrid, stand-up Wed 25 Nov 09:30 Europe/Madrid, 1:1 Thu 26 Nov 15:00 Europe/Madrid (1 scheduled)"]


def test_paused_standup_is_said(standin: SlackStandIn, install: str) -> None:
    engine = make_engine(install)
    with transaction(engine) as session:
        team = teams.find_team(session, WORKSPACE, "Tier1")
        standups.set_schedule(session, team=team, leader_id="U0LEAD01", days="mon", at="09:30", channel_id="C0STAND01", now=NOW)
        standups.set_paused(session, team=team, leader_id="U0LEAD01", paused=True, now=NOW)
    engine.dispose()
    assert any("stand-up paused (`/standup resume`)" in line and line.startswith("✓") for line in lines(standin, install))


def add_outbox(database_url: str, *, status: str, created: datetime, error: str | None = None) -> None:
    engine = make_engine(database_url)
    with transaction(engine) as session:
        session.add(OutboxMessage(
            workspace_id=WORKSPACE, kind="kpis.digest", data={}, status=status, attempts=3,
            next_attempt_at=created, created_at=created, last_error=error,
        ))
    engine.dispose()


def test_outbox_failures_are_reported(standin: SlackStandIn, install: str) -> None:
    add_outbox(install, status="failed", created=NOW - timedelta(hours=3), error="channel_not_found")
    add_outbox(install, status="failed", created=NOW - timedelta(days=30), error="old news")
    assert failures(lines(standin, install)) == [
        "✗ outbox (T0TEST01): 1 message(s) failed in the last 7 days and will not be retried (latest: kpis.digest, "
        "channel_not_found); fix what the other checks report, then the next ones go out; 0 waiting"
    ]


def test_outbox_messages_stuck_waiting(standin: SlackStandIn, install: str) -> None:
    add_outbox(install, status="pending", created=NOW - timedelta(minutes=1))
    assert failures(lines(standin, install)) == []
    add_outbox(install, status="pending", created=NOW - timedelta(hours=3), error="ratelimited")
    assert failures(lines(standin, install)) == [
        "✗ outbox (T0TEST01): 2 message(s) waiting, the oldest for 3 h, last error ratelimited: "
        "is `supportbot run` running, and can it reach Slack?"
    ]


def test_database_missing_empty_or_behind(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'nope.db'}"
    assert doctor.check_database(missing).line == f"✗ database: {missing} does not exist yet: run `supportbot db upgrade` (or `supportbot run`, which creates it)"
    assert not (tmp_path / "nope.db").exists()
    empty = tmp_path / "empty.db"
    make_engine(f"sqlite:///{empty}").connect().close()
    assert doctor.check_database(f"sqlite:///{empty}").line == f"✗ database: sqlite:///{empty} has no tables yet: run `supportbot db upgrade`"
    behind = f"sqlite:///{tmp_path / 'behind.db'}"
    upgrade(behind, "0008")
    assert doctor.check_database(behind).line == "✗ database: at revision 0008, this supportbot needs 0011: run `supportbot db upgrade`"
    upgrade(behind)
    assert doctor.check_database(behind).ok


def test_unreachable_database_hides_its_password() -> None:
    url = f"postgresql+psycopg://bot:s3cretpw@127.0.0.1:{free_port()}/supportbot"
    check = doctor.check_database(url)
    assert not check.ok
    assert check.line.startswith("✗ database: cannot reach postgresql+psycopg://bot:***@127.0.0.1:")
    assert "start it or fix" in check.line and "s3cretpw" not in check.line


def test_settings_problem_is_named_and_the_database_still_checked(standin: SlackStandIn, install: str) -> None:
    found = lines(standin, install, SLACK_SIGNING_SECRET="not-it")
    assert found[0].startswith("✗ settings: SLACK_SIGNING_SECRET: is not a Signing Secret")
    assert found[1].startswith("✓ database:")


def run_doctor(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "supportbot.bot.cli", "doctor"], cwd=tmp_path, env={**base, **env},
        capture_output=True, text=True, timeout=120,
    )


def test_cli_exit_0_when_healthy_and_1_with_a_problem(tmp_path: Path, standin: SlackStandIn, install: str) -> None:
    done = run_doctor(tmp_path, env_for(standin, install))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "all checks passed"
    assert all(line.startswith("✓") for line in done.stdout.strip().splitlines()[:-1])
    standin.add_user("U0AGENT02", deleted=True)
    done = run_doctor(tmp_path, env_for(standin, install))
    assert done.returncode == 1
    assert done.stdout.strip().splitlines()[-1] == "1 problem found"
    assert "Traceback" not in done.stderr


def test_cli_prints_no_secret(tmp_path: Path, standin: SlackStandIn, install: str) -> None:
    standin.revoke("token_revoked")
    secrets = {"SLACK_APP_TOKEN": "xapp-1-A0TEST-1-supersecretapp", "INGEST_TOKEN": "ingest-secret-value-123"}
    outputs = [run_doctor(tmp_path, env_for(standin, install, **secrets))]
    dead_pg = f"postgresql://bot:pgsecretpw@127.0.0.1:{free_port()}/db"
    outputs.append(run_doctor(tmp_path, env_for(standin, dead_pg, **secrets)))
    outputs.append(run_doctor(tmp_path, env_for(standin, install, SLACK_SIGNING_SECRET="short-but-secret")))
    for done in outputs:
        everything = done.stdout + done.stderr
        assert done.returncode == 1 and "✗" in done.stdout
        for secret in (BOT_TOKEN, SIGNING_SECRET, "supersecretapp", "ingest-secret-value-123", "pgsecretpw", "short-but-secret"):
            assert secret not in everything
        assert "Traceback" not in everything
