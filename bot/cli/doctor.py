"""`supportbot doctor`: check a real install, one line per check (✓ or ✗ and what to do);
exit 0 when every check passes, 1 otherwise."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler

from supportbot.bot import doctor
from supportbot.bot.clock import SystemClock
from supportbot.bot.config import Settings


class SlackWeb:
    """doctor.SlackLookup over Slack's Web API. Waits out rate limits (users.info is a Tier 4
    method: a big team is many calls); no other retries, so an unreachable Slack is reported
    at once."""

    def __init__(self, settings: Settings) -> None:
        self.client = WebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            timeout=10,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
            logger=logging.Logger("supportbot.doctor.slack", level=logging.CRITICAL + 1),
        )

    @staticmethod
    def _call(method: Any, **args: Any) -> Any:
        try:
            return method(**args)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = data.get("error")
            if not error:
                raise doctor.SlackProblem("unreachable", detail=f"HTTP {exc.response.status_code}, not Slack's API") from None
            raise doctor.SlackProblem(error, needed=data.get("needed")) from None
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise doctor.SlackProblem("unreachable", detail=str(reason) or type(exc).__name__) from None

    def auth(self) -> doctor.Identity:
        response = self._call(self.client.auth_test)
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        raw = headers.get("x-oauth-scopes")
        scopes = frozenset(s.strip() for s in raw.split(",") if s.strip()) if raw is not None else None
        return doctor.Identity(
            team_id=str(response["team_id"]), team=str(response.get("team") or ""),
            user_id=str(response["user_id"]), user=str(response.get("user") or "supportbot"),
            scopes=scopes,
        )

    def channel(self, channel_id: str) -> dict[str, Any]:
        return dict(self._call(self.client.conversations_info, channel=channel_id)["channel"])

    def user(self, user_id: str) -> dict[str, Any]:
        return dict(self._call(self.client.users_info, user=user_id)["user"])


def cmd_doctor(args: argparse.Namespace) -> int:
    failed = 0
    for check in doctor.run_checks(SlackWeb, now=SystemClock().now()):
        print(check.line, flush=True)
        failed += not check.ok
    print(f"{failed} problem{'s' * (failed != 1)} found" if failed else "all checks passed")
    return 1 if failed else 0


def add_parsers(sub: Any) -> None:
    what = "check this install: settings, database, Slack token and scopes, each team's channels, people, time zones and next firings, the outbox"
    p = sub.add_parser("doctor", help=what, description="C" + what[1:] + ". Exit 0 when all pass, 1 otherwise. Prints no secret.")
    p.set_defaults(func=cmd_doctor)
