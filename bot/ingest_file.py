"""A ticket file (`supportbot import tickets FILE`): read and validated in a second process
while this one writes, in batches of bounded size (flat memory at any file size).

On PostgreSQL the parser also turns each batch into COPY text (`ticket_copy.copy_line`),
one line per ticket id (the last occurrence in the batch wins), so the writer does no work
per ticket: it COPYs the bytes and runs one statement (storage/kpis/ticket_copy.py).
Elsewhere (SQLite, or `bulk=False`) it hands over validated rows for `upsert_tickets`.
"""

from __future__ import annotations

import csv
import queue as queue_module
from collections.abc import Callable
from datetime import datetime
from typing import Any

from supportbot.bot.ingest import BATCH, ImportReport, RowError, normalize, read_rows
from supportbot.storage import kpis as store
from supportbot.storage.kpis.ticket_copy import copy_line, upsert_copy_text

QUEUE_DEPTH = 2  # batches in flight between the parser and the writer: bounded memory
# Tickets per transaction of a file import. A transaction's tickets add to the rollup rows
# in one statement; a bigger one shares those rows between more tickets (the days it spans
# stay few; the month's fine first-response rows are thousands a batch whatever its size):
# 50,000 took 19% less server CPU a ticket than 20,000 (1,000,000 tickets over 37 days),
# at about 0.25 KB of memory per ticket as COPY text (1.5 KB as a row, the rows path).
WRITE_BATCH = 50_000
ROWS_WRITE_BATCH = 20_000  # the rows path (SQLite) keeps 1.5 KB a row: at most this many


def _parse_file(path: str, fmt: str, batch: int, queue: Any, copy: bool = False, resolving: bool = False) -> None:
    """Child process: read and validate, hand over batches of `batch` rows read: ("rows",
    good rows, rejects) or, with `copy`, ("copy", (COPY text, rows held back, rows read),
    rejects). Rows held back (`resolving`: an agent email without a Slack id) are resolved
    by the writer, which has the Slack client. On a fault, the rows read before it go
    first, then the fault with the line it follows."""
    good: list[dict[str, Any]] = []
    by_id: dict[str, str | dict[str, Any]] = {}  # copy: ticket id -> its COPY line, or its row
    bad: list[tuple[int, str]] = []
    read = 0
    line = 1

    def hand_over() -> None:
        nonlocal good, by_id, bad, read
        if copy:
            text = "".join(v for v in by_id.values() if type(v) is str).encode()
            held = [v for v in by_id.values() if type(v) is not str]
            queue.put(("copy", (text, held, read), bad))
        else:
            queue.put(("rows", good, bad))
        good, by_id, bad, read = [], {}, [], 0

    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            for line, raw in read_rows(stream, fmt):
                read += 1
                try:
                    row = normalize(raw)
                except RowError as exc:
                    bad.append((line, str(exc)))
                else:
                    if not copy:
                        good.append(row)
                    elif resolving and row["agent_id"] is None and row["agent_email"]:
                        by_id[row["ticket_id"]] = row
                    else:
                        by_id[row["ticket_id"]] = copy_line(row)
                if read >= batch:
                    hand_over()
            hand_over()
        queue.put(("done", None, None))
    except (ValueError, UnicodeDecodeError, OSError, csv.Error) as exc:
        hand_over()
        reason = str(exc) if isinstance(exc, ValueError) and line == 1 else f"after line {line}: {exc}"
        queue.put(("error", reason, None))


def import_file(
    session_factory: Callable[[], Any],
    *,
    workspace_id: str,
    path: str,
    fmt: str,
    now: datetime,
    resolve_email: Callable[[str], str | None] | None = None,
    batch: int = BATCH,
    write_batch: int = WRITE_BATCH,
    progress: Callable[[int], None] | None = None,
    bulk: bool = True,
) -> ImportReport:
    """Like `ingest.import_csv`, with reading and validation in a second process so the
    writer only writes (the two overlap on a machine with two cores). `session_factory()`
    returns a context manager yielding a Session that commits on exit. Each transaction
    stores `write_batch` rows; on PostgreSQL the parser hands them over as COPY text, else
    `batch` rows at a time. Raises ValueError for a file that cannot be read at all (wrong
    header, not UTF-8), after storing the rows read before the fault. `bulk=False`
    selects the previous PostgreSQL write path (row by row), for benchmarks to compare."""
    import multiprocessing

    with session_factory() as session:
        dialect = session.get_bind().dialect
    copy = bulk and dialect.name == "postgresql" and dialect.driver == "psycopg"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue(maxsize=QUEUE_DEPTH)
    parser = context.Process(
        target=_parse_file,
        args=(path, fmt, write_batch if copy else batch, queue, copy, resolve_email is not None),
        daemon=True,
    )
    parser.start()
    report = ImportReport()
    pending: list[dict[str, Any]] = []

    def write() -> None:
        if pending:
            with session_factory() as session:
                report.add(
                    store.upsert_tickets(session=session, workspace_id=workspace_id, rows=pending, now=now, bulk=bulk)
                )
            pending.clear()

    def resolve(rows: list[dict[str, Any]]) -> None:
        if resolve_email is not None:
            for row in rows:
                if row["agent_id"] is None and row["agent_email"]:
                    row["agent_id"] = resolve_email(row["agent_email"])

    def write_copy(text: bytes, held: list[dict[str, Any]]) -> None:
        resolve(held)
        lines = (text, "".join(map(copy_line, held)).encode())
        with session_factory() as session:
            inserted, updated, unchanged = upsert_copy_text(
                session=session, workspace_id=workspace_id, source="import", now=now, lines=lines
            )
        report.add(store.UpsertResult(inserted=inserted, updated=updated, unchanged=unchanged))

    def receive() -> tuple[str, Any, Any]:
        while True:
            try:
                return queue.get(timeout=2)  # type: ignore[no-any-return]
            except queue_module.Empty:
                if parser.is_alive():
                    continue
                try:  # it may have finished writing just now
                    return queue.get(timeout=2)  # type: ignore[no-any-return]
                except queue_module.Empty:
                    raise ValueError(f"the parser process stopped (exit code {parser.exitcode}) before the end of the file") from None

    try:
        while True:
            kind, good, bad = receive()
            if kind == "error":
                write()
                raise ValueError(good)
            if kind == "done":
                break
            for line, reason in bad:
                report.reject(line, reason)
            if kind == "copy":
                text, held, read = good
                if text or held:
                    write_copy(text, held)
            else:
                read = len(good) + len(bad)
                resolve(good)
                pending.extend(good)
                if len(pending) >= min(write_batch, ROWS_WRITE_BATCH):
                    write()
            if progress is not None:
                progress(read)
        write()
    finally:
        parser.join(timeout=5)
        if parser.is_alive():
            parser.terminate()
    return report
