"""Generate a realistic ticket CSV (generic format): by default 1,000,000 tickets over the
year before 2026-11-23 for 50 agents.

    python -m benchmarks.gen_tickets [--count N] [--agents N] [--days N] [--out benchmarks/out/tickets.csv]

Realistic shape: fewer tickets at night and at weekends, channel mix with channel-specific
first-response times (log-normal), priorities with their own SLA targets, ~3% never
answered, most solved within hours to days, ratings on a minority of solved tickets.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from supportbot.bot.ingest import GENERIC_COLUMNS

END = datetime(2026, 11, 23, tzinfo=UTC)
DAYS = 365
CHANNELS = (("email", 0.45, 90.0), ("chat", 0.30, 3.0), ("web", 0.15, 60.0), ("phone", 0.10, 1.0))
CATEGORIES = (("billing", 0.22), ("login", 0.18), ("shipping", 0.16), ("bug", 0.14), ("account", 0.12), ("refund", 0.10), ("other", 0.08))
PRIORITIES = (("low", 0.25, 480), ("normal", 0.5, 120), ("high", 0.2, 60), ("urgent", 0.05, 15))
# Share of a day's tickets created in each local hour (UTC here), a business-hours bump.
HOURS = [0.4, 0.3, 0.3, 0.3, 0.4, 0.6, 1.2, 2.5, 4.5, 6.0, 6.5, 6.3, 5.5, 6.0, 6.4, 6.2, 5.8, 5.0, 3.8, 2.8, 2.0, 1.4, 1.0, 0.6]


def pick(rng: random.Random, table: tuple[tuple, ...]) -> tuple:
    x = rng.random()
    acc = 0.0
    for row in table:
        acc += row[1]
        if x < acc:
            return row
    return table[-1]


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(path: Path, tickets: int, agents: int, seed: int = 7, days: int = DAYS) -> int:
    rng = random.Random(seed)
    agent_ids = [f"U0BENCH{n:03d}" for n in range(1, agents + 1)]
    start = END - timedelta(days=days)
    weights = [(0.45 if (start + timedelta(days=d)).weekday() >= 5 else 1.0) * (1 + 0.15 * math.sin(d / 58)) for d in range(days)]
    total_weight = sum(weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(GENERIC_COLUMNS)
        for d in range(days):
            day = start + timedelta(days=d)
            count = round(tickets * weights[d] / total_weight) if d < days - 1 else tickets - written
            for _ in range(count):
                hour = rng.choices(range(24), weights=HOURS)[0] if rng.random() < 0.98 else rng.randrange(24)
                created = day + timedelta(hours=hour, seconds=rng.randrange(3600))
                channel, _, frt_scale = pick(rng, CHANNELS)
                category = pick(rng, CATEGORIES)[0]
                priority, _, sla = pick(rng, PRIORITIES)
                agent = rng.choice(agent_ids)
                first = solved = ""
                csat = nps = handle = replies = ""
                age = (END - created).total_seconds()
                if rng.random() > 0.03:
                    frt = rng.lognormvariate(math.log(frt_scale * 60), 0.9)
                    if frt < age:
                        first = iso(created + timedelta(seconds=int(frt)))
                        solve = frt + rng.lognormvariate(math.log(4 * 3600), 1.2)
                        if solve < age and rng.random() < 0.97:
                            solved = iso(created + timedelta(seconds=int(solve)))
                            handle = str(int(rng.lognormvariate(math.log(540), 0.5)))
                            replies = str(min(1 + int(rng.expovariate(1.1)), 12))
                            if rng.random() < 0.3:
                                csat = rng.choices(("5", "4", "3", "2", "1", "good", "bad"), weights=(45, 25, 8, 5, 7, 8, 2))[0]
                            if rng.random() < 0.15:
                                nps = str(rng.choices(range(11), weights=(2, 1, 1, 2, 2, 3, 5, 8, 14, 28, 34))[0])
                team = "Tier1" if rng.random() < 0.2 else ""
                sla_target = str(sla) if rng.random() < 0.7 else ""
                writer.writerow(
                    (f"ZD-{written + 1}", iso(created), first, solved, "solved" if solved else "open",
                     agent, "", team, channel, category, priority, csat, nps, handle, replies, sla_target)
                )
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", "--tickets", dest="tickets", type=int, default=1_000_000, help="tickets to write (default 1,000,000)")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--days", type=int, default=DAYS, help="spread over this many days before 2026-11-23 (default 365)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "tickets.csv"))
    args = parser.parse_args()
    began = time.perf_counter()
    n = generate(Path(args.out), args.tickets, args.agents, days=args.days)
    print(f"{n} tickets for {args.agents} agents -> {args.out} ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
