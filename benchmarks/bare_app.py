"""A Bolt app that only acks: the floor every latency figure is compared with. Served by
gunicorn with the gthread worker and 8 threads (`harness.spawn_bare`):

    gunicorn -k gthread --threads 8 -w 1 'benchmarks.bare_app:create()'

`SLACK_API_URL` from the environment."""

from __future__ import annotations

import os
import re

from flask import Flask, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from supportbot.bot.standin.slack import BOT_TOKEN
from tests.rig import SIGNING_SECRET


def create() -> Flask:
    app = App(
        client=WebClient(token=BOT_TOKEN, base_url=os.environ.get("SLACK_API_URL", "http://127.0.0.1:9/api/")),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,  # acks answered inline, as the bot's are
        token_verification_enabled=False,
    )
    app.command(re.compile(".*"))(lambda ack: ack())
    app.action(re.compile(".*"))(lambda ack: ack())
    web = Flask("bare")
    handler = SlackRequestHandler(app)
    web.add_url_rule("/slack/events", "events", lambda: handler.handle(request), methods=["POST"])
    web.add_url_rule("/slack/events", "probe", lambda: "bare", methods=["GET"])
    return web
