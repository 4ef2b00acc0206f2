"""`supportbot sync` as a process: a crash mid-backfill resumes from the last committed
page with exact counts; settings errors are one line; `team add|update --helpdesk-group`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from supportbot.bot.cli import main
from supportbot.bot.config import ConfigError, load_settings
from supportbot.bot.standin.zendesk import EMAIL, TOKEN, ZendeskStandIn
from supportbot.storage import kpis as store

WS = "T0TEST01"


@pytest.fixture
def zendesk() -> Iterator[ZendeskStandIn]:
    server = ZendeskStandIn(rate_limit=None).start()
    yield server
    server.stop()


def env_for(database_url: str, zendesk: ZendeskStandIn) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ZENDESK_", "FRESHDESK_", "DATABASE_"))}
    return {**keep, "DATABASE_URL": database_url, "ZENDESK_URL": zendesk.url, "ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN}


def counts(database_url: str) -> tuple[int, int, int]:
    """(ticket rows, distinct ticket ids, tickets in the per-day rollups)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            t = store.Ticket.__table__  # type: ignore[attr-defined]
            dc = store.KpiDayCount.__table__  # type: ignore[attr-defined]
            rows = conn.execute(select(func.count()).select_from(t).where(t.c.source == "zendesk")).scalar_one()
            distinct = conn.execute(select(func.count(func.distinct(t.c.ticket_id))).where(t.c.source == "zendesk")).scalar_one()
            rolled = conn.execute(select(func.coalesce(func.sum(dc.c.n), 0)).where(dc.c.dim == "channel")).scalar_one()
            return int(rows), int(distinct), int(rolled)
    finally:
        engine.dispose()


def seen(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT coalesce(max(tickets_seen), 0) FROM helpdesk_sync")).scalar_one())
    finally:
        engine.dispose()


def test_killed_mid_backfill_the_rerun_finishes_with_exact_counts(tmp_path: Path, database_url: str, zendesk: ZendeskStandIn) -> None:
    now = time.time()
    for i in range(1, 1001):
        zendesk.put_ticket(i, created_at=now - 10 * 86400 + 600 * i, updated_at=now - 10 * 86400 + 600 * i + 60, reply_minutes=4)
    zendesk.page_limit = 200  # five pages, within the ten requests a minute
    zendesk.delay = 0.4
    command = [sys.executable, "-m", "supportbot.bot.cli", "sync", "zendesk", "--workspace", WS, "--since", "2020-01-01", "--quiet"]
    env = env_for(database_url, zendesk)
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while seen(database_url) < 400 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    rows, distinct, rolled = counts(database_url)
    assert 400 <= rows < 1000 and rows == distinct == rolled  # committed pages only, whole
    hits_before = len(zendesk.export_hits())
    zendesk.delay = 0
    rerun = subprocess.run(command[:-3] + ["--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert counts(database_url) == (1000, 1000, 1000)
    resumed = zendesk.export_hits()[hits_before]
    assert "cursor" in resumed.query  # from the stored cursor, not from the start


def test_half_configured_helpdesk_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings({"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@example.com"}, env_file=None, require_slack=False)
    assert exc.value.setting == "ZENDESK_API_TOKEN" and "\n" not in str(exc.value)
    with pytest.raises(ConfigError) as exc:
        load_settings({"FRESHDESK_API_KEY": "k"}, env_file=None, require_slack=False)
    assert exc.value.setting == "FRESHDESK_DOMAIN"
    with pytest.raises(ConfigError) as exc:
        load_settings({"SYNC_INTERVAL_MINUTES": "0"}, env_file=None, require_slack=False)
    assert exc.value.setting == "SYNC_INTERVAL_MINUTES"
    settings = load_settings(
        {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@example.com", "ZENDESK_API_TOKEN": "zd-secret-1", "FRESHDESK_DOMAIN": "acme", "FRESHDESK_API_KEY": "fd-secret-2"},
        env_file=None, require_slack=False,
    )
    assert (settings.zendesk_url, settings.freshdesk_url, settings.sync_interval_minutes) == ("https://acme.zendesk.com", "https://acme.freshdesk.com", 5)
    assert "secret" not in repr(settings)
    monkeypatch.chdir(tmp_path)
    for name in ("ZENDESK_SUBDOMAIN", "ZENDESK_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "FRESHDESK_DOMAIN", "FRESHDESK_URL", "FRESHDESK_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZENDESK_SUBDOMAIN", "acme")
    assert main(["sync", "zendesk"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "ZENDESK_EMAIL: missing" in err
    monkeypatch.delenv("ZENDESK_SUBDOMAIN")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert main(["sync", "freshdesk"]) == 2
    assert "freshdesk is not configured: set FRESHDESK_DOMAIN" in capsys.readouterr().err


def test_sync_interval_is_whole_minutes_or_a_test_fraction() -> None:
    def interval(value: str) -> float:
        return load_settings({"SYNC_INTERVAL_MINUTES": value}, env_file=None, require_slack=False).sync_interval_minutes

    assert (interval("5"), interval("1440"), interval("0.1")) == (5, 1440, 0.1)
    assert isinstance(interval("5"), int)
    for bad in ("0", "0.01", "1.5", "1441", "five", "nan"):
        with pytest.raises(ConfigError) as exc:
            interval(bad)
        assert exc.value.setting == "SYNC_INTERVAL_MINUTES"


def test_team_helpdesk_groups_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'teams.db'}")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    base = ["--workspace", WS, "--leader", "U0LEAD01", "--escalation-channel", "C0ESCAL01"]
    assert main(["team", "add", "Tier1", *base, "--helpdesk-group", "Support L1", "--helpdesk-group", "VIP"]) == 0
    assert "helpdesk_groups:    ['Support L1', 'VIP']" in capsys.readouterr().out
    assert main(["team", "update", "Tier1", "--workspace", WS, "--helpdesk-group", "Billing"]) == 0
    assert "['Billing']" in capsys.readouterr().out
    assert main(["team", "update", "Tier1", "--workspace", WS, "--helpdesk-group", ""]) == 0  # back to the team's name
    assert "helpdesk_groups:    []" in capsys.readouterr().out
    assert main(["team", "update", "Tier1", "--workspace", WS, "--helpdesk-group", "x" * 81]) == 2
    assert "at most 80 characters" in capsys.readouterr().err
