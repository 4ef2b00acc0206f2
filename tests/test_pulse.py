"""`/pulse` through the rig: schedule and open, DMs with a button and a modal, answering
and changing an answer, the reminder, results only from the fifth answer, the weekly
post, the trend with stand-up moods, and the leader's alerts. In English and Spanish."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from supportbot.bot import pulse
from supportbot.bot.standin.slack import SlackStandIn
from supportbot.storage import pulse as store
from supportbot.storage.standups import StandupPrompt, StandupRun
from tests.rig import BotRig

MEMBERS = ("U0AGENT01", "U0AGENT02", "U0AGENT03", "U0AGENT04", "U0AGENT05", "U0AGENT06")
LEAD = "U0LEAD01"


def said(response: Any) -> str:
    body = response.json()
    return body.get("text", "") + json.dumps(body.get("blocks") or [], ensure_ascii=False)


def clean(standin: SlackStandIn) -> None:
    assert standin.rejected() == [] and standin.pings() == []


def buttons(standin: SlackStandIn, user: str) -> list[dict[str, Any]]:
    """The pulse buttons' values in the user's DMs, oldest first."""
    out = []
    for call in standin.dms(user):
        for block in call.args.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("action_id") == "pulse.answer":
                    out.append(json.loads(element["value"]))
    return out


def sel(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def answer(rig: BotRig, user: str, button: dict[str, Any], *, mood: str = "4", workload: str = "3", enps: str = "9", comment: str = "") -> Any:
    rig.click("pulse.answer", button, user=user, channel=None)
    return rig.submit(
        "pulse.answer_modal",
        {"pulse.mood": sel(mood), "pulse.workload": sel(workload), "pulse.enps": sel(enps), "pulse.comment": comment},
        user=user,
        private_metadata={"p": button["p"], "k": button["k"]},
    )


def run_check(rig: BotRig) -> None:
    pulse.check(rig.rt)
    rig.deliver()


def open_now(rig: BotRig, lead: str = LEAD) -> str:
    text = said(rig.command("/pulse", "now", user=lead))
    rig.deliver()
    return text


def close_current(rig: BotRig) -> None:
    rig.clock.advance(hours=49)
    run_check(rig)


def test_pulse_end_to_end_in_english(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(members=MEMBERS)
    text = said(rig.command("/pulse", "schedule FRI 15:00", user=LEAD))
    assert "*fri* at *15:00* (UTC)" in text and "48 hours" in text
    # Friday 2026-11-27 15:00 UTC: the minute scan opens it, once
    rig.clock.set(datetime(2026, 11, 27, 15, 0, 30, tzinfo=UTC))
    run_check(rig)
    run_check(rig)
    for member in MEMBERS:
        assert len(buttons(standin, member)) == 1
    assert buttons(standin, LEAD) == []
    dm = standin.dms("U0AGENT01")[0].text_everywhere()
    assert "Team pulse for Tier1" in dm and "Sun 15:00" in dm
    # the modal asks the four questions
    first = buttons(standin, "U0AGENT01")[0]
    rig.click("pulse.answer", first, user="U0AGENT01", channel=None)
    modal = standin.ok_calls("views.open")[-1].args["view"]
    shown = json.dumps(modal, ensure_ascii=False)
    assert "recommend working in this team to a friend" in shown and "far too much" in shown
    assert len(modal["blocks"]) == 5
    # answers: thank-you modal, status counts but no figures while open
    for i, member in enumerate(MEMBERS[:5]):
        reply = answer(rig, member, buttons(standin, member)[0], mood=str(i % 5 + 1), workload="4", enps=str(5 + i), comment=f"note {i} <!here>" if i < 2 else "")
        assert reply.json()["response_action"] == "update"
        assert "Thanks! Your answer is in" in json.dumps(reply.json())
    status = said(rig.command("/pulse", "status", user=LEAD))
    assert "5 of 6 answered" in status and "Every *fri* at *15:00*" in status
    assert "Mood *" not in said(rig.command("/pulse", "results", user=LEAD))
    # one reminder, after a day, only to who has not answered
    rig.clock.advance(hours=24, minutes=1)
    run_check(rig)
    run_check(rig)
    assert len(buttons(standin, "U0AGENT06")) == 2
    assert len(buttons(standin, "U0AGENT01")) == 1
    assert "Reminder" in standin.dms("U0AGENT06")[-1].text_everywhere()
    # closing: the weekly post with results, buttons taken out of the DMs
    close_current(rig)
    [post] = standin.posts("C0DIGEST1")
    body = post.text_everywhere()
    assert "Team pulse: Tier1, week of Mon, Nov 23" in body
    assert "Mood *3.0/5*" in body and "Workload *4.0/5*" in body and "eNPS *-20*" in body
    assert "5 of 6 answered" in body and "note 0 &lt;!here&gt;" in body and "note 1" in body
    updates = [c for c in standin.ok_calls("chat.update") if "has closed" in c.text_everywhere()]
    assert len(updates) == 7  # six invitations and one reminder
    # results with the trend
    results = said(rig.command("/pulse", "results 2", user=LEAD))
    assert "Week of Mon, Nov 23" in results and "eNPS *-20*" in results and "Comments" in results
    # answering after the close is refused, privately
    late = answer(rig, "U0AGENT06", buttons(standin, "U0AGENT06")[0])
    assert "has closed" in json.dumps(late.json())
    clean(standin)


def test_results_only_from_the_fifth_answer(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(members=MEMBERS)
    assert "Pulse sent to 6 members" in open_now(rig)
    for member in MEMBERS[:4]:
        answer(rig, member, buttons(standin, member)[0], workload="2", comment="secret four")
    close_current(rig)
    body = standin.posts("C0DIGEST1")[-1].text_everywhere()
    assert "4 of 6 answered: results show from 5 answers" in body
    assert "secret four" not in body and "Workload *" not in body
    results = said(rig.command("/pulse", "results", user=LEAD))
    assert "4 of 6 answered: results show from 5 answers" in results and "secret four" not in results
    # the next week, the fifth answer makes the results appear
    rig.clock.advance(days=5)
    open_now(rig)
    for member in MEMBERS[:5]:
        answer(rig, member, buttons(standin, member)[-1], workload="4")
    close_current(rig)
    body = standin.posts("C0DIGEST1")[-1].text_everywhere()
    assert "Workload *4.0/5*" in body and "5 of 6 answered" in body
    clean(standin)


def test_a_team_may_raise_the_threshold_never_lower_it(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(members=MEMBERS)
    assert "at least 5" in said(rig.command("/pulse", "threshold 3", user=LEAD))
    assert "from 6 answers" in said(rig.command("/pulse", "threshold 6", user=LEAD))
    open_now(rig)
    for member in MEMBERS[:5]:
        answer(rig, member, buttons(standin, member)[0])
    close_current(rig)
    assert "5 of 6 answered: results show from 6 answers" in standin.posts("C0DIGEST1")[-1].text_everywhere()
    clean(standin)


def test_changing_an_answer_needs_the_same_button(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(members=MEMBERS)
    open_now(rig)
    button = buttons(standin, "U0AGENT01")[0]
    answer(rig, "U0AGENT01", button, mood="1", comment="first try")
    # the same button opens the modal with the answer filled in, and changes it
    rig.click("pulse.answer", button, user="U0AGENT01", channel=None)
    reopened = json.dumps(standin.ok_calls("views.open")[-1].args["view"])
    assert "first try" in reopened
    changed = answer(rig, "U0AGENT01", button, mood="5", comment="second thoughts")
    assert "Your answer is updated" in json.dumps(changed.json())
    # someone else cannot use it, and a second key cannot add a second answer
    stolen = answer(rig, "U0AGENT02", button, mood="1")
    assert "already answered" not in json.dumps(stolen.json())
    rig.clock.advance(hours=24, minutes=1)
    run_check(rig)
    assert len(buttons(standin, "U0AGENT01")) == 1  # answered: no reminder
    with rig.rt.transaction(readonly=True) as session:
        answers = store.answers_of(session=session, pulse_id=1)
    assert sorted((a.mood, a.comment) for a in answers) == [(1, None), (5, "second thoughts")]
    # tampered or missing keys
    forged = answer(rig, "U0AGENT03", {"p": 1, "k": "x" * 22})
    assert forged.json()["response_action"] == "update"  # a fresh key just counts as theirs
    again = answer(rig, "U0AGENT03", buttons(standin, "U0AGENT03")[0])
    assert "already answered" in json.dumps(again.json())
    outsider = answer(rig, "U0OUTSIDE", buttons(standin, "U0AGENT04")[0])
    assert "wasn't sent to you" in json.dumps(outsider.json())
    rig.click("pulse.answer", {"p": 1, "k": "<bad>"}, user="U0AGENT04", channel=None)
    assert any("no longer works" in json.dumps(c.args) for c in standin.posts("U0AGENT04"))
    clean(standin)


def test_leaders_only_usage_and_pause(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(members=MEMBERS)
    assert "don't lead" in said(rig.command("/pulse", "now", user="U0AGENT01")).lower() or "lead" in said(rig.command("/pulse", "now", user="U0AGENT02"))
    assert "/pulse schedule fri 15:00" in said(rig.command("/pulse", "sometimes", user=LEAD))
    assert "can't read the days" in said(rig.command("/pulse", "schedule funday 15:00", user=LEAD))
    assert "no pulse schedule" in said(rig.command("/pulse", "pause", user=LEAD))
    assert "from 1 to 12" in said(rig.command("/pulse", "results 99", user=LEAD))
    rig.command("/pulse", "schedule mon,thu 9:05", user=LEAD)
    assert "paused" in said(rig.command("/pulse", "pause", user=LEAD))
    rig.clock.set(datetime(2026, 11, 26, 9, 5, 10, tzinfo=UTC))  # a Thursday
    run_check(rig)
    assert standin.dms("U0AGENT01") == []
    assert "back on" in said(rig.command("/pulse", "resume", user=LEAD))
    rig.clock.set(datetime(2026, 11, 30, 9, 6, tzinfo=UTC))  # Monday
    run_check(rig)
    assert len(buttons(standin, "U0AGENT01")) == 1
    assert "already has a pulse open" in said(rig.command("/pulse", "now", user=LEAD))
    assert "Anonymous team pulse" in said(rig.command("/pulse", "help", user="U0AGENT01"))
    clean(standin)


def test_questions_modal_rewords_the_next_pulse(rig: BotRig, standin: SlackStandIn) -> None:
    team = rig.make_team(members=MEMBERS)
    rig.command("/pulse", "questions", user=LEAD)
    modal = standin.ok_calls("views.open")[-1].args["view"]
    assert modal["callback_id"] == "pulse.questions_modal"
    reply = rig.submit("pulse.questions_modal", {"pulse.q_mood": "How's the <!channel> vibe?", "pulse.q_enps": "x" * 151}, user=LEAD, private_metadata={"team_id": team.id})
    assert "pulse.q_enps" in reply.json()["errors"]
    rig.submit("pulse.questions_modal", {"pulse.q_mood": "How's the <!channel> vibe?"}, user=LEAD, private_metadata={"team_id": team.id})
    open_now(rig)
    rig.click("pulse.answer", buttons(standin, "U0AGENT01")[0], user="U0AGENT01", channel=None)
    shown = json.dumps(standin.ok_calls("views.open")[-1].args["view"])
    assert "How's the !channel vibe?" in shown and "How was your workload" in shown
    clean(standin)


def test_spanish_words_and_texts(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(members=MEMBERS, language="es", timezone="Europe/Madrid")
    assert "*vie* a las *15:00* (Europe/Madrid)" in said(rig.command("/pulse", "programar Viernes 15:00", user=LEAD))
    assert "*lun,mar,mié,jue,vie*" in said(rig.command("/pulse", "programar lun-vie 15:00", user=LEAD))
    assert "*mié*" in said(rig.command("/pulse", "schedule miércoles 15:00 equipo:Tier1", user=LEAD))
    assert "Cada *mié* a las *15:00*" in said(rig.command("/pulse", "Estado", user=LEAD))
    assert "en pausa" in said(rig.command("/pulse", "PAUSA", user=LEAD))
    assert "vuelve a estar activo" in said(rig.command("/pulse", "reanudar", user=LEAD))
    assert "Pulso enviado a 6 miembros" in said(rig.command("/pulse", "Ahora", user=LEAD))
    rig.deliver()
    dm = standin.dms("U0AGENT01")[0].text_everywhere()
    assert "Pulso del equipo Tier1" in dm and "Abierto hasta el mié 11:00 (Europe/Madrid)" in dm
    rig.click("pulse.answer", buttons(standin, "U0AGENT01")[0], user="U0AGENT01", channel=None)
    assert "recomiendes trabajar en este equipo" in json.dumps(standin.ok_calls("views.open")[-1].args["view"], ensure_ascii=False)
    for member in MEMBERS:
        reply = answer(rig, member, buttons(standin, member)[0], enps="10", comment="¡genial!")
        assert "¡Gracias!" in json.dumps(reply.json(), ensure_ascii=False)
    close_current(rig)
    body = standin.posts("C0DIGEST1")[-1].text_everywhere()
    assert "Pulso del equipo: Tier1" in body and "eNPS *+100*" in body and "6 de 6 han respondido" in body
    results = said(rig.command("/pulse", "resultados 2", user=LEAD))
    assert "Semana del lun 23 nov" in results and "Ánimo *4,0/5*" in results and "4.0" not in results
    assert "Preguntas del pulso" not in results
    rig.command("/pulse", "preguntas", user=LEAD)
    assert "Preguntas del pulso" in json.dumps(standin.ok_calls("views.open")[-1].args["view"], ensure_ascii=False)
    assert "Pulso anónimo del equipo" in said(rig.command("/pulse", "ayuda", user=LEAD))
    assert "No te he entendido" in said(rig.command("/pulse", "quizás", user=LEAD))
    clean(standin)


def add_standup_moods(rig: BotRig, team_id: int, day: date, moods: dict[str, int]) -> None:
    """Stand-up answers with a mood, as if from an earlier schedule of the team."""
    with rig.rt.transaction() as session:
        run = StandupRun(workspace_id="T0TEST01", schedule_id=990 + day.day, team_id=team_id, day=day, channel_id="C0DIGEST1", closes_at=rig.clock.now(), created_at=rig.clock.now())
        session.add(run)
        session.flush()
        for user, mood in moods.items():
            session.add(StandupPrompt(workspace_id="T0TEST01", run_id=run.id or 0, user_id=user, prompted_at=rig.clock.now(), remind_at=rig.clock.now(), cutoff_at=rig.clock.now(), mood=mood, answered_at=rig.clock.now()))


def test_trend_alerts_and_standup_mood(rig: BotRig, standin: SlackStandIn) -> None:
    team = rig.make_team(members=MEMBERS)
    add_standup_moods(rig, team.id or 0, date(2026, 11, 24), {m: 5 for m in MEMBERS})
    # three weekly pulses: workload 2 -> 3 -> 4, eNPS +100 -> +100 -> -100
    for workload, enps in (("2", "10"), ("3", "10"), ("4", "0")):
        open_now(rig)
        for member in MEMBERS[:5]:
            answer(rig, member, buttons(standin, member)[-1], workload=workload, enps=enps)
        close_current(rig)
        rig.clock.advance(days=5)
    # the first week's post carries its stand-up mood
    assert "Stand-up mood *5.0/5* (6 people)" in standin.posts("C0DIGEST1")[0].text_everywhere()
    alerts = [c.text_everywhere() for c in standin.dms(LEAD)] + [c.text_everywhere() for c in standin.dms("U0LEAD02")]
    assert len(alerts) == 2
    assert "Workload has risen two pulses in a row: 2.0/5 → 3.0/5 → 4.0/5" in alerts[0]
    assert "+100 → -100" in alerts[0]
    # stand-up moods: 4 people in one week stay hidden, 5 people show, with the change
    add_standup_moods(rig, team.id or 0, date(2026, 12, 15), {m: 2 for m in MEMBERS[:4]})
    add_standup_moods(rig, team.id or 0, date(2026, 12, 1), {m: 3 for m in MEMBERS[:5]})
    add_standup_moods(rig, team.id or 0, date(2026, 12, 9), {m: 4 for m in MEMBERS[:5]})
    results = said(rig.command("/pulse", "results 4", user=LEAD))
    assert "Stand-up mood: 4 people gave one, shown from 5" in results
    assert "Stand-up mood *3.0/5* (5 people)" in results
    assert "Stand-up mood *4.0/5* (5 people) (▲ +1.0)" in results
    assert "Workload *4.0/5* (▲ +1.0)" in results and "eNPS *-100* (▼ -200)" in results
    clean(standin)


def test_week_of_uses_the_team_zone() -> None:
    # Monday 00:30 in Tokyo is still Sunday in UTC
    assert pulse.week_of(datetime(2026, 11, 22, 15, 30, tzinfo=UTC), "Asia/Tokyo") == date(2026, 11, 23)
    assert pulse.enps_of([10, 9, 8, 6, 0]) == 0.0
    assert pulse.parse_days("Sábado,DOM") == [5, 6]
    assert timedelta(hours=pulse.DEFAULT_OPEN_HOURS) == timedelta(days=2)
