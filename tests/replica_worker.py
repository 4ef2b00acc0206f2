"""One bot replica as its own process, for the two-replica tests: it builds the real app
against DATABASE_URL and SLACK_API_URL with a fixed clock, waits for the go signal (a file)
so both replicas start together, runs one job function and delivers its outbox.

    python -m tests.replica_worker GO_FILE ISO_NOW module:function [--scheduled-for ISO] [ARG ...]
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from supportbot.bot.app import build_app
from supportbot.bot.clock import FixedClock
from supportbot.bot.config import load_settings
from supportbot.bot.runtime import build_runtime


def main(argv: list[str]) -> int:
    go, now, target, *rest = argv
    scheduled_for = None
    if rest[:1] == ["--scheduled-for"]:
        scheduled_for, rest = datetime.fromisoformat(rest[1]), rest[2:]
    module, func = target.split(":")
    job = getattr(importlib.import_module(module), func)
    rt = build_runtime(load_settings(env_file=None), clock=FixedClock(datetime.fromisoformat(now)), pace_seconds=0)
    build_app(rt, token_verification=False)  # renderers and the Slack sender, as in `run`
    args = [int(a) if a.isdigit() else a for a in rest]
    while not Path(go).exists():
        time.sleep(0.005)
    if scheduled_for is not None:
        job(rt, *args, scheduled_for=scheduled_for)
    else:
        job(rt, *args)
    rt.outbox.drain()
    print(f"replica {os.getpid()} done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
