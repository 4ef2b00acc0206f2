"""Alerts before it is too late, read from the KPI ticket store (whatever fills it: a CSV
import, POST /api/tickets or a helpdesk sync).

- SLA risk: an open ticket with no first reply that has used `sla_alert_share` percent
  (default 80) of its first-response target (the ticket's own target, else the team's
  `sla_minutes`) is named once in the team's escalation channel. Each scan groups what it
  found into one message; when a named ticket is answered, closed or runs past its target,
  that message is updated in place.
- Spikes: tickets created in the last hour ("new"), and those of them still without a
  first reply ("unanswered"), against the same hour on each of the previous four weeks.
  "Far above" means more than mean + 3 standard deviations of those four counts AND at
  least `spike_min_extra` (default 5) tickets above the mean. One DM per leader per spike;
  the spike ends once its count has stayed at or under the line for an hour.

Both are on by default and set per team (`supportbot team update NAME --alerts
sla,spikes|none`, `--sla-alert-share N`, `--spike-min-extra N`). The scan runs every minute; one replica claims each minute, and even
scans that overlap (a sync's scan, a slow one) send each alert once: the rows decide (see
storage.alerts).
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from supportbot.bot import kpis, teams
from supportbot.bot.clock import Clock
from supportbot.bot.errors import InvalidInput
from supportbot.bot.outbox import enqueue
from supportbot.storage import alerts as store
from supportbot.storage import teams as team_store
from supportbot.storage.claims import try_claim
from supportbot.storage.models import Team

log = logging.getLogger(__name__)

KIND_SLA_POST = "alerts.sla.post"  # the grouped channel message; stores its ts
KIND_SLA_UPDATE = "alerts.sla.update"  # chat.update of that message to the current state
KIND_SPIKE_DM = "alerts.spike.dm"  # one leader's DM about one spike

SLA, SPIKES = "sla", "spikes"
ALERT_KINDS = (SLA, SPIKES)
DEFAULT_SHARE = 80
SCAN_SECONDS = 60
LOOKBACK = timedelta(days=7)  # unanswered tickets older than this are backlog, not risk
MAX_WAITING = 2000  # candidates read per scan (newest first)
PER_POST = 40  # tickets per channel message (one block each; Slack allows 50)

NEW, UNANSWERED = "new", "unanswered"
SPIKE_METRICS = (NEW, UNANSWERED)
SPIKE_WEEKS = 4
SPIKE_SIGMAS = 3
DEFAULT_SPIKE_MIN_EXTRA = 5
WINDOW = timedelta(hours=1)
SPIKE_QUIET = timedelta(hours=1)


# ----- settings -----------------------------------------------------------------------
def parse_alert_kinds(text: str) -> list[str]:
    """`sla,spikes`, `sla`, `spikes` or `none` -> the alert kinds to turn on."""
    words = [w.strip().lower() for w in (text or "").split(",") if w.strip()]
    if words == ["none"]:
        return []
    if not words or any(w not in ALERT_KINDS for w in words):
        raise InvalidInput("alerts.bad_kinds", value=text)
    return [k for k in ALERT_KINDS if k in words]


def check_share(value: int) -> int:
    if not 1 <= value <= 100:
        raise InvalidInput("alerts.bad_share", value=value)
    return value


MAX_SPIKE_MIN_EXTRA = 10_000


def check_spike_min_extra(value: int) -> int:
    """`--spike-min-extra N`: tickets above the usual a spike needs besides mean + 3 sd."""
    if not 1 <= value <= MAX_SPIKE_MIN_EXTRA:
        raise InvalidInput("alerts.bad_spike_min_extra", value=value)
    return value


def enabled(team: Team) -> set[str]:
    return set(teams.setting(team, "alerts", list(ALERT_KINDS)))


def share(team: Team) -> int:
    return int(teams.setting(team, "sla_alert_share", DEFAULT_SHARE))


def spike_min_extra(team: Team) -> int:
    return int(teams.setting(team, "spike_min_extra", DEFAULT_SPIKE_MIN_EXTRA))


# ----- SLA risk -----------------------------------------------------------------------
def flag_at_risk(session: Session, team: Team, *, clock: Clock) -> list[int]:
    """Name the team's newly at-risk tickets in grouped posts; returns the post ids.

    A ticket is at risk from `share`% of its target until the target itself; past the
    target it is a breach the KPIs report, not something to warn about any more.
    """
    assert team.id is not None
    now = clock.now()
    fraction = share(team) / 100
    default_target = kpis.sla_minutes(team)
    scope = kpis.scope_for(session, team)
    due = []
    for ticket in store.waiting_tickets(
        session=session, scope=scope, since=now - LOOKBACK, until=now, limit=MAX_WAITING
    ):
        target = ticket.sla_target_minutes or default_target
        age = now - ticket.created_at
        if timedelta(minutes=target) * fraction <= age < timedelta(minutes=target):
            due.append((ticket, target))
    seen = store.already_flagged(
        session=session, team_id=team.id, row_ids=[ticket.row_id for ticket, _ in due]
    )
    # oldest first (the query reads newest first); those named before are left out
    due = [(ticket, target) for ticket, target in reversed(due) if ticket.row_id not in seen]
    posts = []
    for start in range(0, len(due), PER_POST):
        post = store.add_post(
            session=session,
            workspace_id=team.workspace_id,
            team_id=team.id,
            channel_id=team.escalation_channel,
            now=now,
        )
        assert post.id is not None
        flagged = 0
        for ticket, target in due[start : start + PER_POST]:
            row = store.SlaAlertTicket(
                workspace_id=team.workspace_id,
                team_id=team.id,
                post_id=post.id,
                ticket_row_id=ticket.row_id,
                ticket_ref=ticket.ticket_id,
                ticket_created_at=ticket.created_at,
                target_minutes=target,
                agent_id=ticket.agent_id,
                agent_email=ticket.agent_email,
                flagged_at=now,
            )
            flagged += store.flag_ticket(session=session, row=row)
        if not flagged:  # a scan running at the same moment named all of them first
            store.delete_post(session=session, post=post)
            continue
        enqueue(
            session,
            workspace_id=team.workspace_id,
            kind=KIND_SLA_POST,
            data={"post_id": post.id},
            clock=clock,
            dedupe_key=sla_post_key(post.id),
        )
        posts.append(post.id)
    return posts


def sla_post_key(post_id: int) -> str:
    return f"alerts:sla:{post_id}:post"


def outcome_of(
    flagged: store.SlaAlertTicket, ticket: Any, now: datetime
) -> tuple[str, int | None] | None:
    """(outcome, first-reply seconds) once a flagged ticket's fate is known, else None."""
    if ticket is None:
        return store.REMOVED, None
    target = flagged.target_minutes * 60
    reply = ticket.frt_seconds
    if reply is None and ticket.first_response_at is not None:
        reply = int((ticket.first_response_at - ticket.created_at).total_seconds())
    if reply is not None:
        return (store.ANSWERED if reply <= target else store.BREACHED), reply
    deadline = flagged.ticket_created_at + timedelta(seconds=target)
    if ticket.solved_at is not None or (ticket.status or "").lower() in store.CLOSED_STATUSES:
        closed_at = ticket.solved_at or now
        return (store.SOLVED if closed_at < deadline else store.BREACHED), None
    if now >= deadline:
        return store.BREACHED, None
    return None


def record_outcomes(session: Session, team: Team, *, clock: Clock) -> int:
    """Answered, closed or breached flagged tickets: record it and update their message."""
    assert team.id is not None
    now = clock.now()
    changed = 0
    for flagged, ticket in store.still_at_risk(session=session, team_id=team.id):
        found = outcome_of(flagged, ticket, now)
        if found is None:
            continue
        outcome, reply = found
        assert flagged.id is not None
        if not store.set_outcome(
            session=session, flagged_id=flagged.id, outcome=outcome, at=now, reply_seconds=reply
        ):
            continue  # another replica recorded it
        changed += 1
        enqueue(
            session,
            workspace_id=team.workspace_id,
            kind=KIND_SLA_UPDATE,
            data={"post_id": flagged.post_id},
            clock=clock,
            dedupe_key=f"alerts:sla:{flagged.post_id}:{flagged.id}:{outcome}",
        )
    return changed


# ----- spikes -------------------------------------------------------------------------
@dataclass(frozen=True)
class SpikeCheck:
    metric: str
    value: int
    baseline: list[int]  # the same hour 1, 2, 3 and 4 weeks ago
    mean: float
    stdev: float
    line: float  # mean + SPIKE_SIGMAS * stdev
    min_extra: int

    @property
    def far_above(self) -> bool:
        return self.value > self.line and self.value >= self.mean + self.min_extra


def measure(session: Session, team: Team, *, now: datetime) -> dict[str, SpikeCheck]:
    """Both metrics for the hour before `now` and the same hour on the previous weeks."""
    ends = [now - timedelta(weeks=w) for w in range(SPIKE_WEEKS + 1)]
    counts = store.hour_counts(session=session, scope=kpis.scope_for(session, team), ends=ends, window=WINDOW)
    out = {}
    for index, metric in enumerate(SPIKE_METRICS):
        value, *baseline = [pair[index] for pair in counts]
        mean = statistics.fmean(baseline)
        stdev = statistics.pstdev(baseline)
        out[metric] = SpikeCheck(
            metric=metric,
            value=value,
            baseline=baseline,
            mean=mean,
            stdev=stdev,
            line=mean + SPIKE_SIGMAS * stdev,
            min_extra=spike_min_extra(team),
        )
    return out


def check_spikes(session: Session, team: Team, *, clock: Clock) -> list[int]:
    """Open a spike (and DM the leaders) for each metric far above its usual; returns the
    ids of spikes opened. Needs four weeks of tickets to compare with."""
    assert team.id is not None
    now = clock.now()
    if not store.has_tickets_before(  # the store reaches back four weeks
        session=session, scope=kpis.scope_for(session, team), before=now - timedelta(weeks=SPIKE_WEEKS)
    ):
        return []
    opened = []
    ongoing = store.open_spike_metrics(session=session, team_id=team.id)
    for metric, check in measure(session, team, now=now).items():
        if not check.far_above:
            if metric in ongoing:  # a quiet scan writes nothing
                store.end_spikes(
                    session=session, team_id=team.id, metric=metric,
                    quiet_since=now - SPIKE_QUIET, now=now,
                )
            continue
        if metric in ongoing and store.touch_spike(
            session=session, team_id=team.id, metric=metric, now=now, value=check.value
        ):
            continue  # the spike already alerted on
        row = store.SpikeAlert(
            workspace_id=team.workspace_id,
            team_id=team.id,
            metric=metric,
            started_at=now,
            last_above_at=now,
            value=check.value,
            baseline=check.baseline,
            mean=check.mean,
            stdev=check.stdev,
            line=check.line,
            min_extra=check.min_extra,
        )
        if not store.open_spike(session=session, row=row):
            continue
        assert row.id is not None
        for uid in team_store.leaders_of(session=session, team_id=team.id):
            enqueue(
                session,
                workspace_id=team.workspace_id,
                kind=KIND_SPIKE_DM,
                data={"spike_id": row.id, "user": uid},
                clock=clock,
                dedupe_key=f"alerts:spike:{row.id}:{uid}",
            )
        opened.append(row.id)
    return opened


# ----- the scan -----------------------------------------------------------------------
def scan_team(session: Session, team: Team, *, clock: Clock) -> int:
    """One team's scan; returns how many messages it queued."""
    on = enabled(team)
    queued = 0
    if SLA in on:
        queued += len(flag_at_risk(session, team, clock=clock))
    # Outcomes are followed even with SLA alerts turned off since: the posts exist.
    queued += record_outcomes(session, team, clock=clock)
    if SPIKES in on:
        queued += len(check_spikes(session, team, clock=clock))
    return queued


def scan(rt: Any) -> int:
    """The every-minute job. Each replica runs it; the first to claim the minute scans,
    the others skip it (what gets sent is decided by the rows either way)."""
    now = rt.clock.now()
    with rt.transaction() as session:
        key = f"{store.SCAN_CLAIM_PREFIX}{now:%Y-%m-%dT%H:%M}"
        if not try_claim(session=session, key=key, now=now, owner=rt.instance_id):
            return 0
        if now.minute == 0:
            store.forget_scan_claims(session=session, before=now - timedelta(days=1))
    return scan_now(rt)


def scan_now(rt: Any) -> int:
    """Scan every team now, each on its own; a helpdesk sync calls this when it is done."""
    with rt.transaction(readonly=True) as session:
        team_ids = [t.id for t in team_store.list_teams(session=session) if t.id is not None]
    queued = 0
    for team_id in team_ids:
        try:
            with rt.transaction() as session:
                team = team_store.get_team(session=session, team_id=team_id)
                if team is not None:
                    queued += scan_team(session, team, clock=rt.clock)
        except Exception:  # one team's failure must not stop the others
            log.exception("alert scan failed for team %s", team_id)
    if queued:
        rt.outbox.kick()
    return queued


def install_jobs(scheduler: Any, rt: Any) -> None:
    scheduler.every("alerts.scan", "SLA-risk and spike alerts", SCAN_SECONDS, scan, rt)

