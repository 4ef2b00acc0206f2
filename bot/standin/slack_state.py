"""What the Slack stand-in records: its identity, calls, injected faults and messages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

BOT_TOKEN = "xoxb-test-token"  # noqa: S105 (the stand-in's own made-up token)
WORKSPACE = "T0TEST01"
BOT_USER = "U0BOT0001"
PING = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>|<!subteam\^[^>]*>")


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    def text_everywhere(self) -> str:
        """All text this call would show, for assertions about pings and wording."""
        return json.dumps(self.args, ensure_ascii=False)


@dataclass
class Fault:
    error: str | None = None
    status: int = 200
    retry_after: int | None = None
    times: int = 1
    delay: float = 0.0
    succeed: bool = False  # a slow call that then works (see `slow`)


@dataclass
class Message:
    channel: str
    ts: str
    args: dict[str, Any]
    updates: list[dict[str, Any]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
