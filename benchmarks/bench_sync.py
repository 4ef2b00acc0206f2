"""Helpdesk sync benchmark: backfill of N tickets from a helpdesk stand-in into a fresh
SQLite file (wall time, peak memory of the sync process), then an incremental sync after
1,000 tickets change.

    python -m benchmarks.bench_sync [--tickets 200000] [--changed 1000] [--helpdesk zendesk|freshdesk]

The stand-in runs in its own process (seeded over 90 days, no rate limit), so its memory
is not counted. The sync runs in a child process through `Syncer.run`, the code path of
`supportbot sync`. The backfill is measured without the client's pacing to Zendesk's 10
export requests a minute (which alone makes 200 pages of 1,000 take 20 minutes); the
incremental run uses the client as shipped. Baseline in the same run: the same pages
fetched and decoded by the same client, nothing mapped or stored.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from benchmarks.harness import write_results

WORKSPACE = "T0BENCH01"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch_only(helpdesk: str, url: str) -> None:
    """The baseline, in the measured process: every page fetched and decoded, nothing
    mapped or stored (what the HTTP/JSON side alone costs)."""
    import resource
    from datetime import UTC, datetime, timedelta

    from supportbot.bot.helpdesk import freshdesk as fd
    from supportbot.bot.helpdesk import zendesk as zd

    began = time.perf_counter()
    count = pages = 0
    since = datetime.now(UTC) - timedelta(days=91)
    if helpdesk == "zendesk":
        client = zd.ZendeskClient(url, "sync@example.com", "zd-test-token", per_minute=None)
        page = client.export(start_time=int(since.timestamp()))
        while True:
            count += len(page.tickets)
            pages += 1
            if page.end_of_stream:
                break
            page = client.export(cursor=page.after_cursor)
        http = client.transport.http_seconds
    else:
        fclient = fd.FreshdeskClient(url, "fd-test-key")
        number, more = 1, True
        while more:
            items, more = fclient.tickets(updated_since=since, page=number)
            count += len(items)
            pages += 1
            if more and items:
                newest = max(datetime.fromisoformat(t["updated_at"].replace("Z", "+00:00")) for t in items)
                since, number = (newest, 1) if newest > since else (since, number + 1)
        http = fclient.transport.http_seconds
    print(json.dumps({
        "seconds": time.perf_counter() - began, "http_seconds": http, "tickets": count, "pages": pages,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def child(helpdesk: str, url: str, database_url: str, paced: bool) -> None:
    """Runs in the measured process: one sync, its report as JSON on stdout."""
    from supportbot.bot.clock import SystemClock
    from supportbot.bot.config import load_settings
    from supportbot.bot.helpdesk import freshdesk as fd
    from supportbot.bot.helpdesk import sync
    from supportbot.bot.helpdesk import zendesk as zd
    from supportbot.storage.db import make_engine, transaction

    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "ZENDESK_URL": url, "ZENDESK_EMAIL": "sync@example.com", "ZENDESK_API_TOKEN": "zd-test-token",
            "FRESHDESK_URL": url, "FRESHDESK_API_KEY": "fd-test-key",
        },
        env_file=None, require_slack=False,
    )

    transports: list[Any] = []

    class Unpaced(sync.Syncer):
        def zendesk(self) -> zd.ZendeskClient:
            client = zd.ZendeskClient(url, "sync@example.com", "zd-test-token", per_minute=None)
            transports.append(client.transport)
            return client

        def freshdesk(self) -> fd.FreshdeskClient:
            client = fd.FreshdeskClient(url, "fd-test-key")
            transports.append(client.transport)
            return client

    engine = make_engine(database_url)
    cls = sync.Syncer if paced else Unpaced
    syncer = cls(settings, lambda: transaction(engine), clock=SystemClock(), owner="bench")
    from datetime import UTC, datetime, timedelta

    since = datetime.now(UTC) - timedelta(days=91)
    began = time.perf_counter()
    report = syncer.run(helpdesk, WORKSPACE, since=None if paced else since)
    elapsed = time.perf_counter() - began
    import resource

    print(json.dumps({
        "seconds": elapsed, "tickets": report.tickets, "pages": report.pages, "inserted": report.inserted,
        "updated": report.updated, "error": report.error,
        "http_seconds": sum(t.http_seconds for t in transports) if transports else None,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def measure(helpdesk: str, url: str, database_url: str, mode: str) -> dict[str, Any]:
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_sync", "--child", helpdesk, url, database_url, mode],
        capture_output=True, text=True, check=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - began
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        if sys.argv[5] == "fetch":
            fetch_only(sys.argv[2], sys.argv[3])
        else:
            child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "paced")
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--changed", type=int, default=1000)
    parser.add_argument("--helpdesk", choices=("zendesk", "freshdesk"), default="zendesk")
    args = parser.parse_args()

    from supportbot.storage.db import upgrade

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", f"supportbot.bot.standin.{args.helpdesk}", str(port), str(args.tickets), "90"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        print(f"stand-in seeded with {args.tickets} tickets in {time.perf_counter() - began:.1f} s", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            database_url = f"sqlite:///{Path(tmp) / 'sync.db'}"
            upgrade(database_url)
            baseline = measure(args.helpdesk, url, database_url, "fetch")
            print(f"baseline, fetch and decode only: {baseline}", flush=True)
            backfill = measure(args.helpdesk, url, database_url, "unpaced")
            print(f"backfill: {backfill}", flush=True)
            ids = list(range(1, args.tickets + 1, max(1, args.tickets // args.changed)))[: args.changed]
            hook = "/_standin/solve" if args.helpdesk == "zendesk" else "/_standin/resolve"
            requests.post(url + hook, json={"ids": ids}, timeout=600).raise_for_status()
            if args.helpdesk == "zendesk":
                time.sleep(61)  # the export leaves out the last minute
            incremental = measure(args.helpdesk, url, database_url, "paced")
            print(f"incremental ({len(ids)} changed): {incremental}", flush=True)
            size_mb = os.path.getsize(Path(tmp) / "sync.db") / 1e6
    finally:
        server.terminate()
        server.wait()
    write_results(f"sync_{args.helpdesk}", {
        "tickets": args.tickets, "baseline_fetch_only": baseline, "backfill": backfill, "incremental": incremental, "database_mb": size_mb,
    })


if __name__ == "__main__":
    main()
