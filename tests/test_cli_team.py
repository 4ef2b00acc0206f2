"""Headless team setup through the real CLI entry point and a real SQLite file."""

from __future__ import annotations

import pytest

from supportbot.bot.cli import main


@pytest.fixture
def cli_env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for key in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_team_lifecycle(cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "team", "add", "Tier 1", "--workspace", "T0TEST01", "--leader", "U0LEAD01", "--leader", "U0LEAD02", "--member", "U0AGENT01", "--escalation-channel", "C0ESCAL01", "--timezone", "Europe/Madrid", "--language", "es")
    assert code == 0 and "U0LEAD01, U0LEAD02" in out
    code, out, _ = run(capsys, "team", "list")
    assert code == 0 and "Tier 1" in out and "Europe/Madrid" in out
    code, out, _ = run(capsys, "team", "update", "Tier 1", "--member", "U0AGENT02", "--remove-member", "U0AGENT01", "--ack-timeout", "urgent=2m,low=2h", "--digest-channel", "C0DIGEST1")
    assert code == 0
    code, out, _ = run(capsys, "team", "show", "Tier 1")
    assert "U0AGENT02" in out and "U0AGENT01" not in out
    assert "'urgent': 120" in out and "C0DIGEST1" in out
    code, out, err = run(capsys, "team", "remove", "Tier 1")
    assert code == 2 and "--yes" in err
    code, out, _ = run(capsys, "team", "remove", "Tier 1", "--yes")
    assert code == 0
    code, out, err = run(capsys, "team", "show", "Tier 1", "--workspace", "T0TEST01")
    assert code == 2 and "no team called" in err.lower()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--leader", "bob", "--escalation-channel", "C0ESCAL01"], "not a Slack user id"),
        (["--leader", "U0LEAD01", "--escalation-channel", "general"], "not a Slack channel id"),
        (["--leader", "U0LEAD01", "--escalation-channel", "C0ESCAL01", "--timezone", "Moon/Base"], "not a time zone"),
    ],
)
def test_bad_input_is_one_clear_line(cli_env, capsys, args, needle) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, "team", "add", "X", "--workspace", "T0TEST01", *args)
    assert code == 2
    assert needle in err and len(err.strip().splitlines()) == 1


def test_duplicate_team_and_bad_ack_timeout(cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    base = ["team", "add", "A", "--workspace", "T0TEST01", "--leader", "U0LEAD01", "--escalation-channel", "C0ESCAL01"]
    assert run(capsys, *base)[0] == 0
    code, _, err = run(capsys, *base)
    assert code == 2 and "already exists" in err
    code, _, err = run(capsys, "team", "update", "A", "--ack-timeout", "critical=5m")
    assert code == 2 and "urgent=5m" in err


def test_workspace_is_asked_from_slack_when_unknown(cli_env, capsys, standin, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SLACK_BOT_TOKEN", standin.token)
    monkeypatch.setenv("SLACK_API_URL", standin.url)
    code, out, err = run(capsys, "team", "add", "B", "--leader", "U0LEAD01", "--escalation-channel", "C0ESCAL01")
    assert code == 0, err
    assert "T0TEST01" in out
    assert [c.method for c in standin.calls] == ["auth.test"]


def test_manifest_lists_every_command(cli_env, capsys) -> None:  # type: ignore[no-untyped-def]
    import yaml

    code, out, _ = run(capsys, "manifest", "--url", "https://bot.example.com")
    data = yaml.safe_load(out)
    commands = {c["command"]: c for c in data["features"]["slash_commands"]}
    assert set(commands) == {"/escalate", "/kpis", "/coach", "/kudos", "/standup", "/oneonone", "/pulse", "/away", "/supportbot"}
    assert all(c["should_escape"] is True for c in commands.values())
    assert all(c["url"] == "https://bot.example.com/slack/events" for c in commands.values())
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["settings"]["interactivity"]["request_url"] == "https://bot.example.com/slack/events"
    code, out, _ = run(capsys, "manifest")
    data = yaml.safe_load(out)
    assert data["settings"]["socket_mode_enabled"] is True
    assert "url" not in data["features"]["slash_commands"][0]
    assert "chat:write" in data["oauth_config"]["scopes"]["bot"]
