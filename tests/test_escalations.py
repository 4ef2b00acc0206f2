"""`/escalate` through the rig: signed requests to the real app, Slack played by the stand-in."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from sqlmodel import select as sql_select

from supportbot.bot.standin.slack import SlackStandIn, block_problems
from supportbot.handlers.escalations import Id
from supportbot.storage import escalations as store
from supportbot.storage.escalations import Escalation
from tests.rig import BotRig


def answer_text(response: Any) -> str:
    body = response.json()
    return body.get("text", "") + json.dumps(body.get("blocks") or [], ensure_ascii=False)


def esc(rig: BotRig, number: int = 1) -> Escalation:
    with rig.rt.transaction(readonly=True) as session:
        row = store.get_by_number(session=session, workspace_id="T0TEST01", number=number)
        assert row is not None
        return row


def actions(rig: BotRig, number: int = 1) -> list[str]:
    with rig.rt.transaction(readonly=True) as session:
        row = store.get_by_number(session=session, workspace_id="T0TEST01", number=number)
        assert row is not None and row.id is not None
        return [e.action for e in store.events_of(session=session, escalation_id=row.id)]


def select(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def action_ids(call: Any) -> list[str]:
    found = []
    for block in call.args.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("action_id"):
                found.append(element["action_id"])
    return found


def responses_text(standin: SlackStandIn) -> str:
    return json.dumps(standin.responses, ensure_ascii=False)


# ----- creating ---------------------------------------------------------------------
def test_quick_create_stores_posts_dms_and_confirms(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    response = rig.command("/escalate", "urgent Customer charged twice &amp; angry, see #12345", user="U0AGENT01")
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "ESC-1" in body["text"] and "<@U0LEAD01>" in body["text"] and "within 5 minutes" in body["text"]

    row = esc(rig)
    assert (row.severity, row.status, row.ticket_ref) == ("urgent", "open", "#12345")
    assert row.summary == "Customer charged twice & angry, see #12345"  # as typed
    assert row.reporter_id == "U0AGENT01" and row.owner_id is None
    assert row.ack_deadline_at == rig.clock.now() + timedelta(minutes=5)

    [post] = standin.posts("C0ESCAL01")
    assert "Customer charged twice &amp; angry" in post.text_everywhere()  # escaped once
    assert action_ids(post) == [Id.ACK, Id.RESOLVE, Id.REASSIGN]
    assert row.message_ts == post.response["ts"] and row.channel_id == "C0ESCAL01"
    [dm] = standin.dms("U0LEAD01")
    assert "ESC-1" in dm.text_everywhere() and Id.ACK in action_ids(dm)
    assert standin.dms("U0LEAD02") == []
    assert actions(rig) == ["created"]
    assert standin.rejected() == [] and standin.pings() == []


def test_quick_create_default_severity_url_ticket_and_numbering(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.command("/escalate", "Refund stuck <https://help.example.com/t/991|ticket>", user="U0AGENT01")
    rig.command("/escalate", "low Typo on invoice", user="U0AGENT02")
    first, second = esc(rig, 1), esc(rig, 2)
    assert first.severity == "normal" and first.ticket_ref == "https://help.example.com/t/991"
    assert second.severity == "low" and second.ticket_ref is None and second.number == 2
    assert second.ack_deadline_at == rig.clock.now() + timedelta(hours=4)


def test_team_ack_timeouts_are_used(rig: BotRig) -> None:
    rig.make_team(settings={"ack_timeouts": {"urgent": 120}})
    rig.command("/escalate", "urgent Site down for customer", user="U0AGENT01")
    assert esc(rig).ack_deadline_at == rig.clock.now() + timedelta(minutes=2)


def test_create_by_modal(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    response = rig.command("/escalate", "", user="U0AGENT01")
    assert response.status_code == 200
    [opened] = standin.ok_calls("views.open")
    modal = opened.args["view"]
    assert modal["callback_id"] == Id.CREATE_MODAL
    block_ids = [b.get("block_id") for b in modal["blocks"]]
    assert block_ids == [Id.SUMMARY, Id.CUSTOMER, Id.TICKET, Id.SEVERITY, Id.CATEGORY, Id.TRIED]
    severity = modal["blocks"][3]["element"]["initial_option"]["value"]
    assert severity == "normal"

    response = rig.submit(
        Id.CREATE_MODAL,
        {
            Id.SUMMARY: "Order 5521 never arrived",
            Id.CUSTOMER: "ACME Corp",
            Id.TICKET: "https://help.example.com/t/5521",
            Id.SEVERITY: select("high"),
            Id.CATEGORY: select("shipping"),
            Id.TRIED: "Checked the carrier; no scan since Monday",
        },
        user="U0AGENT01",
        private_metadata=modal["private_metadata"],
    )
    body = response.json()
    assert body["response_action"] == "update" and "ESC-1" in json.dumps(body["view"])
    row = esc(rig)
    assert (row.severity, row.category, row.customer) == ("high", "shipping", "ACME Corp")
    assert row.ticket_ref == "https://help.example.com/t/5521"
    assert row.tried == "Checked the carrier; no scan since Monday"
    [post] = standin.posts("C0ESCAL01")
    text = post.text_everywhere()
    assert "ACME Corp" in text and "Checked the carrier" in text and "Shipping" in text
    assert len(standin.dms("U0LEAD01")) == 1
    assert standin.rejected() == []


def test_severity_word_alone_opens_the_modal_with_it(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.command("/escalate", "urgent", user="U0AGENT01")
    [opened] = standin.ok_calls("views.open")
    assert opened.args["view"]["blocks"][3]["element"]["initial_option"]["value"] == "urgent"


def test_invalid_modal_input_is_answered_in_the_modal(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.command("/escalate", "", user="U0AGENT01")
    meta = standin.ok_calls("views.open")[0].args["view"]["private_metadata"]
    body = rig.submit(Id.CREATE_MODAL, {Id.SUMMARY: "   ", Id.SEVERITY: select("high")}, user="U0AGENT01", private_metadata=meta).json()
    assert body["response_action"] == "errors" and Id.SUMMARY in body["errors"]
    body = rig.submit(Id.CREATE_MODAL, {Id.SUMMARY: "Broken", Id.TICKET: "two words"}, user="U0AGENT01", private_metadata=meta).json()
    assert body["response_action"] == "errors" and Id.TICKET in body["errors"]
    body = rig.submit(Id.CREATE_MODAL, {Id.SUMMARY: "Broken", Id.SEVERITY: select("meh")}, user="U0AGENT01", private_metadata=meta).json()
    assert body["response_action"] == "errors" and Id.SEVERITY in body["errors"]
    with rig.rt.transaction(readonly=True) as session:
        assert store.get_by_number(session=session, workspace_id="T0TEST01", number=1) is None
    assert standin.posts() == []


def test_someone_in_no_team_or_several_is_told_how_to_fix_it(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    assert "not in any team" in answer_text(rig.command("/escalate", "help me", user="U0OUTSIDE"))
    assert "not in any team" in answer_text(rig.command("/escalate", "", user="U0OUTSIDE"))
    assert standin.ok_calls("views.open") == []
    rig.make_team("Billing", leaders=("U0LEAD09",), members=("U0AGENT01",), escalation_channel="C0BILLING")
    text = answer_text(rig.command("/escalate", "Charged twice", user="U0AGENT01", channel="C0GENERAL"))
    assert "several teams" in text and "team:NAME" in text
    rig.command("/escalate", "Charged twice", user="U0AGENT01", channel="C0BILLING")
    rig.command("/escalate", "Card declined team:Tier1", user="U0AGENT01", channel="C0GENERAL")
    assert len(standin.posts("C0BILLING")) == 1 and len(standin.posts("C0ESCAL01")) == 1
    assert esc(rig, 2).summary == "Card declined"


def test_slack_failure_during_creation_is_delivered_later(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    standin.fail("chat.postMessage", "internal_error", times=2)  # the channel post and the DM
    body = rig.command("/escalate", "urgent Payments failing for ACME", user="U0AGENT01").json()
    assert "ESC-1" in body["text"]
    assert standin.posts() == [] and esc(rig).message_ts is None
    # Acknowledged before the post ever reached Slack: the update waits for the post.
    rig.click(Id.ACK, {"id": esc(rig).id}, user="U0LEAD02")
    assert standin.ok_calls("chat.update") == []

    rig.clock.advance(seconds=10)
    rig.deliver()
    [post] = standin.posts("C0ESCAL01")
    assert esc(rig).message_ts == post.response["ts"]
    assert Id.ACK not in action_ids(post)  # rendered from the current state
    rig.clock.advance(seconds=10)
    rig.deliver()
    assert standin.ok_calls("chat.update")[0].args["ts"] == post.response["ts"]
    assert standin.dms("U0LEAD01") == []  # the alert is dropped: already acknowledged
    assert len(standin.dms("U0AGENT01")) == 1  # the reporter hears it was acknowledged
    assert [c.response.get("error") for c in standin.rejected()] == ["internal_error"] * 2


# ----- text and limits ----------------------------------------------------------------
def test_broadcast_mentions_in_user_text_ping_nobody(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.command("/escalate", "urgent <!channel> <!here> <!subteam^S123|@support> customer angry", user="U0AGENT01")
    rig.command("/escalate", "", user="U0AGENT01")
    meta = standin.ok_calls("views.open")[0].args["view"]["private_metadata"]
    rig.submit(Id.CREATE_MODAL, {Id.SUMMARY: "<!everyone> refund", Id.CUSTOMER: "<!channel>", Id.TRIED: "<@U0LEAD02> & <!here>"}, user="U0AGENT01", private_metadata=meta)
    rig.click(Id.ACK, {"id": esc(rig, 1).id}, user="U0LEAD01")
    rig.command("/escalate", "list", user="U0LEAD01")
    rig.command("/escalate", "ESC-2", user="U0LEAD01")
    assert len(standin.posts("C0ESCAL01")) == 2
    first, second = (p.text_everywhere() for p in standin.posts("C0ESCAL01"))
    assert "@channel @here @support customer angry" in first  # what was typed, as text
    assert "&lt;!everyone&gt; refund" in second and "&lt;@U0LEAD02&gt; &amp; &lt;!here&gt;" in second
    assert standin.pings() == []
    assert standin.rejected() == []


def test_long_text_is_shortened_in_messages_and_kept_whole(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    summary = ("Refund <loop> & retry " * 200)[:3000]
    tried = "x&y " * 750
    rig.command("/escalate", "", user="U0AGENT01")
    meta = standin.ok_calls("views.open")[0].args["view"]["private_metadata"]
    body = rig.submit(Id.CREATE_MODAL, {Id.SUMMARY: summary, Id.CUSTOMER: "C" * 255, Id.TICKET: "https://x.example/" + "a" * 480, Id.TRIED: tried}, user="U0AGENT01", private_metadata=meta).json()
    assert body["response_action"] == "update"
    assert esc(rig).summary == summary.strip() and esc(rig).tried == tried.strip()
    [post] = standin.posts("C0ESCAL01")
    assert "…" in post.text_everywhere()
    rig.click(Id.RESOLVE, {"id": esc(rig).id}, user="U0LEAD01")
    rig.submit(Id.RESOLVE_MODAL, {Id.OUTCOME: select("refund"), Id.NOTE: "<b>" * 1000}, user="U0LEAD01", private_metadata={"id": esc(rig).id})
    rig.clock.advance(seconds=10)
    rig.deliver()
    assert standin.rejected() == []
    assert len(standin.ok_calls("chat.update")) == 1
    shown = rig.command("/escalate", "ESC-1", user="U0LEAD01").json()
    assert block_problems(shown["blocks"], max_blocks=50) == []
    shown_text = "".join(b.get("text", {}).get("text", "") for b in shown["blocks"] if b["type"] == "section")
    assert bk_escape(summary.strip()) in shown_text  # the whole summary, in pieces


def bk_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ----- handling -----------------------------------------------------------------------
def make_one(rig: BotRig, text: str = "urgent Customer charged twice") -> Escalation:
    rig.make_team()
    rig.command("/escalate", text, user="U0AGENT01")
    return esc(rig)


def test_acknowledge_updates_in_place_and_tells_the_reporter(rig: BotRig, standin: SlackStandIn) -> None:
    row = make_one(rig)
    rig.clock.advance(minutes=3)
    rig.click(Id.ACK, {"id": row.id}, user="U0LEAD02")
    after = esc(rig)
    assert (after.status, after.acknowledged_by, after.owner_id) == ("acknowledged", "U0LEAD02", "U0LEAD02")
    assert after.acknowledged_at == rig.clock.now() and after.ack_deadline_at is None
    [update] = standin.ok_calls("chat.update")
    assert update.args["ts"] == row.message_ts and update.args["channel"] == "C0ESCAL01"
    assert action_ids(update) == [Id.RESOLVE, Id.REASSIGN]
    assert "<@U0LEAD02>" in update.text_everywhere() and "3m" in update.text_everywhere()
    [dm] = standin.dms("U0AGENT01")
    assert "acknowledged" in dm.text_everywhere()
    assert actions(rig) == ["created", "acknowledged"]


def test_non_leader_non_owner_is_refused(rig: BotRig, standin: SlackStandIn) -> None:
    row = make_one(rig)
    rig.click(Id.ACK, {"id": row.id}, user="U0AGENT02")
    rig.click(Id.RESOLVE, {"id": row.id}, user="U0AGENT01")
    rig.click(Id.REASSIGN, {"id": row.id}, user="U0OUTSIDE")
    refusals = [r["text"] for r in standin.responses]
    assert len(refusals) == 3 and all("Only the leaders of *Tier1* or the owner" in t for t in refusals)
    assert esc(rig).status == "open" and standin.ok_calls("views.open") == []
    body = rig.submit(Id.RESOLVE_MODAL, {Id.OUTCOME: select("fixed"), Id.NOTE: "done"}, user="U0AGENT01", private_metadata={"id": row.id}).json()
    assert body["response_action"] == "update" and "Only the leaders" in json.dumps(body["view"])
    assert esc(rig).status == "open"


def test_double_click_changes_state_once_and_tells_the_second(rig: BotRig, standin: SlackStandIn) -> None:
    row = make_one(rig)
    threads = [
        threading.Thread(target=rig.click, args=(Id.ACK, {"id": row.id}), kwargs={"user": user, "settle": False})
        for user in ("U0LEAD01", "U0LEAD02")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rig.settle()
    winner = esc(rig).acknowledged_by
    loser = "U0LEAD02" if winner == "U0LEAD01" else "U0LEAD01"
    assert actions(rig).count("acknowledged") == 1
    assert len(standin.ok_calls("chat.update")) == 1
    [told] = standin.responses
    assert f"already acknowledged by <@{winner}>" in told["text"]
    assert len(standin.dms("U0AGENT01")) == 1
    # A click on the old message after it was resolved.
    rig.submit(Id.RESOLVE_MODAL, {Id.OUTCOME: select("fixed"), Id.NOTE: "done"}, user=winner, private_metadata={"id": row.id})
    rig.click(Id.ACK, {"id": row.id}, user=loser)
    assert f"already resolved by <@{winner}>" in standin.responses[-1]["text"]
    rig.click(Id.RESOLVE, {"id": row.id}, user=loser)
    assert f"already resolved by <@{winner}>" in standin.responses[-1]["text"]
    body = rig.submit(Id.RESOLVE_MODAL, {Id.OUTCOME: select("refund"), Id.NOTE: "again"}, user=loser, private_metadata={"id": row.id}).json()
    assert "already resolved" in json.dumps(body["view"])
    assert actions(rig).count("resolved") == 1 and esc(rig).outcome == "fixed"


def test_resolve_asks_for_note_and_outcome(rig: BotRig, standin: SlackStandIn) -> None:
    row = make_one(rig)
    rig.click(Id.RESOLVE, {"id": row.id}, user="U0LEAD01")
    [opened] = standin.ok_calls("views.open")
    modal = opened.args["view"]
    assert modal["callback_id"] == Id.RESOLVE_MODAL
    outcomes = [o["value"] for o in modal["blocks"][1]["element"]["options"]]
    assert outcomes == ["fixed", "refund", "credit", "replacement", "workaround", "no_action"]
    body = rig.submit(Id.RESOLVE_MODAL, {Id.OUTCOME: select("refund"), Id.NOTE: " "}, user="U0LEAD01", private_metadata=modal["private_metadata"]).json()
    assert body["response_action"] == "errors" and Id.NOTE in body["errors"]
    body = rig.submit(Id.RESOLVE_MODAL, {Id.NOTE: "Refunded"}, user="U0LEAD01", private_metadata=modal["private_metadata"]).json()
    assert body["response_action"] == "errors" and Id.OUTCOME in body["errors"]
    rig.clock.advance(minutes=20)
    response = rig.submit(Id.RESOLVE_MODAL, {Id.OUTCOME: select("refund"), Id.NOTE: "Refunded 42 EUR"}, user="U0LEAD01", private_metadata=modal["private_metadata"])
    assert response.status_code == 200 and response.text in ("", "{}") or "response_action" not in response.json()
    after = esc(rig)
    assert (after.status, after.outcome, after.resolution_note) == ("resolved", "refund", "Refunded 42 EUR")
    assert after.resolved_by == "U0LEAD01" and after.acknowledged_by == "U0LEAD01"
    [update] = standin.ok_calls("chat.update")
    assert action_ids(update) == [] and "Refunded 42 EUR" in update.text_everywhere()
    [dm] = standin.dms("U0AGENT01")
    assert "resolved" in dm.text_everywhere() and "Refund" in dm.text_everywhere()
    assert actions(rig) == ["created", "acknowledged", "resolved"]


def test_reassign_makes_the_new_owner_able_to_act(rig: BotRig, standin: SlackStandIn) -> None:
    row = make_one(rig)
    rig.click(Id.REASSIGN, {"id": row.id}, user="U0LEAD01")
    [opened] = standin.ok_calls("views.open")
    assert opened.args["view"]["callback_id"] == Id.REASSIGN_MODAL
    pick = {"type": "users_select", "selected_user": "U0AGENT02"}
    rig.submit(Id.REASSIGN_MODAL, {Id.USER: pick}, user="U0LEAD01", private_metadata={"id": row.id})
    after = esc(rig)
    assert (after.owner_id, after.status, after.acknowledged_by) == ("U0AGENT02", "acknowledged", "U0LEAD01")
    [dm] = standin.dms("U0AGENT02")
    assert "assigned" in dm.text_everywhere() and Id.RESOLVE in action_ids(dm)
    thread = [p for p in standin.posts("C0ESCAL01") if p.args.get("thread_ts") == row.message_ts]
    assert len(thread) == 1 and "<@U0AGENT02>" in thread[0].args["text"]
    # The owner (an agent) may now act; the reporter may not.
    rig.click(Id.RESOLVE, {"id": row.id}, user="U0AGENT01")
    assert "Only the leaders" in standin.responses[-1]["text"]
    rig.click(Id.RESOLVE, {"id": row.id}, user="U0AGENT02")
    assert len(standin.ok_calls("views.open")) == 2
    body = rig.submit(Id.REASSIGN_MODAL, {Id.USER: pick}, user="U0AGENT02", private_metadata={"id": row.id}).json()
    assert body["response_action"] == "errors" and Id.USER in body["errors"]
    rig.submit(Id.RESOLVE_MODAL, {Id.OUTCOME: select("workaround"), Id.NOTE: "Told them to clear cache"}, user="U0AGENT02", private_metadata={"id": row.id})
    assert esc(rig).resolved_by == "U0AGENT02"
    assert actions(rig) == ["created", "acknowledged", "reassigned", "resolved"]


# ----- seeing them --------------------------------------------------------------------
def test_list_shows_open_ones_oldest_first_with_age_and_owner(rig: BotRig) -> None:
    rig.make_team()
    rig.command("/escalate", "urgent First problem", user="U0AGENT01")
    rig.clock.advance(minutes=30)
    rig.command("/escalate", "low Second problem", user="U0AGENT02")
    rig.command("/escalate", "Third problem", user="U0AGENT02")
    rig.click(Id.ACK, {"id": esc(rig, 2).id}, user="U0LEAD02")
    rig.click(Id.RESOLVE, {"id": esc(rig, 3).id}, user="U0LEAD02")
    rig.submit(Id.RESOLVE_MODAL, {Id.OUTCOME: select("fixed"), Id.NOTE: "ok"}, user="U0LEAD02", private_metadata={"id": esc(rig, 3).id})
    rig.clock.advance(minutes=15)
    text = answer_text(rig.command("/escalate", "list", user="U0AGENT01"))
    assert text.index("ESC-1") < text.index("ESC-2") and "ESC-3" not in text
    assert "45m old" in text and "15m old" in text
    assert "owner <@U0LEAD02>" in text and "nobody yet" in text
    rig.make_team("Empty", leaders=("U0LEAD09",), members=("U0AGENT09",), escalation_channel="C0EMPTY01")
    assert "no open escalations" in answer_text(rig.command("/escalate", "list", user="U0AGENT09"))


def test_show_one_with_history(rig: BotRig) -> None:
    row = make_one(rig)
    rig.click(Id.ACK, {"id": row.id}, user="U0LEAD01")
    text = answer_text(rig.command("/escalate", "ESC-1", user="U0AGENT02"))
    assert "Customer charged twice" in text and "History" in text
    assert "raised by <@U0AGENT01>" in text and "acknowledged by <@U0LEAD01>" in text
    assert "no escalation ESC-7" in answer_text(rig.command("/escalate", "esc-7", user="U0AGENT02"))
    assert "no escalation ESC-1" in answer_text(rig.command("/escalate", "ESC-1", user="U0OUTSIDE"))


def test_help(rig: BotRig) -> None:
    rig.make_team()
    text = answer_text(rig.command("/escalate", "help", user="U0AGENT01"))
    for form in ("/escalate list", "/escalate ESC-42", "/escalate urgent", "team:NAME"):
        assert form in text


def test_spanish_team_gets_spanish_text(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team("Soporte", language="es")
    body = rig.command("/escalate", "urgent El cliente no puede pagar", user="U0AGENT01").json()
    assert "creado" in body["text"] and "se ha avisado" in body["text"]
    [post] = standin.posts("C0ESCAL01")
    text = post.text_everywhere()
    assert "Urgente" in text and "Confirmar" in text and "Escalado por" in text
    rig.click(Id.ACK, {"id": esc(rig).id}, user="U0LEAD01")
    assert "ha confirmado" in standin.dms("U0AGENT01")[0].text_everywhere()
    rig.click(Id.ACK, {"id": esc(rig).id}, user="U0LEAD02")
    assert "ya lo había confirmado" in standin.responses[-1]["text"]
    assert "Escalados abiertos" in answer_text(rig.command("/escalate", "list", user="U0AGENT01"))


def test_escalations_involving_for_the_one_to_one_agenda(rig: BotRig) -> None:
    rig.make_team()
    start = rig.clock.now()
    rig.command("/escalate", "urgent One", user="U0AGENT01")
    rig.command("/escalate", "urgent Two", user="U0AGENT02")
    rig.click(Id.ACK, {"id": esc(rig, 2).id}, user="U0LEAD01")
    rig.clock.advance(days=8)
    rig.command("/escalate", "urgent Three", user="U0AGENT01")
    with rig.rt.transaction(readonly=True) as session:
        week = store.escalations_involving(session=session, workspace_id="T0TEST01", user_id="U0AGENT01", since=start, until=start + timedelta(days=7))
        lead = store.escalations_involving(session=session, workspace_id="T0TEST01", user_id="U0LEAD01", since=start, until=start + timedelta(days=7))
        later = store.escalations_involving(session=session, workspace_id="T0TEST01", user_id="U0AGENT01", since=start + timedelta(days=7), until=start + timedelta(days=14))
    assert [e.number for e in week] == [1]
    assert [e.number for e in lead] == [2]
    assert [e.number for e in later] == [3]


def test_ids_that_are_not_ids_get_not_found_not_an_error(rig: BotRig) -> None:
    """Button values and private_metadata come back from Slack as anyone posted them."""
    rig.make_team()
    for team in ("abc", 10**20, -1, [1], 1.5, None):
        answer = rig.submit("escalation.create", {"escalation.summary": {"type": "plain_text_input", "value": "Refund stuck"}}, user="U0AGENT01", private_metadata={"team": team})
        assert "error id" not in answer.text, (team, answer.text)
    for value in ({"id": 10**20}, {"id": "1"}, {"id": -5}, {"id": [1]}):
        rig.click("escalation.ack", value, user="U0LEAD01")
        rig.click("escalation.resolve", value, user="U0LEAD01")
    rig.settle()
    said = json.dumps(rig.standin.responses) + json.dumps([c.args for c in rig.standin.calls])
    assert "error id" not in said and "Nothing was saved" not in said
    with rig.rt.transaction(readonly=True) as session:
        assert session.exec(sql_select(Escalation)).all() == []
