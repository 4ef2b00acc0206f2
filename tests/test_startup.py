"""`supportbot run` as a new user meets it: every start-up failure is one line naming the
setting or service (exit 2, no traceback); an unreachable Slack is waited for with
`/healthz` at 503; Socket Mode serves `/healthz` on PORT; every subcommand explains itself."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from supportbot.bot.cli import build_parser
from supportbot.bot.standin.slack import BOT_TOKEN, SlackStandIn
from tests.rig import SIGNING_SECRET
from tests.test_run_process import free_port

ROOT = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "PORT"))}
    env.update(extra)
    return env


def run_cli(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportbot.bot.cli", *args], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], setting: str, *words: str) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("supportbot: ")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"supportbot: {setting}: "), errors[0]
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def test_the_copied_example_settings_say_what_to_paste(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")  # `cp .env.example .env && supportbot run`
    done = run_cli(tmp_path, clean_env(), "run")
    line = assert_one_line_error(done, "SLACK_BOT_TOKEN", ".env.example", "OAuth & Permissions")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "xoxb-your-bot-token" not in line


def test_placeholder_signing_secret_is_named(tmp_path: Path) -> None:
    env = clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="your-signing-secret")
    assert_one_line_error(run_cli(tmp_path, env, "run"), "SLACK_SIGNING_SECRET", ".env.example")


@pytest.mark.parametrize("secret", ["abc123", "0123456789abcdef0123456789abcdef'", "xoxb-1-2-pasted-the-token"])
def test_signing_secret_of_the_wrong_shape_is_named(tmp_path: Path, secret: str) -> None:
    env = clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=secret)
    line = assert_one_line_error(run_cli(tmp_path, env, "run"), "SLACK_SIGNING_SECRET", "Basic Information")
    assert secret not in line


def run_env(tmp_path: Path, standin: SlackStandIn, **extra: str) -> dict[str, str]:
    return clean_env(**{
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": standin.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "PORT": str(free_port()), **extra,
    })


def test_wrong_token_is_one_line(tmp_path: Path, standin: SlackStandIn) -> None:
    env = run_env(tmp_path, standin, SLACK_BOT_TOKEN="xoxb-1-2-not-the-right-one")
    line = assert_one_line_error(run_cli(tmp_path, env, "run"), "SLACK_BOT_TOKEN", "invalid_auth", "copy the Bot User OAuth Token")
    assert "not-the-right-one" not in line


@pytest.mark.parametrize(("error", "advice"), [("token_revoked", "reinstall the app"), ("account_inactive", "reinstall the app")])
def test_revoked_token_is_one_line(tmp_path: Path, standin: SlackStandIn, error: str, advice: str) -> None:
    standin.revoke(error)
    done = run_cli(tmp_path, run_env(tmp_path, standin), "run")
    assert_one_line_error(done, "SLACK_BOT_TOKEN", error, advice)
    assert BOT_TOKEN not in done.stderr + done.stdout


def test_unreachable_postgres_is_one_line_without_the_password(tmp_path: Path, standin: SlackStandIn) -> None:
    url = f"postgresql://supportbot:hunter2secret@127.0.0.1:{free_port()}/supportbot"
    done = run_cli(tmp_path, run_env(tmp_path, standin, DATABASE_URL=url), "run")
    line = assert_one_line_error(done, "DATABASE_URL", "cannot reach the database", "127.0.0.1")
    assert "hunter2secret" not in done.stderr + done.stdout
    assert ":***@" in line


def test_sqlite_file_in_a_missing_folder_is_one_line(tmp_path: Path, standin: SlackStandIn) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'bot.db'}"
    done = run_cli(tmp_path, run_env(tmp_path, standin, DATABASE_URL=url), "run")
    assert_one_line_error(done, "DATABASE_URL", "cannot reach the database")


def test_busy_port_is_one_line(tmp_path: Path, standin: SlackStandIn) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104
        taken.listen()
        env = run_env(tmp_path, standin, PORT=str(taken.getsockname()[1]))
        assert_one_line_error(run_cli(tmp_path, env, "run"), "PORT", "cannot listen")


def wait_status(url: str, status: int, proc: subprocess.Popen[str], timeout: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the bot exited"
        try:
            last = requests.get(url, timeout=2)
            if last.status_code == status:
                return last
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered {status} (last: {last and last.status_code})")


def start_waiting_bot(tmp_path: Path, **extra: str) -> tuple[subprocess.Popen[str], str, int, Path]:
    slack_port = free_port()  # nothing listens there yet
    port = free_port()
    env = clean_env(
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=f"http://127.0.0.1:{slack_port}/api/", DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        PORT=str(port), **extra,
    )
    log = tmp_path / "bot.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "supportbot.bot.cli", "run"], cwd=tmp_path, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
    )
    return proc, f"http://127.0.0.1:{port}/healthz", slack_port, log


def test_unreachable_slack_is_waited_for_with_healthz_503(tmp_path: Path) -> None:
    proc, healthz, slack_port, log = start_waiting_bot(tmp_path)
    standin = None
    try:
        answer = wait_status(healthz, 503, proc)
        assert "waiting for Slack" in answer.text
        deadline = time.monotonic() + 30
        while "Slack is unreachable" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = [line for line in log.read_text().splitlines() if "Slack is unreachable" in line]
        assert len(lines) == 1 and f"http://127.0.0.1:{slack_port}/api/" in lines[0], log.read_text()
        time.sleep(2)  # a retry or two happen meanwhile; still one line, still 503
        assert requests.get(healthz, timeout=2).status_code == 503
        standin = SlackStandIn().start(port=slack_port)
        wait_status(healthz, 200, proc, timeout=60)
        output = log.read_text()
        assert output.count("Slack is unreachable") == 1
        assert "Slack answers at" in output
        assert standin.ok_calls("auth.test")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        if standin is not None:
            standin.stop()
    output = log.read_text()
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output


def test_stopping_while_waiting_for_slack_is_clean(tmp_path: Path) -> None:
    proc, healthz, _port, log = start_waiting_bot(tmp_path)
    try:
        wait_status(healthz, 503, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    assert "supportbot stopped" in log.read_text()


def test_socket_mode_serves_healthz_on_port(tmp_path: Path) -> None:
    """Nothing listened on PORT in Socket Mode before; now /healthz does, 503 until Slack
    answers. Once it does, the stand-in refuses the App-Level Token as Slack would refuse a
    wrong one, and that is one line too."""
    proc, healthz, slack_port, log = start_waiting_bot(tmp_path, SLACK_APP_TOKEN="xapp-1-A0TEST-1-wrong")
    standin = None
    try:
        assert "waiting for Slack" in wait_status(healthz, 503, proc).text
        standin = SlackStandIn().start(port=slack_port)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if standin is not None:
            standin.stop()
    output = log.read_text()
    assert proc.returncode == 2, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("supportbot: ")]
    assert len(errors) == 1 and errors[0].startswith("supportbot: SLACK_APP_TOKEN: ") and "invalid_auth" in errors[0], output
    assert "xapp-1-A0TEST-1-wrong" not in output


def test_socket_mode_healthz_is_200_once_ready(database_url: str) -> None:
    from supportbot.bot.app import HttpServer
    from supportbot.bot.config import Settings
    from supportbot.bot.runtime import build_runtime
    from supportbot.bot.startup import Readiness, build_health_web

    rt = build_runtime(Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_app_token="xapp-1", database_url=database_url))
    readiness = Readiness()
    server = HttpServer(build_health_web(rt, readiness), host="127.0.0.1", port=0).start()
    try:
        url = f"http://127.0.0.1:{server.port}/healthz"
        assert requests.get(url, timeout=5).status_code == 503
        readiness.slack.set()
        assert requests.get(url, timeout=5).json() == {"status": "ok"}
        assert requests.post(f"http://127.0.0.1:{server.port}/slack/events", timeout=5).status_code == 404
    finally:
        server.stop(timeout=2)
        rt.engine.dispose()


def subparsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(((*path, name), sub))
                found += subparsers(sub, (*path, name))
    return found


def test_every_subcommand_says_what_it_does_and_what_each_option_is() -> None:
    parser = build_parser()
    commands = subparsers(parser)
    assert {c[0] for c, _ in commands} >= {"run", "manifest", "db", "team", "import", "digest", "doctor"}
    missing = []
    for path, sub in commands:
        if not sub.description:
            missing.append(" ".join(path) + ": no description")
        for action in sub._actions:
            if action.help in (None, "") and not isinstance(action, argparse._SubParsersAction):
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}: no help")
    assert missing == []


def test_run_help_lists_what_it_does(tmp_path: Path) -> None:
    done = run_cli(tmp_path, clean_env(), "run", "--help")
    assert done.returncode == 0
    assert "Start the bot (HTTP on PORT" in done.stdout and "--workers N" in done.stdout


def test_a_served_process_freezes_its_startup_heap_and_shortens_the_switch_interval() -> None:
    """What `supportbot run` (and each `--workers` process) does once its app is built."""
    import gc
    import sys

    from supportbot.bot.app import SWITCH_INTERVAL_SECONDS, settle_process

    before = sys.getswitchinterval()
    try:
        settle_process()
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS)
        assert SWITCH_INTERVAL_SECONDS < before
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        sys.setswitchinterval(before)
