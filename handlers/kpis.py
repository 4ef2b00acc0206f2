"""`/kpis` (summary, help, targets) and the daily digest's rendering (message + chart)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from slack_bolt import App
from sqlmodel import Session

from supportbot.bot import alerts, formats, keywords, kpis
from supportbot.bot import teams as teams_core
from supportbot.bot.errors import InvalidInput
from supportbot.bot.i18n import Translator
from supportbot.bot.kpis import chart
from supportbot.bot.kpis.digest import digest_from_data, digest_to_data
from supportbot.bot.outbox import Deferred, DeliveryError, Paced, SlackCall, enqueue
from supportbot.bot.runtime import Runtime
from supportbot.bot.timeutil import zone
from supportbot.handlers import blocks as bk
from supportbot.handlers.common import Reply, Req, command, parse_user
from supportbot.storage import teams as team_store
from supportbot.storage.models import OutboxMessage

log = logging.getLogger(__name__)

COMMAND = "/kpis"
CHART_KIND = "kpis.digest_chart"
COMMAND_KEYWORDS = "kpis"
PERCENT = ("csat", "sla", "fcr")
MINUTES = ("frt", "aht")
SHOWN = ("volume", "frt", "sla", "aht", "fcr", "csat", "nps", "backlog")
MAX_UPLOAD_TRIES = 5
LONG_PERIOD = timedelta(days=8)


# ----- formatting (pure) --------------------------------------------------------------
def metric_name(_: Any, metric: str) -> str:
    return str(_(f"kpis.name_{metric}"))


def lang_of(_: Any) -> str:
    """The language of a Translator (`_`), for bot/formats.py."""
    return str(getattr(_, "lang", "en"))


def fmt_value(_: Any, metric: str, value: float | None) -> str:
    lang = lang_of(_)
    if value is None:
        return _("kpis.no_data")
    if metric in PERCENT:
        return formats.percent(lang, value)
    if metric == "nps":
        return formats.number(lang, value, sign=True)
    if metric in MINUTES:
        return fmt_minutes(value, lang)
    return formats.number(lang, value)


def fmt_minutes(value: float, lang: str = "en") -> str:
    if value < 1:
        return f"{formats.number(lang, value * 60)}s"
    if value < 60:
        return f"{formats.number(lang, value, 1)} min"
    hours, minutes = divmod(round(value), 60)
    return f"{formats.number(lang, hours)}h {minutes:02d}m"


def fmt_change(_: Any, metric: str, current: float | None, previous: float | None) -> str:
    delta = kpis.change(current, previous)
    if delta is None:
        return _("kpis.change_none")
    if abs(delta) < 1e-9:
        return _("kpis.change_same")
    arrow = "▲" if delta > 0 else "▼"
    better = (delta < 0) if metric in kpis.LOWER_IS_BETTER else (delta > 0)
    if metric in ("volume",):
        better_mark = ""
    else:
        better_mark = " :large_green_circle:" if better else " :red_circle:"
    lang = lang_of(_)
    if metric in PERCENT:
        amount = f"{formats.number(lang, delta, 1, sign=True)} pts"
    elif metric in MINUTES:
        amount = ("+" if delta > 0 else "-") + fmt_minutes(abs(delta), lang)
    else:
        amount = formats.number(lang, delta, sign=True)
    return f"{arrow} {amount}{better_mark}"


def fmt_target(_: Any, metric: str, value: float | None, targets: dict[str, float]) -> str:
    target = targets.get(metric)
    if target is None:
        return ""
    met = kpis.target_met(metric, value, target)
    mark = "" if met is None else (" :white_check_mark:" if met else " :x:")
    return _("kpis.target", target=fmt_target_value(_, metric, target)) + mark


def fmt_target_value(_: Any, metric: str, target: float) -> str:
    if metric in PERCENT and target == int(target):
        return formats.percent(lang_of(_), target, 0)
    if metric in MINUTES and target == int(target):
        return f"{formats.number(lang_of(_), target)} min"
    return fmt_value(_, metric, target)


def figure_line(_: Any, metric: str, report: kpis.Report, previous: kpis.Report, targets: dict[str, float]) -> str:
    value = report.value(metric)
    parts = [f"*{fmt_value(_, metric, value)}*"]
    if metric == "frt" and report.frt_p90 is not None:
        parts.append(_("kpis.p90", value=fmt_minutes(report.frt_p90, lang_of(_))))
    sample = report.sample(metric)
    if sample is not None and value is not None:
        parts.append(_("kpis.sample", n=formats.number(lang_of(_), sample)))
        if report.low_sample(metric):
            parts.append(_("kpis.low_sample"))
    target = fmt_target(_, metric, value, targets)
    if target:
        parts.append(target)
    line = " · ".join(parts)
    return line + "\n" + fmt_change(_, metric, value, previous.value(metric))


def breakdown(_: Any, key: str, rows: list[tuple[str | None, int]]) -> str:
    if not rows:
        return ""
    items = ", ".join(
        f"{bk.escape(name or _('kpis.unknown'))} {formats.number(lang_of(_), n)}" for name, n in rows[:6]
    )
    return _(key, items=items)


def escalation_text(_: Any, esc: kpis.EscalationFigures | None) -> str | None:
    if esc is None:
        return None
    lang = lang_of(_)
    no_data = _("kpis.no_data")
    return _(
        "kpis.escalations",
        opened=formats.number(lang, esc.opened),
        acknowledged=formats.number(lang, esc.acknowledged),
        resolved=formats.number(lang, esc.resolved),
        ack=fmt_minutes(esc.median_ack_minutes, lang) if esc.median_ack_minutes is not None else no_data,
        resolve=fmt_minutes(esc.median_resolve_minutes, lang) if esc.median_resolve_minutes is not None else no_data,
        overdue=formats.number(lang, esc.overdue_open),
    )


def summary_blocks(_: Any, s: kpis.Summary) -> list[bk.Block]:
    period = s.period
    out: list[bk.Block] = [
        bk.header(_("kpis.summary_title", team=s.team.name, period=period.label)),
        bk.context(_("kpis.compared_with", label=compare_label(_, s))),
    ]
    items = []
    for metric in SHOWN:
        text = f"*{metric_name(_, metric)}*\n" + figure_line(_, metric, s.current, s.previous, s.targets)
        if s.agent is not None and s.agent_previous is not None and s.agent_id:
            text += "\n" + bk.mention(s.agent_id) + ": " + figure_line(
                _, metric, s.agent, s.agent_previous, s.targets
            ).replace("\n", " · ")
        items.append(text)
    out.append(bk.fields(items[:4]))
    out.append(bk.fields(items[4:]))
    out.append(bk.context(_(
        "kpis.resolved_line", solved=formats.number(lang_of(_), s.current.solved),
        prev=formats.number(lang_of(_), s.previous.solved),
    )))
    for key, rows in (("kpis.by_channel", s.current.by_channel), ("kpis.by_category", s.current.by_category)):
        text = breakdown(_, key, rows)
        if text:
            out.append(bk.context(text))
    esc = escalation_text(_, s.current.escalations)
    if esc:
        out.append(bk.section(esc))
    return bk.message_blocks(out)


def compare_label(_: Any, s: kpis.Summary) -> str:
    tz = s.team.timezone
    start = s.period.prev_start.astimezone(zone(tz))
    end = s.period.prev_end.astimezone(zone(tz))
    lang = lang_of(_)
    return f"{formats.when(lang, start)} – {formats.when(lang, end)} ({tz})"


def digest_blocks(_: Any, d: kpis.Digest) -> list[bk.Block]:
    r = d.report
    out: list[bk.Block] = [
        bk.header(_("kpis.digest_title", team=d.team.name, day=formats.day(lang_of(_), d.day))),
        bk.context(_("kpis.digest_intro")),
    ]
    items = []
    for metric in SHOWN:
        items.append(
            f"*{metric_name(_, metric)}* `{kpis.sparkline(d.trend[metric])}`\n"
            + figure_line(_, metric, r, d.previous, d.targets)
        )
    out.append(bk.fields(items[:4]))
    out.append(bk.fields(items[4:]))
    out.append(bk.context(_(
        "kpis.resolved_line", solved=formats.number(lang_of(_), r.solved),
        prev=formats.number(lang_of(_), d.previous.solved),
    )))
    for key, rows in (("kpis.top_categories", r.by_category), ("kpis.top_channels", r.by_channel)):
        text = breakdown(_, key, rows[:5])
        if text:
            out.append(bk.section(text))
    if d.fcr_by_category:
        lines = [
            f"{bk.escape(cat or _('kpis.unknown'))}: {formats.percent(lang_of(_), 100.0 * yes / n, 0)}"
            f" ({formats.number(lang_of(_), yes)}/{formats.number(lang_of(_), n)})"
            for cat, n, yes in d.fcr_by_category[:8]
            if n
        ]
        out.append(bk.section(_("kpis.fcr_by_category", items="\n".join(lines))))
    esc = escalation_text(_, r.escalations)
    if esc:
        out.append(bk.section(esc))
    if d.kudos is not None:
        out.append(bk.context(_("kpis.kudos_line", count=formats.number(lang_of(_), d.kudos))))
    if d.alerts is not None and (alerts.enabled(d.team) or d.alerts.at_risk or d.alerts.spikes):
        out.append(bk.context(_(
            "alerts.digest_line", at_risk=d.alerts.at_risk, breached=d.alerts.breached,
            spikes=d.alerts.spikes, missed=r.sla_n - r.sla_met,
        )))
    out.append(bk.context(_("kpis.digest_chart_note")))
    return bk.message_blocks(out)


def digest_text(_: Any, d: kpis.Digest) -> str:
    r = d.report
    return _(
        "kpis.digest_fallback",
        team=d.team.name,
        day=formats.day(lang_of(_), d.day),
        volume=formats.number(lang_of(_), r.volume),
        csat=fmt_value(_, "csat", r.csat),
        frt=fmt_value(_, "frt", r.frt),
    )


def chart_data(_: Any, d: kpis.Digest) -> dict[str, Any]:
    """What the digest's chart shows, in the team's language (JSON: drawing it needs no
    database)."""
    return chart.digest_chart(d)


def chart_png(_: Any, d: kpis.Digest) -> bytes:
    """A PNG of the last CHART_DAYS days (three panels: counts, percentages, minutes)."""
    return chart.draw(chart_data(_, d))


# ----- /kpis ---------------------------------------------------------------------------
def parse_args(text: str) -> tuple[str, str | None, str | None]:
    """-> (period text, agent id or None, team name or None); InvalidInput for the rest.
    The period is a keyword in either language or a day or range in words or numbers
    (`ayer`, `el viernes`, `del 1 al 15 de noviembre`), read by kpis.parse_period."""
    text, team_name = keywords.take_option(COMMAND_KEYWORDS, "team_option", text)
    agent = None
    rest = []
    for word in text.split():
        user = parse_user(word)
        if user and agent is None:
            agent = user
        elif user:
            raise InvalidInput("kpis.usage", text=bk.escape(text.strip()[:200]))
        else:
            rest.append(word)
    return " ".join(rest) or "today", agent, team_name


def handle_kpis_command(req: Req, reply: Reply) -> None:
    _ = req._
    words = req.text.split()
    verb = keywords.canonical(COMMAND_KEYWORDS, words[0]) if words else ""
    if verb == "help":
        reply.ephemeral(_("kpis.help_title"), [bk.section(_("kpis.help")), bk.section(_("kpis.definitions"))])
        return
    if verb == "target":
        set_target(req, reply, words[1:])
        return
    period_word, agent, team_name = parse_args(req.text)
    now = req.rt.clock.now()
    with req.rt.transaction(readonly=True) as session:
        team = teams_core.team_for_request(
            session, workspace_id=req.workspace_id, user_id=req.user_id,
            channel_id=req.channel_id, team_name=team_name,
        )
        try:
            period = kpis.parse_period(period_word, now=now, tz=team.timezone, lang=req.lang)
        except InvalidInput as exc:
            if exc.key != "kpis.bad_period":
                raise
            raise InvalidInput("kpis.usage", text=bk.escape(req.text.strip()[:200])) from None
        if period.end - period.start > LONG_PERIOD:
            reply.ack()  # months and years take longer: the answer follows via response_url
        summary = kpis.summary(
            session, team=team, period=period, now=now, agent_id=agent, answers=req.rt.kpi_answers
        )
    reply.ephemeral(
        _("kpis.summary_title", team=team.name, period=period.label), summary_blocks(_, summary)
    )


def set_target(req: Req, reply: Reply, args: list[str]) -> None:
    _ = req._
    team_name = None
    rest = []
    for word in args:
        _rest, option = keywords.take_option(COMMAND_KEYWORDS, "team_option", word)
        if option:
            team_name = option
        else:
            rest.append(word)
    if len(rest) != 2:
        raise InvalidInput("kpis.target_usage")
    with req.rt.transaction() as session:
        team = teams_core.team_for_request(
            session, workspace_id=req.workspace_id, user_id=req.user_id,
            channel_id=req.channel_id, team_name=team_name,
        )
        metric, value = kpis.set_target(
            session, team=team, user_id=req.user_id, metric=rest[0], value=rest[1],
            now=req.rt.clock.now(),
        )
        name = team.name
    reply.ephemeral(
        _(
            "kpis.target_set",
            metric=_(f"kpis.name_{metric}"),
            value=fmt_target_value(_, metric, value),
            team=bk.escape(name),
        )
    )


# ----- digest delivery ---------------------------------------------------------------
def _digest_for(session: Session, rt: Runtime, msg: OutboxMessage) -> tuple[Any, kpis.Digest] | None:
    """The digest a row is about: from the figures the row carries (built once, by the
    team's job, or by the post's render for the chart), else built now (a row queued by
    an older version or by `supportbot digest`)."""
    team = team_store.get_team(session=session, team_id=int(msg.data["team_id"]))
    if team is None or not team.digest_channel:
        return None
    _ = Translator(team.language)
    stored = digest_from_data(team, msg.data.get("figures"))
    if stored is not None:
        return _, stored
    day = date.fromisoformat(msg.data["day"])
    return _, kpis.build_digest(
        session, team=team, day=day, now=rt.clock.now(), answers=rt.kpi_answers
    )


def make_digest_renderer(rt: Runtime) -> Any:
    def render(session: Session, msg: OutboxMessage) -> SlackCall | None:
        found = _digest_for(session, rt, msg)
        if found is None:
            return None
        _, digest = found
        if "figures" not in msg.data:  # built here: kept for a paced retry and the chart
            msg.data = {**msg.data, "figures": digest_to_data(digest)}
        return SlackCall(
            "chat.postMessage",
            {
                "channel": digest.team.digest_channel,
                "text": digest_text(_, digest),
                "blocks": digest_blocks(_, digest),
                "unfurl_links": False,
            },
        )

    def after_send(session: Session, msg: OutboxMessage, response: dict[str, Any]) -> None:
        if not response.get("ts"):
            return
        enqueue(
            session,
            workspace_id=msg.workspace_id,
            kind=CHART_KIND,
            data={
                "team_id": msg.data["team_id"],
                "day": msg.data["day"],
                "channel": response.get("channel"),
                "thread_ts": response["ts"],
                **({"figures": msg.data["figures"]} if "figures" in msg.data else {}),
            },
            clock=rt.clock,
            dedupe_key=f"kpis:chart:{msg.data['team_id']}:{msg.data['day']}:{msg.id}",
        )

    return render, after_send


def upload_bytes(rt: Runtime, workspace_id: str, filename: str, content: bytes) -> str:
    """Steps 1-2 of files_upload_v2: get an upload URL (paced like every outbox call),
    POST the bytes; -> file id."""
    response = rt.outbox.call(
        workspace_id, SlackCall("files.getUploadURLExternal", {"filename": filename, "length": len(content)})
    )
    url = str(response["upload_url"])
    if urlparse(url).scheme not in ("https", "http"):
        raise ValueError("unexpected upload URL scheme")
    request = Request(url, data=content, method="POST")  # noqa: S310 - scheme checked above
    request.add_header("Content-Type", "application/octet-stream")
    with urlopen(request, timeout=30) as answer:  # noqa: S310 - scheme checked above
        if answer.status != 200:
            raise OSError(f"upload answered HTTP {answer.status}")
    return str(response["file_id"])


class DrawnCharts:
    """Charts drawn but not uploaded yet, by outbox message id: an upload paced by Slack's
    limit (the row comes back later) does not draw its chart again. In memory and small:
    after a restart a chart is simply drawn once more."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._pngs: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: int, draw: Callable[[], bytes]) -> bytes:
        with self._lock:
            png = self._pngs.get(key)
        if png is None:
            png = draw()
            with self._lock:
                self._pngs[key] = png
                while len(self._pngs) > self.size:
                    self._pngs.popitem(last=False)
        return png

    def forget(self, key: int) -> None:
        with self._lock:
            self._pngs.pop(key, None)


def make_chart_renderer(rt: Runtime) -> Any:
    drawn = DrawnCharts()

    def render(session: Session, msg: OutboxMessage) -> SlackCall | None:
        assert msg.id is not None
        found = _digest_for(session, rt, msg)
        if found is None:
            drawn.forget(msg.id)
            return None
        _, digest = found
        filename = f"kpis-{digest.day.isoformat()}.png"
        try:
            # uploaded once; a render repeated (paced, retried) completes the same file
            file_id = msg.data.get("file_id") or upload_bytes(
                rt, msg.workspace_id, filename, drawn.get(msg.id, lambda: chart_png(_, digest))
            )
            msg.data = {**msg.data, "file_id": file_id}
        except Paced:
            raise  # the upload URL's budget is spent: the drawn chart waits in `drawn`
        except (DeliveryError, OSError, ValueError, KeyError) as exc:
            tries = int(msg.data.get("tries", 0)) + 1
            msg.data = {**msg.data, "tries": tries}
            if tries >= MAX_UPLOAD_TRIES:
                log.error("digest chart: giving up after %s tries: %s", tries, type(exc).__name__)
                drawn.forget(msg.id)
                return None
            raise Deferred() from exc
        drawn.forget(msg.id)
        return SlackCall(
            "files.completeUploadExternal",
            {
                "files": [{"id": file_id, "title": _(
                    "kpis.chart_title", team=digest.team.name, day=formats.day(lang_of(_), digest.day),
                )}],
                "channel_id": msg.data["channel"],
                "thread_ts": msg.data["thread_ts"],
            },
        )

    return render


def register(app: App, rt: Runtime) -> None:
    app.command(COMMAND)(command(rt, handle_kpis_command))
    render, after_send = make_digest_renderer(rt)
    rt.outbox.kinds.register(kpis.DIGEST_KIND, render, after_send)
    rt.outbox.kinds.register(CHART_KIND, make_chart_renderer(rt))
