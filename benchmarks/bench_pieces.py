"""Each piece of home-made concurrency on and off, in one run, next to the bare Bolt app.

Pieces (switched off with SUPPORTBOT_BENCH_OFF in the bot's environment): `slots` (fair
handler slots with lending), `writer` (the SQLite writer queue), `group` (group commit
of new escalations), `pool` (listeners on their own thread pool, the request thread waiting
for the ack). Configurations: everything on, each piece off alone, everything off. For
each, in alternating order over the rounds: `/escalate` at concurrency 20 and the mixed
load (bench_load), `--seconds` each; the bare app is measured in every round too.

    python -m benchmarks.bench_pieces [--seconds 20] [--rounds 2] [--postgres] [--workers N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import bench_escalate, bench_load
from benchmarks.harness import Result, database, spawn_bare, spawn_bot, spawn_standin, write_results

PIECES = ("slots", "writer", "group", "pool")


def configs(postgres: bool) -> dict[str, str | None]:
    pieces = [p for p in PIECES if not (postgres and p == "writer")]  # the writer queue is SQLite's
    out: dict[str, str | None] = {"bare": None, "all on": ""}
    out.update({f"no {p}": p for p in pieces})
    out["all off"] = ",".join(pieces)
    return out


def stats(result: Result, seconds: float) -> dict[str, Any]:
    s = result.summary()
    s["rps"] = round(s["requests"] / seconds, 1)
    return s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", help="comma-separated configuration names to run")
    parser.add_argument("--extra", action="append", default=[], help="NAME=PIECES@THREADS: another configuration, e.g. 'all off 8t=slots,group,pool@8'")
    args = parser.parse_args(argv)

    todo = configs(args.postgres)
    if args.only:
        todo = {k: v for k, v in todo.items() if k in args.only.split(",") or k == "bare"}
    for extra in args.extra:
        name, _, spec = extra.partition("=")
        todo[name] = spec
    pooled: dict[str, dict[str, Result]] = {name: {"escalate": Result(), "load": Result()} for name in todo}
    rounds: list[dict[str, Any]] = []
    standin_proc, standin = spawn_standin()
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp), postgres=args.postgres) as database_url:
        ids = bench_load.prepare(database_url, standin.url, Path(tmp), args.tickets)
        bare = spawn_bare(standin.url)
        try:
            for round_no in range(args.rounds):
                order = list(todo.items())
                if round_no % 2:
                    order.reverse()
                for name, off in order:
                    pieces, _, threads = (off or "").partition("@")
                    env = {"SUPPORTBOT_BENCH_OFF": pieces, **({"SUPPORTBOT_BENCH_THREADS": threads} if threads else {})}
                    target = bare if off is None else spawn_bot(standin.url, database_url, workers=args.workers, extra_env=env)
                    real = off is not None
                    try:
                        if real:
                            time.sleep(1)
                        bench_escalate.measure(target.url, standin, clients=4, seconds=2, real=real)  # warm up
                        esc = bench_escalate.measure(target.url, standin, clients=args.clients, seconds=args.seconds, real=real)
                        load = bench_load.measure(target.url, standin, ids, clients=args.clients, seconds=args.seconds, real=real)
                    finally:
                        if real:
                            target.stop()
                    for kind, result in (("escalate", esc), ("load", load)):
                        pooled[name][kind].latencies += result.latencies
                        pooled[name][kind].errors += result.errors
                    row = {"round": round_no, "config": name, "escalate": stats(esc, args.seconds), "load": stats(load, args.seconds)}
                    rounds.append(row)
                    e, ld = row["escalate"], row["load"]
                    print(f"round {round_no} {name:10s} escalate p99 {e['p99_ms']:7.1f} ms {e['rps']:6.1f} req/s err {e['errors']:3d} | "
                          f"load p99 {ld['p99_ms']:7.1f} ms {ld['rps']:6.1f} req/s err {ld['errors']:3d}", flush=True)
        finally:
            bare.stop()
            standin_proc.stop()

    seconds = args.seconds * args.rounds
    summary = {name: {kind: stats(r, seconds) for kind, r in kinds.items()} for name, kinds in pooled.items()}
    base = summary["bare"]
    print(f"\nbackend {'postgresql' if args.postgres else 'sqlite'}, workers {args.workers}, {args.rounds} rounds x {args.seconds:.0f} s, ratios to bare")
    print(f"{'config':10s} {'esc p99':>8s} {'x bare':>7s} {'esc rps':>8s} {'x bare':>7s} {'load p99':>9s} {'x bare':>7s} {'load rps':>9s} {'x bare':>7s} errors")
    for name, s in summary.items():
        e, ld = s["escalate"], s["load"]
        print(f"{name:10s} {e['p99_ms']:8.1f} {e['p99_ms'] / base['escalate']['p99_ms']:7.2f} {e['rps']:8.1f} {e['rps'] / base['escalate']['rps']:7.3f} "
              f"{ld['p99_ms']:9.1f} {ld['p99_ms'] / base['load']['p99_ms']:7.2f} {ld['rps']:9.1f} {ld['rps'] / base['load']['rps']:7.3f} {e['errors'] + ld['errors']}")
    path = write_results(f"pieces-{'pg' if args.postgres else 'sqlite'}-w{args.workers}", {"args": vars(args), "summary": summary, "rounds": rounds})
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
