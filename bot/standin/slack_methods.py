"""The Web API methods the Slack stand-in answers, each as Slack documents it."""

from __future__ import annotations

import base64
from typing import Any

from supportbot.bot.standin.slack_blocks import block_problems, view_problems
from supportbot.bot.standin.slack_state import BOT_USER, WORKSPACE, Message


class SlackMethods:
    """Mixed into `SlackStandIn`: `m_<method>` answers `<method>` (dots as underscores)."""

    def _check_message(self, args: dict[str, Any]) -> str | None:
        if not args.get("channel"):
            return "channel_not_found"
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            return "no_text"
        if len(str(args.get("text") or "")) > 40000:
            return "msg_too_long"
        if "blocks" in args and block_problems(args["blocks"], max_blocks=50):
            return "invalid_blocks"
        if str(args.get("parse", "")) == "full" or str(args.get("link_names", "")).lower() in ("1", "true"):
            return "invalid_arguments"  # supportbot must never ask Slack to linkify user text
        return None

    # chat.*
    def m_api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team_id": WORKSPACE, "user_id": BOT_USER, "bot_id": "B0BOT0001", "team": "Test", "user": "supportbot"}

    def m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message(args)
        if error:
            return {"ok": False, "error": error}
        channel = self._dm_channel(str(args["channel"]))
        thread = args.get("thread_ts")
        if thread and (channel, thread) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        ts = self._next_ts()
        with self.lock:
            self.messages[(channel, ts)] = Message(channel, ts, dict(args))
            if thread:
                self.messages[(channel, thread)].replies.append(ts)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text"), "ts": ts}}

    def m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._check_message(args)
        if error:
            return {"ok": False, "error": error}
        key = (self._dm_channel(str(args["channel"])), str(args.get("ts")))
        with self.lock:
            message = self.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.updates.append(dict(args))
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        error = self._check_message(args)
        if error:
            return {"ok": False, "error": error}
        return {"ok": True, "message_ts": self._next_ts()}

    def m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "permalink": f"https://test.slack.com/archives/{args.get('channel')}/p{str(args.get('message_ts')).replace('.', '')}"}

    def m_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}

    def m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "")
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": self._dm_channel(users.split(",")[0])}}

    # views.*
    def _open_view(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = args.get("trigger_id")
        if not trigger:
            return {"ok": False, "error": "invalid_trigger_id"}
        with self.lock:
            if trigger in self.triggers_used:
                return {"ok": False, "error": "expired_trigger_id"}
            self.triggers_used.add(trigger)
        view = args.get("view")
        if view_problems(view):
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": view_problems(view)}}
        view_id = f"V{next(self._ts):08d}"
        with self.lock:
            self.views[view_id] = view
        return {"ok": True, "view": {**view, "id": view_id}}

    def m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._open_view(args)

    def m_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._open_view(args)

    def m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if not view_id or view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        if view_problems(args.get("view")):
            return {"ok": False, "error": "invalid_arguments"}
        self.views[view_id] = args["view"]
        return {"ok": True, "view": {**args["view"], "id": view_id}}

    def m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        view = args.get("view") or {}
        if view.get("type") != "home" or view_problems(view):
            return {"ok": False, "error": "invalid_arguments"}
        self.home[str(args["user_id"])] = view
        return {"ok": True, "view": view}

    # users.*
    def m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def m_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Cursor pagination as Slack does it: `limit` per page, `next_cursor` ("" at the end)."""
        try:
            limit = int(args.get("limit") or 100)
            cursor = str(args.get("cursor") or "")
            start = int(base64.b64decode(cursor).decode().split(":", 1)[1]) if cursor else 0
        except (ValueError, IndexError):
            return {"ok": False, "error": "invalid_cursor"}
        if not 1 <= limit <= 1000:
            return {"ok": False, "error": "invalid_limit"}
        with self.lock:
            ids = sorted(self.users)
            page = [{"deleted": False, "is_bot": False, **self.users[u]} for u in ids[start : start + limit]]
        more = start + limit < len(ids)
        next_cursor = base64.b64encode(f"user:{start + limit}".encode()).decode() if more else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        for user in self.users.values():
            if user["profile"]["email"].lower() == str(args.get("email", "")).lower():
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """Needs channels:read (public) or groups:read (private); a private channel the bot
        is not in does not exist for the bot's token."""
        channel = self.channels.get(str(args.get("channel")))
        if channel is None or (channel["is_private"] and not channel["is_member"]):
            return {"ok": False, "error": "channel_not_found"}
        needed = "groups:read" if channel["is_private"] else "channels:read"
        if needed not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(self.scopes)}
        return {"ok": True, "channel": dict(channel)}

    def m_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "members": sorted(self.users), "response_metadata": {"next_cursor": ""}}

    # files.* (upload v2)
    def m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ts):08d}"
        with self.lock:
            self.files[file_id] = {"filename": args["filename"], "length": int(args["length"])}
        return {"ok": True, "upload_url": self.url.replace("/api/", f"/upload/{file_id}"), "file_id": file_id}

    def m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        for f in files:
            if f.get("id") not in self.uploads:
                return {"ok": False, "error": "file_not_found"}
        channel = args.get("channel_id") or args.get("channels")
        known = self.channels.get(str(channel))
        if known is not None and not known["is_member"]:
            return {"ok": False, "error": "not_in_channel"}  # chat:write.public covers messages only
        thread = args.get("thread_ts")
        if thread and (str(channel), str(thread)) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
