"""`supportbot team add|list|show|update|remove`: set up teams without Slack."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from supportbot.bot import alerts, teams
from supportbot.bot.cli.common import CliError
from supportbot.bot.clock import SystemClock
from supportbot.bot.config import Settings
from supportbot.storage import teams as team_store


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


def _helpdesk_groups(values: list[str] | None) -> list[str] | None:
    """--helpdesk-group NAME (repeatable): the helpdesk groups whose tickets the team takes;
    a single empty value goes back to the default (the team's own name)."""
    if values is None:
        return None
    groups = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    for group in groups:
        if len(group) > 80:
            raise CliError(f"--helpdesk-group {group[:20]!r}…: at most 80 characters")
    return groups


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
    groups = _helpdesk_groups(args.helpdesk_group)
    if groups:
        teams.update_team(session, team, now=SystemClock().now(), settings={"helpdesk_groups": groups})
        session.flush()
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
    if args.alerts is not None:
        extra["alerts"] = alerts.parse_alert_kinds(args.alerts)
    if args.sla_alert_share is not None:
        extra["sla_alert_share"] = alerts.check_share(args.sla_alert_share)
    if args.spike_min_extra is not None:
        extra["spike_min_extra"] = alerts.check_spike_min_extra(args.spike_min_extra)
    groups = _helpdesk_groups(args.helpdesk_group)
    if groups is not None:
        extra["helpdesk_groups"] = groups  # [] = the team's own name
    if args.digest_time:
        from supportbot.bot.timeutil import parse_hhmm

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
