"""Tickets at scale: `supportbot import tickets FILE` (the real CLI, in a subprocess) into a
throwaway PostgreSQL server, with its wall time, tickets per second and the peak memory of
its process tree (the CLI and its parser process) in each tenth of the run.

    python -m benchmarks.bench_import [--count 1000000] [--days 365] [--baseline-count 100000]
        [--compare /work/main/.venv/bin/python] [--again] [--file FILE.csv] [--no-baseline]

In the same run, on a smaller file (`--baseline-count` tickets), the previous write path
(`--write-path rows`: a SELECT of the batch's tickets, SQLAlchemy INSERTs and one UPDATE per
changed ticket) and the current one (the parser makes COPY text, one statement upserts and
moves the rollups) each import the same file into their own empty database: their ratio is
the speed-up. `--compare PYTHON` also runs another checkout's `import tickets` (that
interpreter's installed `supportbot`, e.g. the main branch's venv) on the main file, into
its own empty database. The files come from benchmarks/gen_tickets.py (kept in
benchmarks/out/, reused when present; `--days 37` gives 1,000,000 tickets the density of
10,000,000 over a year). Also timed: the parser alone (read, validate and make the COPY
text, no database), the ceiling of the pipeline. 10,000,000: `--count 10000000` (the file
takes about 5 minutes to generate and 1.2 GB) or `--file`.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.gen_tickets import DAYS, generate
from benchmarks.harness import database, write_results
from supportbot.storage.db import upgrade

WORKSPACE = "T0BENCH01"
OUT = Path(__file__).parent / "out"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def ticket_file(count: int, path: str | None, days: int = DAYS) -> Path:
    if path:
        return Path(path)
    target = OUT / (f"tickets-{count}.csv" if days == DAYS else f"tickets-{count}-{days}d.csv")
    if not target.exists():
        began = time.perf_counter()
        partial = target.with_suffix(".partial")
        generate(partial, count, 50, days=days)
        partial.rename(target)
        print(f"generated {count} tickets -> {target} ({time.perf_counter() - began:.0f} s)")
    return target


def tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants, from /proc."""
    total = 0
    for pid in (root, *children_of(root)):
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return total


def children_of(root: int) -> list[int]:
    """All descendants of `root`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def process_cpu(pid: int) -> float:
    """CPU seconds of a process and of its children it has reaped, from /proc."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2 :].split()
    return sum(int(v) for v in fields[11:15]) / TICKS


def server_cpu(postmaster: int) -> float:
    """CPU seconds of the database server: the postmaster, its backends and workers (live,
    and those that have exited)."""
    total = process_cpu(postmaster)
    for pid in children_of(postmaster):
        try:
            total += process_cpu(pid)
        except OSError:
            pass
    return total


def postmaster_of(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            data = conn.execute(text("SHOW data_directory")).scalar()
    finally:
        engine.dispose()
    return int(Path(str(data), "postmaster.pid").read_text().split()[0])


def run_import(database_url: str, path: Path, write_path: str, python: str = sys.executable) -> dict[str, Any]:
    """The CLI in a subprocess; memory of its tree sampled every 0.2 s, load every 5 s;
    CPU seconds of the CLI's process tree and of the database server."""
    postmaster = postmaster_of(database_url)
    server_before = server_cpu(postmaster)
    tree_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "", "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)  # `python`'s own installed supportbot
    argv = [python, "-m", "supportbot.bot.cli", "import", "tickets", str(path), "--workspace", WORKSPACE, "--quiet", "--write-path", write_path]
    samples: list[tuple[float, int]] = []
    loads: list[float] = []
    began = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        last_load = 0.0
        while proc.poll() is None:
            now = time.perf_counter() - began
            samples.append((now, tree_rss(proc.pid)))
            if now - last_load >= 5:
                loads.append(os.getloadavg()[0])
                last_load = now
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:  # interrupted: take the import (and its parser) down too
            for child in children_of(proc.pid):
                os.kill(child, signal.SIGTERM)
            proc.terminate()
            proc.wait()
    wall = time.perf_counter() - began
    tree_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_seconds = server_cpu(postmaster) - server_before
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"import failed ({proc.returncode}): {err.strip()[-2000:]}")
    tenths = [0] * 10
    for at, rss in samples:
        slot = min(int(at / wall * 10), 9)
        tenths[slot] = max(tenths[slot], rss)
    summary = out.strip().splitlines()[0]
    rows = sum(int(part.split()[0]) for part in summary.split(": ", 1)[1].split(", "))
    return {
        "write_path": write_path,
        "python": python,
        "file": path.name,
        "rows": rows,
        "output": summary,
        "wall_s": round(wall, 1),
        "tickets_per_s": round(rows / wall),
        "peak_mb_by_tenth": [round(b / 2**20) for b in tenths],
        "peak_mb": round(max(tenths) / 2**20),
        "load_avg": [round(min(loads or [0]), 1), round(max(loads or [0]), 1)],
        # CPU per 1,000 tickets: what the run cost, whatever else the machine was doing
        "cpu_s": {
            "import": round(tree_after.ru_utime + tree_after.ru_stime - tree_before.ru_utime - tree_before.ru_stime, 1),
            "server": round(server_seconds, 1),
        },
    }


def parse_only(path: Path) -> dict[str, Any]:
    """The parser process's work alone (read, validate, make and pickle the COPY text of
    each batch), no database."""
    code = (
        "import pickle, sys, time\n"
        "from supportbot.bot import ingest_file\n"
        "class Null:\n"
        "    n = 0\n"
        "    def put(self, msg):\n"
        "        pickle.dumps(msg)\n"
        "        self.n += msg[1][2] if msg[0] == 'copy' else 0\n"
        "q = Null(); c = time.process_time(); t = time.perf_counter()\n"
        "ingest_file._parse_file(sys.argv[1], 'generic', ingest_file.WRITE_BATCH, q, True)\n"
        "print(q.n, time.perf_counter() - t, time.process_time() - c)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True).stdout.split()
    rows, wall, cpu = int(out[0]), float(out[1]), float(out[2])
    return {"rows": rows, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "rows_per_s": round(rows / wall), "rows_per_cpu_s": round(rows / cpu)}


def show(label: str, r: dict[str, Any], startup: float) -> None:
    r["net_tickets_per_s"] = round(r["rows"] / max(r["wall_s"] - startup, 0.1))
    print(
        f"  {label:34s} {r['rows']:>9,d} rows  {r['wall_s']:8.1f} s  {r['tickets_per_s']:>7,d} tickets/s ({r['net_tickets_per_s']:,d} net)  "
        f"peak {r['peak_mb']} MB  load {r['load_avg'][0]}-{r['load_avg'][1]}\n"
        f"  {'':34s} {r['output']}\n  {'':34s} peak MB by tenth: {r['peak_mb_by_tenth']}\n"
        f"  {'':34s} CPU s: import (CLI + parser) {r['cpu_s']['import']}, database server {r['cpu_s']['server']}"
    )


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (the server) when stopped
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000, help="tickets in the main file")
    parser.add_argument("--days", type=int, default=DAYS, help="days the generated main file spans (default 365; 37 = the density of 10M a year)")
    parser.add_argument("--file", help="use this CSV as the main file instead of generating one")
    parser.add_argument("--compare", metavar="PYTHON", help="also import the main file with this interpreter's supportbot (e.g. /work/main/.venv/bin/python)")
    parser.add_argument("--baseline-count", type=int, default=100_000, help="tickets in the file both write paths import")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--again", action="store_true", help="then import the main file once more (nothing changes)")
    args = parser.parse_args()

    main_file = ticket_file(args.count, args.file, args.days)
    small = None if args.no_baseline else ticket_file(args.baseline_count, None)
    print(f"load average at start: {os.getloadavg()}")
    results: dict[str, Any] = {"args": vars(args)}
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp), postgres=True) as first_url:
        from sqlalchemy import create_engine, text

        admin = create_engine(first_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")

        def fresh(name: str) -> str:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = first_url.rsplit("/", 1)[0] + f"/{name}"
            upgrade(url)  # migrated before the clock starts
            return url

        print("PostgreSQL, `supportbot import tickets` in a subprocess:")
        empty = Path(tmp) / "empty.csv"
        empty.write_text("ticket_id,created_at\n", encoding="utf-8")
        startup = results["startup"] = run_import(fresh("empty"), empty, "copy")
        print(f"  start-up (a header-only file): {startup['wall_s']} s, load {startup['load_avg']}; net rates below leave it out")
        if small is not None:
            for write_path in ("rows", "copy"):
                r = results[f"baseline_{write_path}"] = run_import(fresh(f"small_{write_path}"), small, write_path)
                show(f"{small.name}, {write_path} (previous)" if write_path == "rows" else f"{small.name}, {write_path}", r, startup["wall_s"])
            ratio = results["baseline_copy"]["tickets_per_s"] / results["baseline_rows"]["tickets_per_s"]
            net = results["baseline_copy"]["net_tickets_per_s"] / results["baseline_rows"]["net_tickets_per_s"]
            results["speedup_same_file"], results["speedup_same_file_net"] = round(ratio, 2), round(net, 2)
            print(f"  copy / rows on the same file: {ratio:.2f}x tickets/s ({net:.2f}x net of start-up)")
        url = fresh("main")
        r = results["main"] = run_import(url, main_file, "copy")
        show(f"{main_file.name}, copy", r, startup["wall_s"])
        if args.compare:
            r = results["compare"] = run_import(fresh("compare"), main_file, "copy", args.compare)
            show(f"{main_file.name}, {args.compare}", r, startup["wall_s"])
            ratio = results["main"]["tickets_per_s"] / r["tickets_per_s"]
            net = results["main"]["net_tickets_per_s"] / r["net_tickets_per_s"]
            results["speedup_vs_compare"], results["speedup_vs_compare_net"] = round(ratio, 2), round(net, 2)
            print(f"  this checkout / {args.compare} on the same file: {ratio:.2f}x tickets/s ({net:.2f}x net of start-up)")
        if args.again:
            r = results["again"] = run_import(url, main_file, "copy")
            show(f"{main_file.name}, copy, again", r, startup["wall_s"])
        admin.dispose()
    p = results["parse_only"] = parse_only(main_file)
    print(f"  parser alone: {p['rows']:,d} rows in {p['wall_s']} s ({p['rows_per_s']:,d}/s wall, {p['rows_per_cpu_s']:,d}/s of CPU)")
    rate = results["main"]["net_tickets_per_s"]
    print(f"  10,000,000 tickets at {rate:,d}/s (net): {10_000_000 / rate / 60:.1f} min (target: under 15 min)")
    print(f"load average at end: {os.getloadavg()}")
    print(f"  written to {write_results('import', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
