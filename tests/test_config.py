"""Settings: every missing or malformed one stops start-up with one clear line (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from supportbot.bot.config import ConfigError, load_settings

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s3cr3t-signing"}


def test_defaults() -> None:
    s = load_settings(GOOD, env_file=None)
    assert s.database_url == "sqlite:///supportbot.db"
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.port == 3000 and not s.socket_mode
    assert (s.default_timezone, s.default_language, s.log_level) == ("UTC", "en", "INFO")


def test_app_token_selects_socket_mode_and_api_url_gets_slash() -> None:
    s = load_settings({**GOOD, "SLACK_APP_TOKEN": "xapp-1-A-1-x", "SLACK_API_URL": "http://127.0.0.1:9/api"}, env_file=None)
    assert s.socket_mode
    assert s.slack_api_url == "http://127.0.0.1:9/api/"


def test_postgres_url_uses_psycopg3() -> None:
    s = load_settings({**GOOD, "DATABASE_URL": "postgresql://u:pw@db/x"}, env_file=None)
    assert s.database_url == "postgresql+psycopg://u:pw@db/x"
    assert "pw" not in repr(s)


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"SLACK_SIGNING_SECRET": "x"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({**GOOD, "SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN"),
        ({**GOOD, "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN"),
        ({**GOOD, "PORT": "http"}, "PORT"),
        ({**GOOD, "PORT": "70000"}, "PORT"),
        ({**GOOD, "DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE"),
        ({**GOOD, "DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
        ({**GOOD, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({**GOOD, "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({**GOOD, "DATABASE_URL": "supportbot.db"}, "DATABASE_URL"),
    ],
)
def test_bad_setting_is_named(env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env, env_file=None)
    assert info.value.setting == setting


def test_dotenv_file_is_read_and_environment_wins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_BOT_TOKEN=xoxb-from-file\nSLACK_SIGNING_SECRET=file-secret\nPORT=4000\n")
    s = load_settings({"PORT": "5000"}, env_file=env_file)
    assert s.slack_bot_token == "xoxb-from-file"
    assert s.port == 5000


def test_run_with_missing_setting_prints_one_line_and_exits_2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env["SLACK_SIGNING_SECRET"] = "very-secret-value"
    result = subprocess.run(
        [sys.executable, "-m", "supportbot.bot.cli", "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr
    assert "very-secret-value" not in result.stderr + result.stdout


def test_log_filter_masks_secrets(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from supportbot.bot.logsetup import RedactSecrets

    logger = logging.getLogger("t.redact")
    handler = logging.StreamHandler()
    flt = RedactSecrets(["my-signing-secret"])
    record = logger.makeRecord("t", logging.INFO, __file__, 1, "token %s secret %s", ("xoxb-123-456-abc", "my-signing-secret"), None)
    flt.filter(record)
    assert "xoxb-123" not in record.getMessage() and "my-signing-secret" not in record.getMessage()
    assert handler  # the filter is attached to the root handler by configure_logging
