"""What the demo page shows, kept from the Slack stand-in's calls as a Slack client would
see them: channel and DM messages (updated in place), threads, private answers, open
modals per person, and each person's App Home tab."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from supportbot.bot.clock import Clock
from supportbot.bot.demo.signed import SlackRequests


def dm_channel(user_id: str) -> str:
    """The DM between a person and the bot, as the stand-in names it (U… -> D…)."""
    return "D" + user_id[1:]


@dataclass
class Msg:
    channel: str
    ts: str
    user: str  # the author: the bot's user id or a person's
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    replies: list[str] = field(default_factory=list)
    only_for: str | None = None  # an ephemeral message: the one person who sees it
    edited: int = 0
    deleted: bool = False
    at: str = ""  # when it arrived, on the demo's clock (the stand-in's ts are made up)

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "blocks": self.blocks,
            "files": self.files,
            "thread_ts": self.thread_ts,
            "reply_count": len(self.replies),
            "only_for": self.only_for,
            "edited": self.edited,
            "at": self.at,
        }


class Workspace:
    """Fed by `observe` (a stand-in observer); read by the page through `snapshot`."""

    def __init__(self, *, bot_user: str, signed: SlackRequests, clock: Clock) -> None:
        self.bot_user = bot_user
        self.clock = clock
        self.signed = signed
        self.lock = threading.Condition()
        self.version = 0
        self.messages: dict[tuple[str, str], Msg] = {}
        self.order: list[tuple[str, str]] = []
        self.modals: dict[str, list[dict[str, Any]]] = {}
        self.home: dict[str, dict[str, Any]] = {}
        self.notices: list[dict[str, Any]] = []  # things the page should say (time moved…)
        self._local_ts = itertools.count(1)

    # ----- changes ------------------------------------------------------------------
    def _changed(self) -> None:
        self.version += 1
        self.lock.notify_all()

    def wait(self, since: int, timeout: float) -> None:
        with self.lock:
            self.lock.wait_for(lambda: self.version != since, timeout=timeout)

    def _local(self) -> str:
        return f"{1800000000 + next(self._local_ts)}.000000"

    def add(self, msg: Msg) -> Msg:
        msg.at = msg.at or self.clock.now().isoformat()
        with self.lock:
            key = (msg.channel, msg.ts)
            self.messages[key] = msg
            self.order.append(key)
            if msg.thread_ts:
                parent = self.messages.get((msg.channel, msg.thread_ts))
                if parent is not None:
                    parent.replies.append(msg.ts)
            self._changed()
        return msg

    def ephemeral(self, user: str, channel: str, text: str, blocks: list[dict[str, Any]] | None, *, thread_ts: str | None = None) -> Msg:
        """A private answer: shown only to `user`, marked "only visible to you"."""
        with self.lock:
            ts = self._local()
        return self.add(Msg(channel, ts, self.bot_user, text or "", list(blocks or []), only_for=user, thread_ts=thread_ts))

    def say(self, user: str, channel: str, text: str, *, thread_ts: str | None = None) -> Msg:
        """A message a person typed (the bot listens to no messages; it is for the eye,
        and for message shortcuts)."""
        with self.lock:
            ts = self._local()
        return self.add(Msg(channel, ts, user, text, [], thread_ts=thread_ts))

    def replace(self, channel: str, ts: str, text: str | None, blocks: list[dict[str, Any]] | None) -> None:
        with self.lock:
            msg = self.messages.get((channel, ts))
            if msg is None:
                return
            if text is not None:
                msg.text = text
            if blocks is not None:
                msg.blocks = list(blocks)
            msg.edited += 1
            self._changed()

    def delete(self, channel: str, ts: str) -> None:
        with self.lock:
            msg = self.messages.get((channel, ts))
            if msg is not None:
                msg.deleted = True
                self._changed()

    def answer(self, *, user: str, channel: str, source: str | None, payload: dict[str, Any]) -> None:
        """A command's ack body or a response_url post, placed as Slack places it."""
        text = str(payload.get("text") or "")
        blocks = payload.get("blocks") or []
        if not text and not blocks and not payload.get("delete_original"):
            return
        if source and payload.get("delete_original"):
            self.delete(*_split(source))
            return
        if source and payload.get("replace_original") in (True, "true"):
            self.replace(*_split(source), text, blocks)
            return
        if payload.get("response_type") == "in_channel":
            with self.lock:
                ts = self._local()
            self.add(Msg(channel, ts, self.bot_user, text, list(blocks)))
            return
        self.ephemeral(user, channel, text, blocks)

    def notice(self, text: str) -> None:
        with self.lock:
            self.notices.append({"n": len(self.notices) + 1, "text": text})
            self._changed()

    # ----- the stand-in's calls -------------------------------------------------------
    def observe(self, method: str, args: dict[str, Any], response: dict[str, Any]) -> None:
        if not response.get("ok"):
            return
        if method == "chat.postMessage":
            self.add(Msg(str(response["channel"]), str(response["ts"]), self.bot_user,
                         str(args.get("text") or ""), list(args.get("blocks") or []),
                         thread_ts=args.get("thread_ts")))
        elif method == "chat.update":
            self.replace(str(response["channel"]), str(response["ts"]),
                         str(args.get("text") or ""), list(args.get("blocks") or []))
        elif method == "chat.postEphemeral":
            channel = str(args["channel"])
            if channel[:1] in ("U", "W"):
                channel = dm_channel(channel)
            self.ephemeral(str(args["user"]), channel, str(args.get("text") or ""),
                           args.get("blocks"), thread_ts=args.get("thread_ts"))
        elif method == "files.completeUploadExternal":
            channel = str(args.get("channel_id") or args.get("channels") or "")
            files = [{"id": f["id"], "title": f.get("title") or "", "url": f"/files/{f['id']}"}
                     for f in args.get("files") or []]
            with self.lock:
                ts = self._local()
            self.add(Msg(channel, ts, self.bot_user, "", [], files=files,
                         thread_ts=args.get("thread_ts")))
        elif method in ("views.open", "views.push"):
            user = self.signed.triggers.get(str(args.get("trigger_id")))
            if user is None:
                return
            view = {**args["view"], "id": response["view"]["id"], "state": {"values": {}}}
            with self.lock:
                stack = self.modals.setdefault(user, [])
                if method == "views.open":
                    stack.clear()
                stack.append(view)
                self._changed()
        elif method == "views.update":
            self.update_view(str(args["view_id"]), args["view"])
        elif method == "views.publish":
            with self.lock:
                self.home[str(args["user_id"])] = {**args["view"], "id": f"VHOME{args['user_id']}"}
                self._changed()
        elif method == "response_url":
            target = self.signed.response_urls.get(str(args.get("key")))
            if target is not None:
                self.answer(user=target["user"], channel=target["channel"], source=target["source"], payload=args)

    # ----- modals -----------------------------------------------------------------------
    def top_view(self, user: str, view_id: str) -> dict[str, Any] | None:
        with self.lock:
            for view in self.modals.get(user, []):
                if view["id"] == view_id:
                    return view
        return None

    def update_view(self, view_id: str, view: dict[str, Any]) -> None:
        with self.lock:
            for stack in self.modals.values():
                for i, old in enumerate(stack):
                    if old["id"] == view_id:
                        stack[i] = {**view, "id": view_id, "state": {"values": {}}}
                        self._changed()
                        return

    def after_submit(self, user: str, view_id: str, answer: dict[str, Any]) -> dict[str, Any] | None:
        """Apply a view_submission's ack (https://api.slack.com/surfaces/modals#responding);
        returns the field errors to show, if any."""
        action = answer.get("response_action")
        with self.lock:
            stack = self.modals.setdefault(user, [])
            if action == "errors":
                return dict(answer.get("errors") or {})
            if action == "update" and answer.get("view"):
                for i, old in enumerate(stack):
                    if old["id"] == view_id:
                        stack[i] = {**answer["view"], "id": view_id, "state": {"values": {}}}
            elif action == "push" and answer.get("view"):
                stack.append({**answer["view"], "id": f"VPUSH{self._local()}", "state": {"values": {}}})
            elif action == "clear":
                stack.clear()
            else:
                self.modals[user] = [v for v in stack if v["id"] != view_id]
            self._changed()
        return None

    def close_view(self, user: str, view_id: str) -> None:
        with self.lock:
            stack = self.modals.get(user, [])
            self.modals[user] = [v for v in stack if v["id"] != view_id]
            self._changed()

    # ----- what the page reads ---------------------------------------------------------
    def snapshot(self, user: str) -> dict[str, Any]:
        with self.lock:
            msgs = [
                self.messages[k].as_json()
                for k in self.order
                if not self.messages[k].deleted
                and self.messages[k].only_for in (None, user)
                and (self.messages[k].channel[:1] != "D" or self.messages[k].channel == dm_channel(user))
            ]
            return {
                "version": self.version,
                "messages": msgs,
                "modals": list(self.modals.get(user, [])),
                "home": self.home.get(user),
                "notices": list(self.notices[-20:]),
            }


def _split(source: str) -> tuple[str, str]:
    channel, _, ts = source.partition("|")
    return channel, ts
