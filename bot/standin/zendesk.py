"""A local stand-in for Zendesk's cursor-based incremental ticket export, built from
Zendesk's public documentation:

- Incremental Exports (endpoint, `start_time`/`cursor`, `after_cursor`, `after_url`,
  `end_of_stream`, 10 requests a minute, `Retry-After`, deleted tickets, side-loads):
  https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/
- Using the Incremental Export API (items changed within the minute before a request are
  left out; the cursor-based workflow):
  https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api
- `include=metric_sets` on the incremental export (reply and resolution times, replies):
  https://support.zendesk.com/hc/en-us/community/posts/4984355661466-Ticket-metrics-incremental
- Rate limits (429 Too Many Requests with `Retry-After` seconds):
  https://developer.zendesk.com/api-reference/introduction/rate-limits
- Satisfaction ratings (`offered`, `unoffered`, `good`, `bad`):
  https://developer.zendesk.com/api-reference/ticketing/ticket-management/satisfaction_ratings/
- SLA policies (`policy_metrics`, metric `first_reply_time`):
  https://developer.zendesk.com/api-reference/ticketing/business-rules/sla_policies/
  and side-loading (`include=`):
  https://developer.zendesk.com/documentation/ticketing/using-the-zendesk-api/side_loading/
  With `include=slas` each exported ticket carries `slas: {policy_metrics: [{breach_at,
  stage, metric, minutes|hours|days}]}` (empty for a ticket no policy applies to). The
  reference pages do not print this object; its shape is the one public clients of the
  incremental export read (e.g. github.com/tylerconlee/slab, `include=slas` on
  /api/v2/incremental/tickets, `ticket.slas.policy_metrics[].breach_at`).

What it enforces: API-token basic auth (`{email}/token:{token}`, 401 otherwise; `forbid()`
answers 403), at most `rate_limit` requests in any 60 s (429 with Retry-After; requests
arriving before the Retry-After has passed are recorded in `early`), cursors that expire
(`cursor_ttl`, or all at once with `expire_cursors()`; 400 InvalidPaginationParameter), a
`start_time` at least a minute old (422), `per_page` up to 1000. Deleted tickets come back
with status "deleted" unless `exclude_deleted=true`. Time comes from `clock()` (seconds),
so a test can share one fake clock with the client and never wait.
"""

from __future__ import annotations

import base64
import bisect
import math
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import make_server

from supportbot.bot.standin.helpdesk_base import HelpdeskStandIn, Hit, iso

EMAIL = "sync@example.com"
TOKEN = "zd-test-token"  # noqa: S105 (the stand-in's own made-up token)
EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"
MAX_PER_PAGE = 1000
WINDOW = 60.0


class ZendeskStandIn(HelpdeskStandIn):
    """`.start()` serves it on a free port; `.url` is the base URL (ZENDESK_URL)."""

    def __init__(
        self,
        *,
        email: str = EMAIL,
        token: str = TOKEN,
        clock: Callable[[], float] | None = None,
        rate_limit: int | None = 10,
        cursor_ttl: float = 3600.0,
    ) -> None:
        self.email = email
        self.token = token
        self.cursor_ttl = cursor_ttl
        self.tickets: dict[int, dict[str, Any]] = {}
        self.metrics: dict[int, dict[str, Any]] = {}
        self.slas: dict[int, int] = {}  # ticket id -> its SLA policy's first-reply target, minutes
        self.users: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self._generation = 0
        self._recent: deque[float] = deque()  # accepted request times, for the limit
        self.page_limit: int | None = None  # serve fewer than per_page (many pages from few tickets)
        self.delay = 0.0  # real seconds before each export answer (to kill a client mid-sync)
        super().__init__(clock=clock, rate_limit=rate_limit)

    # ----- data --------------------------------------------------------------------
    def add_group(self, group_id: int, name: str) -> None:
        self.groups[group_id] = {"id": group_id, "name": name}

    def add_user(self, user_id: int, email: str, name: str = "", role: str = "agent") -> None:
        self.users[user_id] = {"id": user_id, "email": email, "name": name or email, "role": role}

    def put_ticket(
        self,
        ticket_id: int,
        *,
        created_at: float,
        updated_at: float | None = None,
        status: str = "open",
        priority: str | None = "normal",
        group_id: int | None = None,
        assignee_id: int | None = None,
        channel: str = "email",
        ticket_type: str | None = None,
        tags: list[str] | None = None,
        custom_fields: list[dict[str, Any]] | None = None,
        satisfaction: str | None = "unoffered",
        reply_minutes: int | None = None,
        solved_at: float | None = None,
        replies: int = 0,
        sla_reply_minutes: int | None = None,
    ) -> dict[str, Any]:
        """Create or change a ticket (its `updated_at` moves, so the export returns it).
        `sla_reply_minutes`: an SLA policy applies to it with that first-reply target."""
        updated = int(updated_at if updated_at is not None else self.clock())
        ticket = {
            "id": ticket_id,
            "url": f"{self.url}/api/v2/tickets/{ticket_id}.json",
            "created_at": iso(created_at),
            "updated_at": iso(updated),
            "generated_timestamp": updated,
            "type": ticket_type,
            "subject": f"Ticket {ticket_id}",
            "status": status,
            "priority": priority,
            "group_id": group_id,
            "assignee_id": assignee_id,
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "tags": list(tags or []),
            "custom_fields": list(custom_fields or []),
            "satisfaction_rating": {"score": satisfaction} if satisfaction else None,
        }
        metric = {
            "id": ticket_id + 10_000_000,
            "ticket_id": ticket_id,
            "created_at": iso(created_at),
            "updated_at": iso(updated),
            "replies": replies,
            "reply_time_in_minutes": {"calendar": reply_minutes, "business": reply_minutes},
            "first_resolution_time_in_minutes": {
                "calendar": None if solved_at is None else int((solved_at - created_at) // 60),
                "business": None,
            },
            "full_resolution_time_in_minutes": {
                "calendar": None if solved_at is None else int((solved_at - created_at) // 60),
                "business": None,
            },
            "solved_at": None if solved_at is None else iso(solved_at),
        }
        with self.lock:
            self._place(ticket_id, updated)
            self.tickets[ticket_id] = ticket
            self.metrics[ticket_id] = metric
            if sla_reply_minutes is None:
                self.slas.pop(ticket_id, None)
            else:
                self.slas[ticket_id] = sla_reply_minutes
        return ticket

    def delete_ticket(self, ticket_id: int, at: float | None = None) -> None:
        """Deleted tickets stay in the export with status "deleted"."""
        updated = int(at if at is not None else self.clock())
        with self.lock:
            ticket = self.tickets[ticket_id]
            ticket["status"] = "deleted"
            ticket["updated_at"] = iso(updated)
            ticket["generated_timestamp"] = updated
            self._place(ticket_id, updated)

    def expire_cursors(self) -> None:
        """Every cursor handed out so far stops working (as after Zendesk's expiry)."""
        with self.lock:
            self._generation += 1

    def export_hits(self) -> list[Hit]:
        return [h for h in self.hits if h.path == EXPORT_PATH]

    def _sla_metrics(self, ticket_id: int, now: float) -> dict[str, Any]:
        """The `slas` side-load of one ticket: its SLA policy's metrics, each with the
        moment it breaches and the time left until then (negative once past) in the
        largest whole unit; `stage` "active" until fulfilled, then "achieved"."""
        target = self.slas.get(ticket_id)
        if target is None:
            return {"policy_metrics": []}
        ticket = self.tickets[ticket_id]
        created = datetime.strptime(ticket["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        breach = created + 60 * target
        replied = self.metrics[ticket_id]["reply_time_in_minutes"]["calendar"] is not None
        left = int((breach - now) // 60)
        unit = ("minutes", left) if abs(left) < 60 else ("hours", left // 60) if abs(left) < 1440 else ("days", left // 1440)
        metric = {"breach_at": iso(breach), "stage": "achieved" if replied else "active", "metric": "first_reply_time", unit[0]: unit[1]}
        return {"policy_metrics": [metric]}

    # ----- cursors -----------------------------------------------------------------
    def _cursor(self, position: tuple[int, int]) -> str:
        raw = f"{position[0]}|{position[1]}|{self.clock():.3f}|{self._generation}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _read_cursor(self, text: str) -> tuple[int, int] | None:
        try:
            padded = text + "=" * (-len(text) % 4)
            updated, ticket_id, issued, generation = base64.urlsafe_b64decode(padded).decode().split("|")
            if int(generation) != self._generation or self.clock() - float(issued) > self.cursor_ttl:
                return None
            return int(updated), int(ticket_id)
        except (ValueError, UnicodeDecodeError):
            return None

    # ----- HTTP ----------------------------------------------------------------------
    def _build(self) -> Flask:
        app = Flask("zendesk-standin")

        @app.get(EXPORT_PATH)
        def export() -> Response:
            return self._guarded(self._export)

        @app.post("/_standin/solve")
        def solve() -> Response:
            """Control hook for a stand-in in another process: solve these tickets now."""
            body = request.get_json(force=True)
            now = self.clock()
            for ticket_id in body.get("ids", []):
                old = self.tickets[int(ticket_id)]
                created = datetime.strptime(old["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
                self.put_ticket(
                    int(ticket_id), created_at=created, updated_at=now - 90, status="solved",
                    priority=old["priority"], group_id=old["group_id"], assignee_id=old["assignee_id"],
                    channel=old["via"]["channel"], ticket_type=old["type"], satisfaction="good",
                    reply_minutes=self.metrics[int(ticket_id)]["reply_time_in_minutes"]["calendar"] or 5,
                    solved_at=max(created, now - 120), replies=2, sla_reply_minutes=self.slas.get(int(ticket_id)),
                )
            return self._json(200, {"solved": len(body.get("ids", []))})

        return app

    def _authorized(self, credentials: str) -> bool:
        return credentials == f"{self.email}/token:{self.token}"

    def _unauthorized(self) -> Response:
        return self._json(401, {"error": "Couldn't authenticate you"})

    def _forbidden(self) -> Response:
        return self._json(
            403,
            {"error": "Forbidden", "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."},
        )

    def _rate(self, now: float) -> tuple[Response | None, dict[str, str]]:
        """At most `rate_limit` requests in any 60 s (the export's 10 a minute)."""
        assert self.rate_limit is not None
        while self._recent and self._recent[0] <= now - WINDOW:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            wait = max(1, math.ceil(self._recent[0] + WINDOW - now))
            body = {"error": "APIRateLimitExceeded", "description": "Number of allowed incremental export API requests per minute exceeded"}
            return self._too_many(now, wait, body), {}
        self._recent.append(now)
        return None, {}

    def _export(self) -> Response:
        if self.delay:
            time.sleep(self.delay)
        now = self.clock()
        args = request.args
        try:
            per_page = int(args.get("per_page", MAX_PER_PAGE))
        except ValueError:
            per_page = 0
        if not 1 <= per_page <= MAX_PER_PAGE:
            return self._json(400, {"error": "InvalidPaginationParameter", "description": f"per_page must be between 1 and {MAX_PER_PAGE}"})
        if "cursor" in args:
            position = self._read_cursor(args["cursor"])
            if position is None:
                return self._json(400, {"error": "InvalidPaginationParameter", "description": "The cursor is invalid or has expired. Start again with start_time."})
        elif "start_time" in args:
            try:
                start = int(args["start_time"])
            except ValueError:
                return self._json(400, {"error": "InvalidValue", "description": "start_time must be a Unix epoch time"})
            if start > now - 60:
                return self._json(422, {"error": "InvalidValue", "description": "Too recent start_time. Use a start_time older than 1 minute"})
            position = (start, -1)
        else:
            return self._json(400, {"error": "InvalidValue", "description": "Provide start_time or cursor"})
        include = {x.strip() for x in args.get("include", "").split(",") if x.strip()}
        exclude_deleted = args.get("exclude_deleted", "false").lower() == "true"
        bound = int(now) - 60  # items changed within the last minute wait for the next request
        index = bisect.bisect_right(self._order, position)
        page: list[dict[str, Any]] = []
        last = position
        limit = min(per_page, self.page_limit or per_page)
        while index < len(self._order) and len(page) < limit:
            updated, ticket_id = self._order[index]
            if updated > bound:
                break
            last = (updated, ticket_id)
            index += 1
            ticket = self.tickets[ticket_id]
            if exclude_deleted and ticket["status"] == "deleted":
                continue
            if "slas" in include:
                ticket = {**ticket, "slas": self._sla_metrics(ticket_id, now)}
            page.append(ticket)
        end = index >= len(self._order) or self._order[index][0] > bound
        cursor = self._cursor(last)
        body: dict[str, Any] = {
            "tickets": page,
            "after_cursor": cursor,
            "after_url": f"{request.host_url.rstrip('/')}{EXPORT_PATH}?cursor={cursor}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": end,
        }
        if "metric_sets" in include:
            body["metric_sets"] = [self.metrics[t["id"]] for t in page if t["id"] in self.metrics]
        if "users" in include:
            ids = {t["assignee_id"] for t in page if t.get("assignee_id")}
            body["users"] = [self.users[i] for i in sorted(ids) if i in self.users]
        if "groups" in include:
            ids = {t["group_id"] for t in page if t.get("group_id")}
            body["groups"] = [self.groups[i] for i in sorted(ids) if i in self.groups]
        return self._json(200, body)


def seed(standin: ZendeskStandIn, count: int, *, start: float, end: float, groups: int = 4, agents: int = 20, rng: random.Random | None = None) -> None:
    """`count` tickets created between start and end (epoch seconds), spread over groups
    and agents, most answered and solved, some rated (for demos and benchmarks)."""
    rng = rng or random.Random(17)  # noqa: S311
    for g in range(1, groups + 1):
        standin.add_group(g, f"Group {g}")
    for a in range(1, agents + 1):
        standin.add_user(1000 + a, f"agent{a}@example.com", f"Agent {a}")
    span = max(1.0, end - start)
    channels = ("email", "web", "chat", "api")
    for i in range(1, count + 1):
        created = start + span * (i - 1) / count
        answered = rng.random() < 0.9
        solved = answered and rng.random() < 0.8
        reply = rng.randint(1, 600) if answered else None
        solved_at = created + rng.randint(3600, 3 * 86400) if solved else None
        if solved_at is not None and solved_at > end:  # not solved yet at `end`
            solved, solved_at = False, None
        score = rng.choice(("good", "good", "good", "bad", "offered", "unoffered")) if solved else "unoffered"
        standin.put_ticket(
            i,
            created_at=created,
            updated_at=max(created, solved_at or created),
            status="solved" if solved else "open",
            priority=rng.choice(("low", "normal", "normal", "high", "urgent")),
            group_id=rng.randint(1, groups),
            assignee_id=1000 + rng.randint(1, agents),
            channel=rng.choice(channels),
            ticket_type=rng.choice(("question", "incident", "problem", "task")),
            satisfaction=score,
            reply_minutes=reply,
            solved_at=solved_at,
            replies=rng.randint(1, 4) if answered else 0,
        )


def main() -> None:
    """`python -m supportbot.bot.standin.zendesk PORT [TICKETS] [DAYS]`: serve it alone,
    seeded with TICKETS tickets over the last DAYS days, without the rate limit."""
    import logging
    import sys

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    days = float(sys.argv[3]) if len(sys.argv) > 3 else 90
    standin = ZendeskStandIn(rate_limit=None)
    now = time.time()
    seed(standin, count, start=now - days * 86400, end=now - 120)
    server = make_server("127.0.0.1", port, standin.app, threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
