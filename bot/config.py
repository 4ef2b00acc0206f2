"""Settings from the environment and a `.env` file, checked once at start."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

LANGUAGES = ("en", "es")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_API_URL = "https://slack.com/api/"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and says what to do."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str
    slack_signing_secret: str
    slack_app_token: str | None = None
    database_url: str = "sqlite:///supportbot.db"
    slack_api_url: str = DEFAULT_API_URL
    port: int = 3000
    ingest_token: str | None = None
    default_timezone: str = "UTC"
    default_language: str = "en"
    log_level: str = "INFO"
    # Helpdesk sync (bot/helpdesk): a helpdesk is configured when its URL is set.
    zendesk_url: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: str | None = None
    zendesk_category_field: int | None = None
    freshdesk_url: str | None = None
    freshdesk_api_key: str | None = None
    freshdesk_category_field: str | None = None
    sync_interval_minutes: float = 5  # an int unless a test set a fraction

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    def __repr__(self) -> str:  # secrets never reach logs through repr()
        return (
            f"Settings(database_url={_redact_url(self.database_url)!r}, "
            f"slack_api_url={self.slack_api_url!r}, port={self.port}, "
            f"socket_mode={self.socket_mode}, default_timezone={self.default_timezone!r}, "
            f"default_language={self.default_language!r}, log_level={self.log_level!r})"
        )

    __str__ = __repr__


def _redact_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: str | Path | None = ".env",
    require_slack: bool = True,
) -> Settings:
    """Read settings: the process environment wins over the `.env` file."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    bot_token = get("SLACK_BOT_TOKEN")
    secret = get("SLACK_SIGNING_SECRET")
    if require_slack:
        if not bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN",
                "missing; set it to the app's Bot User OAuth Token (xoxb-...) "
                "from the Slack app's OAuth & Permissions page.",
            )
        if not bot_token.startswith("xoxb-"):
            raise ConfigError(
                "SLACK_BOT_TOKEN", "must start with 'xoxb-' (the Bot User OAuth Token)."
            )
        if not secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET",
                "missing; copy the Signing Secret from the Slack app's Basic Information page.",
            )
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN",
            "must start with 'xapp-' (an App-Level Token with connections:write); "
            "leave it empty to serve HTTP instead of Socket Mode.",
        )

    port_text = get("PORT") or "3000"
    try:
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise ConfigError("PORT", f"{port_text!r} is not a port number (1-65535).") from None

    api_url = get("SLACK_API_URL") or DEFAULT_API_URL
    parsed = urlparse(api_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(
            "SLACK_API_URL", f"{api_url!r} is not an http(s) URL, e.g. https://slack.com/api/"
        )
    if not api_url.endswith("/"):
        api_url += "/"

    tz = get("DEFAULT_TIMEZONE") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "DEFAULT_TIMEZONE", f"{tz!r} is not an IANA time zone name, e.g. Europe/Madrid."
        ) from None

    lang = (get("DEFAULT_LANGUAGE") or "en").lower()
    if lang not in LANGUAGES:
        raise ConfigError("DEFAULT_LANGUAGE", f"{lang!r} is not supported; use en or es.")

    level = (get("LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError("LOG_LEVEL", f"{level!r} is not one of {', '.join(LOG_LEVELS)}.")

    db_url = get("DATABASE_URL") or "sqlite:///supportbot.db"
    if "://" not in db_url:
        raise ConfigError(
            "DATABASE_URL",
            f"{db_url!r} is not a database URL, e.g. sqlite:///supportbot.db or "
            "postgresql+psycopg://user:pass@host/db",
        )
    if db_url.startswith(("postgres://", "postgresql://")):
        db_url = "postgresql+psycopg://" + db_url.split("://", 1)[1]

    helpdesks = _helpdesk_settings(get)

    return Settings(
        **helpdesks,
        slack_bot_token=bot_token or "",
        slack_signing_secret=secret or "",
        slack_app_token=app_token,
        database_url=db_url,
        slack_api_url=api_url,
        port=port,
        ingest_token=get("INGEST_TOKEN"),
        default_timezone=tz,
        default_language=lang,
        log_level=level,
    )


def _http_url(setting: str, url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(setting, f"{url!r} is not an http(s) URL, e.g. https://acme.zendesk.com")
    return url.rstrip("/")


def _helpdesk_settings(get: Callable[[str], str | None]) -> dict[str, Any]:
    """Zendesk and Freshdesk: all or nothing. A helpdesk with some of its settings set and
    others missing is an error naming the first missing one."""
    out: dict[str, Any] = {}
    subdomain, url = get("ZENDESK_SUBDOMAIN"), get("ZENDESK_URL")
    email, token = get("ZENDESK_EMAIL"), get("ZENDESK_API_TOKEN")
    if subdomain or url or email or token:
        if not (subdomain or url):
            raise ConfigError("ZENDESK_SUBDOMAIN", "missing; the part before .zendesk.com (or set ZENDESK_URL).")
        if not email:
            raise ConfigError("ZENDESK_EMAIL", "missing; the email of the Zendesk agent the API token belongs to.")
        if not token:
            raise ConfigError("ZENDESK_API_TOKEN", "missing; create one in Zendesk Admin Center > Apps and integrations > Zendesk API.")
        if subdomain and not url and not re.fullmatch(r"[A-Za-z0-9-]{1,63}", subdomain):
            raise ConfigError("ZENDESK_SUBDOMAIN", f"{subdomain!r} is not a subdomain, e.g. acme for acme.zendesk.com.")
        out["zendesk_url"] = _http_url("ZENDESK_URL", url or f"https://{subdomain}.zendesk.com")
        out["zendesk_email"], out["zendesk_api_token"] = email, token
    field = get("ZENDESK_CATEGORY_FIELD")
    if field:
        if not field.isdigit():
            raise ConfigError("ZENDESK_CATEGORY_FIELD", f"{field!r} is not a Zendesk custom field id (a number).")
        out["zendesk_category_field"] = int(field)
    domain, url, key = get("FRESHDESK_DOMAIN"), get("FRESHDESK_URL"), get("FRESHDESK_API_KEY")
    if domain or url or key:
        if not (domain or url):
            raise ConfigError("FRESHDESK_DOMAIN", "missing; e.g. acme for acme.freshdesk.com (or set FRESHDESK_URL).")
        if not key:
            raise ConfigError("FRESHDESK_API_KEY", "missing; find it in Freshdesk under Profile settings > Your API Key.")
        if domain and not url:
            host = domain if "." in domain else f"{domain}.freshdesk.com"
            if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host):
                raise ConfigError("FRESHDESK_DOMAIN", f"{domain!r} is not a domain, e.g. acme or acme.freshdesk.com.")
            url = f"https://{host}"
        out["freshdesk_url"] = _http_url("FRESHDESK_URL", url or "")
        out["freshdesk_api_key"] = key
    out["freshdesk_category_field"] = get("FRESHDESK_CATEGORY_FIELD")
    interval = get("SYNC_INTERVAL_MINUTES") or "5"
    # Whole minutes, 1-1440. A fraction down to 0.05 (3 s) is accepted for tests against
    # a stand-in (tests/test_helpdesk_run.py); Zendesk's export allows 10 requests a minute.
    try:
        minutes = float(interval)
    except ValueError:
        minutes = 0.0
    if not 0.05 <= minutes <= 1440 or (minutes >= 1 and not minutes.is_integer()):
        raise ConfigError("SYNC_INTERVAL_MINUTES", f"{interval!r} is not a number of minutes (1-1440).")
    out["sync_interval_minutes"] = int(minutes) if minutes.is_integer() else minutes
    return out
