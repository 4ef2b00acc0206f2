"""Start-up: every way `supportbot run` can fail to start ends in one line that names the
setting or service and says what to do (exit 2, no traceback); a Slack that does not
answer yet is waited for, with `/healthz` answering 503 meanwhile, because an
orchestrator restarting the bot would not make the network come back any sooner.

Slack's documented answers to a bad token (auth.test, errors: invalid_auth, not_authed,
account_inactive, token_revoked, token_expired): https://docs.slack.dev/reference/methods/auth.test
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from urllib.parse import urlparse

from flask import Flask, Response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from supportbot.bot.config import ConfigError, Settings
from supportbot.storage.db import ping, upgrade

log = logging.getLogger(__name__)

# The values .env.example ships with: a copied file that was never filled in.
PLACEHOLDERS = {
    "SLACK_BOT_TOKEN": "xoxb-your-bot-token",
    "SLACK_SIGNING_SECRET": "your-signing-secret",
}
# Slack's signing secrets are 32 letters and digits (Basic Information > App Credentials).
SIGNING_SECRET_SHAPE = re.compile(r"[0-9A-Za-z]{32}")

TOKEN_ERRORS = {
    "invalid_auth": "Slack does not accept this token: copy the Bot User OAuth Token (xoxb-...) again from the app's OAuth & Permissions page",
    "not_authed": "Slack received no token: set the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page",
    "token_revoked": "this token was revoked (the app was uninstalled or its token regenerated): reinstall the app to the workspace and copy the new Bot User OAuth Token",
    "account_inactive": "the workspace or the app's bot user was deleted or deactivated: reinstall the app and copy the new Bot User OAuth Token",
    "token_expired": "this token expired (token rotation is on): turn token rotation off in the app's OAuth & Permissions page, reinstall, and copy the new Bot User OAuth Token",
}
MAX_RETRY_SECONDS = 30.0


class SlackUnreachable(Exception):
    """Slack's Web API did not answer (network, proxy, DNS, 5xx, 429): worth waiting for."""


def check_secrets(settings: Settings) -> None:
    """The shape of the secrets, before anything connects: ConfigError on the first wrong one."""
    if settings.slack_bot_token == PLACEHOLDERS["SLACK_BOT_TOKEN"]:
        raise ConfigError(
            "SLACK_BOT_TOKEN",
            "still the example value from .env.example; paste the app's Bot User OAuth Token "
            "(OAuth & Permissions page, starts with xoxb-).",
        )
    secret = settings.slack_signing_secret
    if secret == PLACEHOLDERS["SLACK_SIGNING_SECRET"]:
        raise ConfigError(
            "SLACK_SIGNING_SECRET",
            "still the example value from .env.example; copy the Signing Secret from the app's "
            "Basic Information page (App Credentials).",
        )
    if secret.startswith(("xox", "xapp-")):
        raise ConfigError(
            "SLACK_SIGNING_SECRET",
            "holds a token, not the Signing Secret; copy the Signing Secret from the app's "
            "Basic Information page (App Credentials).",
        )
    if not SIGNING_SECRET_SHAPE.fullmatch(secret):
        raise ConfigError(
            "SLACK_SIGNING_SECRET",
            f"is not a Signing Secret (those are 32 letters and digits; this is {len(secret)} "
            f"characters{'' if secret.isalnum() else ', not all letters or digits'}); copy it again "
            "from the app's Basic Information page (App Credentials), without quotes or spaces.",
        )


def redact_url(url: str) -> str:
    parsed = urlparse(url)
    return url.replace(f":{parsed.password}@", ":***@") if parsed.password else url


def database_problem(exc: BaseException, url: str) -> str:
    """One line on why the database could not be used, with any password masked."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig)
    else:
        text = str(exc)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    password = urlparse(url).password
    return first.replace(password, "***") if password else first


def migrate(settings: Settings) -> None:
    """Bring the schema up to date; an unreachable or unusable database is one ConfigError."""
    url = settings.database_url
    try:
        upgrade(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            "DATABASE_URL",
            f"{redact_url(url)!r} cannot be used ({database_problem(exc, url)}); use "
            "sqlite:///supportbot.db or postgresql://user:pass@host/db.",
        ) from None
    except (DBAPIError, OSError) as exc:
        raise ConfigError(
            "DATABASE_URL",
            f"cannot reach the database at {redact_url(url)} ({database_problem(exc, url)}); "
            "start it or fix the host, port, name and credentials in DATABASE_URL.",
        ) from None


def verify_token(client: WebClient) -> Any:
    """auth.test: the response when the token works; ConfigError when Slack refuses it;
    SlackUnreachable when Slack did not answer."""
    try:
        return client.auth_test()
    except SlackApiError as exc:
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if status == 429 or status >= 500 or not error:
            raise SlackUnreachable(f"HTTP {status}" + (f", {error}" if error else ", not Slack's API")) from None
        raise ConfigError(
            "SLACK_BOT_TOKEN",
            f"Slack answered {error}: "
            + TOKEN_ERRORS.get(error, "check the Bot User OAuth Token on the app's OAuth & Permissions page"),
        ) from None
    except (OSError, ValueError) as exc:  # URLError, timeouts, resets; a non-JSON answer
        reason = getattr(exc, "reason", None) or exc
        raise SlackUnreachable(str(reason) or type(exc).__name__) from None


def probe_client(settings: Settings) -> WebClient:
    """A client for start-up checks: no retries of its own (the caller's loop waits) and a
    silent logger, so an unreachable Slack makes one log line, not one per attempt."""
    quiet = logging.Logger("supportbot.startup.probe", level=logging.CRITICAL + 1)
    return WebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10,
        retry_handlers=[], logger=quiet,
    )


def wait_for_slack(settings: Settings, stop: threading.Event) -> Any:
    """auth.test until Slack answers, waiting longer after each failure (1 s, 2 s, ... 30 s).
    One log line when Slack is unreachable and one when it answers again; returns the
    auth.test response, or None when `stop` is set first. A refused token raises ConfigError."""
    client = probe_client(settings)
    delay = 1.0
    failed = False
    while True:
        try:
            result = verify_token(client)
        except SlackUnreachable as exc:
            if not failed:
                log.error(
                    "Slack is unreachable at %s (%s): retrying until it answers; /healthz "
                    "answers 503 meanwhile. Check the network, a proxy, or SLACK_API_URL.",
                    settings.slack_api_url, exc,
                )
                failed = True
            else:
                log.debug("Slack still unreachable (%s); next try in %.0f s", exc, delay)
        else:
            if failed:
                log.info("Slack answers at %s again: starting", settings.slack_api_url)
            return result
        if stop.wait(delay):
            return None
        delay = min(delay * 2, MAX_RETRY_SECONDS)


class Readiness:
    """Whether the bot has reached Slack yet; `/healthz` answers 503 until it has."""

    def __init__(self) -> None:
        self.slack = threading.Event()


def health(rt: Any, readiness: Readiness | None) -> Response:
    """`GET /healthz`: 200 when the database answers and (if tracked) Slack was reached."""
    if readiness is not None and not readiness.slack.is_set():
        return Response('{"status":"waiting for Slack"}', 503, mimetype="application/json")
    if ping(rt.engine):
        return Response('{"status":"ok"}', 200, mimetype="application/json")
    return Response('{"status":"database unreachable"}', 503, mimetype="application/json")


def build_health_web(rt: Any, readiness: Readiness) -> Flask:
    """Socket Mode has no HTTP endpoint of its own; this serves `/healthz` on PORT so a
    container orchestrator can check a Socket Mode bot too."""
    web = Flask("supportbot-health")

    @web.get("/healthz")
    def healthz() -> Response:
        return health(rt, readiness)

    return web


def listen_error(port: int, exc: OSError) -> ConfigError:
    return ConfigError(
        "PORT", f"cannot listen on port {port} ({exc.strerror or exc}): stop what uses it or set another PORT."
    )


def app_token_error(exc: SlackApiError) -> ConfigError:
    error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
    return ConfigError(
        "SLACK_APP_TOKEN",
        f"Slack refused the App-Level Token ({error or exc.response.status_code}): create one with "
        "connections:write on the app's Basic Information page (App-Level Tokens), or leave "
        "SLACK_APP_TOKEN empty to serve HTTP.",
    )
