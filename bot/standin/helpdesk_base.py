"""What the Zendesk and Freshdesk stand-ins share: a Flask app served on a free port,
Basic-auth checks (401, or 403 after `forbid()`), a request log (`hits`), the 429 with
Retry-After once a helpdesk's rate limit is spent (requests that arrive before that
Retry-After has passed are also logged in `early`, so a test can prove the client waited),
and the tickets' order by last update. Each helpdesk says how credentials are checked,
how its errors look and how its rate limit counts (`_authorized`, `_unauthorized`,
`_forbidden`, `_rate`). Time comes from `clock()` (seconds), so a test can share one fake
clock with the client and never wait.
"""

from __future__ import annotations

import base64
import bisect
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import make_server


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Hit:
    at: float
    path: str
    status: int
    query: dict[str, str]


class HelpdeskStandIn:
    """`.start()` serves it on a free port; `.url` is the base URL to configure."""

    def __init__(self, *, clock: Callable[[], float] | None, rate_limit: int | None) -> None:
        self.clock = clock or time.time
        self.rate_limit = rate_limit
        self.lock = threading.RLock()
        self.hits: list[Hit] = []
        self.early: list[Hit] = []  # requests that came before the Retry-After had passed
        self.forbidden = False
        self._blocked_until = 0.0
        self._order: list[tuple[float, int]] = []  # (updated_at, id), sorted
        self._updated: dict[int, float] = {}
        self.app = self._build()
        self._server: Any = None
        self.url = ""

    # ----- lifecycle ---------------------------------------------------------------
    def start(self, port: int = 0) -> Any:
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    def forbid(self, on: bool = True) -> None:
        """Answer 403 (valid credentials, no access) until `forbid(False)`."""
        self.forbidden = on

    # ----- what each helpdesk defines ----------------------------------------------
    def _build(self) -> Flask:
        raise NotImplementedError

    def _authorized(self, credentials: str) -> bool:
        """`credentials` is the decoded Basic auth, "user:password" ("" when absent)."""
        raise NotImplementedError

    def _unauthorized(self) -> Response:
        raise NotImplementedError

    def _forbidden(self) -> Response:
        raise NotImplementedError

    def _rate(self, now: float) -> tuple[Response | None, dict[str, str]]:
        """The rate limit: a 429 (see `_too_many`) or None, and headers for the answer."""
        raise NotImplementedError

    # ----- shared plumbing ---------------------------------------------------------
    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers or {})

    def _credentials(self) -> str:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return ""
        try:
            return base64.b64decode(header[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return ""

    def _guarded(self, handler: Callable[[], Response]) -> Response:
        """Auth, then the rate limit, then `handler`; every request is logged in `hits`."""
        now = self.clock()
        with self.lock:
            response, headers = self._gate(now)
            if response is None:
                response = handler()
            for key, value in headers.items():
                response.headers[key] = value
            self.hits.append(Hit(now, request.path, response.status_code, dict(request.args)))
        return response

    def _gate(self, now: float) -> tuple[Response | None, dict[str, str]]:
        if not self._authorized(self._credentials()):
            return self._unauthorized(), {}
        if self.forbidden:
            return self._forbidden(), {}
        if self.rate_limit is None:
            return None, {}
        if now < self._blocked_until:
            self.early.append(Hit(now, request.path, 429, dict(request.args)))
        return self._rate(now)

    def _too_many(self, now: float, wait: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        """429 with Retry-After `wait` seconds; requests before then are recorded as early."""
        self._blocked_until = max(self._blocked_until, now + wait)
        return self._json(429, body, {**(headers or {}), "Retry-After": str(wait)})

    def _place(self, ticket_id: int, updated: float) -> None:
        """Move a ticket to its place in the update order (a change moves it to the end)."""
        old = self._updated.get(ticket_id)
        if old is not None:
            index = bisect.bisect_left(self._order, (old, ticket_id))
            if index < len(self._order) and self._order[index] == (old, ticket_id):
                del self._order[index]
        bisect.insort(self._order, (updated, ticket_id))
        self._updated[ticket_id] = updated
