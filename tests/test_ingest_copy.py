"""The file import's write path (on PostgreSQL: COPY into a staging table and one set-based
upsert; on SQLite: the row path), through the two-process `import_file` with batches small
enough to cross several transactions: re-importing changes nothing, an updated ticket moves
its share of the per-day rollups exactly where a fresh import of the final file puts them,
bad rows are rejected with their line and reason, and text with tabs, newlines,
backslashes and quotes comes back exactly."""

from __future__ import annotations

import csv
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import UniqueConstraint, text

from supportbot.bot import ingest, ingest_file
from supportbot.bot.cli import main
from supportbot.storage import kpis as store
from supportbot.storage.db import make_engine, transaction
from supportbot.storage.kpis.tables import ROLLUPS as ROLLUP_MODELS
from supportbot.storage.kpis.tables import KpiMonthFrtFine
from supportbot.storage.kpis.ticket_copy import ConcurrentImport

WS = "T0COPY001"
FRESH = "T0COPY002"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# every rollup table, per day and per month, and the fine first-response rows: (its key
# columns, its counts)
ROLLUPS = {
    model.__tablename__: (
        keys := next(c for c in model.__table__.constraints if isinstance(c, UniqueConstraint)).columns.keys(),
        [c.name for c in model.__table__.columns if c.name not in ("id", *keys)],
    )
    for model in (*(m for pair in ROLLUP_MODELS.values() for m in pair), KpiMonthFrtFine)
}


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def ticket(n: int, **changes: str) -> dict[str, str]:
    created = datetime(2026, 11, 1, 8, tzinfo=UTC) + timedelta(hours=7 * n, minutes=n)
    row = dict.fromkeys(ingest.GENERIC_COLUMNS, "")
    row.update(
        ticket_id=f"C-{n}",
        created_at=iso(created),
        first_response_at=iso(created + timedelta(minutes=3 * n + 1)) if n % 5 else "",
        solved_at=iso(created + timedelta(hours=n % 30 + 1)) if n % 3 else "",
        status="solved" if n % 3 else "open",
        agent_slack_id=f"U0AGENT0{n % 4}",
        team="Tier1" if n % 2 else "",
        channel=("email", "chat", "web")[n % 3],
        category=("billing", "login")[n % 2],
        priority="high" if n % 4 == 0 else "normal",
        csat=("5", "2", "good", "")[n % 4] if n % 3 else "",
        nps=str(n % 11) if n % 3 else "",
        handle_time_seconds=str(60 * n) if n % 3 else "",
        agent_replies=str(n % 4) if n % 3 else "",
        sla_target_minutes=("15", "60", "")[n % 3],
    )
    row.update(changes)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = ingest.GENERIC_COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns])
    return path


def import_file(engine: Any, path: Path, workspace: str = WS, **kwargs: Any) -> ingest.ImportReport:
    return ingest_file.import_file(
        lambda: transaction(engine), workspace_id=workspace, path=str(path), fmt="generic",
        now=NOW, batch=7, write_batch=10, **kwargs,
    )


def stored(engine: Any, workspace: str) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT ticket_id, {', '.join(store.TICKET_FIELDS)}, updated_at FROM kpi_ticket WHERE workspace_id = :ws"),  # noqa: S608
            {"ws": workspace},
        )
        return {r[0]: tuple(r[1:]) for r in rows}


def rollups(engine: Any, workspace: str) -> dict[str, set[tuple[Any, ...]]]:
    """Every rollup row that counts something (a row whose counts all went back to 0 is
    the same as no row), in all seven tables."""
    out: dict[str, set[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table, (keys, counts) in ROLLUPS.items():
            columns = [c for c in keys if c != "workspace_id"] + counts
            found = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table} WHERE workspace_id = :ws"), {"ws": workspace})  # noqa: S608
            out[table] = {tuple(r) for r in found if any(r[len(columns) - len(counts) :])}
    assert len(out) == 7
    return out


def version(engine: Any, workspace: str) -> int:
    with transaction(engine) as session:
        return store.data_version(session=session, workspace_id=workspace)


@pytest.fixture
def engine(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_reimport_changes_nothing(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "t.csv", [ticket(n) for n in range(1, 38)])
    first = import_file(engine, path)
    assert (first.inserted, first.updated, first.unchanged, first.rejected) == (37, 0, 0, 0)
    before = (stored(engine, WS), rollups(engine, WS), version(engine, WS))
    again = import_file(engine, path)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 37, 0)
    assert (stored(engine, WS), rollups(engine, WS), version(engine, WS)) == before
    # the rollups are those of the previous write path (storage.kpis.rollups in Python)
    import_file(engine, path, workspace=FRESH, bulk=False)
    assert rollups(engine, FRESH) == before[1]


def test_updated_tickets_move_their_rollups(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    old = [ticket(n) for n in range(1, 41)]
    assert import_file(engine, write_csv(tmp_path / "old.csv", old)).inserted == 40
    new = [dict(row) for row in old]
    new[2] = ticket(3, created_at="2026-11-20T23:30:00Z", first_response_at="2026-11-21T00:10:00Z", solved_at="")  # another day
    new[4] = ticket(5, solved_at="2026-11-25T10:00:00Z", csat="bad", nps="10", handle_time_seconds="90", agent_replies="1")
    new[6] = ticket(7, agent_slack_id="U0OTHER01", team="Tier2", channel="phone", category="refund")
    new[8] = ticket(9, first_response_at="", sla_target_minutes="5")
    new[10] = ticket(11, csat="1", nps="0")
    new[12] = ticket(13, created_at="2026-10-30T00:00:00Z")
    new += [ticket(41), ticket(42, team="Tier1 ")]
    new.append(ticket(7, agent_slack_id="U0OTHER02", channel="chat"))  # a second C-7 in the file: the last one wins
    final = write_csv(tmp_path / "new.csv", new)
    before = version(engine, WS)
    report = import_file(engine, final)
    # C-7 twice: changed in one transaction, changed again in a later one
    assert (report.inserted, report.updated, report.unchanged) == (2, 7, 34)
    # the same final file into an empty workspace, through the previous write path
    fresh = import_file(engine, final, workspace=FRESH, bulk=False)
    assert (fresh.inserted, fresh.updated, fresh.unchanged) == (42, 1, 0)
    mine, theirs = stored(engine, WS), stored(engine, FRESH)
    assert {k: v[:-1] for k, v in mine.items()} == {k: v[:-1] for k, v in theirs.items()}
    assert mine["C-7"][store.TICKET_FIELDS.index("agent_id")] == "U0OTHER02"
    assert rollups(engine, WS) == rollups(engine, FRESH)
    assert version(engine, WS) > before


def test_bad_rows_are_rejected_with_line_and_reason_across_batches(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [ticket(n) for n in range(1, 30)]
    rows[3] = ticket(4, created_at="soon")
    rows[4] = ticket(5, category="multi\nline")  # one row over two lines of the file
    rows[11] = ticket(12, csat="9", agent_slack_id="bob")
    rows[20] = ticket(21, ticket_id="")
    rows[26] = ticket(27, team="x" * 81)
    report = import_file(engine, write_csv(tmp_path / "t.csv", rows))
    assert (report.inserted, report.rejected) == (25, 4)
    assert report.errors == [
        (5, "created_at: not an ISO 8601 time: 'soon'"),
        (14, "agent_slack_id: not a Slack user id (U…): 'bob'; csat: csat must be between 1 and 5, got '9'"),
        (23, "ticket_id: missing"),
        (29, "team: longer than 80 characters"),
    ]
    assert set(stored(engine, WS)) == {f"C-{n}" for n in range(1, 30)} - {"C-4", "C-12", "C-21", "C-27"}


TRICKY = {
    "ticket_id": 'T\t"1"\\N,x',
    "status": "\\N",  # COPY's NULL marker, as text
    "team": 'Tier\t1 "A"\\B',
    "channel": "\\.",  # COPY's end-of-data marker, as text
    "category": 'line one\nline two\r\n\\\\ and \'quotes\' "and" ;,|',
    "priority": "ñ—🙂\u00a0\u200b",
    "agent_email": "o'brien\\\"x@example.com",
}


def test_text_with_tabs_newlines_backslashes_and_quotes_survives(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "t.csv", [ticket(1), ticket(2, **TRICKY), ticket(3)])
    report = import_file(engine, path)
    assert (report.inserted, report.rejected) == (3, 0), report.errors
    got = stored(engine, WS)[TRICKY["ticket_id"]]
    for name, value in TRICKY.items():
        if name != "ticket_id":
            assert got[store.TICKET_FIELDS.index(name)] == value, name
    assert got[store.TICKET_FIELDS.index("team_key")] == TRICKY["team"].lower()
    again = import_file(engine, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_nul_characters_are_rejected_not_stored(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL text cannot hold NUL; the row is refused with its line on every database."""
    path = write_csv(tmp_path / "t.csv", [ticket(1), ticket(2, team="Tier\x001"), ticket(3, ticket_id="C-\x003")])
    report = import_file(engine, path)
    assert report.inserted == 1 and report.rejected == 2
    assert [line for line, _ in report.errors] == [3, 4]
    assert all("NUL character" in reason for _, reason in report.errors)


def test_unreadable_record_stops_with_its_line_and_keeps_what_came_before(engine, tmp_path, monkeypatch, database_url, capsys) -> None:  # type: ignore[no-untyped-def]
    rows = [ticket(n) for n in range(1, 25)]
    rows[20] = ticket(21, category="x" * 200_000)  # over the csv module's field limit
    path = write_csv(tmp_path / "t.csv", rows)
    with pytest.raises(ValueError, match="after line 21: field larger than field limit"):
        import_file(engine, path)
    assert len(stored(engine, WS)) == 20
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    assert main(["import", "tickets", str(path), "--workspace", FRESH, "--quiet"]) == 2
    assert "after line 21: field larger than field limit" in capsys.readouterr().err


def test_agent_emails_are_resolved_by_the_writer(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Rows with an agent email and no Slack id wait for the writer's resolver (it has the
    Slack client); the last occurrence of a ticket still wins, whichever kind it is."""
    known = {"ana@example.com": "U0ANA0001"}
    rows = [ticket(n) for n in range(1, 26)]
    rows[1] = ticket(2, agent_slack_id="", agent_email="Ana@example.com")
    rows[2] = ticket(3, agent_slack_id="", agent_email="nobody@example.com")
    rows.append(ticket(4, agent_slack_id="", agent_email="ana@example.com", channel="phone"))  # C-4 again, now held back
    rows.append(ticket(2, agent_slack_id="U0AGENT07"))  # C-2 again, with its Slack id
    path = write_csv(tmp_path / "t.csv", rows)
    asked: list[str] = []

    def resolve(email: str) -> str | None:
        asked.append(email)
        return known.get(email)

    report = import_file(engine, path, resolve_email=resolve)
    assert (report.inserted, report.rejected) == (25, 0)
    got = stored(engine, WS)
    agent, email, channel = (store.TICKET_FIELDS.index(name) for name in ("agent_id", "agent_email", "channel"))
    assert (got["C-4"][agent], got["C-4"][email], got["C-4"][channel]) == ("U0ANA0001", "ana@example.com", "phone")
    assert (got["C-3"][agent], got["C-3"][email]) == (None, "nobody@example.com")
    assert got["C-2"][agent] == "U0AGENT07"
    assert sorted(set(asked)) == ["ana@example.com", "nobody@example.com"]
    fresh = import_file(engine, path, workspace=FRESH, resolve_email=resolve, bulk=False)
    assert fresh.inserted == 25
    assert {k: v[:-1] for k, v in stored(engine, FRESH).items()} == {k: v[:-1] for k, v in got.items()}
    assert rollups(engine, FRESH) == rollups(engine, WS)


def test_a_ticket_inserted_meanwhile_by_someone_else_stops_the_batch(engine, tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: the batch's new tickets go in with a plain INSERT; one that another
    transaction inserts meanwhile stops the batch (nothing of it stored, rollups intact)
    instead of being overwritten or counted twice."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the COPY path is PostgreSQL's")
    path = write_csv(tmp_path / "t.csv", [ticket(n) for n in range(1, 8)])
    other = make_engine(database_url)
    try:
        with transaction(other) as session:
            store.upsert_tickets(session=session, workspace_id=WS, rows=[ingest.normalize(ticket(5, channel="phone"))], now=NOW)
            # ...still uncommitted while the import's INSERT reaches C-5 and waits for it
            outcome: list[BaseException | ingest.ImportReport] = []

            def run() -> None:
                try:
                    outcome.append(import_file(engine, path))
                except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                    outcome.append(exc)

            worker = threading.Thread(target=run)
            worker.start()
            deadline = time.monotonic() + 20
            while not waiting_on_a_lock(other) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert waiting_on_a_lock(other)
        worker.join(timeout=30)
    finally:
        other.dispose()
    assert len(outcome) == 1 and isinstance(outcome[0], ConcurrentImport), outcome
    got = stored(engine, WS)
    assert list(got) == ["C-5"] and got["C-5"][store.TICKET_FIELDS.index("channel")] == "phone"
    channels = {(r[1], r[4]): r[5] for r in rollups(engine, WS)["kpi_day_count"] if r[1] == "channel"}
    assert channels == {("channel", "phone"): 1}


def waiting_on_a_lock(engine: Any) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).scalar())
