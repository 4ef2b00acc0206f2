"""Outbox renderers: what the bot sends about an escalation, rendered from the stored row
when the message goes out (so it shows the state at delivery, not at enqueue)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from supportbot.bot.escalations.notify import post_key
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import SlackCall
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import posted, store_posted
from supportbot.handlers.escalations.render import (
    ALERTS,
    dm_blocks,
    escalation_blocks,
    fallback_text,
    thread_text,
    withdrawn_dm_blocks,
)
from supportbot.storage import escalations as store
from supportbot.storage import teams as team_store
from supportbot.storage.escalations import OPEN, Escalation
from supportbot.storage.models import OutboxMessage, Team


def _load(session: Session, message: OutboxMessage) -> tuple[Escalation, Team, Translator] | None:
    esc = store.get_escalation(session=session, escalation_id=int(message.data["id"]))
    if esc is None:
        return None
    team = team_store.get_team(session=session, team_id=esc.team_id)
    if team is None:
        return None
    return esc, team, Translator(team.language)


def _load_posted(session: Session, message: OutboxMessage) -> tuple[Escalation, Translator] | None:
    """The escalation of a message about its channel post (an update, a thread reply), once
    that post exists; None when it never will (see common.posted)."""
    loaded = _load(session, message)
    if loaded is None:
        return None
    esc, _team, _ = loaded
    if not posted(session, ts=esc.message_ts, post_key=post_key(esc)):
        return None
    return esc, _


def render_post(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load(session, message)
    if loaded is None:
        return None
    esc, team, _ = loaded
    if esc.message_ts:
        return None
    return SlackCall(
        "chat.postMessage",
        {
            "channel": team.escalation_channel,
            "text": fallback_text(_, esc),
            "blocks": bk.message_blocks(escalation_blocks(_, esc)),
            "unfurl_links": False,
            "unfurl_media": False,
        },
    )


after_post = store_posted(
    "id",
    lambda session, esc_id, channel, ts: store.set_message(
        session=session, escalation_id=esc_id, channel_id=channel, ts=ts
    ),
)


def render_update(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load_posted(session, message)
    if loaded is None:
        return None
    esc, _ = loaded
    return SlackCall(
        "chat.update",
        {
            "channel": esc.channel_id,
            "ts": esc.message_ts,
            "text": fallback_text(_, esc),
            "blocks": bk.message_blocks(escalation_blocks(_, esc)),
        },
    )


def render_thread(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load_posted(session, message)
    if loaded is None:
        return None
    esc, _ = loaded
    return SlackCall(
        "chat.postMessage",
        {
            "channel": esc.channel_id,
            "thread_ts": esc.message_ts,
            "text": thread_text(_, str(message.data["note"]), message.data.get("params") or {}),
            "unfurl_links": False,
        },
    )


def post_target(data: dict[str, Any]) -> SlackCall | None:
    """The channel post's call as far as its rate budgets go (the outbox's `target`): the
    channel stored with the message when the escalation was raised."""
    return SlackCall("chat.postMessage", {"channel": data["channel"]}) if data.get("channel") else None


def dm_target(data: dict[str, Any]) -> SlackCall | None:
    """A DM's call as far as its rate budgets go: a post to the person."""
    return SlackCall("chat.postMessage", {"channel": str(data["user"])}) if data.get("user") else None


def render_dm(session: Session, message: OutboxMessage) -> SlackCall | None:
    loaded = _load(session, message)
    if loaded is None:
        return None
    esc, team, _ = loaded
    reason = str(message.data.get("reason"))
    if reason in ALERTS and esc.status != OPEN:
        return None  # someone acknowledged it before this alert went out
    text, blocks = dm_blocks(_, esc, team, reason, message.data.get("by"))
    return SlackCall(
        "chat.postMessage",
        {
            "channel": str(message.data["user"]),
            "text": bk.truncate(text, 3000),
            "blocks": bk.message_blocks(blocks),
            "unfurl_links": False,
        },
    )


def render_dm_update(session: Session, message: OutboxMessage) -> SlackCall | None:
    """A DM already sent to a leader, rewritten once the escalation is withdrawn."""
    loaded = _load(session, message)
    if loaded is None:
        return None
    esc, _team, _ = loaded
    text, blocks = withdrawn_dm_blocks(_, esc, message.data.get("by"))
    return SlackCall(
        "chat.update",
        {
            "channel": str(message.data["channel"]),
            "ts": str(message.data["ts"]),
            "text": bk.truncate(text, 3000),
            "blocks": bk.message_blocks(blocks),
        },
    )
