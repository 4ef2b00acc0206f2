"""Helpdesk tickets into the KPI store, page by page, resumable.

Each page of tickets is mapped onto the generic import fields and goes through the same
validation (`bot.ingest.normalize`) and the same upsert (`storage.kpis.upsert_tickets`) as
a CSV import, keyed by (source, ticket id); the cursor moves in the same transaction, so a
crash resumes from the last committed page and re-reading a page changes nothing. Deleted
tickets leave the figures. A 401/403 stops that helpdesk's sync until its credentials
change (or someone runs `supportbot sync` by hand), with one line in the log and in
`/supportbot status`.

Team mapping: a ticket's helpdesk group is matched, case-insensitively, against each
team's `helpdesk_groups` setting (default: the team's own name); the ticket's team column
becomes that team's name. Unmatched groups keep their own name. The assignee's email is
resolved to a Slack user (cached); tickets of unknown agents still count for the team.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot import alerts
from supportbot.bot.clock import Clock
from supportbot.bot.config import Settings
from supportbot.bot.helpdesk import freshdesk as fd
from supportbot.bot.helpdesk import zendesk as zd
from supportbot.bot.helpdesk.http import AuthFailed, HelpdeskError
from supportbot.bot.helpdesk.mapping import (
    freshdesk_fields,
    freshdesk_good,
    group_map,
    keep_ratings,
    zendesk_fields,
)
from supportbot.bot.ingest import RowError, normalize, parse_time
from supportbot.storage import helpdesk as state_store
from supportbot.storage import kpis as store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim

log = logging.getLogger(__name__)

SOURCES = ("zendesk", "freshdesk")
LABEL = {"zendesk": "Zendesk", "freshdesk": "Freshdesk"}
DEFAULT_BACKFILL_DAYS = 90
LEASE = timedelta(minutes=15)
SECRETS = {
    "zendesk": "ZENDESK_EMAIL and ZENDESK_API_TOKEN",
    "freshdesk": "FRESHDESK_API_KEY",
}

SessionFactory = Callable[[], AbstractContextManager[Session]]


@dataclass
class SyncReport:
    source: str
    workspace_id: str
    pages: int = 0
    tickets: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    ratings: int = 0
    caught_up: bool = False
    skipped: str | None = None  # why nothing ran (busy, stopped)
    error: str | None = None

    def add(self, result: store.UpsertResult) -> None:
        self.inserted += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged


def _dead_here(owner: str) -> bool:
    """A lease holder (host:pid) on this host whose process no longer runs: killed mid-sync."""
    host, _, pid = owner.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def configured_sources(settings: Settings) -> list[str]:
    return [s for s in SOURCES if (settings.zendesk_url if s == "zendesk" else settings.freshdesk_url)]


def fingerprint(settings: Settings, source: str) -> str:
    """Changes when the credentials change, so a stopped sync tries again; not reversible."""
    if source == "zendesk":
        raw = f"{settings.zendesk_url}|{settings.zendesk_email}|{settings.zendesk_api_token}"
    else:
        raw = f"{settings.freshdesk_url}|{settings.freshdesk_api_key}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


# ----- the sync ------------------------------------------------------------------------
class Syncer:
    """Runs syncs. Keeps the email -> Slack id cache for as long as it lives (one per
    process: the CLI command, or the scheduler job of `supportbot run`)."""

    def __init__(
        self,
        settings: Settings,
        session_factory: SessionFactory,
        *,
        clock: Clock,
        owner: str,
        resolve_email: Callable[[str], str | None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.clock = clock
        self.owner = owner
        self.sleep = sleep
        self.monotonic = monotonic
        self._lookup = resolve_email
        self._emails: dict[str, str | None] = {}

    def resolve_email(self, email: str) -> str | None:
        if self._lookup is None:
            return None
        if email not in self._emails:
            self._emails[email] = self._lookup(email)
        return self._emails[email]

    def zendesk(self) -> zd.ZendeskClient:
        s = self.settings
        return zd.ZendeskClient(
            s.zendesk_url or "", s.zendesk_email or "", s.zendesk_api_token or "",
            sleep=self.sleep, monotonic=self.monotonic,
        )

    def freshdesk(self) -> fd.FreshdeskClient:
        s = self.settings
        return fd.FreshdeskClient(s.freshdesk_url or "", s.freshdesk_api_key or "", sleep=self.sleep, monotonic=self.monotonic)

    # ----- one run --------------------------------------------------------------------
    def run(
        self,
        source: str,
        workspace_id: str,
        *,
        since: datetime | None = None,
        force: bool = False,
        progress: Callable[[int, datetime | None], None] | None = None,
    ) -> SyncReport:
        """Backfill from `since` (first run: 90 days back) or continue from the cursor.
        `since` on a later run starts over from that day (re-reading changes nothing)."""
        report = SyncReport(source, workspace_id)
        now = self.clock.now()
        creds = fingerprint(self.settings, source)
        with self.session_factory() as session:
            state = state_store.ensure_state(session=session, workspace_id=workspace_id, source=source)
            if state.auth_failed and state.credentials == creds and not force:
                report.skipped = "stopped"
                return report
            assert state.id is not None
            holder = state.lease_owner
            dead = holder if holder and _dead_here(holder) else None
            if not state_store.take_lease(
                session=session, state_id=state.id, owner=self.owner, now=now, until=now + LEASE, steal_from=dead
            ):
                report.skipped = "busy"
                return report
            if dead:
                log.warning("%s sync: taking over from %s, which stopped mid-sync", source, dead)
            state_id = state.id
            if since is not None or state.backfill_from is None:
                start = since or now - timedelta(days=DEFAULT_BACKFILL_DAYS)
                state.backfill_from = start
                state.resume_at = state.deleted_resume_at = state.ratings_resume_at = start
                state.cursor, state.page = None, 1
            state.credentials = creds
            state.last_sync_at = now
        try:
            if source == "zendesk":
                self._zendesk(state_id, workspace_id, report, progress)
            else:
                self._freshdesk(state_id, workspace_id, report, progress)
        except AuthFailed as exc:
            label = LABEL[source]
            line = f"{label} rejected the credentials ({exc}): {source} sync stopped; check {SECRETS[source]}"
            log.error(line)
            report.error = line
            self._finish(state_id, error=line, auth_failed=True)
            return report
        except HelpdeskError as exc:
            line = f"{LABEL[source]} sync failed: {exc}"
            log.error(line)
            report.error = line
            self._finish(state_id, error=line)
            return report
        except BaseException:
            self._finish(state_id, error=f"{LABEL[source]} sync crashed; see the log")
            raise
        self._finish(state_id, error=None)
        log.info(
            "%s sync: %d tickets (%d new, %d changed), %d deleted, %d rejected, %d ratings",
            source, report.tickets, report.inserted, report.updated, report.deleted, report.rejected, report.ratings,
        )
        return report

    def _finish(self, state_id: int, *, error: str | None, auth_failed: bool = False) -> None:
        with self.session_factory() as session:
            state = session.get(state_store.HelpdeskSync, state_id)
            assert state is not None
            state.last_error = error[:500] if error else None
            state.auth_failed = auth_failed
            if error is None:
                state.last_success_at = self.clock.now()
            state_store.release_lease(session=session, state_id=state_id, owner=self.owner)

    def _rows(self, fields: Iterator[dict[str, Any]], report: SyncReport) -> list[dict[str, Any]]:
        rows = []
        for raw in fields:
            try:
                row = normalize(raw, resolve_email=self.resolve_email)
                row["tags"] = raw.get("tags")  # helpdesk-only: a CSV import has none
                rows.append(row)
            except RowError as exc:
                report.rejected += 1
                log.warning("%s ticket %s skipped: %s", report.source, raw.get("ticket_id"), exc)
        return rows

    def _commit(
        self,
        state_id: int,
        workspace_id: str,
        source: str,
        rows: list[dict[str, Any]],
        deleted: list[str],
        report: SyncReport,
        **moves: Any,
    ) -> None:
        """One page: its tickets, its deletions and the cursor after it, all or nothing."""
        now = self.clock.now()
        with self.session_factory() as session:
            state = session.get(state_store.HelpdeskSync, state_id)
            assert state is not None
            if not state_store.take_lease(session=session, state_id=state_id, owner=self.owner, now=now, until=now + LEASE):
                raise HelpdeskError("another process took over this sync")
            if rows and source == "freshdesk":
                keep_ratings(session, workspace_id, rows)
            if rows:
                report.add(store.upsert_tickets(session=session, workspace_id=workspace_id, rows=rows, now=now, source=source))
            if deleted:
                report.deleted += store.delete_tickets(session=session, workspace_id=workspace_id, source=source, ticket_ids=deleted)
            for key, value in moves.items():
                setattr(state, key, value)
            state.tickets_seen += len(rows) + len(deleted)
        report.pages += 1
        report.tickets += len(rows) + len(deleted)

    def _state(self, state_id: int) -> state_store.HelpdeskSync:
        with self.session_factory() as session:
            state = session.get(state_store.HelpdeskSync, state_id)
            assert state is not None
            session.expunge(state)
            return state

    # ----- Zendesk ----------------------------------------------------------------------
    def _zendesk(self, state_id: int, workspace_id: str, report: SyncReport, progress: Any) -> None:
        client = self.zendesk()
        category = self.settings.zendesk_category_field
        with self.session_factory() as session:
            groups = group_map(session, workspace_id)
        state = self._state(state_id)
        cursor, resume = state.cursor, state.resume_at
        while True:
            asked_at = self.clock.now()
            try:
                if cursor:
                    page = client.export(cursor=cursor)
                else:
                    latest = int(asked_at.timestamp()) - 61  # the export refuses the last minute
                    start = int((resume or asked_at).timestamp())
                    page = client.export(start_time=min(start, latest))
            except zd.CursorExpired as exc:
                log.warning("Zendesk cursor no longer valid (%s): starting again from %s", exc, resume)
                cursor = None
                continue
            live = [t for t in page.tickets if t.get("status") != "deleted"]
            gone = [str(t["id"]) for t in page.tickets if t.get("status") == "deleted"]
            rows = self._rows((zendesk_fields(t, page, groups, category) for t in live), report)
            newest = max((parse_time(t["updated_at"]) for t in page.tickets if t.get("updated_at")), default=None)
            if newest is not None and (resume is None or newest > resume):
                resume = newest
            moves: dict[str, Any] = {"cursor": page.after_cursor, "resume_at": resume}
            if page.end_of_stream:
                moves["synced_through"] = asked_at - timedelta(seconds=60)
            self._commit(state_id, workspace_id, "zendesk", rows, gone, report, **moves)
            cursor = page.after_cursor
            if progress is not None:
                progress(len(page.tickets), resume)
            if page.end_of_stream or not cursor:
                report.caught_up = True
                return

    # ----- Freshdesk --------------------------------------------------------------------
    def _freshdesk(self, state_id: int, workspace_id: str, report: SyncReport, progress: Any) -> None:
        """Ratings first (into memory: a rating is a few bytes), so tickets are written
        once with their rating; then tickets, deleted tickets, and the ratings of tickets
        that did not change. The ratings cursor moves last: a crash re-reads them."""
        client = self.freshdesk()
        category = self.settings.freshdesk_category_field
        state = self._state(state_id)
        assert state.resume_at is not None and state.deleted_resume_at is not None
        assert state.ratings_resume_at is not None
        started = self.clock.now()
        ratings, ratings_through = self._fetch_ratings(client, state.ratings_resume_at)
        group_names = client.groups()
        agents = client.agents()
        with self.session_factory() as session:
            groups = group_map(session, workspace_id)
        rated: set[str] = set()

        def walk(deleted: bool, since: datetime, page: int) -> None:
            while True:
                items, more = client.tickets(updated_since=since, page=page, deleted=deleted)
                newest = max((parse_time(t["updated_at"]) for t in items), default=since)
                # Continue from the newest update seen; page on only through a second
                # that holds more updates than one page.
                next_since, next_page = (newest, 1) if newest > since else (since, page + 1)
                if not more:
                    next_page = 1
                if deleted:
                    rows: list[dict[str, Any]] = []
                    gone = [str(t["id"]) for t in items]
                    moves = {"deleted_resume_at": next_since}
                else:
                    rows = self._rows(
                        (freshdesk_fields(t, agents, group_names, groups, category) for t in items), report
                    )
                    for row in rows:
                        good = ratings.get(row["ticket_id"])
                        if good is not None:
                            row["csat"], row["csat_good"] = None, good
                            rated.add(row["ticket_id"])
                    gone = []
                    moves = {"resume_at": next_since, "page": next_page}
                self._commit(state_id, workspace_id, "freshdesk", rows, gone, report, **moves)
                if progress is not None:
                    progress(len(items), next_since)
                if not more:
                    return
                since, page = next_since, next_page

        walk(False, state.resume_at, state.page)
        walk(True, state.deleted_resume_at, 1)
        report.ratings += len(rated)
        self._apply_ratings(state_id, workspace_id, {k: v for k, v in ratings.items() if k not in rated}, ratings_through, report)
        with self.session_factory() as session:
            row = session.get(state_store.HelpdeskSync, state_id)
            assert row is not None
            row.synced_through = started
        report.caught_up = True

    def _fetch_ratings(self, client: fd.FreshdeskClient, since: datetime) -> tuple[dict[str, bool], datetime]:
        """ticket id -> satisfied, for ratings created since `since` (the latest wins)."""
        out: dict[str, bool] = {}
        newest = since
        for rating in client.ratings(created_since=since):
            good = freshdesk_good(rating)
            if good is not None and rating.get("ticket_id") is not None:
                out[str(rating["ticket_id"])] = good
            if rating.get("created_at"):
                newest = max(newest, parse_time(rating["created_at"]))
        return out, newest

    def _apply_ratings(
        self, state_id: int, workspace_id: str, ratings: dict[str, bool], through: datetime, report: SyncReport
    ) -> None:
        """Ratings of stored tickets that did not change: their rows are updated (rollups
        too, by the upsert); the ratings cursor moves with the last batch."""
        ids = list(ratings)
        for start in range(0, max(len(ids), 1), 500):
            chunk = ids[start : start + 500]
            with self.session_factory() as session:
                rows = store.ticket_rows(session=session, workspace_id=workspace_id, source="freshdesk", ticket_ids=chunk)
                changed = [  # tickets outside the synced window are left alone
                    {**rows[i], "ticket_id": i, "csat": None, "csat_good": ratings[i]} for i in chunk if i in rows
                ]
                if changed:  # counted as ratings, not as changed tickets
                    store.upsert_tickets(session=session, workspace_id=workspace_id, rows=changed, now=self.clock.now(), source="freshdesk")
                report.ratings += len(changed)
                if start + 500 >= len(ids):
                    state = session.get(state_store.HelpdeskSync, state_id)
                    assert state is not None
                    state.ratings_resume_at = through


# ----- scheduling ------------------------------------------------------------------------
def sync_workspaces(session: Session, source: str) -> list[str]:
    """Where a helpdesk's tickets go: the workspaces it was synced into before, else the
    only workspace with teams (several need one `supportbot sync … --workspace T…`)."""
    known = sorted({s.workspace_id for s in state_store.list_states(session=session, source=source)})
    if known:
        return known
    workspaces = team_store.list_workspaces(session=session)
    return workspaces if len(workspaces) == 1 else []


def interval_seconds(settings: Settings) -> float:
    return float(settings.sync_interval_minutes) * 60


def slot_key(source: str, now: datetime, interval_minutes: float) -> str:
    seconds = float(interval_minutes) * 60
    slot = int(now.astimezone(UTC).timestamp() // seconds) * seconds
    return f"helpdesk.sync:{source}:{datetime.fromtimestamp(slot, UTC).isoformat()}"


def run_scheduled(rt: Any, syncer: Syncer, source: str) -> list[SyncReport]:
    """One firing: the replica that claims this interval's slot syncs the helpdesk."""
    now = rt.clock.now()
    with rt.transaction() as session:
        if not try_claim(session=session, key=slot_key(source, now, rt.settings.sync_interval_minutes), now=now, owner=rt.instance_id):
            return []
        workspaces = sync_workspaces(session, source)
    if not workspaces:
        log.warning("%s sync: several workspaces have teams; run `supportbot sync %s --workspace T…` once to choose", source, source)
        return []
    reports = [syncer.run(source, workspace) for workspace in workspaces]
    if any(r.tickets for r in reports):
        alerts.scan_now(rt)  # fresh tickets: SLA risks and spikes now, not at the next minute
    return reports


def build_syncer(rt: Any, resolve_email: Callable[[str], str | None] | None = None) -> Syncer:
    """The scheduled sync's Syncer; `resolve_email` (email -> Slack id) comes from the
    wiring (bot.app.email_resolver), so agents are found the way imports find them."""
    return Syncer(rt.settings, rt.transaction, clock=rt.clock, owner=rt.instance_id, resolve_email=resolve_email)


def install_jobs(scheduler: Any, rt: Any, *, resolve_email: Callable[[str], str | None] | None = None) -> None:
    """One job per configured helpdesk: the first sync right after start, then every
    SYNC_INTERVAL_MINUTES (each firing claims its interval: one replica syncs)."""
    sources = configured_sources(rt.settings)
    if not sources:
        return
    syncer = build_syncer(rt, resolve_email)
    for source in sources:
        scheduler.every(
            f"helpdesk.sync.{source}", f"Sync {LABEL[source]} tickets",
            interval_seconds(rt.settings), run_scheduled, rt, syncer, source, start_now=True,
        )
