"""Every command in Spanish words through the real app (signed HTTP, the rig) gets the same
result as its English form, whatever the team's language; accents and case do not matter;
dates in words in both languages are repeated in words."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from supportbot.bot.i18n import t
from supportbot.storage import coaching as coaching_store
from supportbot.storage.away import AwayPeriod
from supportbot.storage.standups import StandupSchedule
from tests.rig import BotRig
from tests.test_kpis_slack import seed

LEAD, AGENT = "U0LEAD01", "U0AGENT01"


def answer(response: Any) -> str:
    body = response.json() if response.content else {}
    if body.get("text") in {t(lang, "common.working") for lang in ("en", "es")}:
        return ""  # a slow machine: the answer itself follows through response_url
    return body.get("text", "") + json.dumps(body.get("blocks") or [], ensure_ascii=False)


def said(rig: BotRig, command: str, text: str, user: str = LEAD, channel: str = "C0ESCAL01") -> str:
    """The private answer, whether it came with the ack or through response_url."""
    before = len(rig.standin.responses)
    response = rig.command(command, text, user=user, channel=channel)
    later = rig.standin.responses[before:]
    return answer(response) + "".join(r.get("text", "") + json.dumps(r.get("blocks") or [], ensure_ascii=False) for r in later)


# ----- read-only commands: the same answer for both words, in a team of either language --
SAME_ANSWER = [
    ("/escalate", "list", "lista"),
    ("/escalate", "help", "ayuda"),
    ("/escalate", "list withdrawn", "lista retirados"),
    ("/escalate", "list team:Tier1", "Lista Equipo:Tier1"),
    ("/kpis", "today", "hoy"),
    ("/kpis", "yesterday", "ayer"),
    ("/kpis", "week", "semana"),
    ("/kpis", "last-week", "semana-pasada"),
    ("/kpis", "month", "mes"),
    ("/kpis", "last-month", "Mes-Pasado"),
    ("/kpis", "help", "ayuda"),
    ("/kpis", "week <@U0AGENT01|ana>", "semana <@U0AGENT01|ana>"),
    ("/kpis", "yesterday team:Tier1", "ayer equipo:Tier1"),
    ("/kpis", "friday", "el viernes"),
    ("/kpis", "nov 16-20", "del 16 al 20 de noviembre"),
    ("/kpis", "2026-11-16..2026-11-20", "16/11..20/11"),
    ("/supportbot", "help", "ayuda"),
    ("/supportbot", "team", "equipo"),
    ("/supportbot", "status", "estado"),
    ("/kudos", "top month", "top mes"),
    ("/kudos", "top week", "ranking semana"),
    ("/kudos", "top", "clasificación"),
    ("/kudos", "help", "AYUDA"),
    ("/away", "list", "lista"),
    ("/away", "help", "ayuda"),
    ("/oneonone", "list", "lista"),
    ("/oneonone", "help", "ayuda"),
    ("/coach", "help", "ayuda"),
    ("/coach", "goals <@U0AGENT01|ana>", "objetivos <@U0AGENT01|ana>"),
    ("/standup", "help", "ayuda"),
    ("/standup", "timezone", "zona"),
    ("/standup", "status", "estado"),
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("command", "english", "spanish"), SAME_ANSWER)
def test_spanish_words_answer_like_english(rig: BotRig, language: str, command: str, english: str, spanish: str) -> None:
    rig.make_team(language=language)
    if command == "/kpis":
        seed(rig)
    if command == "/escalate":
        rig.command("/escalate", "urgent Checkout down for ACME", user=AGENT)
    if command == "/standup":
        for user in ("U0LEAD01", "U0LEAD02", "U0AGENT01", "U0AGENT02"):
            rig.standin.add_user(user)
        rig.command("/standup", "schedule mon-fri 09:30", user=LEAD, channel="C0ESCAL01")
    first = said(rig, command, english)
    second = said(rig, command, spanish)
    assert first == second
    assert "understand" not in first and "entendido" not in first and "Usage" not in first and "Uso:" not in first
    assert rig.standin.rejected() == [] and rig.standin.pings() == []


def test_issue_examples_answer_in_spanish(rig: BotRig) -> None:
    rig.make_team(language="es")
    seed(rig)
    for text in ("hoy", "ayer", "semana", "mes"):
        assert "KPIs · Tier1" in said(rig, "/kpis", text)
    assert "/kpis semana-pasada" in said(rig, "/kpis", "ayuda")
    assert "/supportbot equipo" in said(rig, "/supportbot", "ayuda")
    assert "Tier1" in said(rig, "/supportbot", "equipo")
    assert "Kudos de este mes" in said(rig, "/kudos", "top mes")
    assert "No he entendido" not in said(rig, "/away", "lista")


# ----- commands that change something: the same stored result --------------------------
def two_teams(rig: BotRig, language: str = "es") -> None:
    rig.make_team("Tier1", leaders=("U0LEAD01",), members=("U0AGENT01",), escalation_channel="C0ESCAL01", language=language)
    rig.make_team("Tier2", leaders=("U0LEAD02",), members=("U0AGENT02",), escalation_channel="C0ESCAL02", language=language)


def away_days(rig: BotRig, user: str) -> list[tuple[date, date, str | None]]:
    with rig.rt.transaction(readonly=True) as session:
        rows = session.exec(select(AwayPeriod).where(AwayPeriod.user_id == user)).all()
        return [(r.start_on, r.end_on, r.note) for r in rows]


@pytest.mark.parametrize(
    ("english", "spanish", "first", "last"),
    [
        ("tomorrow", "mañana", date(2026, 11, 24), date(2026, 11, 24)),
        ("tomorrow", "MANANA", date(2026, 11, 24), date(2026, 11, 24)),
        ("in 2 days", "pasado mañana", date(2026, 11, 25), date(2026, 11, 25)),
        ("friday", "el viernes", date(2026, 11, 27), date(2026, 11, 27)),
        ("next friday", "el próximo viernes", date(2026, 11, 27), date(2026, 11, 27)),
        ("dec 24", "24 dic", date(2026, 12, 24), date(2026, 12, 24)),
        ("12/24", "24/12", date(2026, 12, 24), date(2026, 12, 24)),
        ("dec 24-26", "del 24 al 26 de diciembre", date(2026, 12, 24), date(2026, 12, 26)),
        ("12/24..12/26", "24/12..26/12", date(2026, 12, 24), date(2026, 12, 26)),
        ("2026-12-24..2026-12-26", "2026-12-24..2026-12-26", date(2026, 12, 24), date(2026, 12, 26)),
    ],
)
def test_away_dates_in_words_both_languages(rig: BotRig, english: str, spanish: str, first: date, last: date) -> None:
    rig.make_team("Tier1", leaders=("U0LEAD01",), members=("U0AGENT01",), language="en")
    rig.make_team("Tier2", leaders=("U0LEAD02",), members=("U0AGENT02",), escalation_channel="C0ESCAL02", language="es")
    en_said = said(rig, "/away", f"{english} family trip", user="U0AGENT01")
    es_said = said(rig, "/away", f"{spanish} family trip", user="U0AGENT02")
    assert away_days(rig, "U0AGENT01") == [(first, last, "family trip")]
    assert away_days(rig, "U0AGENT02") == [(first, last, "family trip")]
    assert "You're away" in en_said and "Ausente" in es_said


def test_away_answer_repeats_the_days_in_words(rig: BotRig) -> None:
    two_teams(rig)
    assert "Ausente jue 24 dic – sáb 26 dic." in said(rig, "/away", "del 24 al 26 de diciembre", user="U0AGENT01")
    rig.make_team("Tier3", leaders=("U0LEAD03",), members=("U0AGENT03",), escalation_channel="C0ESCAL03", language="en")
    assert "You're away Thu, Dec 24 – Sat, Dec 26." in said(rig, "/away", "dec 24-26", user="U0AGENT03")
    # English numeric dates are month first, and an ambiguous one says so.
    assert "Thu, Mar 4, 2027 (read month first)" in said(rig, "/away", "3/4", user="U0AGENT03")
    assert "no es una fecha" in said(rig, "/away", "algún día", user="U0AGENT01")
    assert "Ausentes ahora o pronto" in said(rig, "/away", "lista", user="U0LEAD01")
    assert "quitado 1" in said(rig, "/away", "cancelar", user="U0AGENT01")


def schedule_row(rig: BotRig, team_name: str) -> StandupSchedule:
    from supportbot.storage.models import Team

    with rig.rt.transaction(readonly=True) as session:
        team = session.exec(select(Team).where(Team.name == team_name)).one()
        return session.exec(select(StandupSchedule).where(StandupSchedule.team_id == team.id)).one()


def test_standup_in_spanish_stores_what_english_stores(rig: BotRig) -> None:
    two_teams(rig)
    for user in ("U0LEAD01", "U0LEAD02", "U0AGENT01", "U0AGENT02"):
        rig.standin.add_user(user)
    said(rig, "/standup", "schedule mon,wed,fri 10:00 cutoff:90m", user="U0LEAD01")
    said(rig, "/standup", "programar lun,mié,vie 10:00 cierre:90m", user="U0LEAD02", channel="C0ESCAL02")
    one, two = schedule_row(rig, "Tier1"), schedule_row(rig, "Tier2")
    assert (one.days, one.time, one.cutoff_minutes) == (two.days, two.time, two.cutoff_minutes) == ("mon,wed,fri", "10:00", 90)
    said(rig, "/standup", "programar laborables 09:30", user="U0LEAD02", channel="C0ESCAL02")
    assert schedule_row(rig, "Tier2").days == "mon,tue,wed,thu,fri"
    said(rig, "/standup", "pause", user="U0LEAD01")
    said(rig, "/standup", "Pausar", user="U0LEAD02", channel="C0ESCAL02")
    assert schedule_row(rig, "Tier1").paused and schedule_row(rig, "Tier2").paused
    said(rig, "/standup", "resume", user="U0LEAD01")
    said(rig, "/standup", "reanudar", user="U0LEAD02", channel="C0ESCAL02")
    assert not schedule_row(rig, "Tier1").paused and not schedule_row(rig, "Tier2").paused
    assert "jue 24 dic" in said(rig, "/standup", "saltar 24 dic", user="U0LEAD02", channel="C0ESCAL02")
    said(rig, "/standup", "skip dec 24", user="U0LEAD01")
    assert schedule_row(rig, "Tier1").skip_days == schedule_row(rig, "Tier2").skip_days == ["2026-12-24"]
    assert "Lun" not in said(rig, "/standup", "ahora", user="U0LEAD02", channel="C0ESCAL02")
    assert "Europe/Madrid" in said(rig, "/standup", "zona Europe/Madrid", user="U0AGENT02")


def test_supportbot_members_in_spanish(rig: BotRig) -> None:
    rig.make_team(language="es")
    assert "ya es miembro" in said(rig, "/supportbot", "equipo añadir-miembro <@U0NEW0001|n>")
    assert "ya es miembro" in said(rig, "/supportbot", "Equipo anadir-miembro <@U0NEW0002|m>")
    assert "ya no es miembro" in said(rig, "/supportbot", "equipo quitar-miembro <@U0NEW0001|n> equipo:Tier1")
    assert "ya no es miembro" in said(rig, "/supportbot", "team remove-member <@U0NEW0002|m> team:Tier1")


def test_kudos_cap_in_spanish(rig: BotRig) -> None:
    rig.make_team(language="es")
    assert "7 kudos al día" in said(rig, "/kudos", "límite 7")
    assert "3 kudos al día" in said(rig, "/kudos", "limite 3 equipo:Tier1")


def test_oneonone_in_spanish_stores_what_english_stores(rig: BotRig) -> None:
    from supportbot.storage.oneonones import OneOnOne

    two_teams(rig)
    said(rig, "/oneonone", "<@U0AGENT01|a> biweekly thu 15:00 lead:1h", user="U0LEAD01")
    text = said(rig, "/oneonone", "<@U0AGENT02|b> quincenal jueves 15:00 aviso:1h", user="U0LEAD02")
    assert "jue" in text
    with rig.rt.transaction(readonly=True) as session:
        rows = sorted(session.exec(select(OneOnOne)).all(), key=lambda r: r.agent_id)
        assert [(r.cadence, r.weekday, r.time, r.lead_minutes) for r in rows] == [("biweekly", 3, "15:00", 60)] * 2
    assert "Añadido" in said(rig, "/oneonone", "tema Turno de fin de semana", user="U0AGENT02")
    assert "<@U0AGENT02>" in said(rig, "/oneonone", "cancelar <@U0AGENT02|b>", user="U0LEAD02")


def test_coach_goals_and_follow_ups_in_spanish(rig: BotRig) -> None:
    two_teams(rig)
    text = said(rig, "/coach", "objetivo <@U0AGENT02|b> csat >= 92 para el 31 de enero", user="U0LEAD02")
    assert "dom 31 ene" in text
    said(rig, "/coach", "goal <@U0AGENT01|a> csat >= 92 by jan 31", user="U0LEAD01")
    text = said(rig, "/coach", '<@U0AGENT02|b> Cerró con prisa #improvement seguimiento:viernes', user="U0LEAD02")
    assert "vie 27 nov" in text
    with rig.rt.transaction(readonly=True) as session:
        a = coaching_store.goals_of(session=session, team_id=1, agent_id="U0AGENT01")
        b = coaching_store.goals_of(session=session, team_id=2, agent_id="U0AGENT02")
        assert [(g.metric, g.op, g.target, g.due_on) for g in a] == [(g.metric, g.op, g.target, g.due_on) for g in b]
        assert b[0].due_on == date(2027, 1, 31)
    assert "cumplido" in said(rig, "/coach", f"hecho {b[0].id}", user="U0LEAD02")
    assert "Stand by" in said(rig, "/coach", 'goal <@U0AGENT01|a> "Stand by the customer" by next friday', user="U0LEAD01")


def test_coaching_tags_in_spanish(rig: BotRig) -> None:
    two_teams(rig)
    text = said(rig, "/coach", "<@U0AGENT02|b> Muy bien con el cliente #Elogio #mejora", user="U0LEAD02")
    assert "`#elogio` `#mejora`" in text
    said(rig, "/coach", "<@U0AGENT01|a> Great call #praise #improvement", user="U0LEAD01")
    with rig.rt.transaction(readonly=True) as session:
        a = coaching_store.notes_about(session=session, team_id=1, agent_id="U0AGENT01")
        b = coaching_store.notes_about(session=session, team_id=2, agent_id="U0AGENT02")
        assert [n.tags for n in a] == [n.tags for n in b] == [["praise", "improvement"]]
