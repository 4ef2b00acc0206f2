"""Logging that never prints secrets: known secret values and token shapes are masked."""

from __future__ import annotations

import logging
import re

from supportbot.bot.config import Settings

TOKEN_SHAPES = re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)")


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = TOKEN_SHAPES.sub("[redacted]", message)
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "[redacted]")
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def configure_logging(settings: Settings) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(
        RedactSecrets(
            [
                settings.slack_bot_token,
                settings.slack_signing_secret,
                settings.slack_app_token or "",
                settings.ingest_token or "",
            ]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # Slack's libraries log whole payloads at DEBUG (what people typed, coaching notes
    # included); those stay out of the logs whatever LOG_LEVEL says.
    for name in ("slack_bolt", "slack_sdk", "slack"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    return handler
