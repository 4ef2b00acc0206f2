"""The Slack app manifest: every command, scope, event and shortcut the bot uses."""

from __future__ import annotations

from typing import Any

import yaml

# Every command here is served by a handlers module (a test checks).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("/escalate", "Escalate a customer issue to your team leader", "[urgent|high|normal|low] summary  |  list  |  ESC-42"),
    ("/kpis", "Your team's support KPIs", "[today|yesterday|week|month|YYYY-MM-DD] [@agent]  |  target csat 92  |  help"),
    ("/coach", "Private coaching notes and goals (leaders)", "@agent note [#praise] [follow-up:YYYY-MM-DD]  |  goal @agent csat >= 92 by 2027-01-31"),
    ("/kudos", "Recognise a teammate's good work", "@person [@person…] message [#value]  |  top [week|month]"),
    ("/standup", "Daily stand-ups: schedule, questions, your time zone", "schedule mon-fri 09:30 [#channel]  |  questions  |  pause  |  resume  |  skip YYYY-MM-DD  |  now  |  timezone Area/City"),
    ("/oneonone", "1:1s with an agenda: schedule, talking points", "@agent weekly|biweekly mon..sun HH:MM  |  list  |  cancel @agent  |  topic text"),
    ("/pulse", "Anonymous weekly team pulse (leaders)", "schedule fri 15:00  |  questions  |  now  |  pause  |  resume  |  results [weeks]  |  help"),
    ("/away", "Mark time away (the escalation chain skips you)", "YYYY-MM-DD[..YYYY-MM-DD] [note]  |  list  |  cancel"),
    ("/supportbot", "supportbot help, your team and status", "help  |  team  |  status"),
)

BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "users:read.email",
    "files:write",
    # `supportbot doctor` reads each team channel (conversations.info) to tell whether the
    # bot can post there: public channels need channels:read, private ones groups:read.
    "channels:read",
    "groups:read",
)

BOT_EVENTS = ("app_home_opened",)

SHORTCUTS = (
    {
        "name": "Log coaching note",
        "type": "message",
        "callback_id": "coaching.log_note",
        "description": "Save a private coaching note linked to this message",
    },
)


def manifest(url: str | None = None, name: str = "supportbot") -> dict[str, Any]:
    """Socket Mode when `url` is None, else HTTP with every request to {url}/slack/events."""
    events_url = f"{url.rstrip('/')}/slack/events" if url else None
    commands = []
    for command, description, hint in COMMANDS:
        entry: dict[str, Any] = {
            "command": command,
            "description": description,
            "usage_hint": hint,
            "should_escape": True,
        }
        if events_url:
            entry["url"] = events_url
        commands.append(entry)
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if events_url:
        events["request_url"] = events_url
        interactivity["request_url"] = events_url
    return {
        "display_information": {
            "name": name,
            "description": "Escalations, KPIs, coaching, kudos, stand-ups and 1:1s for support teams.",
            "background_color": "#2c2d30",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": commands,
            "shortcuts": [dict(s) for s in SHORTCUTS],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": events_url is None,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(url: str | None = None) -> str:
    return yaml.safe_dump(manifest(url), sort_keys=False, allow_unicode=True)
