"""A local stand-in for the parts of Freshdesk's API v2 the sync reads, built from
Freshdesk's public documentation:

- List All Tickets (`updated_since`, `include=stats`, `order_by`/`order_type`,
  `page`/`per_page` up to 100, the `link` header with rel="next", `filter=deleted`;
  without `updated_since` only tickets created in the last 30 days):
  http://developer.freshdesk.com/api/#list_all_tickets
  (described with these parameters in https://rdrr.io/github/jjanuszczak/freshdeskr/man/tickets.html)
- Rate limits: `X-RateLimit-Total`, `X-RateLimit-Remaining`,
  `X-RateLimit-Used-CurrentRequest`, 429 with `Retry-After`:
  https://raw.githubusercontent.com/api-evangelist/freshdesk/refs/heads/main/rate-limits/freshdesk-rate-limits.yml
  (sources: https://developers.freshdesk.com/api/)
- Status codes and error bodies (400 validation `{"description", "errors": [{field,
  message, code}]}`, 401 authentication failure, 403 access denied):
  https://support.freshdesk.com/support/solutions/articles/225440-status-codes-and-its-reasons
- Basic auth with the API key as user name and "X" as password, and deep-pagination
  ceilings: https://truto.one/blog/how-to-integrate-with-the-freshdesk-api-2026-engineering-guide.md
- Satisfaction ratings (`GET /api/v2/surveys/satisfaction_ratings?created_since=`;
  `ratings.default_question` on the 103 .. -103 scale):
  https://raw.githubusercontent.com/api-evangelist/freshworks/refs/heads/main/capabilities/freshdesk-surveys.yaml

What it enforces: the API key (401 otherwise; `forbid()` answers 403), `rate_limit`
requests per clock minute (429 with Retry-After until the next minute; requests before
that are recorded in `early`), `per_page` 1-100 and `page` up to `max_page` (400 with
the validation error shape). Time comes from `clock()` (seconds).
"""

from __future__ import annotations

import bisect
import json
import math
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, request
from werkzeug.serving import make_server

from supportbot.bot.standin.helpdesk_base import HelpdeskStandIn, Hit, iso

API_KEY = "fd-test-key"
MAX_PER_PAGE = 100
MAX_PAGE = 300

# Documented enumerations (Freshdesk API v2, Tickets).
STATUS = {"open": 2, "pending": 3, "resolved": 4, "closed": 5}
PRIORITY = {"low": 1, "medium": 2, "high": 3, "urgent": 4}
SOURCE = {"email": 1, "portal": 2, "phone": 3, "chat": 7, "feedback_widget": 9, "outbound_email": 10}


def parse(text: str) -> float:
    value = text.strip().replace("Z", "+00:00")
    if len(value) == 10:
        value += "T00:00:00+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class FreshdeskStandIn(HelpdeskStandIn):
    """`.start()` serves it on a free port; `.url` is the base URL (FRESHDESK_URL)."""

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        clock: Callable[[], float] | None = None,
        rate_limit: int | None = 200,
        max_page: int = MAX_PAGE,
    ) -> None:
        self.api_key = api_key
        self.max_page = max_page
        self.tickets: dict[int, dict[str, Any]] = {}
        self.ratings: list[dict[str, Any]] = []
        self._rating_order: list[tuple[float, int]] | None = None  # (created, index), built on demand
        self.agents: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self._minute = -1
        self._used = 0
        super().__init__(clock=clock, rate_limit=rate_limit)

    def ticket_hits(self) -> list[Hit]:
        return [h for h in self.hits if h.path == "/api/v2/tickets"]

    # ----- data --------------------------------------------------------------------
    def add_group(self, group_id: int, name: str) -> None:
        self.groups[group_id] = {"id": group_id, "name": name}

    def add_agent(self, agent_id: int, email: str, name: str = "") -> None:
        self.agents[agent_id] = {"id": agent_id, "contact": {"email": email, "name": name or email}}

    def put_ticket(
        self,
        ticket_id: int,
        *,
        created_at: float,
        updated_at: float | None = None,
        status: str = "open",
        priority: str = "medium",
        group_id: int | None = None,
        responder_id: int | None = None,
        source: str = "email",
        ticket_type: str | None = None,
        tags: list[str] | None = None,
        custom_fields: dict[str, Any] | None = None,
        first_responded_at: float | None = None,
        resolved_at: float | None = None,
        fr_due_minutes: int | None = None,
    ) -> dict[str, Any]:
        updated = float(updated_at if updated_at is not None else self.clock())
        ticket = {
            "id": ticket_id,
            "subject": f"Ticket {ticket_id}",
            "status": STATUS[status],
            "priority": PRIORITY[priority],
            "source": SOURCE[source],
            "type": ticket_type,
            "group_id": group_id,
            "responder_id": responder_id,
            "requester_id": 5_000_000 + ticket_id,
            "tags": list(tags or []),
            "custom_fields": dict(custom_fields or {}),
            "created_at": iso(created_at),
            "updated_at": iso(updated),
            "due_by": iso(created_at + 86400),
            "fr_due_by": iso(created_at + 60 * fr_due_minutes) if fr_due_minutes else None,
            "is_escalated": False,
            "fr_escalated": False,
            "deleted": False,
            "stats": {
                "agent_responded_at": None if first_responded_at is None else iso(first_responded_at),
                "requester_responded_at": None,
                "first_responded_at": None if first_responded_at is None else iso(first_responded_at),
                "status_updated_at": iso(updated),
                "reopened_at": None,
                "resolved_at": None if resolved_at is None else iso(resolved_at),
                "closed_at": None if resolved_at is None or status != "closed" else iso(resolved_at),
                "pending_since": None,
            },
        }
        with self.lock:
            self._place(ticket_id, updated)
            self.tickets[ticket_id] = ticket
        return ticket

    def delete_ticket(self, ticket_id: int, at: float | None = None) -> None:
        """Moved to the trash: gone from the list, listed with `filter=deleted`."""
        updated = float(at if at is not None else self.clock())
        with self.lock:
            ticket = self.tickets[ticket_id]
            ticket["deleted"] = True
            ticket["updated_at"] = iso(updated)
            self._place(ticket_id, updated)

    def rate(self, ticket_id: int, value: int, at: float | None = None) -> None:
        """A satisfaction survey answer: 103 (extremely happy) .. -103 (extremely unhappy)."""
        ticket = self.tickets[ticket_id]
        created = float(at if at is not None else self.clock())
        self._rating_order = None
        self.ratings.append(
            {
                "id": len(self.ratings) + 1,
                "survey_id": 1,
                "user_id": ticket["requester_id"],
                "agent_id": ticket["responder_id"],
                "group_id": ticket["group_id"],
                "ticket_id": ticket_id,
                "feedback": "",
                "ratings": {"default_question": value},
                "created_at": iso(created),
                "updated_at": iso(created),
            }
        )

    # ----- HTTP ----------------------------------------------------------------------
    def _build(self) -> Flask:
        app = Flask("freshdesk-standin")

        @app.get("/api/v2/tickets")
        def tickets() -> Response:
            return self._guarded(self._tickets)

        @app.get("/api/v2/groups")
        def groups() -> Response:
            return self._guarded(lambda: self._listing(sorted(self.groups.values(), key=lambda g: g["id"])))

        @app.get("/api/v2/agents")
        def agents() -> Response:
            return self._guarded(lambda: self._listing(sorted(self.agents.values(), key=lambda a: a["id"])))

        @app.get("/api/v2/surveys/satisfaction_ratings")
        def ratings() -> Response:
            return self._guarded(self._ratings)

        @app.post("/_standin/resolve")
        def resolve() -> Response:
            """Control hook for a stand-in in another process: resolve these tickets now."""
            body = request.get_json(force=True)
            now = self.clock()
            for ticket_id in body.get("ids", []):
                old = self.tickets[int(ticket_id)]
                created = parse(old["created_at"])
                self.put_ticket(
                    int(ticket_id), created_at=created, updated_at=now - 30, status="resolved",
                    group_id=old["group_id"], responder_id=old["responder_id"],
                    ticket_type=old["type"], first_responded_at=created + 300,
                    resolved_at=max(created, now - 60),
                )
            return Response(json.dumps({"resolved": len(body.get("ids", []))}), mimetype="application/json")

        return app

    def _validation(self, field: str, message: str) -> Response:
        return self._json(400, {"description": "Validation failed", "errors": [{"field": field, "message": message, "code": "invalid_value"}]})

    def _authorized(self, credentials: str) -> bool:
        return credentials.split(":", 1)[0] == self.api_key  # the password is ignored

    def _unauthorized(self) -> Response:
        return self._json(401, {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})

    def _forbidden(self) -> Response:
        return self._json(403, {"code": "access_denied", "message": "You are not authorized to perform this action."})

    def _rate(self, now: float) -> tuple[Response | None, dict[str, str]]:
        """`rate_limit` requests per clock minute, counted down in the X-RateLimit headers."""
        assert self.rate_limit is not None
        minute = int(now // 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0
        if self._used >= self.rate_limit:
            wait = max(1, math.ceil((minute + 1) * 60 - now))
            headers = {"X-RateLimit-Total": str(self.rate_limit), "X-RateLimit-Remaining": "0"}
            body = {"code": "rate_limit_exceeded", "message": "You have exceeded the limit of requests per minute"}
            return self._too_many(now, wait, body, headers), {}
        self._used += 1
        return None, {
            "X-RateLimit-Total": str(self.rate_limit),
            "X-RateLimit-Remaining": str(self.rate_limit - self._used),
            "X-RateLimit-Used-CurrentRequest": "1",
        }

    def _paging(self) -> tuple[int, int] | Response:
        try:
            per_page = int(request.args.get("per_page", 30))
        except ValueError:
            per_page = 0
        if not 1 <= per_page <= MAX_PER_PAGE:
            return self._validation("per_page", f"It should be a Positive Number less than or equal to {MAX_PER_PAGE}")
        try:
            page = int(request.args.get("page", 1))
        except ValueError:
            page = 0
        if not 1 <= page <= self.max_page:
            return self._validation("page", f"It should be a Positive Number less than or equal to {self.max_page}")
        return page, per_page

    def _page_of(self, items: list[Any], page: int, per_page: int) -> Response:
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if len(items) > page * per_page:
            args = dict(request.args)
            args["page"] = str(page + 1)
            headers["Link"] = f'<{request.base_url}?{urlencode(args)}>; rel="next"'
        return self._json(200, chunk, headers)

    def _listing(self, items: list[Any]) -> Response:
        paging = self._paging()
        if isinstance(paging, Response):
            return paging
        return self._page_of(items, *paging)

    def _tickets(self) -> Response:
        paging = self._paging()
        if isinstance(paging, Response):
            return paging
        args = request.args
        deleted = args.get("filter") == "deleted"
        if args.get("filter") not in (None, "deleted", "new_and_my_open", "watching", "spam"):
            return self._validation("filter", "It should be one of these values: 'new_and_my_open,watching,spam,deleted'")
        if "updated_since" in args:
            try:
                since = parse(args["updated_since"])
            except ValueError:
                return self._validation("updated_since", "It should be in the 'valid date' format")
            created_floor = None
        else:
            since, created_floor = float("-inf"), self.clock() - 30 * 86400
        order_by = args.get("order_by", "created_at")
        order_type = args.get("order_type", "desc")
        if order_by not in ("created_at", "due_by", "updated_at", "status"):
            return self._validation("order_by", "It should be one of these values: 'created_at,due_by,updated_at,status'")
        if order_type not in ("asc", "desc"):
            return self._validation("order_type", "It should be one of these values: 'asc,desc'")
        stats = "stats" in args.get("include", "").split(",")
        page, per_page = paging
        # oldest-updated first needs only the first pages: stop collecting past them
        enough = page * per_page + 1 if (order_by, order_type) == ("updated_at", "asc") else None
        start = bisect.bisect_left(self._order, (since, -1))
        chosen = []
        for index in range(start, len(self._order)):
            ticket = self.tickets[self._order[index][1]]
            if ticket["deleted"] != deleted:
                continue
            if created_floor is not None and parse(ticket["created_at"]) < created_floor:
                continue
            chosen.append(ticket)
            if enough is not None and len(chosen) >= enough:
                break
        if order_by != "updated_at":
            chosen.sort(key=lambda t: (t[order_by], t["id"]))
        if order_type == "desc":
            chosen.reverse()
        if not stats:
            chosen = [{k: v for k, v in t.items() if k != "stats"} for t in chosen]
        return self._page_of(chosen, page, per_page)

    def _ratings(self) -> Response:
        paging = self._paging()
        if isinstance(paging, Response):
            return paging
        since = float("-inf")
        if "created_since" in request.args:
            try:
                since = parse(request.args["created_since"])
            except ValueError:
                return self._validation("created_since", "It should be in the 'valid date' format")
        if self._rating_order is None:
            self._rating_order = sorted((parse(r["created_at"]), i) for i, r in enumerate(self.ratings))
        start = bisect.bisect_left(self._rating_order, (since, -1))
        page, per_page = paging
        window = self._rating_order[start : start + page * per_page + 1]  # enough to know of a next page
        items = [self.ratings[i] for _at, i in window]
        return self._page_of(items, page, per_page)


def seed(standin: FreshdeskStandIn, count: int, *, start: float, end: float, groups: int = 4, agents: int = 20, rng: random.Random | None = None) -> None:
    """`count` tickets created between start and end (epoch seconds), for demos and benchmarks."""
    rng = rng or random.Random(17)  # noqa: S311
    for g in range(1, groups + 1):
        standin.add_group(g, f"Group {g}")
    for a in range(1, agents + 1):
        standin.add_agent(2000 + a, f"agent{a}@example.com", f"Agent {a}")
    span = max(1.0, end - start)
    for i in range(1, count + 1):
        created = start + span * (i - 1) / count
        answered = rng.random() < 0.9
        resolved = answered and rng.random() < 0.8
        # what would happen after `end` has not happened yet: recent tickets are open
        first = created + rng.randint(60, 36000) if answered else None
        first = first if first is not None and first <= end else None
        resolved_at = created + rng.randint(3600, 3 * 86400) if resolved and first is not None else None
        resolved_at = resolved_at if resolved_at is not None and resolved_at <= end else None
        if first is not None and resolved_at is not None:
            first = min(first, resolved_at)
        resolved = resolved_at is not None
        standin.put_ticket(
            i,
            created_at=created,
            updated_at=max(created, resolved_at or first or created),
            status="resolved" if resolved else "open",
            priority=rng.choice(("low", "medium", "medium", "high", "urgent")),
            group_id=rng.randint(1, groups),
            responder_id=2000 + rng.randint(1, agents),
            source=rng.choice(("email", "portal", "phone", "chat")),
            ticket_type=rng.choice(("Question", "Incident", "Problem")),
            first_responded_at=first,
            resolved_at=resolved_at,
        )
        if resolved and rng.random() < 0.3:
            standin.rate(i, rng.choice((103, 103, 102, 100, -103)), at=resolved_at)


def main() -> None:
    """`python -m supportbot.bot.standin.freshdesk PORT [TICKETS] [DAYS]`: serve it alone,
    seeded, without the rate limit."""
    import logging
    import sys

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    days = float(sys.argv[3]) if len(sys.argv) > 3 else 90
    standin = FreshdeskStandIn(rate_limit=None, max_page=10**9)
    now = time.time()
    seed(standin, count, start=now - days * 86400, end=now - 120)
    server = make_server("127.0.0.1", port, standin.app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
