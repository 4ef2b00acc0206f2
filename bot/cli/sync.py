"""`supportbot sync zendesk|freshdesk [--since YYYY-MM-DD]`: backfill, then continue."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from supportbot.bot.cli.common import CliError, resolve_workspace
from supportbot.bot.clock import SystemClock
from supportbot.bot.config import load_settings
from supportbot.bot.helpdesk import sync
from supportbot.bot.outbox import instance_id
from supportbot.bot.timeutil import parse_date
from supportbot.storage.db import make_engine, transaction, upgrade

SETTINGS_NEEDED = {
    "zendesk": "ZENDESK_SUBDOMAIN (or ZENDESK_URL), ZENDESK_EMAIL and ZENDESK_API_TOKEN",
    "freshdesk": "FRESHDESK_DOMAIN (or FRESHDESK_URL) and FRESHDESK_API_KEY",
}


def _bar(enabled: bool) -> Any:
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(unit=" tickets", unit_scale=True, file=sys.stderr, mininterval=0.5)

    def progress(count: int, through: datetime | None) -> None:
        if through is not None:
            bar.set_postfix_str(f"through {through:%Y-%m-%d %H:%M} UTC", refresh=False)
        bar.update(count)

    return bar, progress


def cmd_sync(args: argparse.Namespace) -> int:
    from supportbot.bot.app import email_resolver  # the Slack client only when syncing

    settings = load_settings(require_slack=False)
    source = args.helpdesk
    if source not in sync.configured_sources(settings):
        raise CliError(f"{source} is not configured: set {SETTINGS_NEEDED[source]} (see .env.example)")
    since = None
    if args.since:
        day = parse_date(args.since)
        since = datetime(day.year, day.month, day.day, tzinfo=UTC)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            workspace = resolve_workspace(args, settings, session)
        syncer = sync.Syncer(
            settings,
            lambda: transaction(engine),
            clock=SystemClock(),
            owner=instance_id(),
            resolve_email=email_resolver(settings),
        )
        bar, progress = _bar(sys.stderr.isatty() and not args.quiet)
        try:
            report = syncer.run(source, workspace, since=since, force=True, progress=progress)
        finally:
            if bar is not None:
                bar.close()
    finally:
        engine.dispose()
    if report.skipped == "busy":
        raise CliError(f"another process is syncing {source} for {workspace} right now; try again when it is done")
    print(
        f"{source}: {report.tickets} tickets in {report.pages} pages: {report.inserted} new, "
        f"{report.updated} changed, {report.unchanged} unchanged, {report.deleted} deleted, "
        f"{report.rejected} rejected" + (f", {report.ratings} ratings" if source == "freshdesk" else "")
    )
    if report.error:
        print(f"supportbot: {report.error}", file=sys.stderr)
        return 1
    return 0


def add_parsers(sub: Any) -> None:
    cmd = sub.add_parser("sync", help="pull tickets from Zendesk or Freshdesk into the KPIs")
    cmd.add_argument("helpdesk", choices=sync.SOURCES, help="which helpdesk: zendesk or freshdesk")
    cmd.add_argument("--since", help="first run: backfill from this day, YYYY-MM-DD (default 90 days ago); later: start over from it")
    cmd.add_argument("--workspace", help="Slack workspace id T… (default: the only one known)")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    cmd.set_defaults(func=cmd_sync)
