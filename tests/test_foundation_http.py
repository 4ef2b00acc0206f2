"""The Bolt app behind the real server: signatures, url_verification, /healthz, help."""

from __future__ import annotations

import json
import time

from storage.db import make_engine
from tests.rig import BotRig


def test_forged_signature_is_rejected(rig: BotRig) -> None:
    body = b"command=%2Fsupportbot&text=help&team_id=T0TEST01&user_id=U1"
    response = rig.post(body, "application/x-www-form-urlencoded", secret="wrong-secret")
    assert response.status_code == 401


def test_stale_signature_is_rejected(rig: BotRig) -> None:
    body = b"command=%2Fsupportbot&text=help&team_id=T0TEST01&user_id=U1"
    response = rig.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 301)
    assert response.status_code == 401


def test_url_verification_answers_the_challenge(rig: BotRig) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
    response = rig.post(body, "application/json")
    assert response.status_code == 200
    assert "abc123" in response.text


def test_healthz_reports_database(rig: BotRig) -> None:
    response = rig.http.get(f"{rig.url}/healthz", timeout=5)
    assert response.status_code == 200
    healthy = rig.rt.engine
    rig.rt.engine = make_engine("sqlite:////nonexistent-dir/supportbot.db")  # unreachable
    try:
        response = rig.http.get(f"{rig.url}/healthz", timeout=15)
        assert response.status_code == 503
    finally:
        rig.rt.engine = healthy


def test_help_lists_commands_in_english_and_spanish(rig: BotRig) -> None:
    response = rig.command("/supportbot", "help")
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    text = json.dumps(answer["blocks"])
    assert "/supportbot team" in text
    rig.make_team("Soporte", leaders=("U0LEAD01",), members=("U0AGENT01",), language="es")
    answer = rig.command("/supportbot", "help").json()
    assert "lo que puedes escribir" in json.dumps(answer, ensure_ascii=False)


def test_every_manifest_command_is_served(rig: BotRig) -> None:
    from bot.manifest import COMMANDS

    rig.make_team()
    for command, *_ in COMMANDS:
        response = rig.command(command, "help", user="U0LEAD01", channel="C0ESCAL01")
        assert response.status_code == 200, command
        assert response.json()["response_type"] == "ephemeral", command
