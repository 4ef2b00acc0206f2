"""Small pure Block Kit builders. User text goes through `escape` exactly once, here or in
the caller, before it reaches mrkdwn; `mention` is the only way the bot pings someone."""

from __future__ import annotations

import json
import re
from typing import Any

Block = dict[str, Any]

SECTION_TEXT_MAX = 3000
FIELD_MAX = 2000
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
MODAL_TITLE_MAX = 24
OPTION_TEXT_MAX = 75
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
PLAIN_INPUT_MAX = 3000

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


def escape(text: str | None) -> str:
    """Make user text inert in mrkdwn: `<!channel>` or `<@U1>` typed by a user stays text."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")  # never cut an escape sequence in half
    if amp != -1 and ";" not in cut[amp:] and amp >= limit - 8:
        cut = cut[:amp]
    return cut + "…"


def mention(user_id: str) -> str:
    if not _USER_ID.match(user_id or ""):
        return escape(user_id)
    return f"<@{user_id}>"


def channel_link(channel_id: str) -> str:
    if not _CHANNEL_ID.match(channel_id or ""):
        return escape(channel_id)
    return f"<#{channel_id}>"


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def section(text: str, *, block_id: str | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(truncate(text, SECTION_TEXT_MAX))}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def fields(items: list[str], *, text: str | None = None) -> Block:
    block: Block = {
        "type": "section",
        "fields": [mrkdwn(truncate(item, FIELD_MAX)) for item in items[:10]],
    }
    if text:
        block["text"] = mrkdwn(truncate(text, SECTION_TEXT_MAX))
    return block


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(truncate(t, 2000)) for t in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    value: str | dict[str, Any] = "",
    *,
    style: str | None = None,
) -> Block:
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"))
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
        "value": value[:BUTTON_VALUE_MAX],
    }
    if style in ("primary", "danger"):
        element["style"] = style
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def option(text: str, value: str) -> Block:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value[:150]}


def text_input(
    block_id: str,
    label: str,
    *,
    multiline: bool = False,
    optional: bool = False,
    initial: str | None = None,
    max_length: int = PLAIN_INPUT_MAX,
    placeholder: str | None = None,
) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "optional": optional,
        "element": element,
    }


def select_input(
    block_id: str,
    label: str,
    choices: list[tuple[str, str]],
    *,
    initial: str | None = None,
    optional: bool = False,
) -> Block:
    options = [option(text, value) for text, value in choices[:100]]
    element: Block = {"type": "static_select", "action_id": "value", "options": options}
    for opt in options:
        if opt["value"] == initial:
            element["initial_option"] = opt
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "optional": optional,
        "element": element,
    }


def user_input(block_id: str, label: str, *, initial: str | None = None) -> Block:
    element: Block = {"type": "users_select", "action_id": "value"}
    if initial:
        element["initial_user"] = initial
    return {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element}


def modal(
    title: str,
    blocks: list[Block],
    *,
    callback_id: str,
    submit: str | None = None,
    close: str | None = None,
    private_metadata: str | dict[str, Any] = "",
) -> Block:
    if isinstance(private_metadata, dict):
        private_metadata = json.dumps(private_metadata, separators=(",", ":"))
    view: Block = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, MODAL_TITLE_MAX),
        "blocks": blocks[:VIEW_BLOCKS_MAX],
        "private_metadata": private_metadata[:3000],
    }
    if submit:
        view["submit"] = plain(submit, MODAL_TITLE_MAX)
    if close:
        view["close"] = plain(close, MODAL_TITLE_MAX)
    return view


def message_blocks(blocks: list[Block]) -> list[Block]:
    """Keep a message inside Slack's 50-block limit."""
    return blocks[:MESSAGE_BLOCKS_MAX]
