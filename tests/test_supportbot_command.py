"""`/supportbot team | add-member | remove-member | status`, errors and event de-duplication."""

from __future__ import annotations

import json

from supportbot.storage.db import make_engine
from tests.rig import BotRig


def answer_text(response) -> str:  # type: ignore[no-untyped-def]
    body = response.json()
    return body.get("text", "") + json.dumps(body.get("blocks") or [], ensure_ascii=False)


def test_team_shows_callers_teams(rig: BotRig) -> None:
    rig.make_team()
    text = answer_text(rig.command("/supportbot", "team", user="U0AGENT01"))
    assert "Tier1" in text and "<@U0LEAD01>" in text and "<#C0ESCAL01>" in text
    text = answer_text(rig.command("/supportbot", "team", user="U0OUTSIDE"))
    assert "not in any team" in text


def test_leader_adds_and_removes_members(rig: BotRig) -> None:
    rig.make_team()
    text = answer_text(rig.command("/supportbot", "team add-member <@U0NEW0001|new>", user="U0LEAD01"))
    assert "is now a member" in text
    text = answer_text(rig.command("/supportbot", "team", user="U0NEW0001"))
    assert "Tier1" in text
    text = answer_text(rig.command("/supportbot", "team remove-member <@U0NEW0001|new>", user="U0LEAD01"))
    assert "no longer a member" in text
    text = answer_text(rig.command("/supportbot", "team remove-member <@U0LEAD02|l2>", user="U0LEAD01"))
    assert "is a leader" in text


def test_agent_cannot_change_members(rig: BotRig) -> None:
    rig.make_team()
    text = answer_text(rig.command("/supportbot", "team add-member <@U0NEW0001|new>", user="U0AGENT01"))
    assert "Only team leaders" in text
    text = answer_text(rig.command("/supportbot", "team add-member bob", user="U0LEAD01"))
    assert "Usage" in text


def test_unknown_subcommand_gets_usage_and_stays_inert(rig: BotRig) -> None:
    response = rig.command("/supportbot", "dance <!channel>", user="U0AGENT01")
    assert response.json()["response_type"] == "ephemeral"
    text = answer_text(response)
    assert "/supportbot help" in text and "&lt;!channel&gt;" in text and "<!channel>" not in text


def test_status_for_leaders_shows_failed_deliveries(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    from supportbot.bot.outbox import enqueue_call

    rig.make_team()
    with rig.rt.transaction() as session:
        enqueue_call(session, workspace_id="T0TEST01", method="chat.postMessage", args={"channel": "C0NOPE", "text": "x", "blocks": [{"type": "bogus"}]}, clock=rig.clock)
    rig.deliver()
    text = answer_text(rig.command("/supportbot", "status", user="U0LEAD01"))
    assert "1 failed" in text and "invalid_blocks" in text
    text = answer_text(rig.command("/supportbot", "status", user="U0AGENT01"))
    assert "Only team leaders" in text


def test_database_down_answers_retry_not_traceback(rig: BotRig) -> None:
    rig.make_team()
    healthy = rig.rt.engine
    rig.rt.engine = make_engine("sqlite:////nonexistent-dir/db.sqlite")
    try:
        response = rig.command("/supportbot", "team add-member <@U0NEW0001|n>", user="U0LEAD01")
    finally:
        rig.rt.engine = healthy
    assert response.status_code == 200
    assert "Nothing was saved" in answer_text(response)


def test_retried_event_is_handled_once(rig: BotRig) -> None:
    seen: list[str] = []
    rig.app.event("app_mention")(lambda event, ack: (ack(), seen.append(event["ts"])))
    event = {"type": "app_mention", "user": "U0AGENT01", "text": "hi", "ts": "1.000001", "channel": "C0GENERAL"}
    assert rig.event(event, event_id="Ev0DUP001").status_code == 200
    assert rig.event(event, event_id="Ev0DUP001", retry_num=1).status_code == 200
    assert rig.event(event, event_id="Ev0OTHER1").status_code == 200
    assert seen == ["1.000001", "1.000001"]
