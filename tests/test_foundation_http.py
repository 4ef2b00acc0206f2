"""The Bolt app behind the real server: signatures, url_verification, /healthz, help."""

from __future__ import annotations

import json
import time

from supportbot.bot.runtime import Slots
from supportbot.storage.db import make_engine
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
    from supportbot.bot.manifest import COMMANDS

    rig.make_team()
    for command, *_ in COMMANDS:
        response = rig.command(command, "help", user="U0LEAD01", channel="C0ESCAL01")
        assert response.status_code == 200, command
        assert response.json()["response_type"] == "ephemeral", command


def test_a_listener_late_for_the_ack_answers_through_response_url(rig: BotRig, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Slack waits 3 s: a command still queued at the deadline is acked with "working on
    it" and its real answer follows through response_url; nothing is lost."""
    import threading

    from supportbot.handlers import common

    monkeypatch.setattr(common, "ACK_DEADLINE_SECONDS", 0.5)
    rig.rt.handler_slots = Slots(1)
    rig.rt.handler_slots.acquire()  # every slot busy: the command has to wait its turn
    threading.Timer(1.5, rig.rt.handler_slots.release).start()
    started = time.monotonic()
    response = rig.command("/supportbot", "help", settle=False)
    assert time.monotonic() - started < 1.4
    assert response.status_code == 200 and "Working on it" in response.json()["text"]
    rig.settle()
    assert rig.standin.wait_for(lambda: [r for r in rig.standin.responses if "/supportbot team" in json.dumps(r)], timeout=5)


def test_a_slow_slack_call_does_not_hold_a_listener_slot(rig: BotRig) -> None:
    """With one slot, a modal waiting on a slow views.open does not keep the next command
    waiting: the listener gives its slot back while Slack answers."""
    import threading

    rig.make_team()
    rig.rt.handler_slots = Slots(1)
    rig.standin.fail("views.open", "internal_error", status=500, times=1, delay=2.0)  # then retried: ok
    opening = threading.Thread(target=lambda: rig.command("/escalate", "", user="U0AGENT01", channel="C0ESCAL01", settle=False))
    opening.start()
    time.sleep(0.5)  # the first listener has acked and is now waiting on views.open
    started = time.monotonic()
    answer = rig.command("/supportbot", "help", settle=False)
    waited = time.monotonic() - started
    opening.join(timeout=10)
    rig.settle()
    assert answer.status_code == 200 and "/supportbot team" in answer.text
    assert waited < 1.0, f"the second command waited {waited:.2f} s"
    assert len(rig.standin.ok_calls("views.open")) == 1  # and the modal did open


def test_requests_beyond_the_server_threads_wait_their_turn_and_all_are_answered(rig: BotRig) -> None:
    """Four times HTTP_THREADS people send /kudos at the same moment: the ones without a
    server thread queue, and every one gets its confirmation and its stored kudos."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlmodel import func, select

    from supportbot.bot.app import HTTP_THREADS
    from supportbot.storage.kudos import Kudos

    givers = [f"U0AGENT{n:02d}" for n in range(1, 4 * HTTP_THREADS + 1)]
    rig.make_team(members=tuple(givers), settings={"kudos_cap": 100})
    with ThreadPoolExecutor(len(givers)) as pool:
        responses = list(
            pool.map(lambda u: rig.command("/kudos", f"<@U0LEAD01|lead> thanks, from {u}", user=u, settle=False), givers)
        )
    rig.executor.settle()
    assert [r.status_code for r in responses] == [200] * len(givers)
    assert all("<@U0LEAD01>" in r.json()["text"] for r in responses), [r.text for r in responses]
    with rig.rt.transaction(readonly=True) as session:
        assert session.exec(select(func.count()).select_from(Kudos)).one() == len(givers)
