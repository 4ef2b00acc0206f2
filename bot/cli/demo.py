"""`supportbot demo`: the whole bot in a browser, against a local Slack stand-in."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from supportbot.bot.cli.common import CliError


def add_parser(sub: Any) -> None:
    demo = sub.add_parser(
        "demo",
        help="try the bot without Slack: a local web page plays Slack, with sample teams and data",
        description=(
            "Runs the real bot against a Slack stand-in on 127.0.0.1 and serves a page that "
            "behaves like a small Slack client. Nothing leaves this machine; the database is "
            "a throwaway SQLite file unless --database-url is given."
        ),
    )
    demo.add_argument("--port", type=int, default=3000, help="port of the demo page on 127.0.0.1 (default 3000)")
    demo.add_argument("--database-url", help="keep the demo's data in this database instead of a temporary file")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from supportbot.bot.demo.server import Demo

    if not 0 <= args.port <= 65535:
        raise CliError("--port must be between 0 and 65535 (0 picks a free port)")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print("supportbot demo: setting up the sample workspace (two teams, 90 days of tickets)…", flush=True)
    try:
        demo = Demo(port=args.port, database_url=args.database_url).start()
    except OSError as exc:
        raise CliError(f"could not listen on 127.0.0.1:{args.port} ({exc.strerror}); try --port 3001") from None
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"supportbot demo: open {demo.url} (Ctrl-C stops it)", flush=True)
    stop.wait()
    print("supportbot demo: stopping", flush=True)
    demo.stop()
    return 0
