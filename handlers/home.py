"""The App Home tab: who you are in supportbot and what to type."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from supportbot.bot.i18n import Translator
from supportbot.bot.runtime import Runtime
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Req
from supportbot.handlers.supportbot import team_blocks

log = logging.getLogger(__name__)


def home_view(req: Req) -> bk.Block:
    _ = req._
    out: list[bk.Block] = [
        bk.header(_("home.title")),
        bk.section(_("home.intro")),
        bk.divider(),
        bk.section(f"*{_('home.teams_title')}*"),
        *team_blocks(req),
        bk.divider(),
        bk.section(f"*{_('home.commands_title')}*\n{_('home.quick')}"),
    ]
    return {"type": "home", "blocks": out[: bk.VIEW_BLOCKS_MAX]}


def handle_app_home_opened_event(rt: Runtime) -> Any:
    def listener(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        user = event.get("user") or ""
        workspace = body.get("team_id") or ""
        with rt.transaction(readonly=True) as session:
            lang = rt.languages.language_for(session, workspace, user, rt.settings.default_language)
        req = Req(rt, workspace, user, None, lang, body, Translator(lang))
        client.views_publish(user_id=user, view=home_view(req))

    def logged(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        try:
            listener(event, body, client)
        except Exception:
            log.exception("could not publish the Home tab")

    def acked_at_once(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        # Bolt acks the event when this returns; the tab is built and published after.
        if rt.handler_pool is None:
            logged(event, body, client)
        else:
            rt.handler_pool.submit(logged, event, body, client)

    return acked_at_once


def register(app: App, rt: Runtime) -> None:
    app.event("app_home_opened")(handle_app_home_opened_event(rt))
