"""One HTTP transport for both helpdesks: requests for the calls, tenacity for retries.

Retries (429 after its Retry-After, 5xx and connection errors with jittered backoff) are
tenacity's policy with our `sleep`, so tests advance a fake clock instead of waiting and
can check that no request went out inside a Retry-After window. A 401/403 is never
retried: it raises AuthFailed, which stops that helpdesk's sync.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

log = logging.getLogger(__name__)

USER_AGENT = "supportbot-helpdesk-sync"


class HelpdeskError(Exception):
    """The helpdesk answered something the sync cannot use; the message says what."""


class AuthFailed(HelpdeskError):
    """401 or 403: the credentials are wrong or lack access. Retrying will not help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class ApiError(HelpdeskError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class _RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:g} s")
        self.retry_after = retry_after


class _Transient(Exception):
    pass


def _retry_after(response: requests.Response, default: float = 60.0) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


def error_detail(response: requests.Response) -> str:
    """The helpdesk's own words: Zendesk {error, description}, Freshdesk {code, message}."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("error", "description", "code", "message") if body.get(k)]
        if parts:
            return " - ".join(parts)[:300]
    return str(body)[:300]


class Transport:
    """GET with auth, optional pacing (`per_minute`), and tenacity's retry policy."""

    def __init__(
        self,
        base_url: str,
        auth: tuple[str, str],
        *,
        per_minute: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        attempts: int = 6,
        timeout: float = 60.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sleep = sleep
        self.monotonic = monotonic
        self.per_minute = per_minute
        self.attempts = attempts
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.auth = auth
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"
        self._sent: deque[float] = deque()
        self._not_before = 0.0
        self.requests = 0
        self.waited = 0.0  # seconds spent pacing or waiting out Retry-After
        self.http_seconds = 0.0  # seconds spent in requests (the helpdesk's share of a sync)

    # Pacing: stay under `per_minute` in any 60 s, and wait out a Retry-After or an
    # exhausted rate-limit budget before the next request rather than after a 429.
    def hold_until(self, when: float) -> None:
        self._not_before = max(self._not_before, when)

    def _pace(self) -> None:
        now = self.monotonic()
        wait = self._not_before - now
        if self.per_minute:
            while self._sent and self._sent[0] <= now - 60.0:
                self._sent.popleft()
            if len(self._sent) >= self.per_minute:
                wait = max(wait, self._sent[0] + 60.0 - now)
        if wait > 0:
            self.waited += wait
            self.sleep(wait)
        if self.per_minute:
            self._sent.append(self.monotonic())

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RateLimited):
            return 0.0  # _pace waits out the Retry-After before the next attempt
        return float(wait_random_exponential(multiplier=1, max=60)(state))

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> requests.Response:
        url = path_or_url if "://" in path_or_url else f"{self.base_url}{path_or_url}"
        retrying = Retrying(
            retry=retry_if_exception_type((_RateLimited, _Transient, requests.ConnectionError, requests.Timeout)),
            wait=self._wait,
            stop=stop_after_attempt(self.attempts),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, url, params)
        except _RateLimited as exc:
            raise HelpdeskError(f"still rate limited after {self.attempts} attempts ({exc})") from None
        except _Transient as exc:
            raise HelpdeskError(f"server error after {self.attempts} attempts: {exc}") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise HelpdeskError(f"cannot reach {self.base_url}: {exc.__class__.__name__}") from None

    def _once(self, url: str, params: dict[str, Any] | None) -> requests.Response:
        self._pace()
        self.requests += 1
        began = time.perf_counter()
        response = self.session.get(url, params=params, timeout=self.timeout)
        self.http_seconds += time.perf_counter() - began
        status = response.status_code
        if status == 429:
            wait = _retry_after(response)
            log.info("rate limited by %s: waiting %g s (Retry-After)", self.base_url, wait)
            self.hold_until(self.monotonic() + wait)
            raise _RateLimited(wait)
        if status in (401, 403):
            raise AuthFailed(status, error_detail(response))
        if status >= 500:
            raise _Transient(f"HTTP {status}")
        if status >= 400:
            raise ApiError(status, error_detail(response))
        return response
