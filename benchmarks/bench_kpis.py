"""KPI benchmark on SQLite or PostgreSQL: import of the generated CSV (time, memory over
time of the real `supportbot import tickets` process) and the full `/kpis` answer (every
figure plus the previous-period comparison) for today, a month and the whole year, next to
a naive single-pass SQL baseline, the previous method (main before the month rollups:
every whole day from the per-day rows, percentiles by ordering the period's tickets in the
bucket) and the method before the fine rows (migration 0016: per-second counts over the
whole bucket, SLA breaches over every unanswered ticket) measured in the same run.

    python -m benchmarks.gen_tickets            # once: benchmarks/out/tickets.csv
    python -m benchmarks.bench_kpis [--csv benchmarks/out/tickets.csv] [--runs 5]
    python -m benchmarks.bench_kpis --postgres                      # the same on a throwaway PostgreSQL
    python -m benchmarks.bench_kpis --postgres --synthesize 10000000 --export-csv benchmarks/out/tickets10m.csv
        # 10M tickets generated inside PostgreSQL (rollups filled by GROUP BY), queried,
        # written out as a CSV, then imported by the real CLI into a fresh database
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, create_engine, func, or_, select, text
from sqlalchemy.pool import NullPool

from benchmarks.harness import write_results
from supportbot.bot import kpis, teams
from supportbot.storage import kpis as store
from supportbot.storage.db import make_engine, transaction, upgrade
from supportbot.storage.kpis import created as created_module
from supportbot.storage.kpis import percentiles as percentiles_module
from supportbot.storage.kpis import solved as solved_module
from supportbot.storage.kpis.scope import Piece, bucket_case, in_range, split_days, ticket_filter

OUT = Path(__file__).parent / "out"
WORKSPACE = "T0BENCH01"
TZ = "Europe/Madrid"
NOW = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # Sunday evening, last day of the data
AGENTS = 50


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


def run_import(csv_path: Path, url: str) -> dict[str, Any]:
    """The real CLI in a subprocess: wall time, peak memory of the largest process
    (ru_maxrss), and the whole process tree's memory (writer + parser, sampled every
    50 ms) at each tenth of the run: flat memory means the last tenths match the first."""
    env = {**os.environ, "DATABASE_URL": url, "SLACK_BOT_TOKEN": ""}
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "supportbot.bot.cli", "import", "tickets", str(csv_path), "--quiet", "--workspace", WORKSPACE],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    samples: list[tuple[float, int]] = []
    while proc.poll() is None:
        samples.append((time.perf_counter() - began, _tree_rss_kb(proc.pid)))
        time.sleep(0.05)
    out, err = proc.communicate()
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"import failed: {err}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    by_tenth = []
    for tenth in range(1, 11):
        window = [kb for at, kb in samples if (tenth - 1) * seconds / 10 <= at < tenth * seconds / 10]
        by_tenth.append(round(max(window, default=0) / 1024, 1))
    return {
        "seconds": round(seconds, 1),
        "peak_mb_largest_process": round(peak_kb / 1024, 1),
        "peak_mb_all_processes": round(max((kb for _, kb in samples), default=0) / 1024, 1),
        "mb_all_processes_by_tenth_of_run": by_tenth,
        "summary": out.strip().splitlines()[0],
        "load_average_at_end": os.getloadavg(),
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


def _quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    pos = q * (len(values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def naive(url: str, start: datetime, end: datetime) -> tuple[float | None, float | None]:
    """One plain pass over the raw rows: CSAT, AHT, FCR, and the first-response median and
    p90 (minutes) from response times computed from the timestamps. SQLite: the sorted
    times fetched into Python; PostgreSQL: percentile_cont in the server."""
    if url.startswith("sqlite"):
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            s = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            e = end.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            con.execute(
                "SELECT AVG(CASE WHEN csat_good THEN 100.0 ELSE 0 END), AVG(handle_time_seconds),"
                " AVG(CASE WHEN agent_replies <= 1 THEN 100.0 ELSE 0 END)"
                " FROM kpi_ticket WHERE workspace_id = ? AND solved_at >= ? AND solved_at < ?",
                (WORKSPACE, s, e),
            ).fetchone()
            minutes = [m for (m,) in con.execute(
                "SELECT (julianday(first_response_at) - julianday(created_at)) * 1440 AS m FROM kpi_ticket"
                " WHERE workspace_id = ? AND created_at >= ? AND created_at < ? AND first_response_at IS NOT NULL"
                " ORDER BY m",
                (WORKSPACE, s, e),
            )]
        finally:
            con.close()
        return _quantile(minutes, 0.5), _quantile(minutes, 0.9)
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as con:
        con.execute(
            "SELECT AVG(CASE WHEN csat_good THEN 100.0 ELSE 0 END), AVG(handle_time_seconds),"
            " AVG(CASE WHEN agent_replies <= 1 THEN 100.0 ELSE 0 END)"
            " FROM kpi_ticket WHERE workspace_id = %s AND solved_at >= %s AND solved_at < %s",
            (WORKSPACE, start, end),
        ).fetchone()
        row = con.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP"
            " (ORDER BY EXTRACT(EPOCH FROM first_response_at - created_at) / 60)"
            " FROM kpi_ticket WHERE workspace_id = %s AND created_at >= %s AND created_at < %s"
            " AND first_response_at IS NOT NULL",
            (WORKSPACE, start, end),
        ).fetchone()
    values = row[0] if row and row[0] else [None, None]
    return (None if values[0] is None else float(values[0]), None if values[1] is None else float(values[1]))


def previous_frt_quantiles(
    *, session: Any, scope: store.Scope, start: datetime, end: datetime,
    histogram: list[tuple[int, int]], quantiles: Sequence[float],
) -> tuple[int, list[float | None]]:
    """The method before the month rollups (for the same-run comparison): the bucket
    histogram finds the buckets, then one ordered pass (row_number) over the period's
    tickets in those buckets reads the ranks."""
    t = store.Ticket.__table__.c  # type: ignore[attr-defined]
    n = sum(c for _, c in histogram)
    if n == 0:
        return 0, [None for _ in quantiles]
    cumulative: list[tuple[int, int, int]] = []
    seen = 0
    for b, c in histogram:
        cumulative.append((b, seen, c))
        seen += c

    def bucket_of(rank: int) -> tuple[int, int, int]:
        return next(e for e in cumulative if e[1] <= rank < e[1] + e[2])

    positions = []
    for q in quantiles:
        pos = q * (n - 1)
        positions.append((int(pos), min(int(pos) + 1, n - 1), pos - int(pos)))
    wanted = sorted({r for lo, hi, _ in positions for r in (lo, hi)})
    buckets = sorted({bucket_of(r)[0] for r in wanted})
    union_start: dict[int, int] = {}
    total = 0
    for b, _first, c in cumulative:
        if b in buckets:
            union_start[b] = total
            total += c
    by_row = {}
    for r in wanted:
        b, first, _c = bucket_of(r)
        by_row[union_start[b] + (r - first) + 1] = r
    ranges = []
    for b in buckets:
        low, high = store.bucket_bounds(b)
        ranges.append(t.frt_seconds > low if high is None else and_(t.frt_seconds > low, t.frt_seconds <= high))
    ordered = (
        select(t.frt_seconds.label("v"), func.row_number().over(order_by=t.frt_seconds).label("rn"))
        .where(t.workspace_id == scope.workspace_id, in_range(t.created_at, start, end), ticket_filter(scope), or_(*ranges))
        .subquery()
    )
    values = {
        by_row[int(rn)]: float(v)
        for v, rn in session.connection().execute(select(ordered.c.v, ordered.c.rn).where(ordered.c.rn.in_(sorted(by_row))))
    }
    out: list[float | None] = []
    for lo, hi, frac in positions:
        out.append(values[lo] if frac == 0 or hi == lo else values[lo] + (values[hi] - values[lo]) * frac)
    return n, out


def days_only_split(start: datetime, end: datetime) -> tuple[list[Piece], list[tuple[datetime, datetime, int]]]:
    """The split before the month rollups: every whole UTC day from the per-day rows,
    the partial days from their tickets."""
    days, edges = split_days(start, end)
    return ([] if days is None else [Piece("day", days[0], days[1])]), [(lo, hi, 1) for lo, hi in edges]


@contextmanager
def previous_method() -> Iterator[None]:
    """/kpis as before this change (main): per-day rollups only, ordered percentile pass."""
    saved = (store.frt_quantiles, created_module.split_period, solved_module.split_period)
    store.frt_quantiles = previous_frt_quantiles  # type: ignore[assignment]
    created_module.split_period = days_only_split  # type: ignore[assignment]
    solved_module.split_period = days_only_split  # type: ignore[assignment]
    try:
        yield
    finally:
        store.frt_quantiles, created_module.split_period, solved_module.split_period = saved  # type: ignore[assignment]


@contextmanager
def without_fine_rows() -> Iterator[None]:
    """/kpis as on main before the fine rows (migration 0016): percentiles by per-second
    counts over the whole bucket, and SLA breaches counted over every unanswered ticket
    of the period."""
    saved = (percentiles_module.fine_counts, store.count_unanswered_breached)
    full_breaches = store.count_unanswered_breached

    def every_unanswered(**kwargs: Any) -> int:
        kwargs.pop("unanswered", None)
        return full_breaches(**kwargs)

    percentiles_module.fine_counts = lambda *args, **kwargs: None  # type: ignore[assignment]
    store.count_unanswered_breached = every_unanswered  # type: ignore[assignment]
    try:
        yield
    finally:
        percentiles_module.fine_counts, store.count_unanswered_breached = saved  # type: ignore[assignment]


# ----- PostgreSQL: a throwaway server, tickets generated inside it -----------------------


def _pg_sql(url: str, *statements: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


class KeptPostgres:
    """A PostgreSQL server whose data directory is kept between runs (benchmarks/out/pg10m):
    10,000,000 synthesized tickets are generated once and queried by later runs (after
    `upgrade`, so new migrations run on them)."""

    def __init__(self, path: Path) -> None:
        from tests.pgserver import PostgresServer

        self.server = PostgresServer()
        shutil.rmtree(self.server.dir, ignore_errors=True)  # its temporary dir is not used
        self.server.dir = path.resolve()
        self.server.data = self.server.dir / "data"

    def start(self) -> tuple[str, bool]:
        """(admin url, whether the data directory already existed)."""
        s = self.server
        existed = (s.data / "PG_VERSION").exists()
        s.dir.mkdir(parents=True, exist_ok=True)
        if not existed:
            return s.start(), False
        if s.as_root:
            shutil.chown(s.dir, "postgres", "postgres")
        options = (
            f"-p {s.port} -k {s.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=300"
        )
        s._run(str(s.bindir / "pg_ctl"), "-D", str(s.data), "-o", options, "-l", str(s.dir / "log"), "-w", "start")
        return s.url, True

    def stop(self) -> None:
        self.server._run(str(self.server.bindir / "pg_ctl"), "-D", str(self.server.data), "-m", "fast", "-w", "stop")


def fresh_pg_database(admin_url: str, name: str) -> str:
    _pg_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


_DAY = "(created_at AT TIME ZONE 'UTC')::date"
_SOLVED_DAY = "(solved_at AT TIME ZONE 'UTC')::date"


def synthesize(url: str, tickets: int, chunk: int = 1_000_000) -> dict[str, Any]:
    """`tickets` tickets over the year before 2026-11-23 for 50 agents, generated by SQL
    in the server with gen_tickets' shape (channel mix with log-normal first responses,
    ~3% unanswered, priorities with SLA targets, ratings on a minority), then the per-day
    tables filled by GROUP BY exactly as the upserts would keep them (the benchmark checks
    the rollup figures against the naive pass over the tickets)."""
    from sqlalchemy.dialects import postgresql

    began = time.perf_counter()
    t = store.Ticket.__table__  # type: ignore[attr-defined]
    bucket = str(bucket_case(t.c.frt_seconds).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    engine = create_engine(url, poolclass=NullPool)  # a connection per statement
    with engine.begin() as conn:
        for index in t.indexes:
            index.drop(conn)
    insert = f"""
    INSERT INTO kpi_ticket (workspace_id, ticket_id, created_at, first_response_at, solved_at, frt_seconds,
        status, agent_id, team, team_key, channel, category, priority, csat, csat_good, nps,
        handle_time_seconds, agent_replies, sla_target_minutes, updated_at)
    SELECT '{WORKSPACE}', 'ZD-' || i, created, created + make_interval(secs => frt), solved, frt,
        CASE WHEN solved IS NULL THEN 'open' ELSE 'solved' END, agent, team, lower(team), channel, category,
        priority, csat, csat_good, nps, handle, replies, sla, now()
    FROM (
        SELECT i, created, agent, team, channel, category, priority, sla,
            CASE WHEN frt_raw < age THEN frt_raw END AS frt,
            CASE WHEN frt_raw < age AND solve_raw < age AND r6 < 0.97 THEN created + make_interval(secs => solve_raw) END AS solved,
            CASE WHEN frt_raw < age AND solve_raw < age AND r6 < 0.97 THEN (540 * exp(0.5 * z2))::int END AS handle,
            CASE WHEN frt_raw < age AND solve_raw < age AND r6 < 0.97 THEN least(1 + floor(-ln(1 - r7) / 1.1)::int, 12) END AS replies,
            CASE WHEN frt_raw < age AND solve_raw < age AND r6 < 0.97 AND r8 < 0.22 THEN 1 + (r9 * 5)::int % 5 END AS csat,
            CASE WHEN frt_raw < age AND solve_raw < age AND r6 < 0.97 AND r8 < 0.22 THEN r9 >= 0.3 END AS csat_good,
            CASE WHEN frt_raw < age AND solve_raw < age AND r6 < 0.97 AND r8 > 0.85 THEN (r9 * 11)::int % 11 END AS nps
        FROM (
            SELECT i, created, agent, team, channel, category, priority, sla, age, r6, r7, r8, r9, z2,
                CASE WHEN r5 < 0.03 THEN NULL ELSE floor(exp(ln(scale * 60) + 0.9 * z1))::int END AS frt_raw,
                floor(exp(ln(scale * 60) + 0.9 * z1) + exp(ln(4 * 3600) + 1.2 * z2))::int AS solve_raw
            FROM (
                SELECT i, created, extract(epoch FROM timestamptz '2026-11-23 00:00+00' - created) AS age,
                    'U0BENCH' || lpad((1 + floor(random() * {AGENTS}))::int::text, 3, '0') AS agent,
                    CASE WHEN random() < 0.2 THEN 'Tier1' END AS team,
                    CASE WHEN rc < 0.45 THEN 'email' WHEN rc < 0.75 THEN 'chat' WHEN rc < 0.9 THEN 'web' ELSE 'phone' END AS channel,
                    CASE WHEN rc < 0.45 THEN 90.0 WHEN rc < 0.75 THEN 3.0 WHEN rc < 0.9 THEN 60.0 ELSE 1.0 END AS scale,
                    (ARRAY['billing','login','shipping','bug','account','refund','other'])[1 + floor(random() * 7)::int] AS category,
                    CASE WHEN rp < 0.25 THEN 'low' WHEN rp < 0.75 THEN 'normal' WHEN rp < 0.95 THEN 'high' ELSE 'urgent' END AS priority,
                    CASE WHEN random() < 0.7 THEN (CASE WHEN rp < 0.25 THEN 480 WHEN rp < 0.75 THEN 120 WHEN rp < 0.95 THEN 60 ELSE 15 END) END AS sla,
                    sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z1,
                    sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z2,
                    random() AS r5, random() AS r6, random() AS r7, random() AS r8, random() AS r9
                FROM (
                    SELECT i, timestamptz '2025-11-23 00:00+00' + make_interval(secs => floor(random() * 365 * 86400)) AS created,
                        random() AS rc, random() AS rp
                    FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) AS i
                ) base
            ) shaped
        ) timed
    ) done
    """
    from concurrent.futures import ThreadPoolExecutor

    def run(statement: str, params: dict[str, Any] | None = None) -> None:
        with engine.begin() as conn:
            conn.execute(text(statement), params or {})
        print(f"  {statement.split('(')[0].strip()[:40]} {params or ''} done ({time.perf_counter() - began:.0f} s)", flush=True)

    # two connections at a time: the server's backends are single-threaded per statement
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda lo: run(insert, {"lo": lo, "hi": min(lo + chunk - 1, tickets)}), range(1, tickets + 1, chunk)))
    rollups = [
        *[
            f"INSERT INTO kpi_day_count (workspace_id, day, dim, team_key, agent_id, value, n) "
            f"SELECT workspace_id, {_DAY}, '{dim}', COALESCE(team_key, ''), COALESCE(agent_id, ''), COALESCE({dim}, ''), count(*) "
            f"FROM kpi_ticket GROUP BY 1, 2, 3, 4, 5, 6"
            for dim in ("channel", "category")
        ],
        f"INSERT INTO kpi_day_frt (workspace_id, day, team_key, agent_id, bucket, n, n_target, met_target) "
        f"SELECT workspace_id, {_DAY}, COALESCE(team_key, ''), COALESCE(agent_id, ''), {bucket}, count(*), "
        f"count(sla_target_minutes), count(*) FILTER (WHERE frt_seconds <= sla_target_minutes * 60) "
        f"FROM kpi_ticket WHERE frt_seconds IS NOT NULL GROUP BY 1, 2, 3, 4, 5",
        f"INSERT INTO kpi_day_solved (workspace_id, day, team_key, agent_id, solved, handle_n, handle_sum, fcr_n, "
        f"fcr_yes, csat_n, csat_good, nps_n, promoters, detractors) "
        f"SELECT workspace_id, {_SOLVED_DAY}, COALESCE(team_key, ''), COALESCE(agent_id, ''), count(*), "
        f"count(handle_time_seconds), COALESCE(sum(handle_time_seconds), 0), count(agent_replies), "
        f"count(*) FILTER (WHERE agent_replies <= 1), count(csat_good), count(*) FILTER (WHERE csat_good), "
        f"count(nps), count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps <= 6) "
        f"FROM kpi_ticket WHERE solved_at IS NOT NULL GROUP BY 1, 2, 3, 4",
        f"INSERT INTO kpi_data_version (workspace_id, version) VALUES ('{WORKSPACE}', 1)",
    ]
    from sqlalchemy.schema import CreateIndex

    creates = [str(CreateIndex(index).compile(dialect=postgresql.dialect())) for index in t.indexes]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, [*creates, *rollups]))
    # the per-month rows from the per-day ones, as migration 0014 fills them
    month = "date_trunc('month', day)::date"
    sums = ", ".join(f"sum({name})" for name in store.SOLVED_SUMS)
    for statement in (
        f"INSERT INTO kpi_month_count (workspace_id, month, dim, team_key, agent_id, value, n) "
        f"SELECT workspace_id, {month}, dim, team_key, agent_id, value, sum(n) FROM kpi_day_count GROUP BY 1, 2, 3, 4, 5, 6",
        f"INSERT INTO kpi_month_frt (workspace_id, month, team_key, agent_id, bucket, n, n_target, met_target) "
        f"SELECT workspace_id, {month}, team_key, agent_id, bucket, sum(n), sum(n_target), sum(met_target) "
        f"FROM kpi_day_frt GROUP BY 1, 2, 3, 4, 5",
        f"INSERT INTO kpi_month_solved (workspace_id, month, team_key, agent_id, {', '.join(store.SOLVED_SUMS)}) "
        f"SELECT workspace_id, {month}, team_key, agent_id, {sums} FROM kpi_day_solved GROUP BY 1, 2, 3, 4",
        # the fine first-response rows from the tickets, as migration 0016 fills them
        "INSERT INTO kpi_month_frt_fine (workspace_id, month, team_key, agent_id, bucket, fine, n) "
        "SELECT workspace_id, date_trunc('month', created_at AT TIME ZONE 'UTC')::date, COALESCE(team_key, ''), "
        f"COALESCE(agent_id, ''), width_bucket(frt_seconds - 1, ARRAY[{', '.join(map(str, store.FRT_EDGES))}]), "
        f"width_bucket(frt_seconds - 1, ARRAY[{', '.join(map(str, store.FINE_EDGES))}]), count(*) "
        "FROM kpi_ticket WHERE frt_seconds IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6",
    ):
        run(statement)
    engine.dispose()
    _pg_sql(url, "VACUUM ANALYZE")
    return {"tickets": tickets, "seconds": round(time.perf_counter() - began, 1)}


def export_csv(url: str, path: Path) -> int:
    """The generated tickets as a generic CSV (what the import reads), streamed by COPY."""
    import psycopg

    from supportbot.bot.ingest import GENERIC_COLUMNS

    stamp = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    query = (
        f"COPY (SELECT ticket_id, {stamp.format('created_at')}, {stamp.format('first_response_at')}, "
        f"{stamp.format('solved_at')}, status, agent_id, '', team, channel, category, priority, "
        "COALESCE(csat::text, CASE WHEN csat_good IS NOT NULL THEN CASE WHEN csat_good THEN 'good' ELSE 'bad' END END), "
        "nps, handle_time_seconds, agent_replies, sla_target_minutes FROM kpi_ticket ORDER BY id) TO STDOUT WITH (FORMAT csv)"
    )
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as con, path.open("wb") as f:
        f.write((",".join(GENERIC_COLUMNS) + "\r\n").encode())
        with con.cursor().copy(query) as copy:
            for data in copy:
                f.write(data)
    return 0


# ----- what the fine rows cost the import's rollup step ----------------------------------


def rollup_cost(source_db: Path, url: str, tickets: int, batch: int = 20_000, rounds: int = 3) -> dict[str, Any]:
    """`apply_rollups` (the import's rollup step) on `tickets` stored tickets of the SQLite
    benchmark database, in creation order and batches of `batch` (the COPY path's
    transaction), into a fresh database: with the fine rows, and with their deltas left
    out (main before migration 0016), alternating `rounds` times. Seconds per run, wall and
    this process's CPU (on SQLite all of the work; on PostgreSQL only the client's share)."""
    from supportbot.storage.kpis import rollups

    con = sqlite3.connect(f"file:{source_db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    skip = ("created_at", "solved_at", "first_response_at", "tags")  # (the benchmark database predates tags)
    names = ("created_at", "solved_at", *[n for n in store.TICKET_FIELDS if n not in skip])
    rows = []
    for r in con.execute(f"SELECT {', '.join(names)} FROM kpi_ticket ORDER BY created_at LIMIT ?", (tickets,)):  # noqa: S608
        row = dict(r)
        for name in ("created_at", "solved_at"):
            if row[name] is not None:
                row[name] = datetime.fromisoformat(row[name]).replace(tzinfo=UTC)
        rows.append(row)
    con.close()
    real = rollups.add_deltas

    def no_fine(session: Any, model: Any, *args: Any, **kwargs: Any) -> None:
        if model is not store.KpiMonthFrtFine:
            real(session, model, *args, **kwargs)

    out: dict[str, list[float]] = {"with_fine_rows_s": [], "without_fine_rows_s": [], "with_fine_rows_cpu_s": [], "without_fine_rows_cpu_s": []}
    for _ in range(rounds):
        for label, adder in (("with_fine_rows_s", real), ("without_fine_rows_s", no_fine)):
            if url.startswith("sqlite"):
                db = Path(url.removeprefix("sqlite:///"))
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                target = url
            else:
                target = fresh_pg_database(url, "kpis_rollups")
            upgrade(target)
            engine = make_engine(target)
            rollups.add_deltas = adder  # type: ignore[assignment]
            try:
                began, cpu = time.perf_counter(), time.process_time()  # this process: all of SQLite's work
                for i in range(0, len(rows), batch):
                    with transaction(engine) as session:
                        rollups.apply_rollups(session=session, workspace_id=WORKSPACE, added=rows[i : i + batch], removed=[])
                out[label].append(round(time.perf_counter() - began, 2))
                out[label.replace("_s", "_cpu_s")].append(round(time.process_time() - cpu, 2))
            finally:
                rollups.add_deltas = real  # type: ignore[assignment]
                engine.dispose()
            print(label, out[label][-1], "s, CPU", out[label.replace("_s", "_cpu_s")][-1], "s", flush=True)
    return {"tickets": len(rows), "batch": batch, **out, "load_average": os.getloadavg()}


# ----- the run ---------------------------------------------------------------------------


def setup(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with transaction(engine) as session:
        teams.create_team(
            session, workspace_id=WORKSPACE, name="Tier1", leaders=["U0LEADB01"],
            members=[f"U0BENCH{n:03d}" for n in range(1, AGENTS + 1)], escalation_channel="C0ESCALB1",
            digest_channel="C0DIGESTB", timezone=TZ, language="en", now=NOW,
        )
    engine.dispose()


def _drop_frt_index(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_kpi_ticket_frt"))
    engine.dispose()


def measure_queries(url: str, runs: int) -> dict[str, Any]:
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

            ours, ours_best = timed(full, runs)
            cached, _cached_best = timed(again, runs)
            with without_fine_rows():
                before, before_best = timed(full, runs)
                before_report = full().current
            with without_fine_rows(), previous_method():
                previous, previous_best = timed(full, runs)
                previous_report = full().current
            base, base_best = timed(lambda period=period: naive(url, period.start, period.end), runs)
            naive_median, naive_p90 = naive(url, period.start, period.end)
            report = full().current
            timings[name] = {
                "kpis_ms": round(ours, 1),
                "kpis_best_ms": round(ours_best, 1),
                "kpis_cached_ms": round(cached, 1),
                "without_fine_rows_ms": round(before, 1),
                "without_fine_rows_best_ms": round(before_best, 1),
                "ratio_without_fine_rows_over_kpis": round(before / ours, 2) if ours else None,
                "without_fine_rows_same_figures": (before_report.frt_median, before_report.frt_p90, before_report.sla_n)
                == (report.frt_median, report.frt_p90, report.sla_n),
                "previous_method_ms": round(previous, 1),
                "previous_method_best_ms": round(previous_best, 1),
                "naive_ms": round(base, 1),
                "naive_best_ms": round(base_best, 1),
                "ratio_naive_over_kpis": round(base / ours, 2) if ours else None,
                "ratio_previous_over_kpis": round(previous / ours, 2) if ours else None,
                "tickets_created": report.volume,
                "tickets_solved": report.solved,
                "csat": None if report.csat is None else round(report.csat, 1),
                "frt_median_min": report.frt_median,
                "frt_p90_min": report.frt_p90,
                "naive_frt_median_min": naive_median,
                "naive_frt_p90_min": naive_p90,
                "previous_method_same_figures": (previous_report.frt_median, previous_report.frt_p90) == (report.frt_median, report.frt_p90),
            }
            for ours_value, naive_value in ((report.frt_median, naive_median), (report.frt_p90, naive_p90)):
                if (ours_value is None) != (naive_value is None) or (
                    ours_value is not None and abs(ours_value - naive_value) > 1e-6  # type: ignore[operator]
                ):
                    raise SystemExit(f"{name}: percentiles differ from the naive pass: {timings[name]}")
            print(name, timings[name], flush=True)
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", default=str(OUT / "tickets.csv"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-import", action="store_true", help="reuse benchmarks/out/kpis.db (SQLite)")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server (tests/pgserver.py)")
    parser.add_argument("--synthesize", type=int, default=0, help="PostgreSQL: generate this many tickets in the server instead of importing --csv")
    parser.add_argument("--export-csv", default="", help="with --synthesize: write the tickets as a CSV and import it with the real CLI into a fresh database")
    parser.add_argument("--no-reimport", action="store_true")
    parser.add_argument("--db", default=str(OUT / "kpis.db"), help="SQLite database file")
    parser.add_argument("--import-only", action="store_true", help="stop after the import(s)")
    parser.add_argument("--without-frt-index", action="store_true", help="import without ix_kpi_ticket_frt (what that index costs the import)")
    parser.add_argument("--pgdata", default="", help="PostgreSQL: keep the server's data here; with --synthesize generate into it, without reuse its tickets")
    parser.add_argument("--synthesize-only", action="store_true", help="with --pgdata --synthesize: stop after generating")
    parser.add_argument("--rollup-cost", type=int, default=0, help="time apply_rollups on this many tickets of --db, with and without the fine rows, then stop")
    args = parser.parse_args()
    csv_path = Path(args.csv)
    results: dict[str, Any] = {"load_average_at_start": os.getloadavg(), "started": datetime.now(UTC).isoformat()}
    server = None
    try:
        if args.rollup_cost:
            if args.postgres:
                from tests.pgserver import PostgresServer

                server = PostgresServer()
                target = server.start()
            else:
                target = f"sqlite:///{OUT / 'rollup-cost.db'}"
            results["rollup_cost"] = rollup_cost(Path(args.db), target, args.rollup_cost)
            print("rollup cost:", results["rollup_cost"], flush=True)
            return
        kept = False
        if args.pgdata:
            server = KeptPostgres(Path(args.pgdata))
            admin, kept = server.start()
            results["database"] = f"postgresql (kept in {args.pgdata}, fsync off)"
            url = admin.rsplit("/", 1)[0] + "/kpis"
            if not kept:
                url = fresh_pg_database(admin, "kpis")
            else:
                began = time.perf_counter()
                upgrade(url)  # new migrations run on the kept tickets
                results["upgrade_seconds"] = round(time.perf_counter() - began, 1)
                print("upgrade:", results["upgrade_seconds"], "s", flush=True)
        elif args.postgres:
            from tests.pgserver import PostgresServer

            server = PostgresServer()
            admin = server.start()
            results["database"] = "postgresql (throwaway, fsync off)"
            url = fresh_pg_database(admin, "kpis")
        else:
            db_path = Path(args.db)
            url = f"sqlite:///{db_path}"
            results["database"] = "sqlite"
        if args.synthesize and not kept:
            setup(url)
            results["synthesize"] = synthesize(url, args.synthesize)
            print("synthesize:", results["synthesize"], flush=True)
            if args.synthesize_only:
                return
        elif kept:
            pass
        elif not args.skip_import:
            if not args.postgres:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db_path}{suffix}").unlink(missing_ok=True)
            setup(url)
            if args.without_frt_index:
                _drop_frt_index(url)
                results["without_frt_index"] = True
            results["tickets_csv"] = str(csv_path)
            results["import"] = run_import(csv_path, url)
            print("import:", results["import"], flush=True)
            if not args.no_reimport:
                results["reimport"] = run_import(csv_path, url)  # a second import of the same file changes nothing
                print("re-import:", results["reimport"], flush=True)
        if args.import_only:
            return
        results["kpis"] = measure_queries(url, args.runs)
        results["load_average_after_queries"] = os.getloadavg()
        print("results:", write_results("kpis", results), flush=True)
        if args.export_csv and server is not None:
            path = Path(args.export_csv)
            began = time.perf_counter()
            export_csv(url, path)
            results["export_seconds"] = round(time.perf_counter() - began, 1)
            _pg_sql(admin, 'DROP DATABASE "kpis" WITH (FORCE)')
            url = fresh_pg_database(admin, "kpis_import")
            setup(url)
            results["tickets_csv"] = str(path)
            results["import"] = run_import(path, url)
            print("import:", results["import"], flush=True)
    finally:
        results["load_average_at_end"] = os.getloadavg()
        results["finished"] = datetime.now(UTC).isoformat()
        print("results:", write_results("kpis", results))
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
