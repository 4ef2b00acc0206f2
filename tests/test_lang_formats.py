"""Figures, dates and durations the way each language writes them, through the real app
(signed HTTP, the rig, the Slack stand-in), and /pulse's words in both languages."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from supportbot.bot.outbox import enqueue_call
from supportbot.bot.standin.slack import SlackStandIn
from supportbot.storage.models import Team
from supportbot.storage.pulse import PulseSchedule
from tests.rig import BotRig
from tests.test_home import open_home, text_of
from tests.test_kpis_slack import seed
from tests.test_spanish import said

LEAD, AGENT = "U0LEAD01", "U0AGENT01"
ANA = "<@U0AGENT01|ana>"


def es_and_en_teams(rig: BotRig) -> None:
    """Tier1 speaks Spanish (U0LEAD01, U0AGENT01), Tier2 English (U0LEAD02, U0AGENT02)."""
    rig.make_team("Tier1", leaders=(LEAD,), members=(AGENT,), language="es")
    rig.make_team("Tier2", leaders=("U0LEAD02",), members=("U0AGENT02",), escalation_channel="C0ESCAL02", language="en")


# ----- durations ---------------------------------------------------------------------------
def test_escalation_ages_in_list_and_home_per_language(rig: BotRig, standin: SlackStandIn) -> None:
    es_and_en_teams(rig)
    assert "ESC-1" in said(rig, "/escalate", "urgente Cliente cobrado dos veces, #4411", user=AGENT)
    assert "ESC-2" in said(rig, "/escalate", "urgent Checkout down for Globex", user="U0AGENT02", channel="C0ESCAL02")
    rig.deliver()
    rig.clock.advance(minutes=125)
    es = said(rig, "/escalate", "lista", user=LEAD)
    en = said(rig, "/escalate", "list", user="U0LEAD02", channel="C0ESCAL02")
    assert "2h 5min" in es and "2h05m" not in es
    assert "2h 5m" in en and "2h05m" not in en
    home_es = text_of(open_home(rig, standin, LEAD))
    home_en = text_of(open_home(rig, standin, "U0LEAD02"))
    assert "abierto hace 2h 5min" in home_es and "Urgente" in home_es and "· urgent ·" not in home_es
    assert "open 2h 5m" in home_en and "Urgent" in home_en


def test_escalation_deadline_in_the_confirmation_per_language(rig: BotRig) -> None:
    es_and_en_teams(rig)
    es = said(rig, "/escalate", "alta La API rechaza el payload de Globex", user=AGENT)
    en = said(rig, "/escalate", "high API payload rejected for customer Globex", user="U0AGENT02", channel="C0ESCAL02")
    # a sentence: the long form (`15 minutos` / `15 minutes`); lists keep the narrow one
    assert "si nadie lo confirma en 15 minutos" in es
    assert "within 15 minutes, the next leader is" in en


# ----- KPI period labels -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "typed", "label"),
    [
        ("es", "hoy", "lun 23 nov"),
        ("es", "semana-pasada", "lun 16 nov – dom 22 nov"),
        ("es", "mes", "noviembre de 2026"),
        ("en", "month", "November 2026"),
        ("en", "yesterday", "Sun, Nov 22"),
    ],
)
def test_kpi_period_labels_in_words(rig: BotRig, language: str, typed: str, label: str) -> None:
    rig.make_team(language=language)
    seed(rig)
    text = said(rig, "/kpis", typed)
    assert f"KPIs · Tier1 · {label}" in text or label in text.split("KPIs", 1)[1][:80]
    assert "2026-11" not in text


# ----- /supportbot status ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "verb", "when", "count"),
    [("es", "estado", "lun 23 nov, 10:00 UTC", "1 fallidos"), ("en", "status", "Mon, Nov 23, 10:00 UTC", "1 failed")],
)
def test_status_times_per_language(rig: BotRig, language: str, verb: str, when: str, count: str) -> None:
    rig.make_team(language=language)
    with rig.rt.transaction() as session:
        enqueue_call(session, workspace_id="T0TEST01", method="chat.postMessage",
                     args={"channel": "C0NOPE", "text": "x", "blocks": [{"type": "bogus"}]}, clock=rig.clock)
    rig.deliver()
    text = said(rig, "/supportbot", verb)
    assert count in text and when in text and "2026-11-23" not in text


# ----- 1:1s and coaching ------------------------------------------------------------------------
def test_oneonone_times_per_language(rig: BotRig) -> None:
    es_and_en_teams(rig)
    es = said(rig, "/oneonone", f"{ANA} semanal mar 15:00", user=LEAD)
    assert "mar 24 nov, 15:00" in es and "2026-11-24" not in es
    assert "mar 24 nov, 15:00" in said(rig, "/oneonone", "lista", user=LEAD)
    en = said(rig, "/oneonone", "<@U0AGENT02|bo> weekly tue 15:00", user="U0LEAD02", channel="C0ESCAL02")
    assert "Tue, Nov 24, 15:00" in en and "2026-11-24" not in en


def test_coaching_days_per_language(rig: BotRig) -> None:
    es_and_en_teams(rig)
    past = said(rig, "/coach", f"{ANA} llegó tarde seguimiento:ayer", user=LEAD)
    assert "dom 22 nov" in past and "2026-11-22" not in past
    assert "jue 24 dic" in said(rig, "/coach", f"{ANA} buen trabajo seguimiento:24/12", user=LEAD)
    listed = said(rig, "/coach", ANA, user=LEAD)
    assert "lun 23 nov 2026" in listed and "2026-11-23" not in listed
    goal = said(rig, "/coach", f"objetivo {ANA} csat >= 92,5 para el 24 dic", user=LEAD)
    assert "92,5\xa0%" in goal and "jue 24 dic" in goal
    en = said(rig, "/coach", "<@U0AGENT02|bo> late again follow-up:yesterday", user="U0LEAD02", channel="C0ESCAL02")
    assert "Sun, Nov 22" in en


# ----- /pulse: its words are pulse.toml's [keywords] ------------------------------------------
PULSE_SAME = [
    ("help", "ayuda"),
    ("status", "estado"),
    ("status team:Tier1", "Estado equipo:Tier1"),
    ("results", "resultados"),
    ("results 2", "RESULTADOS 2"),
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("english", "spanish"), PULSE_SAME)
def test_pulse_spanish_words_answer_like_english(rig: BotRig, language: str, english: str, spanish: str) -> None:
    rig.make_team(language=language)
    first = said(rig, "/pulse", english)
    assert first == said(rig, "/pulse", spanish)
    assert "understand" not in first and "entendido" not in first and "didn't get" not in first


def pulse_row(rig: BotRig, name: str) -> PulseSchedule:
    with rig.rt.transaction(readonly=True) as session:
        team = session.exec(select(Team).where(Team.name == name)).one()
        return session.exec(select(PulseSchedule).where(PulseSchedule.team_id == team.id)).one()


def test_pulse_in_spanish_stores_what_english_stores(rig: BotRig) -> None:
    es_and_en_teams(rig)
    es = said(rig, "/pulse", "programar lun,mié 9:05", user=LEAD)
    en = said(rig, "/pulse", "schedule mon,wed 9:05", user="U0LEAD02", channel="C0ESCAL02")
    assert "*lun,mié*" in es and "*mon,wed*" in en
    one, two = pulse_row(rig, "Tier1"), pulse_row(rig, "Tier2")
    assert (one.days, one.time) == (two.days, two.time) == ("mon,wed", "09:05")
    said(rig, "/pulse", "Pausa", user=LEAD)
    said(rig, "/pulse", "pause", user="U0LEAD02", channel="C0ESCAL02")
    assert pulse_row(rig, "Tier1").paused and pulse_row(rig, "Tier2").paused
    said(rig, "/pulse", "reanudar", user=LEAD)
    said(rig, "/pulse", "resume", user="U0LEAD02", channel="C0ESCAL02")
    assert not pulse_row(rig, "Tier1").paused and not pulse_row(rig, "Tier2").paused
    assert "7" in said(rig, "/pulse", "umbral 7", user=LEAD)
    assert "No puedo leer los días" in said(rig, "/pulse", "programar funday 9:05", user=LEAD)
    assert "/pulse programar vie 15:00" in said(rig, "/pulse", "quizás", user=LEAD)


def dumps(x: Any) -> str:
    return json.dumps(x, ensure_ascii=False)


def test_days_in_words_helpers_stay_iso_free() -> None:
    """The one place that writes figures: no ISO date and no `.` decimal reaches a Spanish reader."""
    from supportbot.bot import formats

    assert formats.day("es", date(2026, 12, 24)) == "jue 24 dic"
    assert formats.number("es", 1472) in ("1472", "1.472")
    assert formats.percent("es", 76.8) == "76,8\xa0%"
