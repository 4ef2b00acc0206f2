"""`supportbot run`, `manifest` and `db upgrade`."""

from __future__ import annotations

import argparse
import sys

from supportbot.bot.cli.common import CliError, settings_for
from supportbot.storage.db import upgrade


def cmd_run(args: argparse.Namespace) -> int:
    from supportbot.bot import startup
    from supportbot.bot.app import serve
    from supportbot.bot.logsetup import configure_logging
    from supportbot.bot.runtime import build_runtime

    settings = settings_for(require_slack=True)
    startup.check_secrets(settings)
    if args.workers < 1 or args.workers > 64:
        raise CliError("--workers must be between 1 and 64 (one per CPU core is a good start)")
    if args.workers > 1 and settings.database_url.startswith("sqlite"):
        raise CliError("SQLite runs in one process: use PostgreSQL (DATABASE_URL=postgresql://...) for --workers")
    if args.workers > 1 and settings.socket_mode:
        raise CliError("--workers needs HTTP mode: Socket Mode (SLACK_APP_TOKEN set) runs one process")
    configure_logging(settings)
    startup.migrate(settings)
    if args.workers > 1:
        import threading

        from supportbot.bot.workers import serve_workers

        # Checked once here: a refused token stops before any worker starts.
        startup.wait_for_slack(settings, threading.Event())
        serve_workers(settings, args.workers)
        return 0
    serve(build_runtime(settings))
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from supportbot.bot.manifest import manifest_yaml

    if args.url and not args.url.startswith("https://"):
        raise CliError("--url must be the public https:// address Slack can reach, e.g. https://bot.example.com")
    sys.stdout.write(manifest_yaml(args.url))
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_for(require_slack=False)
    upgrade(settings.database_url)
    print("database is up to date")
    return 0
