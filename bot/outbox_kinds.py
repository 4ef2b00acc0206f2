"""What the outbox delivers: the Slack call a message becomes, the errors a delivery can
end in, and the registry of renderers per message kind (filled by handlers/)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from supportbot.storage.models import OutboxMessage

CALL_KIND = "slack.call"
PERMANENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "msg_too_long",
        "no_text",
        "missing_scope",
        "cant_update_message",
        "message_not_found",
        "user_not_found",
        "is_archived",
    }
)


@dataclass(frozen=True)
class SlackCall:
    method: str
    args: dict[str, Any]


class DeliveryError(Exception):
    """A send failed; `retry_after` comes from a 429, `permanent` means stop trying."""

    def __init__(self, error: str, *, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after
        self.permanent = error in PERMANENT_ERRORS


class Deferred(Exception):
    """The renderer cannot build the call yet (it waits on another message); try soon,
    or after `wait` seconds when given."""

    def __init__(self, wait: float | None = None) -> None:
        super().__init__(wait)
        self.wait = wait


class Paced(Deferred):
    """A call the renderer needed hit Slack's rate limit; try after `wait` seconds."""


Render = Callable[[Session, OutboxMessage], SlackCall | None]
AfterSend = Callable[[Session, OutboxMessage, dict[str, Any]], None]
Send = Callable[[SlackCall], dict[str, Any]]


Target = Callable[[dict[str, Any]], SlackCall | None]


def _render_call(_session: Session, message: OutboxMessage) -> SlackCall:
    return SlackCall(message.data["method"], message.data["args"])


def _call_target(data: dict[str, Any]) -> SlackCall | None:
    return SlackCall(data["method"], data["args"]) if "method" in data else None


@dataclass
class OutboxKinds:
    renderers: dict[str, tuple[Render, AfterSend | None]] = field(
        default_factory=lambda: {CALL_KIND: (_render_call, None)}
    )
    # What a kind's call will most likely be, from the message's data alone (no reads):
    # lets a delivery round leave a row alone, without leasing or rendering it, while the
    # rate budget that call spends is known to be busy (a channel posted to this second).
    targets: dict[str, Target] = field(default_factory=lambda: {CALL_KIND: _call_target})

    def register(
        self, kind: str, render: Render, after_send: AfterSend | None = None, *, target: Target | None = None
    ) -> None:
        self.renderers[kind] = (render, after_send)
        if target is not None:
            self.targets[kind] = target
        else:
            self.targets.pop(kind, None)
