"""At LOG_LEVEL=DEBUG the logs still hold no token, signing secret or coaching note text."""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from datetime import timedelta

from supportbot.bot.coaching import send_follow_ups
from supportbot.bot.logsetup import configure_logging
from tests.rig import BotRig

NOTE = "Private: Sam struggles with angry callers since the divorce"


def test_debug_logs_carry_no_secrets_or_notes(rig: BotRig) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    try:
        handler = configure_logging(replace(rig.settings, log_level="DEBUG"))
        handler.stream = out  # the real handler and filter, writing somewhere we can read
        rig.make_team()
        rig.command("/coach", f"<@U0AGENT01|sam> {NOTE} follow-up:2026-11-24", user="U0LEAD01")
        rig.command("/coach", "<@U0AGENT01|sam>", user="U0LEAD01")
        rig.clock.advance(timedelta(days=1))
        send_follow_ups(rig.rt)
        rig.deliver()
        logging.getLogger("bot.test").debug("token %s", rig.settings.slack_bot_token)
    finally:
        root.handlers[:], root.level = saved
        for name in ("slack_bolt", "slack_sdk", "slack"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    text = out.getvalue()
    assert any(c.method == "chat.postMessage" and NOTE in c.text_everywhere() for c in rig.standin.calls)
    assert "[redacted]" in text
    assert NOTE not in text and "struggles" not in text
    assert rig.settings.slack_bot_token not in text and rig.settings.slack_signing_secret not in text
