"""The digest built once and drawn cheaply (issue 18, "a digest to 50 teams' channels"):
the team's job builds the figures and they travel in the outbox rows, so neither the
post's nor the chart's renderer builds the digest again; the chart is drawn on a reused
figure that draws exactly what a fresh one would; a chart whose upload must wait is not
drawn again."""

from __future__ import annotations

import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlmodel import select

from supportbot.bot import kpis
from supportbot.bot.i18n import Translator
from supportbot.bot.kpis import chart
from supportbot.bot.kpis import digest as digest_mod
from supportbot.bot.outbox import enqueue
from supportbot.handlers.kpis import CHART_KIND, chart_data
from supportbot.storage.models import OutboxMessage
from supportbot.storage.teams import get_team
from tests.rig import BotRig
from tests.test_kpis_slack import digest_fire, seed, z


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    builds: list[int] = []
    real = digest_mod._build_digest

    def counting(*args: Any, **kwargs: Any) -> kpis.Digest:
        builds.append(kwargs["team"].id)
        return real(*args, **kwargs)

    monkeypatch.setattr(digest_mod, "_build_digest", counting)
    return builds


def count_draws(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    draws: list[str] = []
    real = chart.draw

    def counting(data: dict[str, Any]) -> bytes:
        draws.append(data["title"])
        return real(data)

    monkeypatch.setattr(chart, "draw", counting)
    return draws


def rows(rig: BotRig, kind: str) -> list[OutboxMessage]:
    with rig.rt.transaction(readonly=True) as session:
        return [m for m in session.exec(select(OutboxMessage)).all() if m.kind == kind]


def test_figures_survive_the_outbox_row(rig: BotRig) -> None:
    team = rig.make_team()
    seed(rig)
    with rig.rt.transaction(readonly=True) as session:
        built = kpis.build_digest(session, team=team, day=date(2026, 11, 22), now=z("2026-11-23T09:00"))
    stored = json.loads(json.dumps(digest_mod.digest_to_data(built)))  # as the JSON column keeps it
    assert digest_mod.digest_from_data(team, stored) == built
    assert built.report.volume == 12 and built.chart["volume"][-1] == 12.0
    assert digest_mod.digest_from_data(team, {**stored, "v": 99}) is None  # another version: built again


def test_digest_built_once_from_the_job_to_the_chart(rig: BotRig, monkeypatch: pytest.MonkeyPatch) -> None:
    team = rig.make_team()
    seed(rig)
    rig.clock.set(z("2026-11-23T09:00"))
    builds = count_builds(monkeypatch)
    draws = count_draws(monkeypatch)
    kpis.run_digest(rig.rt, team.id, scheduled_for=digest_fire(rig, team.id))
    assert builds == [team.id]  # by the job, before the row was queued
    (queued,) = rows(rig, kpis.DIGEST_KIND)
    assert queued.data["figures"]["report"]["volume"] == 12
    rig.deliver()
    rig.deliver()
    assert builds == [team.id]  # neither the post nor the chart built it again
    assert len(draws) == 1
    (post,) = rig.standin.posts("C0DIGEST1")
    assert "Daily KPIs · Tier1 · Sun, Nov 22" in json.dumps(post.args, ensure_ascii=False)
    (complete,) = rig.standin.ok_calls("files.completeUploadExternal")
    assert complete.args["thread_ts"] == post.response["ts"]
    assert complete.args["files"][0]["title"] == "Tier1: last 14 days to Sun, Nov 22"
    png = rig.standin.uploads[complete.args["files"][0]["id"]]
    assert Image.open(io.BytesIO(png)).size == (720, 720)


def test_a_row_without_figures_is_built_once_at_delivery(rig: BotRig, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row queued by an older version (or `supportbot digest`) carries only the team and
    the day: the post's render builds the digest, and the chart reuses those figures."""
    team = rig.make_team()
    seed(rig)
    rig.clock.set(z("2026-11-23T09:00"))
    builds = count_builds(monkeypatch)
    with rig.rt.transaction() as session:
        enqueue(session, workspace_id=team.workspace_id, kind=kpis.DIGEST_KIND,
                data={"team_id": team.id, "day": "2026-11-22"}, clock=rig.clock)
    rig.deliver()
    rig.deliver()
    assert builds == [team.id]
    assert len(rig.standin.posts("C0DIGEST1")) == 1
    assert len(rig.standin.ok_calls("files.completeUploadExternal")) == 1
    (chart_row,) = rows(rig, CHART_KIND)
    assert chart_row.data["figures"]["report"]["volume"] == 12


def test_a_chart_whose_upload_waits_is_not_drawn_again(rig: BotRig, monkeypatch: pytest.MonkeyPatch) -> None:
    team = rig.make_team()
    seed(rig)
    rig.clock.set(z("2026-11-23T09:00"))
    kpis.run_digest(rig.rt, team.id, scheduled_for=digest_fire(rig, team.id))
    draws = count_draws(monkeypatch)
    rig.standin.fail("files.getUploadURLExternal", "ratelimited", status=429, retry_after=1)
    rig.deliver()
    rig.deliver()
    assert rig.standin.ok_calls("files.completeUploadExternal") == []  # told to wait
    rig.clock.advance(seconds=30)
    rig.deliver()
    assert len(rig.standin.ok_calls("files.completeUploadExternal")) == 1
    assert len(rig.standin.ok_calls("files.getUploadURLExternal")) == 1
    assert len(draws) == 1  # drawn before the 429, kept for the second try


def test_a_reused_figure_draws_what_a_fresh_one_draws(rig: BotRig) -> None:
    """The per-thread figure is redrawn with each team's data: nothing of one chart (a
    line, a target, a scale, a legend) may show in the next."""
    team = rig.make_team()
    empty = rig.make_team("Tier2", digest_channel="C0DIGEST2", language="es")
    seed(rig)
    with rig.rt.transaction(readonly=True) as session:
        full = kpis.build_digest(session, team=team, day=date(2026, 11, 22), now=z("2026-11-23T09:00"))
        spanish = get_team(session=session, team_id=empty.id)
        assert spanish is not None
        none = kpis.build_digest(session, team=spanish, day=date(2026, 11, 22), now=z("2026-11-23T09:00"))
    with_data = chart_data(Translator("en"), full)
    without = chart_data(Translator("es"), none)
    assert with_data["panels"][1]["lines"][0]["target"] == 90.0  # CSAT target line drawn
    no_targets = json.loads(json.dumps(with_data))
    for panel in no_targets["panels"]:
        for line in panel["lines"]:
            line["target"] = None
    first = chart.draw(with_data)
    other = chart.draw(without)
    assert chart.draw(no_targets) == chart.draw_fresh(no_targets) != first  # no target lines left over
    assert chart.draw(with_data) == first == chart.draw_fresh(with_data)
    assert other == chart.draw_fresh(without) != first
    assert Image.open(io.BytesIO(first)).size == Image.open(io.BytesIO(other)).size == (720, 720)


def test_chart_days_and_labels_follow_the_digest(rig: BotRig) -> None:
    team = rig.make_team(language="es")
    with rig.rt.transaction(readonly=True) as session:
        built = kpis.build_digest(session, team=team, day=date(2026, 11, 22), now=z("2026-11-23T09:00"))
    data = chart_data(Translator("es"), built)
    assert data["labels"][-1] == "22/11" and data["labels"][0] == "9/11"
    assert len(data["labels"]) == digest_mod.CHART_DAYS == 14
    assert data["title"].startswith("Tier1: últimos 14 días hasta")
    assert [line["label"] for line in data["panels"][2]["lines"]] == ["Primera respuesta", "Tiempo de gestión"]
    assert built.chart_days[0] == date(2026, 11, 22) - timedelta(days=13)


def test_matplotlib_is_imported_before_a_digest_is_due(rig: BotRig, monkeypatch: pytest.MonkeyPatch) -> None:
    warmed: list[bool] = []
    monkeypatch.setattr(chart, "warm", lambda: warmed.append(True))
    rig.make_team(settings={"digest_time": "09:00"})
    installed: dict[int, tuple[str, str]] = {}
    scheduler = type("S", (), {"cron": lambda *a, **k: None, "remove": lambda *a: None})()
    rig.clock.set(z("2026-11-23T08:30"))  # Monday, half an hour before the digest
    digest_mod.sync_jobs(scheduler, rig.rt, installed)
    assert warmed == []
    rig.clock.set(z("2026-11-23T08:50"))  # ten minutes before
    digest_mod.sync_jobs(scheduler, rig.rt, installed)
    assert warmed == [True]
    rig.clock.set(z("2026-11-23T10:00"))  # the next one is tomorrow
    digest_mod.sync_jobs(scheduler, rig.rt, installed)
    assert warmed == [True]
    chart.draw_fresh(chart.blank())  # what warm() draws: an empty chart of the digest's shape


def test_teams_jobs_at_the_same_minute_build_one_at_a_time(rig: BotRig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduler starts every team's 09:00 job at once on its threads: the builds take
    turns (the first digest is queued while the others wait), each is queued and delivered
    once, and jobs run again (a second replica, a restart) queue nothing more."""
    made = [rig.make_team(f"Team{n}", digest_channel=f"C0DIGEST{n}") for n in range(4)]
    seed(rig)
    rig.clock.set(z("2026-11-23T09:00"))
    running: list[int] = []
    most = [0]
    queued_while_building: list[int] = []
    real = digest_mod._build_digest

    def build(*args: Any, **kwargs: Any) -> kpis.Digest:
        running.append(kwargs["team"].id)
        most[0] = max(most[0], len(running))
        queued_while_building.append(len(rows(rig, kpis.DIGEST_KIND)))
        time.sleep(0.05)  # long enough for the other threads to arrive meanwhile
        try:
            return real(*args, **kwargs)
        finally:
            running.remove(kwargs["team"].id)

    monkeypatch.setattr(digest_mod, "_build_digest", build)
    with ThreadPoolExecutor(max_workers=4) as jobs:
        first = list(jobs.map(lambda t: digest_mod.queue_team_digest(rig.rt, t.id, date(2026, 11, 22)), made))
        again = list(jobs.map(lambda t: digest_mod.queue_team_digest(rig.rt, t.id, date(2026, 11, 22)), made))
    assert first == [True] * 4 and again == [False] * 4
    assert most[0] == 1
    assert sorted(queued_while_building[:4]) == [0, 1, 2, 3]  # each queued before the next built
    for _ in range(3):
        rig.deliver()
    for n in range(4):
        assert len(rig.standin.posts(f"C0DIGEST{n}")) == 1
    assert len(rig.standin.ok_calls("files.completeUploadExternal")) == 4
