"""`supportbot …`: the command line. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from supportbot.bot.cli import demo as demo_cli
from supportbot.bot.cli import doctor as doctor_cli
from supportbot.bot.cli import kpis as kpis_cli
from supportbot.bot.cli import run as run_cli
from supportbot.bot.cli import sync as sync_cli
from supportbot.bot.cli import teams as team_cli
from supportbot.bot.cli.common import CliError, describe_subcommands, with_store
from supportbot.bot.config import ConfigError
from supportbot.bot.errors import UserError
from supportbot.bot.i18n import t


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportbot", description="A Slack bot for support team leaders.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the bot (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN)")
    run.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="HTTP mode: N processes behind PORT (one per CPU core); default 1",
    )
    run.set_defaults(func=run_cli.cmd_run)

    man = sub.add_parser("manifest", help="print the Slack app manifest (YAML)")
    man.add_argument("--url", help="public https base URL for HTTP mode; omit for Socket Mode")
    man.set_defaults(func=run_cli.cmd_manifest)

    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="TASK")
    db_sub.add_parser("upgrade", help="apply pending migrations").set_defaults(func=run_cli.cmd_db_upgrade)

    team = sub.add_parser("team", help="set up teams without Slack")
    team_sub = team.add_subparsers(dest="team_command", required=True, metavar="ACTION")
    ws = argparse.ArgumentParser(add_help=False)
    ws.add_argument(
        "--workspace", help="Slack workspace id T… (default: the only one known, or asked from Slack)"
    )

    add = team_sub.add_parser("add", parents=[ws], help="create a team")
    add.add_argument("name", help="the team's name, e.g. Tier1")
    add.add_argument("--leader", action="append", required=True, help="U… (repeat; first is primary)")
    add.add_argument("--member", action="append", help="U… (repeat)")
    add.add_argument("--escalation-channel", required=True, help="C…")
    add.add_argument("--digest-channel", help="C…")
    add.add_argument("--timezone", help="Area/City (default DEFAULT_TIMEZONE)")
    add.add_argument("--language", choices=["en", "es"], help="the team's language (default DEFAULT_LANGUAGE)")
    add.add_argument("--helpdesk-group", action="append", metavar="NAME", help="helpdesk group whose tickets the team takes (repeat; default the team's name)")
    add.set_defaults(func=with_store(team_cli.cmd_team_add))

    team_sub.add_parser("list", parents=[ws], help="list teams").set_defaults(func=with_store(team_cli.cmd_team_list))

    show = team_sub.add_parser("show", parents=[ws], help="show one team")
    show.add_argument("name", help="team name")
    show.set_defaults(func=with_store(team_cli.cmd_team_show))

    upd = team_sub.add_parser("update", parents=[ws], help="change a team")
    upd.add_argument("name", help="team name")
    upd.add_argument("--rename", help="new team name")
    upd.add_argument("--leader", action="append", help="replace the leaders, in order (repeat)")
    upd.add_argument("--member", action="append", help="add a member (repeat)")
    upd.add_argument("--remove-member", action="append", help="remove a member (repeat)")
    upd.add_argument("--escalation-channel", help="C… where escalations are posted")
    upd.add_argument("--digest-channel", help="C…, or '' to unset")
    upd.add_argument("--timezone", help="Area/City, e.g. Europe/Madrid")
    upd.add_argument("--language", choices=["en", "es"], help="the team's language")
    upd.add_argument("--ack-timeout", help="e.g. urgent=5m,high=15m,normal=1h,low=4h")
    upd.add_argument("--max-rounds", type=int, help="reminder rounds past the end of the leader chain (default 5)")
    upd.add_argument("--digest-time", help="HH:MM in the team's time zone (default 09:00)")
    upd.add_argument("--kudos-cap", type=int, help="kudos one person may give per day (default 5)")
    upd.add_argument("--sla-minutes", type=int, help="default first-response target in minutes (default 60)")
    upd.add_argument("--alerts", help="which alerts are on: sla,spikes (default), sla, spikes or none")
    upd.add_argument("--sla-alert-share", type=int, help="percent of the first-response target after which an unanswered ticket is flagged (default 80)")
    upd.add_argument("--spike-min-extra", type=int, metavar="N", help="tickets above the usual count (the mean of the same hour on the last four weeks) a spike needs besides mean + 3 standard deviations, 1-10000 (default 5)")
    upd.add_argument("--helpdesk-group", action="append", metavar="NAME", help="replace the helpdesk groups whose tickets the team takes (repeat; '' = the team's name)")
    upd.set_defaults(func=with_store(team_cli.cmd_team_update))

    rm = team_sub.add_parser("remove", parents=[ws], help="delete a team")
    rm.add_argument("name", help="team name")
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rm.set_defaults(func=with_store(team_cli.cmd_team_remove))

    kpis_cli.add_parsers(sub)
    doctor_cli.add_parsers(sub)
    demo_cli.add_parser(sub)
    sync_cli.add_parsers(sub)
    return describe_subcommands(parser)


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
