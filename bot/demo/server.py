"""`supportbot demo`: the real app (listeners, store, scheduler, outbox) on 127.0.0.1, its
Web API calls answered by the bundled Slack stand-in, and a web page that plays the Slack
client. The page's actions become requests shaped and signed as Slack's, posted to the
bot's own `POST /slack/events`; what the bot sends back (acks, response_url posts, Web API
calls) is drawn from the stand-in. Nothing leaves the machine."""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, request

from supportbot.bot import coaching, escalations, kpis, oneonones, standups
from supportbot.bot.app import HttpServer, build_app, build_web, start_background, stop_background
from supportbot.bot.config import Settings
from supportbot.bot.demo import seed as sample
from supportbot.bot.demo.clock import SteppingClock
from supportbot.bot.demo.signed import SlackRequests
from supportbot.bot.demo.workspace import Workspace, dm_channel
from supportbot.bot.runtime import Runtime, build_runtime
from supportbot.bot.standin.slack import BOT_TOKEN, BOT_USER, WORKSPACE, SlackStandIn
from supportbot.bot.timeutil import zone
from supportbot.storage import coaching as coaching_store
from supportbot.storage import escalations as esc_store
from supportbot.storage import oneonones as one_store
from supportbot.storage import standups as standup_store
from supportbot.storage import teams as team_store
from supportbot.storage.db import upgrade

log = logging.getLogger(__name__)

# Slack allows about one post a second per channel; the stand-in has no such limit, and a
# visitor should not wait seconds for the sample workspace's first posts.
DEMO_PACE_SECONDS = 0.05
COMMANDS = ("/escalate", "/kpis", "/coach", "/kudos", "/standup", "/oneonone", "/away", "/supportbot")


FIRINGS = ("digest", "standup", "oneonone", "followup", "reescalation")


@dataclass
class _Option:
    at: datetime | None
    run: Any  # run(scheduled_for)
    channel: str | None  # where it posts, if anywhere
    people: tuple[str, ...]  # who it writes to by DM
    label: str


@dataclass
class Firing:
    """What "make time pass" fired: when, and where to look."""

    what: str
    at: datetime
    channel: str | None
    label: str
    people: tuple[str, ...] = ()  # who it wrote to by DM


class Demo:
    def __init__(self, *, port: int = 3000, database_url: str | None = None, pace_seconds: float = DEMO_PACE_SECONDS) -> None:
        self.port = port
        self._tmp: str | None = None
        if database_url is None:
            self._tmp = tempfile.mkdtemp(prefix="supportbot-demo-")
            database_url = f"sqlite:///{Path(self._tmp) / 'demo.db'}"
        self.database_url = database_url
        self.pace_seconds = pace_seconds
        self.clock = SteppingClock()
        self.lock = threading.Lock()  # one time step at a time
        self.standin: SlackStandIn | None = None
        self.rt: Runtime | None = None
        self.bot_server: HttpServer | None = None
        self.page_server: HttpServer | None = None
        self.scheduler: Any = None
        self.url = ""

    # ----- start and stop ------------------------------------------------------------
    def start(self) -> Demo:
        """Everything up, or (on any failure, e.g. the port taken) everything down again."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Demo:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the stand-in's request log
        # The page's port first: when it is taken, nothing else has started.
        self.page_server = HttpServer(self.page(), host="127.0.0.1", port=self.port, threads=8).start()
        upgrade(self.database_url)
        standin = self.standin = SlackStandIn().start()
        for person in sample.PEOPLE:
            standin.add_user(person.id, tz=person.tz, locale=person.locale, name=person.name,
                             email=f"{person.id.lower()}@demo.example")
        settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=secrets.token_hex(16),
            database_url=self.database_url,
            slack_api_url=standin.url,
            port=0,
        )
        rt = self.rt = build_runtime(settings, clock=self.clock, pace_seconds=self.pace_seconds)
        app = build_app(rt)
        self.bot_server = HttpServer(build_web(rt, app), host="127.0.0.1", port=0).start()
        self.signed = SlackRequests(
            events_url=f"http://127.0.0.1:{self.bot_server.port}/slack/events",
            signing_secret=settings.slack_signing_secret,
            workspace_id=WORKSPACE,
            response_url_base=standin.response_url_base,
        )
        self.workspace = Workspace(bot_user=BOT_USER, signed=self.signed, clock=self.clock)
        standin.observers.append(self.workspace.observe)
        with rt.transaction(readonly=True) as session:
            fresh = not team_store.list_teams(session=session)
        if fresh:
            sample.seed(rt, workspace_id=WORKSPACE)
        self.scheduler = start_background(rt)
        self.url = f"http://127.0.0.1:{self.page_server.port}/"
        return self

    def stop(self) -> None:
        if self.page_server is not None:
            self.page_server.stop(timeout=5)
            self.page_server = None
        if self.bot_server is not None:
            self.bot_server.stop(timeout=5)
        if self.rt is not None and self.scheduler is not None:
            stop_background(self.rt, self.scheduler)
        if self.rt is not None:
            self.rt.engine.dispose()
        if self.standin is not None:
            self.standin.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    # ----- the people and places -----------------------------------------------------
    def person(self, user_id: str) -> sample.Person:
        for person in sample.PEOPLE:
            if person.id == user_id:
                return person
        abort(400, "unknown person")

    def channel_name(self, channel_id: str) -> str:
        for channel in sample.channels():
            if channel.id == channel_id:
                return channel.name
        if channel_id.startswith("D"):
            return "directmessage"
        abort(400, "unknown channel")

    def directory(self) -> dict[str, Any]:
        return {
            "bot": {"id": BOT_USER, "name": "supportbot"},
            "people": [p.__dict__ for p in sample.PEOPLE],
            "channels": [c.__dict__ for c in sample.channels()],
            "commands": list(COMMANDS),
            "teams": [
                {"name": t.name, "language": t.language, "leaders": t.leaders, "agents": t.agents,
                 "channels": [t.general.id, t.escalations.id, t.digest.id]}
                for t in sample.TEAMS
            ],
        }

    # ----- what a visitor does --------------------------------------------------------
    def command(self, user: str, channel: str, line: str) -> dict[str, Any]:
        """A slash command typed in the composer: `/kpis week`."""
        name, _, text = line.strip().partition(" ")
        person = self.person(user)
        if not name.startswith("/"):
            self.workspace.say(user, channel, line.strip())
            return {"status": 200}
        if name not in COMMANDS:
            self.workspace.ephemeral(user, channel, f"/{name.lstrip('/')} is not a command here. Try one of: {', '.join(COMMANDS)}", None)
            return {"status": 200}
        answer = self.signed.command(
            user=user, user_name=person.name, channel=channel,
            channel_name=self.channel_name(channel), command=name, text=_as_slack_text(text),
        )
        self.workspace.answer(user=user, channel=channel, source=None, payload=answer.body)
        return {"status": answer.status}

    def click(self, user: str, data: dict[str, Any]) -> dict[str, Any]:
        """A button, select or overflow in a message, the Home tab or a modal."""
        person = self.person(user)
        action = dict(data.get("action") or {})
        surface = data.get("surface")
        if surface == "modal":
            view = self.workspace.top_view(user, str(data.get("view_id")))
            if view is None:
                abort(404, "that modal is closed")
            view = {**view, "state": data.get("state") or {"values": {}}}
            answer = self.signed.block_action(user=user, user_name=person.name, action=action, view=view)
        elif surface == "home":
            home = self.workspace.home.get(user)
            if home is None:
                abort(404, "no Home tab")
            answer = self.signed.block_action(user=user, user_name=person.name, action=action, view=home)
        else:
            channel, ts = str(data.get("channel")), str(data.get("ts"))
            msg = self.workspace.messages.get((channel, ts))
            if msg is None:
                abort(404, "no such message")
            message = {"type": "message", "ts": ts, "text": msg.text, "blocks": msg.blocks, "user": msg.user}
            answer = self.signed.block_action(
                user=user, user_name=person.name, action=action, channel=channel, message=message,
                ephemeral=msg.only_for is not None, source=f"{channel}|{ts}",
            )
        return {"status": answer.status}

    def submit(self, user: str, view_id: str, state: dict[str, Any]) -> dict[str, Any]:
        person = self.person(user)
        view = self.workspace.top_view(user, view_id)
        if view is None:
            abort(404, "that modal is closed")
        payload_view = {
            "id": view_id,
            "team_id": WORKSPACE,
            "type": "modal",
            "callback_id": view.get("callback_id", ""),
            "private_metadata": view.get("private_metadata", ""),
            "title": view.get("title"),
            "blocks": view.get("blocks", []),
            "state": state,
            "hash": f"{view_id}.h",
            "app_id": "A0DEMO0001",
            "bot_id": "B0BOT0001",
        }
        answer = self.signed.view_submission(user=user, user_name=person.name, view=payload_view)
        errors = self.workspace.after_submit(user, view_id, answer.body) if answer.status == 200 else None
        return {"status": answer.status, "errors": errors or {}}

    def shortcut(self, user: str, callback_id: str, channel: str, ts: str) -> dict[str, Any]:
        person = self.person(user)
        msg = self.workspace.messages.get((channel, ts))
        if msg is None:
            abort(404, "no such message")
        message = {"type": "message", "ts": ts, "text": msg.text, "user": msg.user}
        answer = self.signed.message_shortcut(user=user, user_name=person.name, callback_id=callback_id,
                                              channel=channel, message=message)
        return {"status": answer.status}

    def open_home(self, user: str) -> dict[str, Any]:
        answer = self.signed.event({
            "type": "app_home_opened", "user": user, "channel": dm_channel(user), "tab": "home",
            "event_ts": f"{time.time():.6f}",
        })
        return {"status": answer.status}

    # ----- make time pass ---------------------------------------------------------------
    def fire_next(self, what: str, user: str | None = None) -> Firing | None:
        """Move the clock to the next firing of `what` and run that job, as the scheduler
        would at that time. `user` (who is looking) decides where the page goes next: their
        DM when the firing wrote to them, else the channel it posted in."""
        if what not in FIRINGS:
            raise ValueError(f"what must be one of {', '.join(FIRINGS)}")
        assert self.rt is not None
        with self.lock:
            options = [o for o in self._options(what) if o.at is not None]
            if not options:
                return None
            nxt = min(options, key=lambda o: o.at)
            when = nxt.at.astimezone(UTC)
            self.clock.move_to(when + timedelta(seconds=1))
            nxt.run(when)
            self.rt.outbox.kick()
            names = ", ".join(self.person(p).name for p in nxt.people)
            label = nxt.label + (f" (messages to {names})" if names else "")
            self.workspace.notice(f"Time moved to {label}")
            channel = nxt.channel
            if user is not None and (user in nxt.people or channel is None):
                channel = dm_channel(user)
            return Firing(what, when, channel, label, nxt.people)

    def _options(self, what: str) -> list[_Option]:
        assert self.rt is not None
        rt, now = self.rt, self.clock.now()
        out: list[_Option] = []
        with rt.transaction(readonly=True) as session:
            team_rows = {t.id: t for t in team_store.list_teams(session=session)}
            if what == "digest":
                for team in team_rows.values():
                    if team.digest_channel and team.id is not None:
                        when = kpis.digest_trigger(team).get_next_fire_time(None, now)
                        out.append(_Option(when, _bind(kpis.run_digest, rt, team.id), team.digest_channel, (),
                                           f"{_local(when, team.timezone)}: the {team.name} KPI digest"))
            elif what == "standup":
                for schedule in standup_store.all_schedules(session=session):
                    team = team_rows.get(schedule.team_id)
                    if team is None or schedule.paused:
                        continue
                    zones = standups.member_zones(session, team)
                    for tz in sorted(set(zones.values()) | {team.timezone}):
                        when = standups.trigger(schedule, tz).get_next_fire_time(None, now)
                        people = tuple(m for m, z in zones.items() if z == tz)
                        out.append(_Option(when, _bind(standups.run_standup, rt, schedule.id, tz),
                                           standups.channel_of(schedule, team), people,
                                           f"{_local(when, tz)}: the {team.name} stand-up ({tz})"))
            elif what == "oneonone":
                for row in one_store.active(session=session):
                    team = team_rows.get(row.team_id)
                    if team is not None:
                        when = oneonones.reminder_trigger(row, team).get_next_fire_time(None, now)
                        out.append(_Option(when, _bind(oneonones.run_reminder, rt, row.id), None,
                                           (row.leader_id, row.agent_id),
                                           f"{_local(when, team.timezone)}: a 1:1 reminder"))
            elif what == "followup":
                for note in coaching_store.pending_follow_ups(session=session, due_by=date.max):
                    team = team_rows.get(note.team_id)
                    if team is not None and note.follow_up_on is not None:
                        when = max(now, datetime.combine(note.follow_up_on, coaching.reminder_time(team),
                                                         tzinfo=zone(team.timezone)))
                        out.append(_Option(when, lambda _when: coaching.send_follow_ups(rt), None,
                                           (note.author_id,), f"{_local(when, team.timezone)}: a coaching follow-up"))
            elif what == "reescalation":
                for team in team_rows.values():
                    assert team.id is not None
                    for esc in esc_store.list_unresolved(session=session, team_id=team.id):
                        if esc.status == esc_store.OPEN and esc.ack_deadline_at is not None:
                            when = max(esc.ack_deadline_at, now)
                            out.append(_Option(when, lambda _when: escalations.check_deadlines(rt),
                                               esc.channel_id, (),
                                               f"{_local(when, team.timezone)}: {esc.ref} waited too long"))
        return out

    # ----- the web page ---------------------------------------------------------------
    def page(self) -> Flask:
        web = Flask("supportbot-demo")
        static = resources.files("supportbot.bot.demo") / "static"

        def body() -> dict[str, Any]:
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                abort(400, "expected a JSON object")
            return data

        @web.get("/")
        def index() -> Response:
            return Response((static / "index.html").read_text("utf-8"), mimetype="text/html")

        @web.get("/static/<name>")
        def asset(name: str) -> Response:
            kinds = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
            suffix = Path(name).suffix
            if suffix not in kinds or "/" in name or name.startswith("."):
                abort(404)
            item = static / name
            if not item.is_file():
                abort(404)
            return Response(item.read_text("utf-8"), mimetype=kinds[suffix])

        @web.get("/files/<file_id>")
        def file(file_id: str) -> Response:
            assert self.standin is not None
            content = self.standin.uploads.get(file_id)
            if content is None:
                abort(404)
            return Response(content, mimetype="image/png")

        @web.get("/api/directory")
        def directory() -> Response:
            return jsonify(self.directory())

        @web.get("/api/state")
        def state() -> Response:
            user = request.args.get("user", "")
            since = request.args.get("since", type=int)
            if since is not None:
                self.workspace.wait(since, timeout=10)
            snapshot = self.workspace.snapshot(user)
            snapshot["now"] = self.clock.now().isoformat()
            return jsonify(snapshot)

        @web.post("/api/command")
        def command() -> Response:
            data = body()
            return jsonify(self.command(str(data.get("user")), str(data.get("channel")), str(data.get("text") or "")))

        @web.post("/api/action")
        def action() -> Response:
            data = body()
            return jsonify(self.click(str(data.get("user")), data))

        @web.post("/api/submit")
        def submit() -> Response:
            data = body()
            return jsonify(self.submit(str(data.get("user")), str(data.get("view_id")), data.get("state") or {"values": {}}))

        @web.post("/api/close")
        def close() -> Response:
            data = body()
            self.workspace.close_view(str(data.get("user")), str(data.get("view_id")))
            return jsonify({"status": 200})

        @web.post("/api/shortcut")
        def shortcut() -> Response:
            data = body()
            return jsonify(self.shortcut(str(data.get("user")), str(data.get("callback_id")),
                                         str(data.get("channel")), str(data.get("ts"))))

        @web.post("/api/home")
        def home() -> Response:
            return jsonify(self.open_home(str(body().get("user"))))

        @web.post("/api/time")
        def time_passes() -> Response:
            data = body()
            try:
                fired = self.fire_next(str(data.get("what")), str(data.get("user") or "") or None)
            except ValueError as exc:
                abort(400, str(exc))
            if fired is None:
                return jsonify({"fired": False, "text": "Nothing of that kind is scheduled."})
            return jsonify({"fired": True, "text": f"Time moved to {fired.label}", "channel": fired.channel,
                            "at": fired.at.isoformat()})

        return web


def _bind(func: Any, *args: Any) -> Any:
    return lambda when: func(*args, scheduled_for=when)


def _local(when: datetime, tz: str) -> str:
    return when.astimezone(zone(tz)).strftime("%a %d %b %H:%M")


def _as_slack_text(text: str) -> str:
    """What Slack sends for typed text with `should_escape` on
    (https://api.slack.com/interactivity/slash-commands#creating_commands): `&`, `<`, `>`
    escaped, and `@Name`, `@First` or `@U…` and `#channel` sent as `<@U…|name>`/`<#C…|name>`."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    names: dict[str, sample.Person] = {}
    for person in sample.PEOPLE:
        for key in (person.name, person.name.split()[0], person.id):
            names[key.lower()] = person
    people = re.compile(
        r"(?<![\w<])@(" + "|".join(re.escape(k) for k in sorted(names, key=len, reverse=True)) + r")(?![\w])",
        re.IGNORECASE,
    )

    def person(match: re.Match[str]) -> str:
        who = names[match.group(1).lower()]
        return f"<@{who.id}|{who.name.split()[0].lower()}>"

    out = people.sub(person, out)
    by_name = {c.name: c for c in sample.channels()}
    rooms = re.compile(r"(?<![\w<])#(" + "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True)) + r")(?![\w-])")
    return rooms.sub(lambda m: f"<#{by_name[m.group(1)].id}|{m.group(1)}>", out)
