"""`supportbot doctor`: checks a real install and says what to fix, one line per check.

Why nothing arrives is rarely the code: the bot was never invited to a private channel, a
scope is missing from an app made before a manifest change, a member left the company, a
database was never migrated. Each check here turns one such cause into a line that says
what to do. Slack is reached through a `SlackLookup` (the CLI gives a slack_sdk one), so
this module stays free of Slack's libraries; no check ever prints a secret.

Slack facts relied on:
- Granted scopes come back in the `x-oauth-scopes` header of a call the token may make
  (Bolt reads it from auth.test: slack_bolt/middleware/authorization/internals.py; "the only
  way to check the scopes on an existing token", https://github.com/slack-ruby/slack-ruby-client/issues/378).
- conversations.info answers a conversation object with `is_private`, `is_member` and
  `is_archived` (https://docs.slack.dev/reference/objects/conversation-object); it needs
  channels:read for public channels and groups:read for private ones, and a private channel
  the bot is not in is `channel_not_found` to the bot's token.
- chat:write.public lets the bot post in a public channel it is not in, but a file upload
  (files.completeUploadExternal: the digest's chart) there fails with not_in_channel
  (reported in https://github.com/getnao/nao/issues/1372), so the digest channel needs the bot.
- users.info answers `deleted: true` for a deactivated account.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlmodel import Session

from supportbot.bot import kpis, oneonones, standups
from supportbot.bot.config import ConfigError, Settings, load_settings
from supportbot.bot.manifest import BOT_SCOPES
from supportbot.bot.startup import TOKEN_ERRORS, check_secrets, database_problem, redact_url
from supportbot.storage import oneonones as oneonone_store
from supportbot.storage import outbox as outbox_store
from supportbot.storage import standups as standup_store
from supportbot.storage import teams as team_store
from supportbot.storage.db import alembic_config, current_revision, make_engine, ping, transaction
from supportbot.storage.models import Team

STALE_OUTBOX = timedelta(minutes=10)  # a message waiting longer: the bot is not delivering
FAILURE_WINDOW = timedelta(days=7)  # failed messages older than this are history, not a problem


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str

    @property
    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.text}"


def ok(text: str) -> Check:
    return Check(True, text)


def bad(text: str) -> Check:
    return Check(False, text)


class SlackProblem(Exception):
    """Slack refused a call (`error` is Slack's code) or did not answer (`error` is
    "unreachable" and `detail` says why)."""

    def __init__(self, error: str, *, needed: str | None = None, detail: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.needed = needed
        self.detail = detail


@dataclass(frozen=True)
class Identity:
    team_id: str
    team: str
    user_id: str
    user: str
    scopes: frozenset[str] | None  # None: Slack did not say


class SlackLookup(Protocol):
    def auth(self) -> Identity: ...
    def channel(self, channel_id: str) -> dict[str, Any]: ...
    def user(self, user_id: str) -> dict[str, Any]: ...


# ----- settings and database ------------------------------------------------------------
def check_settings(environ: Any = None, env_file: str | Path | None = ".env") -> tuple[Check, Settings | None]:
    """Settings as `supportbot run` reads them; when Slack's are wrong, the rest (the
    database) is still read so its checks can run."""
    try:
        settings = load_settings(environ, env_file=env_file)
        check_secrets(settings)
    except ConfigError as exc:
        try:
            rest = load_settings(environ, env_file=env_file, require_slack=False)
        except ConfigError:
            rest = None
        return bad(f"settings: {exc}"), rest
    mode = "Socket Mode" if settings.socket_mode else f"HTTP on port {settings.port}"
    return ok(f"settings: readable ({mode}, Slack API {settings.slack_api_url})"), settings


def head_revisions(url: str) -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def check_database(url: str) -> Check:
    """Reachable and migrated to this version's head. A SQLite file that does not exist is
    reported, not created."""
    shown = redact_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            return bad(f"database: {shown} does not exist yet: run `supportbot db upgrade` (or `supportbot run`, which creates it)")
    try:
        engine = make_engine(url)
    except Exception as exc:  # a bad URL or a missing driver: say which
        return bad(f"database: {shown} cannot be used ({database_problem(exc, url)}): fix DATABASE_URL")
    try:
        if not ping(engine):
            with engine.connect():  # ping hides the reason; ask again for it
                pass
        revision = current_revision(url)
    except Exception as exc:
        return bad(f"database: cannot reach {shown} ({database_problem(exc, url)}): start it or fix the host, port, name and credentials in DATABASE_URL")
    finally:
        engine.dispose()
    heads = head_revisions(url)
    if revision is None:
        return bad(f"database: {shown} has no tables yet: run `supportbot db upgrade`")
    if revision not in heads:
        known = {s.revision for s in ScriptDirectory.from_config(alembic_config(url)).walk_revisions()}
        if revision in known:
            return bad(f"database: at revision {revision}, this supportbot needs {', '.join(heads)}: run `supportbot db upgrade`")
        return bad(f"database: at revision {revision}, which this supportbot does not know (a newer version migrated it): install that version")
    return ok(f"database: {shown} reachable, migrated ({revision})")


# ----- Slack ------------------------------------------------------------------------------
def slack_failure(what: str, problem: SlackProblem, settings: Settings) -> Check:
    if problem.error == "unreachable":
        return bad(f"{what}: Slack is unreachable at {settings.slack_api_url} ({problem.detail}): check the network, a proxy, or SLACK_API_URL")
    advice = TOKEN_ERRORS.get(problem.error)
    if advice:
        return bad(f"{what} (SLACK_BOT_TOKEN): Slack answered {problem.error}: {advice}")
    return bad(f"{what}: Slack answered {problem.error}{f' ({problem.detail})' if problem.detail else ''}")


def check_token(slack: SlackLookup, settings: Settings) -> tuple[Check, Identity | None]:
    try:
        me = slack.auth()
    except SlackProblem as problem:
        return slack_failure("Slack token", problem, settings), None
    return ok(f"Slack token: works, bot @{me.user} ({me.user_id}) in workspace {me.team} ({me.team_id})"), me


def check_scopes(me: Identity) -> Check:
    if me.scopes is None:
        return bad("scopes: Slack did not say which scopes the app has (no x-oauth-scopes header): compare the app's OAuth & Permissions page with `supportbot manifest`")
    missing = [s for s in BOT_SCOPES if s not in me.scopes]
    if missing:
        return bad(
            f"scopes: the app lacks {', '.join(missing)}, which the manifest asks for: update the app "
            "(App Manifest page: paste `supportbot manifest`, or add them on OAuth & Permissions), "
            "then reinstall it to the workspace"
        )
    return ok(f"scopes: all {len(BOT_SCOPES)} the manifest asks for are granted")


@dataclass
class TeamReport:
    team: Team
    checks: list[Check] = field(default_factory=list)


def _channels_of(session: Session, team: Team) -> dict[str, list[tuple[str, str]]]:
    """{channel id: [(what it is for, the `team update` flag that changes it)]}."""
    found: dict[str, list[tuple[str, str]]] = {}
    found.setdefault(team.escalation_channel, []).append(("escalation channel", "--escalation-channel"))
    if team.digest_channel:
        found.setdefault(team.digest_channel, []).append(("digest channel", "--digest-channel"))
    schedule = standup_store.schedule_of_team(session=session, team_id=team.id or 0)
    if schedule is not None and not schedule.paused:
        channel = standups.channel_of(schedule, team)
        if channel not in found:
            found[channel] = [("stand-up channel", "")]
    return found


def check_channel(
    slack: SlackLookup, team: Team, channel_id: str, uses: list[tuple[str, str]], me: Identity
) -> Check:
    what = " and ".join(use for use, _flag in uses)
    flag = next((f for _use, f in uses if f), "")
    change = (
        f"`supportbot team update {_quoted(team)} {flag} C…`" if flag else "`/standup schedule … #channel`"
    )
    try:
        info = slack.channel(channel_id)
    except SlackProblem as problem:
        if problem.error == "channel_not_found":
            return bad(
                f"{team.name}: {what} {channel_id}: Slack shows the bot no such channel: if it is private, "
                f"/invite @{me.user} there; otherwise set the right one with {change}"
            )
        if problem.error == "missing_scope":
            return bad(f"{team.name}: {what} {channel_id}: cannot be checked, the app lacks {problem.needed or 'channels:read'}: add it (see scopes) and reinstall")
        return bad(f"{team.name}: {what} {channel_id}: Slack answered {problem.error}{f' ({problem.detail})' if problem.detail else ''}")
    name = f"#{info.get('name') or channel_id} ({channel_id})"
    if info.get("is_archived"):
        return bad(f"{team.name}: {what} {name} is archived: unarchive it in Slack or choose another with {change}")
    if info.get("is_member"):
        return ok(f"{team.name}: {what} {name}: the bot is a member")
    if info.get("is_private"):
        return bad(f"{team.name}: {what} {name}: the bot is not a member of this private channel: /invite @{me.user} there")
    if any(use == "digest channel" for use, _flag in uses):
        return bad(f"{team.name}: {what} {name}: the bot is not a member, so the digest's chart cannot be uploaded there: /invite @{me.user} there")
    if me.scopes is not None and "chat:write.public" in me.scopes:
        return ok(f"{team.name}: {what} {name}: public, the bot posts there with chat:write.public")
    return bad(f"{team.name}: {what} {name}: the bot is not a member and lacks chat:write.public: /invite @{me.user} there")


def check_people(slack: SlackLookup, session: Session, team: Team) -> list[Check]:
    assert team.id is not None
    leaders = team_store.leaders_of(session=session, team_id=team.id)
    members = team_store.agents_of(session=session, team_id=team.id)
    problems: list[Check] = []
    for role, people in (("leader", leaders), ("member", members)):
        for user_id in people:
            fix = (
                f"`supportbot team update {_quoted(team)} --leader …` (the full list, without them)"
                if role == "leader"
                else f"`supportbot team update {_quoted(team)} --remove-member {user_id}`"
            )
            try:
                user = slack.user(user_id)
            except SlackProblem as problem:
                if problem.error in ("user_not_found", "users_not_found"):
                    problems.append(bad(f"{team.name}: {role} {user_id} is not a user of this workspace: {fix}"))
                else:
                    problems.append(bad(f"{team.name}: {role} {user_id} cannot be checked: Slack answered {problem.error}"))
                continue
            if user.get("deleted"):
                name = user.get("real_name") or (user.get("profile") or {}).get("real_name") or user.get("name") or ""
                label = f"{user_id} ({name})" if name else user_id
                problems.append(bad(f"{team.name}: {role} {label} is deactivated in Slack: {fix}"))
    if problems:
        return problems
    return [ok(f"{team.name}: {len(leaders)} leader{'s' * (len(leaders) != 1)} and {len(members)} member{'s' * (len(members) != 1)}, all active Slack users")]


def _quoted(team: Team) -> str:
    """The team's name as typed in a shell command ('Tier 1' needs quotes)."""
    return shlex.quote(team.name)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def check_timezones(session: Session, team: Team) -> Check:
    if _zone(team.timezone) is None:
        return bad(f"{team.name}: time zone {team.timezone!r} is not an IANA name: `supportbot team update {_quoted(team)} --timezone Area/City`")
    zones = standups.member_zones(session, team)
    wrong = sorted({z for z in zones.values() if _zone(z) is None})
    if wrong:
        who = sorted(m for m, z in zones.items() if z in wrong)
        return bad(f"{team.name}: members {', '.join(who)} have time zones {', '.join(wrong)} that are not IANA names: they fix it with `/standup timezone Area/City`")
    others = sorted(set(zones.values()) - {team.timezone})
    extra = f" (members also in {', '.join(others)})" if others else ""
    return ok(f"{team.name}: time zone {team.timezone}{extra}")


def _when(at: datetime, tz: str) -> str:
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%a %d %b %H:%M} {tz}"


def _fire_times(trigger: Any, now: datetime, limit: int = 400) -> Iterator[datetime]:
    previous = None
    current = trigger.get_next_fire_time(None, now)
    for _ in range(limit):
        if current is None:
            return
        yield current
        previous = current
        current = trigger.get_next_fire_time(previous, current + timedelta(microseconds=1))


def next_standup(session: Session, team: Team, now: datetime) -> tuple[str, datetime | None] | None:
    """None when the team has no stand-up; ("paused", None) when it is paused."""
    schedule = standup_store.schedule_of_team(session=session, team_id=team.id or 0)
    if schedule is None:
        return None
    if schedule.paused:
        return ("paused", None)
    best: tuple[str, datetime] | None = None
    for tz in sorted(set(standups.member_zones(session, team).values()) | {team.timezone}):
        if _zone(tz) is None:
            continue
        for when in _fire_times(standups.trigger(schedule, tz), now):
            if when.astimezone(ZoneInfo(tz)).date().isoformat() not in schedule.skip_days:
                if best is None or when < best[1]:
                    best = (tz, when)
                break
    return (best[0], best[1]) if best else ("never", None)


def check_firings(session: Session, team: Team, now: datetime) -> Check:
    """The next digest, stand-up and 1:1, from the same triggers the scheduler installs."""
    if _zone(team.timezone) is None:
        return bad(f"{team.name}: nothing can be scheduled until the time zone is fixed")
    parts: list[str] = []
    problems: list[str] = []
    if team.digest_channel:
        at = kpis.digest_trigger(team).get_next_fire_time(None, now)
        parts.append(f"digest {_when(at, team.timezone)}" if at else "digest never")
    else:
        parts.append(f"no digest (no digest channel: `supportbot team update {_quoted(team)} --digest-channel C…`)")
    standup = next_standup(session, team, now)
    if standup is None:
        parts.append("no stand-up scheduled")
    elif standup[0] == "paused":
        parts.append("stand-up paused (`/standup resume`)")
    elif standup[1] is None:
        problems.append("the stand-up schedule never fires (no days left after skips): `/standup schedule mon-fri 09:30`")
    else:
        parts.append(f"stand-up {_when(standup[1], standup[0])}")
    rows = [r for r in oneonone_store.active(session=session) if r.team_id == team.id]
    meetings = [m for m in (oneonones.next_meeting(r, team, now) for r in rows) if m is not None]
    if meetings:
        parts.append(f"1:1 {_when(min(meetings), team.timezone)} ({len(rows)} scheduled)")
    elif rows:
        problems.append(f"{len(rows)} 1:1s are scheduled but none has a next date: `/oneonone list` and schedule them again")
    if problems:
        return bad(f"{team.name}: {'; '.join(problems)}")
    return ok(f"{team.name}: next {', '.join(parts)}")


def check_outbox(session: Session, workspace_id: str, now: datetime) -> Check:
    counts = outbox_store.counts_by_status(session=session, workspace_id=workspace_id)
    failures = [
        m for m in outbox_store.recent_failures(session=session, workspace_id=workspace_id, limit=50)
        if m.created_at >= now - FAILURE_WINDOW
    ]
    waiting = counts.get(outbox_store.PENDING, 0)
    oldest = outbox_store.oldest_pending(session=session, workspace_id=workspace_id)
    age = now - oldest.created_at if oldest is not None else timedelta(0)
    if failures:
        last = failures[0]
        return bad(
            f"outbox ({workspace_id}): {len(failures)}{'+' if len(failures) == 50 else ''} message(s) failed in the last "
            f"{FAILURE_WINDOW.days} days and will not be retried (latest: {last.kind}, {last.last_error or 'no error recorded'}); "
            f"fix what the other checks report, then the next ones go out; {waiting} waiting"
        )
    if oldest is not None and age > STALE_OUTBOX:
        why = f", last error {oldest.last_error}" if oldest.last_error else ""
        return bad(
            f"outbox ({workspace_id}): {waiting} message(s) waiting, the oldest for {_age(age)}{why}: "
            "is `supportbot run` running, and can it reach Slack?"
        )
    return ok(f"outbox ({workspace_id}): {waiting} waiting{f' (oldest {_age(age)})' if waiting else ''}, none failed in the last {FAILURE_WINDOW.days} days")


def _age(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


# ----- all of it ------------------------------------------------------------------------------
def run_checks(
    slack_for: Any, *, now: datetime, environ: Any = None, env_file: str | Path | None = ".env"
) -> Iterator[Check]:
    """Every check in order, as each finishes. `slack_for(settings)` gives the SlackLookup."""
    settings_check, settings = check_settings(environ, env_file)
    yield settings_check
    if settings is None:
        return
    database = check_database(settings.database_url)
    yield database
    me: Identity | None = None
    slack = None
    if settings.slack_bot_token:
        slack = slack_for(settings)
        token_check, me = check_token(slack, settings)
        yield token_check
        if me is not None:
            yield check_scopes(me)
    if not database.ok:
        return
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine, readonly=True) as session:
            yield from _team_checks(session, slack, me, now)
    finally:
        engine.dispose()


def _team_checks(session: Session, slack: SlackLookup | None, me: Identity | None, now: datetime) -> Iterator[Check]:
    teams: Sequence[Team] = team_store.list_teams(session=session)
    if not teams:
        yield bad("teams: none yet: create one with `supportbot team add NAME --leader U… --escalation-channel C…`")
    for team in teams:
        if me is not None and team.workspace_id != me.team_id:
            yield bad(f"{team.name}: belongs to workspace {team.workspace_id}, but SLACK_BOT_TOKEN is for {me.team_id}: use that workspace's token, or remove the team")
        elif slack is not None and me is not None:
            for channel_id, uses in _channels_of(session, team).items():
                yield check_channel(slack, team, channel_id, uses, me)
            yield from check_people(slack, session, team)
        yield check_timezones(session, team)
        yield check_firings(session, team, now)
    workspaces = sorted({t.workspace_id for t in teams} | set(team_store.list_workspaces(session=session)))
    if me is not None and me.team_id not in workspaces:
        workspaces.append(me.team_id)
    for workspace_id in workspaces:
        yield check_outbox(session, workspace_id, now)
