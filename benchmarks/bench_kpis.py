"""KPI benchmark on SQLite: import of the generated CSV (time, peak memory of the real
`supportbot import tickets` process) and the full `/kpis` answer (every figure plus the
previous-period comparison) for today, a month and the whole year, next to a naive
single-pass SQL baseline measured in the same run.

    python -m benchmarks.gen_tickets            # once: benchmarks/out/tickets.csv
    python -m benchmarks.bench_kpis [--csv benchmarks/out/tickets.csv] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.harness import write_results
from supportbot.bot import kpis, teams
from supportbot.storage.db import make_engine, transaction, upgrade

OUT = Path(__file__).parent / "out"
WORKSPACE = "T0BENCH01"
TZ = "Europe/Madrid"
NOW = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # Sunday evening, last day of the data


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants (Linux /proc), in KB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run_import(csv_path: Path, db_path: Path) -> dict[str, Any]:
    """The real CLI in a subprocess: wall time, and peak memory of the largest process
    (ru_maxrss) and of the whole process tree (writer + parser, sampled every 50 ms)."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SLACK_BOT_TOKEN": ""}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "supportbot.bot.cli", "import", "tickets", str(csv_path), "--quiet", "--workspace", WORKSPACE],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    peak_tree = 0
    while proc.poll() is None:
        peak_tree = max(peak_tree, _tree_rss_kb(proc.pid))
        time.sleep(0.05)
    out, err = proc.communicate()
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"import failed: {err}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": round(seconds, 1),
        "peak_mb_largest_process": round(peak_kb / 1024, 1),
        "peak_mb_all_processes": round(peak_tree / 1024, 1),
        "summary": out.strip().splitlines()[0],
    }


def timed(fn: Any, runs: int) -> tuple[float, float]:
    """(median, best) milliseconds over `runs` runs after one warm-up (page cache, statement
    cache). The best run shows what the code costs when nothing else competes for the CPU."""
    fn()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000, min(samples) * 1000


def naive(db_path: Path, start: datetime, end: datetime) -> None:
    """One plain pass over the raw rows: CSAT, AHT, FCR, and the sorted response times."""
    con = sqlite3.connect(db_path)
    try:
        s = start.strftime("%Y-%m-%d %H:%M:%S.%f")
        e = end.strftime("%Y-%m-%d %H:%M:%S.%f")
        con.execute(
            "SELECT AVG(CASE WHEN csat_good THEN 100.0 ELSE 0 END), AVG(handle_time_seconds),"
            " AVG(CASE WHEN agent_replies <= 1 THEN 100.0 ELSE 0 END)"
            " FROM kpi_ticket WHERE workspace_id = ? AND solved_at >= ? AND solved_at < ?",
            (WORKSPACE, s, e),
        ).fetchone()
        con.execute(
            "SELECT (julianday(first_response_at) - julianday(created_at)) * 1440 AS m FROM kpi_ticket"
            " WHERE workspace_id = ? AND created_at >= ? AND created_at < ? AND first_response_at IS NOT NULL"
            " ORDER BY m",
            (WORKSPACE, s, e),
        ).fetchall()
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", default=str(OUT / "tickets.csv"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-import", action="store_true", help="reuse benchmarks/out/kpis.db")
    args = parser.parse_args()
    csv_path = Path(args.csv)
    db_path = OUT / "kpis.db"
    url = f"sqlite:///{db_path}"
    results: dict[str, Any] = {"tickets_csv": str(csv_path), "load_average_at_start": os.getloadavg()}
    if not args.skip_import:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        upgrade(url)
        engine = make_engine(url)
        with transaction(engine) as session:
            teams.create_team(
                session, workspace_id=WORKSPACE, name="Tier1", leaders=["U0LEADB01"],
                members=[f"U0BENCH{n:03d}" for n in range(1, 51)], escalation_channel="C0ESCALB1",
                digest_channel="C0DIGESTB", timezone=TZ, language="en", now=NOW,
            )
        engine.dispose()
        results["import"] = run_import(csv_path, db_path)
        print("import:", results["import"])
        # a second import of the same file changes nothing
        again = run_import(csv_path, db_path)
        results["reimport"] = again
        print("re-import:", again)

    engine = make_engine(url)
    timings: dict[str, Any] = {}
    answers = kpis.new_answer_cache()  # what the running bot keeps as rt.kpi_answers
    with transaction(engine, readonly=True) as session:
        team = teams.find_team(session, WORKSPACE, "Tier1")
        periods = {
            "today": kpis.parse_period("today", now=NOW, tz=TZ),
            "month": kpis.parse_period("2026-10-01..2026-10-31", now=NOW, tz=TZ),
            "year": kpis.parse_period("2025-11-23..2026-11-22", now=NOW, tz=TZ),
        }
        for name, period in periods.items():
            def full(period: kpis.Period = period) -> kpis.Summary:
                answers.clear()  # the computation itself, not the answer cache
                return kpis.summary(session, team=team, period=period, now=NOW, answers=answers)

            def again(period: kpis.Period = period) -> kpis.Summary:
                return kpis.summary(session, team=team, period=period, now=NOW, answers=answers)

            ours, ours_best = timed(full, args.runs)
            cached, _cached_best = timed(again, args.runs)
            base, base_best = timed(lambda period=period: naive(db_path, period.start, period.end), args.runs)
            report = full().current
            timings[name] = {
                "kpis_ms": round(ours, 1),
                "kpis_best_ms": round(ours_best, 1),
                "kpis_cached_ms": round(cached, 1),
                "naive_ms": round(base, 1),
                "naive_best_ms": round(base_best, 1),
                "ratio_naive_over_kpis": round(base / ours, 2) if ours else None,
                "tickets_created": report.volume,
                "tickets_solved": report.solved,
                "csat": None if report.csat is None else round(report.csat, 1),
                "frt_median_min": None if report.frt is None else round(report.frt, 1),
            }
            print(name, timings[name])
    engine.dispose()
    results["kpis"] = timings
    results["load_average_at_end"] = os.getloadavg()
    print("results:", write_results("kpis", results))


if __name__ == "__main__":
    main()
