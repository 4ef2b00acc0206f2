"""What every subcommand shares: one-line errors, settings, the workspace, a unit of work."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from supportbot.bot import teams
from supportbot.bot.config import Settings, load_settings
from supportbot.storage import teams as team_store
from supportbot.storage.db import make_engine, transaction, upgrade


class CliError(Exception):
    """A message for the user, printed on one line; exit status 2."""


def describe_subcommands(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`supportbot X --help` opens with what X does: its one-line help, unless it has more."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                if not sub.description and helps.get(name):
                    sub.description = str(helps[name])[:1].upper() + str(helps[name])[1:] + "."
                describe_subcommands(sub)
    return parser


def settings_for(require_slack: bool) -> Settings:
    return load_settings(require_slack=require_slack)


def resolve_workspace(args: argparse.Namespace, settings: Settings, session: Any) -> str:
    if args.workspace:
        return teams.check_workspace_id(args.workspace)
    known = team_store.list_workspaces(session=session)
    if len(known) == 1:
        return known[0]
    if len(known) > 1:
        raise CliError(f"several workspaces have teams ({', '.join(known)}): pass --workspace T…")
    if not settings.slack_bot_token:
        raise CliError("pass --workspace T… (your Slack workspace id) or set SLACK_BOT_TOKEN so it can be looked up")
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    try:
        info = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url).auth_test()
    except (SlackApiError, OSError) as exc:
        raise CliError(f"could not ask Slack for the workspace id ({exc.__class__.__name__}); pass --workspace T…") from None
    return str(info["team_id"])


def with_store(fn: Callable[[argparse.Namespace, Settings, Any, str], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = settings_for(require_slack=False)
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with transaction(engine) as session:
                workspace = resolve_workspace(args, settings, session)
                return fn(args, settings, session, workspace)
        finally:
            engine.dispose()

    return run
