"""`supportbot run | manifest | db upgrade | team … | import tickets … | digest …`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bot import teams
from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.errors import UserError
from bot.i18n import t
from storage import teams as team_store
from storage.db import make_engine, transaction, upgrade

# Feature modules that add their own subcommands: each exposes add_parsers(subparsers).
FEATURE_CLIS = ("bot.kpis_cli",)


class CliError(Exception):
    """A message for the user, printed on one line; exit status 2."""


def _settings(require_slack: bool) -> Settings:
    return load_settings(require_slack=require_slack)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import serve
    from bot.logsetup import configure_logging
    from bot.runtime import build_runtime

    settings = _settings(require_slack=True)
    if args.workers < 1 or args.workers > 64:
        raise CliError("--workers must be between 1 and 64 (one per CPU core is a good start)")
    if args.workers > 1 and settings.socket_mode:
        raise CliError("--workers needs HTTP mode: Socket Mode (SLACK_APP_TOKEN set) runs one process")
    configure_logging(settings)
    upgrade(settings.database_url)
    if args.workers > 1:
        from bot.workers import serve_workers

        serve_workers(settings, args.workers)
        return 0
    serve(build_runtime(settings))
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from bot.manifest import manifest_yaml

    if args.url and not args.url.startswith("https://"):
        raise CliError("--url must be the public https:// address Slack can reach, e.g. https://bot.example.com")
    sys.stdout.write(manifest_yaml(args.url))
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(require_slack=False)
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def _workspace(args: argparse.Namespace, settings: Settings, session: Any) -> str:
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


def _with_store(fn: Callable[[argparse.Namespace, Settings, Any, str], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = _settings(require_slack=False)
        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            with transaction(engine) as session:
                workspace = _workspace(args, settings, session)
                return fn(args, settings, session, workspace)
        finally:
            engine.dispose()

    return run


def _print_team(session: Any, team: Any) -> None:
    view = teams.describe(session, team)
    print(f"{team.name}")
    print(f"  workspace:          {team.workspace_id}")
    print(f"  leaders:            {', '.join(view.leaders) or '-'}  (first is primary; then the escalation chain)")
    print(f"  members:            {', '.join(view.members) or '-'}")
    print(f"  escalation channel: {team.escalation_channel}")
    print(f"  digest channel:     {team.digest_channel or '-'}")
    print(f"  time zone:          {team.timezone}")
    print(f"  language:           {team.language}")
    for key, value in sorted((team.settings or {}).items()):
        print(f"  {key + ':':<20}{value}")


def cmd_team_add(args: argparse.Namespace, settings: Settings, session: Any, workspace: str) -> int:
    team = teams.create_team(
        session,
        workspace_id=workspace,
        name=args.name,
        leaders=args.leader or [],
        members=args.member or [],
        escalation_channel=args.escalation_channel,
        digest_channel=args.digest_channel,
        timezone=args.timezone or settings.default_timezone,
        language=args.language or settings.default_language,
        now=SystemClock().now(),
    )
    print(f"team {team.name!r} created")
    _print_team(session, team)
    return 0


def cmd_team_list(args: argparse.Namespace, settings: Settings, session: Any, workspace: str) -> int:
    rows = team_store.list_teams(session=session, workspace_id=workspace)
    if not rows:
        print("no teams yet: create one with `supportbot team add NAME --leader U… --escalation-channel C…`")
        return 0
    for team in rows:
        view = teams.describe(session, team)
        print(f"{team.name}\tleaders: {len(view.leaders)}\tmembers: {len(view.members)}\t{team.escalation_channel}\t{team.timezone}\t{team.language}")
    return 0


def cmd_team_show(args: argparse.Namespace, settings: Settings, session: Any, workspace: str) -> int:
    _print_team(session, teams.find_team(session, workspace, args.name))
    return 0


def cmd_team_update(args: argparse.Namespace, settings: Settings, session: Any, workspace: str) -> int:
    team = teams.find_team(session, workspace, args.name)
    extra: dict[str, Any] = {}
    if args.ack_timeout:
        extra["ack_timeouts"] = {
            **(team.settings or {}).get("ack_timeouts", {}),
            **teams.parse_ack_timeouts(args.ack_timeout),
        }
    for key in ("max_rounds", "kudos_cap", "sla_minutes"):
        value = getattr(args, key)
        if value is not None:
            if value < 1:
                raise CliError(f"--{key.replace('_', '-')} must be a positive number")
            extra[key] = value
    if args.digest_time:
        from bot.timeutil import parse_hhmm

        extra["digest_time"] = parse_hhmm(args.digest_time)
    teams.update_team(
        session,
        team,
        now=SystemClock().now(),
        new_name=args.rename,
        leaders=args.leader,
        add_members=args.member or [],
        remove_members=args.remove_member or [],
        escalation_channel=args.escalation_channel,
        digest_channel=args.digest_channel,
        timezone=args.timezone,
        language=args.language,
        settings=extra,
    )
    session.flush()
    print(f"team {team.name!r} updated")
    _print_team(session, team)
    return 0


def cmd_team_remove(args: argparse.Namespace, settings: Settings, session: Any, workspace: str) -> int:
    team = teams.find_team(session, workspace, args.name)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(f"removing team {team.name!r} needs confirmation: add --yes")
        answer = input(f"Remove team {team.name!r} and its membership? Type the team name to confirm: ")
        if answer.strip() != team.name:
            print("not removed")
            return 1
    team_store.delete_team(session=session, team=team)
    print(f"team {team.name!r} removed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportbot", description="A Slack bot for support team leaders.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the bot (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN)")
    run.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="HTTP mode: N processes behind PORT (one per CPU core); default 1",
    )
    run.set_defaults(func=cmd_run)

    man = sub.add_parser("manifest", help="print the Slack app manifest (YAML)")
    man.add_argument("--url", help="public https base URL for HTTP mode; omit for Socket Mode")
    man.set_defaults(func=cmd_manifest)

    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="TASK")
    db_sub.add_parser("upgrade", help="apply pending migrations").set_defaults(func=cmd_db_upgrade)

    team = sub.add_parser("team", help="set up teams without Slack")
    team_sub = team.add_subparsers(dest="team_command", required=True, metavar="ACTION")
    ws = argparse.ArgumentParser(add_help=False)
    ws.add_argument(
        "--workspace", help="Slack workspace id T… (default: the only one known, or asked from Slack)"
    )

    add = team_sub.add_parser("add", parents=[ws], help="create a team")
    add.add_argument("name")
    add.add_argument("--leader", action="append", required=True, help="U… (repeat; first is primary)")
    add.add_argument("--member", action="append", help="U… (repeat)")
    add.add_argument("--escalation-channel", required=True, help="C…")
    add.add_argument("--digest-channel", help="C…")
    add.add_argument("--timezone", help="Area/City (default DEFAULT_TIMEZONE)")
    add.add_argument("--language", choices=["en", "es"])
    add.set_defaults(func=_with_store(cmd_team_add))

    team_sub.add_parser("list", parents=[ws], help="list teams").set_defaults(func=_with_store(cmd_team_list))

    show = team_sub.add_parser("show", parents=[ws], help="show one team")
    show.add_argument("name")
    show.set_defaults(func=_with_store(cmd_team_show))

    upd = team_sub.add_parser("update", parents=[ws], help="change a team")
    upd.add_argument("name")
    upd.add_argument("--rename", help="new team name")
    upd.add_argument("--leader", action="append", help="replace the leaders, in order (repeat)")
    upd.add_argument("--member", action="append", help="add a member (repeat)")
    upd.add_argument("--remove-member", action="append", help="remove a member (repeat)")
    upd.add_argument("--escalation-channel")
    upd.add_argument("--digest-channel", help="C…, or '' to unset")
    upd.add_argument("--timezone")
    upd.add_argument("--language", choices=["en", "es"])
    upd.add_argument("--ack-timeout", help="e.g. urgent=5m,high=15m,normal=1h,low=4h")
    upd.add_argument("--max-rounds", type=int, help="reminder rounds past the end of the leader chain (default 5)")
    upd.add_argument("--digest-time", help="HH:MM in the team's time zone (default 09:00)")
    upd.add_argument("--kudos-cap", type=int, help="kudos one person may give per day (default 5)")
    upd.add_argument("--sla-minutes", type=int, help="default first-response target in minutes (default 60)")
    upd.set_defaults(func=_with_store(cmd_team_update))

    rm = team_sub.add_parser("remove", parents=[ws], help="delete a team")
    rm.add_argument("name")
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rm.set_defaults(func=_with_store(cmd_team_remove))

    for name in FEATURE_CLIS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        text = t("en", exc.key, **exc.params).replace("`", "").replace("*", "")
        print(f"supportbot: {text}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"supportbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
