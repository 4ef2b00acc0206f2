"""`/escalate` at concurrency 20 against several versions of the bot at once, in the same
run: the bare Bolt app, each given git revision (its bot/, handlers/ and storage/ from
`git archive`, imported as `supportbot` through PYTHONPATH) and the working tree, each
`supportbot run` on its own SQLite file, rounds alternating in order and reverse.

    python -m benchmarks.bench_variants [--seconds 10] [--rounds 2] REV [REV ...]

Prints requests per second, p50, p99, p99 as a multiple of the bare app's, and each bot's
CPU time per request (all its threads).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_escalate import make_team, measure
from benchmarks.harness import Result, Target, spawn_bare, spawn_bot, spawn_standin
from supportbot.storage.db import upgrade

ROOT = Path(__file__).resolve().parent.parent


def checkout(rev: str, into: Path) -> Path:
    """The revision's three folders under `into`, and a `supportbot` package pointing at
    them; returns the directory to put on PYTHONPATH."""
    src, shim = into / "src", into / "shim" / "supportbot"
    src.mkdir(parents=True)
    shim.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "bot", "handlers", "storage"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    for folder in ("bot", "handlers", "storage"):
        (shim / folder).symlink_to(src / folder)
    (shim / "__init__.py").write_text("")
    return into / "shim"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("revs", nargs="+", help="git revisions; the working tree is always measured too")
    args = parser.parse_args(argv)

    standin_proc, standin = spawn_standin()
    targets: dict[str, tuple[Target, bool]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            targets["bare"] = (spawn_bare(standin.url), False)
            for name, rev in [*((r, r) for r in args.revs), ("worktree", None)]:
                url = f"sqlite:///{tmp}/{len(targets)}.db"
                upgrade(url)
                make_team(url, standin.url)
                env = {} if rev is None else {"PYTHONPATH": str(checkout(rev, Path(tmp) / f"rev{len(targets)}"))}
                targets[name] = (spawn_bot(standin.url, url, extra_env=env), True)
            for target, real in targets.values():  # warm up
                measure(target.url, standin, clients=4, seconds=2, real=real)
            pooled = {name: Result() for name in targets}
            took = dict.fromkeys(targets, 0.0)
            cpu = dict.fromkeys(targets, 0.0)
            order = list(targets)
            for n in range(args.rounds):
                for name in order if n % 2 == 0 else order[::-1]:
                    target, real = targets[name]
                    start, used = time.monotonic(), target.cpu_seconds()
                    result = measure(target.url, standin, clients=20, seconds=args.seconds, real=real)
                    took[name] += time.monotonic() - start
                    cpu[name] += target.cpu_seconds() - used
                    pooled[name].latencies += result.latencies
                    pooled[name].errors += result.errors
            bare99 = pooled["bare"].pct(99)
            print(f"{'version':<14}{'requests':>9}{'errors':>7}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'x bare':>8}{'CPU ms/req':>11}")
            for name, result in pooled.items():
                s = result.summary()
                rate = len(result.latencies) / took[name]
                # The bare app's CPU is in gunicorn's worker process, not the one started here.
                per = f"{cpu[name] * 1000 / max(1, len(result.latencies)):.2f}" if targets[name][1] else "-"
                print(f"{name:<14}{s['requests']:>9}{s['errors']:>7}{rate:>8.1f}{s['p50_ms']:>8}{s['p99_ms']:>8}{result.pct(99) / bare99:>8.2f}{per:>11}")
            return 1 if any(r.errors for r in pooled.values()) else 0
        finally:
            for target, _real in targets.values():
                target.stop()
            standin_proc.stop()


if __name__ == "__main__":
    sys.exit(main())
