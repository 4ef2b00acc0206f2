"""Zendesk's cursor-based incremental ticket export, with metric sets, users, groups and
SLA policy metrics side-loaded (one request per page of up to 1000 tickets).

https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/
The export allows 10 requests a minute: the transport paces itself to that and waits out
any Retry-After. A cursor that no longer works (400/422 on a cursor request) raises
CursorExpired; the caller starts again from the newest `updated_at` it committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from supportbot.bot.helpdesk.http import ApiError, HelpdeskError, Transport

EXPORT = "/api/v2/incremental/tickets/cursor.json"
REQUESTS_PER_MINUTE = 10
SIDELOADS = "metric_sets,users,groups,slas"


class CursorExpired(HelpdeskError):
    pass


@dataclass
class ExportPage:
    tickets: list[dict[str, Any]]
    metric_sets: dict[int, dict[str, Any]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    after_cursor: str | None = None
    end_of_stream: bool = True


class ZendeskClient:
    def __init__(
        self,
        base_url: str,
        email: str,
        api_token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        per_minute: int | None = REQUESTS_PER_MINUTE,
        per_page: int = 1000,
    ) -> None:
        # API token authentication: "{email}/token" as the user, the token as password.
        self.transport = Transport(
            base_url, (f"{email}/token", api_token), per_minute=per_minute, sleep=sleep, monotonic=monotonic
        )
        self.per_page = per_page

    def export(self, *, cursor: str | None = None, start_time: int | None = None) -> ExportPage:
        params: dict[str, Any] = {"include": SIDELOADS, "per_page": self.per_page}
        if cursor:
            params["cursor"] = cursor
        elif start_time is not None:
            params["start_time"] = start_time
        else:
            raise ValueError("export needs a cursor or a start_time")
        try:
            body = self.transport.get(EXPORT, params).json()
        except ApiError as exc:
            if cursor and exc.status in (400, 422):
                raise CursorExpired(str(exc)) from None
            raise
        return ExportPage(
            tickets=list(body.get("tickets") or []),
            metric_sets={m["ticket_id"]: m for m in body.get("metric_sets") or []},
            users={u["id"]: u for u in body.get("users") or []},
            groups={g["id"]: g for g in body.get("groups") or []},
            after_cursor=body.get("after_cursor"),
            end_of_stream=bool(body.get("end_of_stream", True)),
        )
