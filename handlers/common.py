"""What every listener shares: who is asking, how to answer privately, and one place that
turns errors into clear messages (domain errors in the user's language; database outages
as "not saved, try again"; anything else logged with an id the user can quote)."""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from supportbot.bot.errors import InvalidInput, UserError
from supportbot.bot.i18n import Translator
from supportbot.bot.outbox import AfterSend, Deferred, DeliveryError, SlackCall
from supportbot.bot.runtime import Runtime
from supportbot.handlers import blocks as bk
from supportbot.storage import outbox as outbox_store
from supportbot.storage.claims import record_event
from supportbot.storage.models import OutboxMessage

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
# `should_escape: true` makes Slack send mentions as <@U123|name>; these also accept a raw id.
LEADING_MENTION = re.compile(r"^\s*(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|\b([UW][A-Z0-9]{6,})\b)")


def split_leading_mentions(text: str) -> tuple[list[str], str]:
    """`<@U1> <@U2> great job` -> (["U1", "U2"], "great job")."""
    ids: list[str] = []
    rest = text or ""
    while True:
        match = LEADING_MENTION.match(rest)
        if not match:
            break
        ids.append(match.group(1) or match.group(2))
        rest = rest[match.end() :]
    return list(dict.fromkeys(ids)), rest.strip()


_SLACK_TOKEN = re.compile(r"<([@#!])?([^<>|]*)(?:\|([^<>]*))?>")


def slack_to_plain(text: str) -> str:
    """What the user actually typed, from Slack's formatted command text: `<@U1|ana>` ->
    `@ana`, `<#C1|sales>` -> `#sales`, `<!here>` -> `@here`, `<https://x|x>` -> `https://x`,
    and `&lt;` `&gt;` `&amp;` back to `<` `>` `&`. Stored like this; escaped when shown."""

    def token(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return "@" + (label or target)
        if sigil == "#":
            return "#" + (label or target)
        if sigil == "!":
            if target.startswith("subteam^"):
                return label if label and label.startswith("@") else "@" + (label or "group")
            if target.startswith("date^"):
                return label or target
            return "@" + target
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        return target if not label or label == target else f"{label} ({target})"

    plain = _SLACK_TOKEN.sub(token, text or "")
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_user(token: str) -> str | None:
    token = (token or "").strip()
    match = MENTION.fullmatch(token)
    if match:
        return match.group(1)
    if re.fullmatch(r"[UW][A-Z0-9]{6,}", token):
        return token
    return None


def parse_channel(token: str) -> str | None:
    token = (token or "").strip()
    match = CHANNEL.fullmatch(token)
    if match:
        return match.group(1)
    if re.fullmatch(r"[CG][A-Z0-9]{6,}", token):
        return token
    return None


@dataclass
class Req:
    """The caller of a command, click or submission, with their language bound."""

    rt: Runtime
    workspace_id: str
    user_id: str
    channel_id: str | None
    lang: str
    body: dict[str, Any]
    _: Translator = field(repr=False)

    @classmethod
    def from_body(cls, rt: Runtime, body: dict[str, Any]) -> Req:
        workspace_id = (
            body.get("team_id")
            or (body.get("team") or {}).get("id")
            or (body.get("user") or {}).get("team_id")
            or ""
        )
        user = body.get("user_id") or (body.get("user") or {}).get("id") or ""
        channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
        default = rt.settings.default_language
        lang = rt.languages.cached(workspace_id, user, default)  # most requests: no read
        if lang is None:
            try:
                with rt.transaction(readonly=True) as session:
                    lang = rt.languages.language_for(session, workspace_id, user, default)
            except (OperationalError, DBAPIError):
                lang = default
        return cls(rt, workspace_id, user, channel, lang, body, Translator(lang))

    @property
    def text(self) -> str:
        return (self.body.get("text") or "").strip()

    @property
    def trigger_id(self) -> str | None:
        return self.body.get("trigger_id")


def form_values(view: dict[str, Any]) -> dict[str, Any]:
    """Flatten `view.state.values[block_id][action_id]` to {block_id: value}."""
    out: dict[str, Any] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for _action_id, state in actions.items():
            kind = state.get("type")
            if kind in ("static_select", "external_select", "radio_buttons"):
                value = (state.get("selected_option") or {}).get("value")
            elif kind == "users_select":
                value = state.get("selected_user")
            elif kind == "multi_users_select":
                value = state.get("selected_users") or []
            elif kind == "conversations_select":
                value = state.get("selected_conversation")
            elif kind == "channels_select":
                value = state.get("selected_channel")
            elif kind == "datepicker":
                value = state.get("selected_date")
            elif kind == "timepicker":
                value = state.get("selected_time")
            elif kind in ("checkboxes", "multi_static_select"):
                value = [o.get("value") for o in state.get("selected_options") or []]
            else:
                value = state.get("value")
            out[block_id] = value
            break
    return out


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    raw = view.get("private_metadata") or ""
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def as_id(value: object) -> int:
    """A database id from a button value or private_metadata (we write ints there, but
    anyone can post anything): a positive int that fits a 32-bit column, else 0 (which
    finds nothing, so the user hears "not found" rather than an error)."""
    return value if type(value) is int and 0 < value < 2**31 else 0


def action_value(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON `value` of the clicked button ({} when absent or not JSON)."""
    try:
        value = json.loads((body.get("actions") or [{}])[0].get("value") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class AckState:
    """Who answers Slack's ack: the listener, or the request thread when the listener has
    not by the deadline. Shared by both threads."""

    def __init__(self) -> None:
        self.acked = False
        self.answered = threading.Event()  # set once the ack has its response
        self._lock = threading.Lock()

    def take(self) -> bool:
        """True for the one caller that gets to answer the ack."""
        with self._lock:
            if self.acked:
                return False
            self.acked = True
            return True


class Reply:
    """Answers the caller privately: in the ack while it is open, else via response_url,
    else with chat.postEphemeral, else by DM. Safe to use from the listener's thread while
    the request thread waits for the ack (see `_listener`)."""

    def __init__(
        self,
        req: Req,
        ack: Ack,
        respond: Respond | None,
        client: WebClient,
        kind: str,
        state: AckState | None = None,
    ) -> None:
        self.req = req
        self._ack = ack
        self._respond = respond
        self.client = client
        self.kind = kind
        self._state = state or AckState()

    @property
    def acked(self) -> bool:
        return self._state.acked

    def _slack_call(self) -> AbstractContextManager[None]:
        """A call to Slack may wait on the network: the listener gives up its slot."""
        return self.req.rt.waiting()

    def ack(self, **kwargs: Any) -> None:
        if self._state.take():
            try:
                self._ack(**kwargs)
            finally:
                self._state.answered.set()

    def ephemeral(self, text: str, blocks: list[bk.Block] | None = None) -> None:
        blocks = bk.message_blocks(blocks) if blocks else None
        if self.kind == "command" and self._state.take():
            try:
                self._ack(response_type="ephemeral", text=text, blocks=blocks)
            finally:
                self._state.answered.set()
            return
        self.ack()
        body = self.req.body
        with self._slack_call():
            if self._respond is not None and body.get("response_url"):
                self._respond(
                    text=text,
                    blocks=blocks,
                    response_type="ephemeral",
                    replace_original=False,
                )
            elif self.req.channel_id and self.kind != "view":
                self.client.chat_postEphemeral(
                    channel=self.req.channel_id, user=self.req.user_id, text=text, blocks=blocks
                )
            else:
                self.client.chat_postMessage(channel=self.req.user_id, text=text, blocks=blocks)

    def open_modal(self, view: bk.Block) -> None:
        """Open a modal: the trigger_id works once and for 3 seconds, so this comes first."""
        self.ack()
        with self._slack_call():
            self.client.views_open(trigger_id=self.req.trigger_id, view=view)

    def view_errors(self, errors: dict[str, str]) -> None:
        self.ack(response_action="errors", errors=errors)

    def view_update(self, view: bk.Block) -> None:
        self.ack(response_action="update", view=view)

    def fail(self, exc: BaseException) -> None:
        _ = self.req._
        if isinstance(exc, UserError):
            text = _(exc.key, **exc.params)
            if self.kind == "view" and not self.acked:
                field_id = getattr(exc, "field", None) or exc.params.get("field")
                if isinstance(exc, InvalidInput) and field_id:
                    self.view_errors({field_id: text})
                else:
                    self.view_update(notice_modal(_("common.title"), text))
                return
            self._say(text)
            return
        if isinstance(exc, (OperationalError, DBAPIError)):
            log.error("database unavailable: %s", type(exc).__name__)
            self._say(_("common.db_unavailable"))
            return
        error_id = uuid.uuid4().hex[:8]
        log.exception("error %s handling %s", error_id, self.kind, exc_info=exc)
        self._say(_("common.error_unknown", error_id=error_id))

    def _say(self, text: str) -> None:
        try:
            if self.kind == "view" and not self.acked:
                self.view_update(notice_modal(self.req._("common.title"), text))
            else:
                self.ephemeral(text)
        except SlackApiError as exc:
            log.error("could not tell the user about an error: %s", exc.response.get("error"))


def notice_modal(title: str, text: str) -> bk.Block:
    return bk.modal(title, [bk.section(text)], callback_id="common.notice", close="OK")


Handler = Callable[[Req, Reply], None]

# Slack waits 3 seconds for the ack; a listener that has not answered by then gets a
# "working on it" ack and answers later through response_url.
ACK_DEADLINE_SECONDS = 2.5


def _listener(rt: Runtime, fn: Handler, kind: str) -> Callable[..., None]:
    def run(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, state: AckState) -> None:
        with rt.handler_slot():  # first come, first served when many arrive at once
            work(ack, body, client, respond, state)
        rt.outbox.kick()

    def work(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, state: AckState) -> None:
        try:
            req = Req.from_body(rt, body)
        except Exception:
            log.exception("could not read the request")
            if state.take():
                ack()
                state.answered.set()
            return
        reply = Reply(req, ack, respond, client, kind, state)
        try:
            if kind == "action":
                reply.ack()
            fn(req, reply)
        except Exception as exc:
            reply.fail(exc)
        finally:
            if not reply.acked:
                reply.ack()

    def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """Bolt calls this in the request thread (process_before_response); the work runs
        in the handler pool and this returns as soon as it has acked."""
        state = AckState()
        pool = rt.handler_pool
        if pool is None:
            run(ack, body, client, respond, state)
            return
        pool.submit(run, ack, body, client, respond, state)
        if not state.answered.wait(ACK_DEADLINE_SECONDS) and state.take():
            # Not answered in time (a queue, a slow database): Slack gets its ack now and
            # the listener answers through response_url when it gets there.
            _ = Translator(rt.settings.default_language)
            try:
                if kind == "command":
                    ack(response_type="ephemeral", text=_("common.working"))
                else:
                    ack()
            finally:
                state.answered.set()

    listener.__name__ = getattr(fn, "__name__", "listener")
    return listener


def command(rt: Runtime, fn: Handler) -> Callable[..., None]:
    return _listener(rt, fn, "command")


def action(rt: Runtime, fn: Handler) -> Callable[..., None]:
    return _listener(rt, fn, "action")


def view(rt: Runtime, fn: Handler) -> Callable[..., None]:
    return _listener(rt, fn, "view")


def shortcut(rt: Runtime, fn: Handler) -> Callable[..., None]:
    return _listener(rt, fn, "shortcut")


def dedupe_events(rt: Runtime) -> Callable[..., Any]:
    """Global middleware: an event id seen before (a Slack retry) is acked and dropped."""

    def middleware(body: dict[str, Any], next: Callable[[], None]) -> Any:  # noqa: A002
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            with rt.transaction() as session:
                first = record_event(
                    session=session,
                    event_id=event_id,
                    workspace_id=body.get("team_id") or "",
                    now=rt.clock.now(),
                )
            if not first:
                return BoltResponse(status=200, body="")
        return next()

    return middleware


# ----- a message posted once, then updated in place ----------------------------------
# The escalation's channel message and the SLA alert post: the post's `after_send` stores
# where it landed, and the messages that follow (chat.update, a thread reply) first ask
# whether it exists yet.


def store_posted(id_key: str, save: Callable[[Session, int, str, str], None]) -> AfterSend:
    """An outbox `after_send` for a post: `save(session, row id, channel, ts)` with the row
    id from the message's `data[id_key]`, once Slack answered with where the post is."""

    def after_post(session: Session, message: OutboxMessage, response: dict[str, Any]) -> None:
        if response.get("ts") and response.get("channel"):
            save(session, int(message.data[id_key]), str(response["channel"]), str(response["ts"]))

    return after_post


def posted(session: Session, *, ts: str | None, post_key: str) -> bool:
    """True once the post exists (`ts` stored); False when it never will (its outbox
    message under `post_key` is missing, failed, or went out without an answer); raises
    Deferred while it is still on its way, so the caller's message is tried again soon."""
    if ts:
        return True
    status = outbox_store.status_of(session=session, dedupe_key=post_key)
    if status in (None, outbox_store.FAILED, outbox_store.SENT):
        return False
    raise Deferred()


def make_sender(client: WebClient) -> Callable[[SlackCall], dict[str, Any]]:
    """The outbox's way out: one Web API call, with Slack's errors as DeliveryError."""

    def send(call: SlackCall) -> dict[str, Any]:
        try:
            response = client.api_call(call.method, json=call.args)
        except SlackApiError as exc:
            retry_after = exc.response.headers.get("Retry-After") if exc.response else None
            raise DeliveryError(
                str(exc.response.get("error") or f"http_{exc.response.status_code}"),
                retry_after=float(retry_after) if retry_after else None,
            ) from None
        except OSError as exc:  # connection refused, reset, timed out
            raise DeliveryError(f"connection: {type(exc).__name__}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    return send
