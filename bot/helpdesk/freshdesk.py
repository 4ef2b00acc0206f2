"""Freshdesk API v2: tickets updated since a time (with `include=stats`), deleted
tickets, groups, agents and satisfaction ratings, 100 to a page.

http://developer.freshdesk.com/api/#list_all_tickets
Every response carries X-RateLimit-Total / X-RateLimit-Remaining: when the budget is
spent the transport holds the next request for a minute (the limits are per minute)
instead of provoking a 429; a 429 is waited out by its Retry-After.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import requests

from supportbot.bot.helpdesk.http import Transport

PER_PAGE = 100

# Documented enumerations (Freshdesk API v2, Tickets).
STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
PRIORITY = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
SOURCE = {1: "email", 2: "portal", 3: "phone", 7: "chat", 9: "feedback_widget", 10: "outbound_email"}


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FreshdeskClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # The API key is the user name; the password is ignored ("X" by convention).
        self.transport = Transport(base_url, (api_key, "X"), sleep=sleep, monotonic=monotonic)

    def _get(self, path: str, params: dict[str, Any]) -> requests.Response:
        response = self.transport.get(path, params)
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is not None and remaining.strip().isdigit() and int(remaining) <= 0:
            self.transport.hold_until(self.transport.monotonic() + 60.0)
        return response

    def tickets(self, *, updated_since: datetime, page: int = 1, deleted: bool = False) -> tuple[list[dict[str, Any]], bool]:
        """One page, oldest update first, and whether a next page exists (the link header)."""
        params: dict[str, Any] = {
            "updated_since": stamp(updated_since),
            "order_by": "updated_at",
            "order_type": "asc",
            "per_page": PER_PAGE,
            "page": page,
        }
        if deleted:
            params["filter"] = "deleted"
        else:
            params["include"] = "stats"
        response = self._get("/api/v2/tickets", params)
        return list(response.json()), "next" in response.links

    def _all(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            response = self._get(path, {**(params or {}), "per_page": PER_PAGE, "page": page})
            yield from response.json()
            if "next" not in response.links:
                return
            page += 1

    def groups(self) -> dict[int, str]:
        return {g["id"]: g.get("name") or "" for g in self._all("/api/v2/groups")}

    def agents(self) -> dict[int, str]:
        return {a["id"]: ((a.get("contact") or {}).get("email") or "") for a in self._all("/api/v2/agents")}

    def ratings(self, *, created_since: datetime) -> Iterator[dict[str, Any]]:
        yield from self._all("/api/v2/surveys/satisfaction_ratings", {"created_since": stamp(created_since)})
