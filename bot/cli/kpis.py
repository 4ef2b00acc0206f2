"""`supportbot import tickets FILE.csv [--format generic|zendesk]` and
`supportbot digest --team NAME [--date YYYY-MM-DD] [--dry-run]`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from supportbot.bot import ingest, ingest_file, kpis, teams
from supportbot.bot.cli.common import CliError, resolve_workspace
from supportbot.bot.clock import SystemClock
from supportbot.bot.config import load_settings
from supportbot.bot.timeutil import parse_date, zone
from supportbot.storage.db import make_engine, transaction, upgrade
from supportbot.storage.kpis.tickets import ConcurrentImport
from supportbot.storage.models import OutboxMessage


def _progress(enabled: bool) -> Any:
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr, mininterval=0.5)
    return bar, bar.update


def cmd_import_tickets(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    from supportbot.bot.app import email_resolver  # the Slack client only when importing

    settings = load_settings(require_slack=False)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            workspace = resolve_workspace(args, settings, session)
        bar, progress = _progress(sys.stderr.isatty() and not args.quiet)
        try:
            report = ingest_file.import_file(
                lambda: transaction(engine),
                workspace_id=workspace,
                path=str(path),
                fmt=args.format,
                now=SystemClock().now(),
                resolve_email=email_resolver(settings),
                progress=progress,
                bulk=args.write_path == "copy",
                # the previous path wrote a transaction per parsed batch
                write_batch=ingest_file.WRITE_BATCH if args.write_path == "copy" else ingest.BATCH,
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise CliError(f"{path}: {exc}") from None
        except ConcurrentImport as exc:
            raise CliError(f"{path}: stopped: {exc} (the batches before it are saved)") from None
        finally:
            if bar is not None:
                bar.close()
    finally:
        engine.dispose()
    print(
        f"{path.name}: {report.inserted} inserted, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected} rejected"
    )
    for line, reason in report.errors[: args.show_errors]:
        print(f"  line {line}: {reason}")
    if report.rejected > args.show_errors:
        print(f"  … and {report.rejected - args.show_errors} more rejected rows")
    return 0


def _blocks_text(blocks: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        if block.get("type") == "header":
            lines.append(block["text"]["text"].upper())
        for key in ("text",):
            if isinstance(block.get(key), dict) and block.get("type") != "header":
                lines.append(block[key]["text"])
        for item in block.get("fields") or []:
            lines.append(item["text"])
        for item in block.get("elements") or []:
            if isinstance(item, dict) and "text" in item and isinstance(item["text"], str):
                lines.append(item["text"])
        if block.get("type") == "divider":
            lines.append("-" * 40)
    return "\n".join(lines)


def cmd_digest(args: argparse.Namespace) -> int:
    from supportbot.bot.app import build_app
    from supportbot.bot.runtime import build_runtime

    settings = load_settings(require_slack=not args.dry_run)
    if args.dry_run:
        settings = dataclasses.replace(
            settings,
            slack_bot_token=settings.slack_bot_token or "xoxb-dry-run",
            slack_signing_secret=settings.slack_signing_secret or "dry-run",
        )
    upgrade(settings.database_url)
    rt = build_runtime(settings, pace_seconds=1.0)
    try:
        build_app(rt, token_verification=False)  # registers the digest renderers
        with rt.transaction() as session:
            workspace = resolve_workspace(args, settings, session)
            team = teams.find_team(session, workspace, args.team)
            if args.date:
                day = parse_date(args.date)
            else:
                day = rt.clock.now().astimezone(zone(team.timezone)).date() - timedelta(days=1)
            if args.dry_run:
                render, _after = rt.outbox.kinds.renderers[kpis.DIGEST_KIND]
                message = OutboxMessage(
                    workspace_id=team.workspace_id, kind=kpis.DIGEST_KIND,
                    data={"team_id": team.id, "day": day.isoformat()},
                    next_attempt_at=rt.clock.now(), created_at=rt.clock.now(),
                )
                call = render(session, message)
                if call is None:
                    raise CliError(f"team {team.name!r} has no digest channel: set one with `supportbot team update {team.name} --digest-channel C…`")
                if args.json:
                    print(json.dumps(call.args, indent=2, ensure_ascii=False))
                else:
                    print(f"(dry run: would post to {call.args['channel']})")
                    print(_blocks_text(call.args.get("blocks") or []))
                return 0
            if not team.digest_channel:
                raise CliError(f"team {team.name!r} has no digest channel: set one with `supportbot team update {team.name} --digest-channel C…`")
            queued = kpis.queue_digest(session, team=team, day=day, clock=rt.clock, claim=not args.again)
            if not queued:
                print(f"the digest of {team.name} for {day} was already posted; add --again to post it once more")
                return 1
        for _ in range(20):  # the digest, then its chart in the thread (paced per channel)
            stats = rt.outbox.drain()
            if stats.paced or stats.deferred:
                time.sleep(1.0)
            elif stats.sent == 0:
                break
        print(f"digest of {team.name} for {day} posted to {team.digest_channel}")
        return 0
    finally:
        rt.engine.dispose()


def add_parsers(sub: Any) -> None:
    ws = argparse.ArgumentParser(add_help=False)
    ws.add_argument("--workspace", help="Slack workspace id T… (default: the only one known)")

    imp = sub.add_parser("import", help="import data (tickets)")
    imp_sub = imp.add_subparsers(dest="import_command", required=True, metavar="WHAT")
    tickets = imp_sub.add_parser("tickets", parents=[ws], help="import tickets from a CSV file")
    tickets.add_argument("file", metavar="FILE.csv", help="the CSV file to import")
    tickets.add_argument("--format", choices=ingest.FORMATS, default="generic", help="generic (default) or a Zendesk ticket export")
    tickets.add_argument("--show-errors", type=int, default=20, help="rejected rows to list (default 20)")
    tickets.add_argument("--quiet", action="store_true", help="no progress bar")
    # benchmarks/bench_import.py only: "rows" is the previous PostgreSQL write path, its baseline
    tickets.add_argument("--write-path", choices=("copy", "rows"), default="copy", help=argparse.SUPPRESS)
    tickets.set_defaults(func=cmd_import_tickets)

    dig = sub.add_parser("digest", parents=[ws], help="post (or print) a team's daily KPI digest")
    dig.add_argument("--team", required=True, help="team name")
    dig.add_argument("--date", help="YYYY-MM-DD (default: yesterday in the team's time zone)")
    dig.add_argument("--dry-run", action="store_true", help="print it instead of posting")
    dig.add_argument("--json", action="store_true", help="with --dry-run: print the Slack call as JSON")
    dig.add_argument("--again", action="store_true", help="post even if that day's digest went out already")
    dig.set_defaults(func=cmd_digest)
