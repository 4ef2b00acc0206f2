"""The word "payload" in anything a user types reaches the listener, for every kind of
request Slack sends (slash command, block_actions, view_submission, shortcut, Events API),
through the real HTTP path; signatures are still checked on the raw body."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.request import BoltRequest

from supportbot.bot.standin.slack import WORKSPACE, SlackStandIn
from supportbot.handlers.coaching import Id as CoachId
from supportbot.handlers.escalations import Id
from supportbot.handlers.slack_request import SlackRequest, parse_slack_body
from supportbot.storage import escalations as store
from tests.rig import BotRig


def command_form(text: str, **extra: str) -> dict[str, str]:
    return {
        "token": "t",
        "team_id": WORKSPACE,
        "channel_id": "C0GENERAL",
        "user_id": "U0AGENT01",
        "user_name": "ana",
        "command": "/escalate",
        "text": text,
        "response_url": "https://hooks.example/r",
        "trigger_id": "trig",
        **extra,
    }


def summaries(rig: BotRig) -> list[str]:
    with rig.rt.transaction(readonly=True) as session:
        rows = [store.get_by_number(session=session, workspace_id=WORKSPACE, number=n) for n in (1, 2, 3)]
    return [r.summary for r in rows if r is not None]


# ----- the parse itself -----------------------------------------------------------------
def test_form_with_the_word_payload_but_no_payload_field_keeps_its_fields() -> None:
    raw = urlencode(command_form("urgent API payload rejected for customer Globex"))
    content_type = "application/x-www-form-urlencoded"
    assert BoltRequest(body=raw, headers={"content-type": content_type}).body == {}  # why this module exists
    request = SlackRequest(body=raw, headers={"content-type": content_type})
    assert request.body["text"] == "urgent API payload rejected for customer Globex"
    assert (request.context.team_id, request.context.user_id, request.context.channel_id) == (WORKSPACE, "U0AGENT01", "C0GENERAL")
    assert request.context.response_url == "https://hooks.example/r"
    copied = request.to_copyable()  # what Bolt hands lazy listeners
    assert copied.body == request.body and copied.context.user_id == "U0AGENT01"


def test_interactivity_and_json_parse_as_before() -> None:
    action = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"value": "payload"}]}
    assert parse_slack_body(urlencode({"payload": json.dumps(action)}), "application/x-www-form-urlencoded") == action
    event = {"type": "event_callback", "event": {"type": "x", "text": "payload=1"}}
    assert parse_slack_body(json.dumps(event), "application/json") == event
    assert parse_slack_body("", None) == {}


def test_socket_mode_requests_are_dicts_and_unaffected() -> None:
    form = command_form("payload too large")
    for cls in (BoltRequest, SlackRequest):  # what slack_bolt.adapter.socket_mode builds
        request = cls(mode="socket_mode", body=dict(form))
        assert request.body["text"] == "payload too large" and request.context.user_id == "U0AGENT01"


# ----- through the real HTTP path -------------------------------------------------------
def test_escalate_with_payload_in_the_text_is_raised(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    response = rig.command("/escalate", "urgent API payload rejected for customer Globex", user="U0AGENT01")
    assert response.status_code == 200 and "ESC-1" in response.json()["text"]
    assert summaries(rig) == ["API payload rejected for customer Globex"]
    assert len(standin.posts("C0ESCAL01")) == 1


@pytest.mark.parametrize(
    ("command", "text", "expect"),
    [
        ("/kudos", "<@U0AGENT02|bo> fixed the payload parser", "<@U0AGENT02>"),
        ("/away", "payload", "payload"),  # "`payload` is not a date": the answer names it
        ("/kpis", "payload", "/kpis"),
        ("/supportbot", "payload", "/supportbot"),
        ("/coach", "<@U0AGENT02|bo> check the payload size", "bo"),
        ("/standup", "payload", "/standup"),
        ("/oneonone", "payload", "/oneonone"),
    ],
)
def test_every_command_answers_with_payload_in_the_text(rig: BotRig, command: str, text: str, expect: str) -> None:
    rig.make_team()
    response = rig.command(command, text, user="U0LEAD01")
    assert response.status_code == 200, response.text
    body = response.json() if response.content else {}
    shown = json.dumps(body) + json.dumps(rig.standin.responses)
    assert expect in shown


def test_user_named_payload_is_heard(rig: BotRig) -> None:
    rig.make_team()
    form = command_form("urgent Site down", user_name="payload", channel_name="payload-team")
    response = rig.post(urlencode(form).encode(), "application/x-www-form-urlencoded")
    rig.settle()
    assert response.status_code == 200 and summaries(rig) == ["Site down"]


def test_block_action_and_modal_with_payload_in_user_text(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.command("/escalate", "", user="U0AGENT01")
    meta = standin.ok_calls("views.open")[0].args["view"]["private_metadata"]
    response = rig.submit(Id.CREATE_MODAL, {Id.SUMMARY: "Webhook payload is empty", Id.TRIED: "Resent the payload"}, user="U0AGENT01", private_metadata=meta)
    assert response.status_code == 200 and response.json()["response_action"] == "update"
    assert summaries(rig) == ["Webhook payload is empty"]
    row_id = 1
    response = rig.click(Id.ACK, {"id": row_id}, user="U0LEAD01", message={"ts": "1.1", "text": "Webhook payload is empty"})
    assert response.status_code == 200
    with rig.rt.transaction(readonly=True) as session:
        row = store.get_by_number(session=session, workspace_id=WORKSPACE, number=1)
        assert row is not None and row.status == "acknowledged"


def test_message_shortcut_on_a_message_saying_payload(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    payload: dict[str, Any] = {
        "type": "message_action",
        "callback_id": CoachId.SHORTCUT,
        "team": {"id": WORKSPACE, "domain": "acme"},
        "user": {"id": "U0LEAD01", "username": "lead", "team_id": WORKSPACE},
        "channel": {"id": "C0GENERAL", "name": "general"},
        "message": {"type": "message", "user": "U0AGENT02", "ts": "1700000001.000200", "text": "the payload was too big"},
        "message_ts": "1700000001.000200",
        "trigger_id": "trigger-shortcut-1",
        "response_url": standin.response_url_base + "sc1",
        "api_app_id": "A0APP0001",
    }
    assert rig.interactive(payload).status_code == 200
    [opened] = standin.ok_calls("views.open")
    assert opened.args["view"]["callback_id"] == CoachId.NOTE_MODAL


def test_event_mentioning_payload_is_handled(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    response = rig.event({"type": "app_home_opened", "user": "U0AGENT01", "channel": "D0AGENT01", "tab": "home", "event_ts": "1.2", "view": {"private_metadata": "payload"}})
    assert response.status_code == 200 and "U0AGENT01" in standin.home


def test_signature_is_still_checked_on_the_raw_body(rig: BotRig) -> None:
    rig.make_team()
    body = urlencode(command_form("urgent API payload rejected")).encode()
    assert rig.post(body, "application/x-www-form-urlencoded", secret="wrong-secret").status_code == 401
    assert rig.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 600).status_code == 401
    assert summaries(rig) == []
