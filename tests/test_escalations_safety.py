"""No accidental escalations: Spanish words, a single word or a mistyped command word opens
the form instead of raising; Withdraw takes back one raised by mistake (until a leader
acknowledges it), updating the channel message and the leaders' DMs, and stops reminders."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from supportbot.bot import escalations as policy
from supportbot.bot.standin.slack import WORKSPACE, SlackStandIn
from supportbot.handlers.escalations import Id
from supportbot.storage import escalations as store
from tests.rig import BotRig
from tests.test_escalations import action_ids, actions, answer_text, esc


def count(rig: BotRig) -> int:
    with rig.rt.transaction(readonly=True) as session:
        return sum(
            store.get_by_number(session=session, workspace_id=WORKSPACE, number=n) is not None
            for n in range(1, 10)
        )


def opened_form(standin: SlackStandIn) -> dict[str, Any]:
    [opened] = standin.ok_calls("views.open")
    return opened.args["view"]


def form_summary(view: dict[str, Any]) -> str | None:
    for block in view["blocks"]:
        if block.get("block_id") == Id.SUMMARY:
            return block["element"].get("initial_value")
    raise AssertionError("no summary field")


def form_severity(view: dict[str, Any]) -> str:
    for block in view["blocks"]:
        if block.get("block_id") == Id.SEVERITY:
            return block["element"]["initial_option"]["value"]
    raise AssertionError("no severity field")


# ----- the examples -------------------------------------------------------------
def test_urgente_is_urgent_and_not_in_the_summary(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(language="es")
    body = rig.command("/escalate", "urgente Cliente cobrado dos veces, #4411", user="U0AGENT01").json()
    row = esc(rig)
    assert (row.severity, row.summary, row.ticket_ref) == ("urgent", "Cliente cobrado dos veces, #4411", "#4411")
    assert row.ack_deadline_at == rig.clock.now() + timedelta(minutes=5)
    assert "ESC-1" in body["text"] and "Urgente" in body["text"]


@pytest.mark.parametrize(("typed", "severity"), [("p1", "urgent"), ("P2", "high"), ("p3", "normal"), ("p4", "low"), ("Alta", "high"), ("BAJA", "low"), ("urgent:", "urgent")])
def test_severities_in_both_languages_and_p1_to_p4(rig: BotRig, typed: str, severity: str) -> None:
    rig.make_team()
    rig.command("/escalate", f"{typed} Refund stuck for ACME", user="U0AGENT01")
    assert (esc(rig).severity, esc(rig).summary) == (severity, "Refund stuck for ACME")


@pytest.mark.parametrize("language", ["en", "es"])
def test_lista_and_ayuda_list_and_help_instead_of_raising(rig: BotRig, standin: SlackStandIn, language: str) -> None:
    rig.make_team(language=language)
    rig.command("/escalate", "urgent Checkout down", user="U0AGENT01")
    listed = answer_text(rig.command("/escalate", "lista", user="U0AGENT01"))
    assert listed == answer_text(rig.command("/escalate", "list", user="U0AGENT01"))
    assert "ESC-1" in listed
    helped = answer_text(rig.command("/escalate", "Ayuda", user="U0AGENT01"))
    assert helped == answer_text(rig.command("/escalate", "help", user="U0AGENT01"))
    assert "/escalate" in helped
    assert answer_text(rig.command("/escalate", "lista equipo:Tier1", user="U0AGENT01")) == listed
    assert count(rig) == 1 and len(standin.dms("U0LEAD01")) == 1


# ----- the form instead of an accidental escalation -------------------------------------
@pytest.mark.parametrize(
    ("language", "typed", "summary", "severity", "said"),
    [
        ("en", "Refund", "Refund", "normal", "one word"),
        ("es", "Reembolso", "Reembolso", "normal", "una sola palabra"),
        ("en", "lsit", "lsit", "normal", "/escalate list"),
        ("es", "lsita", "lsita", "normal", "/escalate lista"),
        ("es", "ayda", "ayda", "normal", "/escalate ayuda"),
        ("en", "hlep", "hlep", "normal", "/escalate help"),
        ("en", "urgnet Customer cannot pay", "urgnet Customer cannot pay", "urgent", "/escalate urgent"),
        ("es", "urgnete Cliente sin acceso", "urgnete Cliente sin acceso", "urgent", "/escalate urgente"),
        ("en", "lsit team:Tier1", "lsit", "normal", "/escalate list"),
    ],
)
def test_one_word_or_a_typo_opens_the_filled_form(rig: BotRig, standin: SlackStandIn, language: str, typed: str, summary: str, severity: str, said: str) -> None:
    rig.make_team(language=language)
    response = rig.command("/escalate", typed, user="U0AGENT01")
    assert response.status_code == 200
    view = opened_form(standin)
    assert form_summary(view) == summary and form_severity(view) == severity
    assert said in json.dumps(view, ensure_ascii=False)
    assert count(rig) == 0 and standin.posts() == [] and standin.dms("U0LEAD01") == []
    assert standin.rejected() == []
    # Submitting the form raises it, with the text as typed.
    rig.submit(Id.CREATE_MODAL, {Id.SUMMARY: summary + " - details", Id.SEVERITY: {"type": "static_select", "selected_option": {"value": severity}}}, user="U0AGENT01", private_metadata=view["private_metadata"])
    assert count(rig) == 1 and esc(rig).summary == summary + " - details"


def test_real_sentences_are_still_raised_at_once(rig: BotRig) -> None:
    rig.make_team()
    for text in ("Customer charged twice", "help me the API is down", "API payload rejected for Globex", "Hello world broke"):
        rig.command("/escalate", text, user="U0AGENT01")
    assert count(rig) == 4


# ----- Withdraw -------------------------------------------------------------------------
def confirmation_buttons(body: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in body.get("blocks") or [] for e in b.get("elements") or [] if "action_id" in e]


def test_withdraw_updates_channel_and_leader_dm_and_stops_reescalation(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(language="es")
    body = rig.command("/escalate", "urgente Pedido duplicado", user="U0AGENT01").json()
    assert confirmation_buttons(body) == [Id.WITHDRAW]
    row = esc(rig)
    [dm] = standin.dms("U0LEAD01")
    [post] = standin.posts("C0ESCAL01")

    response = rig.click(Id.WITHDRAW, {"id": row.id}, user="U0AGENT01", channel="C0GENERAL")
    assert response.status_code == 200
    assert any("ESC-1* retirado" in t for t in rig.ephemeral_texts())
    after = esc(rig)
    assert after.status == "withdrawn" and after.ack_deadline_at is None
    assert actions(rig) == ["created", "withdrawn"]
    rig.deliver()
    updates = {(c.args["channel"], c.args["ts"]): c for c in standin.ok_calls("chat.update")}
    channel_update = updates[(post.response["channel"], post.response["ts"])]
    assert "Retirado por <@U0AGENT01>" in channel_update.text_everywhere() and action_ids(channel_update) == []
    dm_update = updates[(dm.response["channel"], dm.response["ts"])]
    assert "ha retirado *ESC-1*" in dm_update.text_everywhere() and action_ids(dm_update) == []

    # No re-escalation, ever.
    rig.clock.advance(hours=3)
    assert policy.check_deadlines(rig.rt) == 0
    rig.deliver()
    assert len(standin.dms("U0LEAD01")) == 1 and standin.dms("U0LEAD02") == []
    # Kept in the history, out of the open list, in the withdrawn list.
    assert "ESC-1" not in answer_text(rig.command("/escalate", "lista", user="U0AGENT01"))
    withdrawn = answer_text(rig.command("/escalate", "lista retirados", user="U0AGENT01"))
    assert "Escalados retirados de Tier1" in withdrawn and "ESC-1" in withdrawn
    assert answer_text(rig.command("/escalate", "list withdrawn", user="U0AGENT01")) == withdrawn
    assert "retirado por <@U0AGENT01>" in answer_text(rig.command("/escalate", "ESC-1", user="U0AGENT01"))
    # Leaders can no longer act on it.
    rig.click(Id.ACK, {"id": row.id}, user="U0LEAD01")
    assert esc(rig).status == "withdrawn"
    assert "ya estaba retirado" in json.dumps(standin.responses, ensure_ascii=False)
    assert standin.rejected() == [] and standin.pings() == []


def test_only_the_reporter_and_only_until_acknowledged(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.command("/escalate", "urgent Site down for ACME", user="U0AGENT01")
    row = esc(rig)
    rig.click(Id.WITHDRAW, {"id": row.id}, user="U0AGENT02", channel="C0GENERAL")
    assert "Only <@U0AGENT01>, who raised ESC-1, can withdraw it." in rig.ephemeral_texts()[-1]
    rig.click(Id.ACK, {"id": row.id}, user="U0LEAD01")
    rig.click(Id.WITHDRAW, {"id": row.id}, user="U0AGENT01", channel="C0GENERAL")
    assert "already acknowledged by <@U0LEAD01>" in rig.ephemeral_texts()[-1]
    assert esc(rig).status == "acknowledged" and actions(rig) == ["created", "acknowledged"]

    rig.command("/escalate", "low Typo on invoice", user="U0AGENT01")
    second = esc(rig, 2)
    rig.click(Id.WITHDRAW, {"id": second.id}, user="U0AGENT01", channel="C0GENERAL")
    rig.click(Id.WITHDRAW, {"id": second.id}, user="U0AGENT01", channel="C0GENERAL")
    assert "ESC-2 was already withdrawn." in rig.ephemeral_texts()[-1]
    assert actions(rig, 2) == ["created", "withdrawn"]


def test_withdraw_from_the_form_confirmation_updates_the_modal(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.command("/escalate", "", user="U0AGENT01")
    meta = opened_form(standin)["private_metadata"]
    body = rig.submit(Id.CREATE_MODAL, {Id.SUMMARY: "Order 5521 never arrived"}, user="U0AGENT01", private_metadata=meta).json()
    assert Id.WITHDRAW in json.dumps(body["view"])
    view_id = standin.ok_calls("views.open")[0].response["view"]["id"]
    payload = {
        "type": "block_actions",
        "team": {"id": WORKSPACE, "domain": "test"},
        "user": {"id": "U0AGENT01", "username": "a", "team_id": WORKSPACE},
        "api_app_id": "A0APP0001",
        "trigger_id": "trigger-w",
        "container": {"type": "view", "view_id": view_id},
        "view": {"id": view_id, "type": "modal", "callback_id": Id.CREATED_NOTICE, "private_metadata": "", "state": {"values": {}}, "hash": "h"},
        "actions": [{"type": "button", "action_id": Id.WITHDRAW, "block_id": Id.ACTIONS, "value": json.dumps({"id": esc(rig).id}), "action_ts": "1.2"}],
    }
    assert rig.interactive(payload).status_code == 200
    [update] = standin.ok_calls("views.update")
    assert "ESC-1* withdrawn" in json.dumps(update.args["view"])
    assert esc(rig).status == "withdrawn" and standin.rejected() == []


def test_alert_not_yet_sent_is_dropped_after_withdrawal(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    standin.fail("chat.postMessage", "internal_error", times=2)  # the channel post and the DM
    rig.command("/escalate", "high Invoices wrong", user="U0AGENT01")
    rig.click(Id.WITHDRAW, {"id": esc(rig).id}, user="U0AGENT01", channel="C0GENERAL")
    rig.clock.advance(seconds=30)
    rig.deliver()
    rig.clock.advance(seconds=30)
    rig.deliver()
    assert standin.dms("U0LEAD01") == []  # the leader is never alerted about it
    [post] = standin.posts("C0ESCAL01")
    assert "Withdrawn by <@U0AGENT01>" in post.text_everywhere() and action_ids(post) == []
