"""Property tests: whatever anyone types after any slash command, the bot answers privately
and clearly (or stores a record), never crashes, never pings anyone, and never sends Slack
something it would reject."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select as sql_select

from supportbot.bot.manifest import COMMANDS
from tests.rig import BotRig

WORDS = [
    "help", "list", "team", "status", "add-member", "remove-member", "urgent", "high", "normal",
    "low", "today", "yesterday", "week", "last-week", "month", "last-month", "2026-11-23",
    "2026-02-30", "2026-11-01..2026-11-23", "target", "csat", "nps", ">=", "<=", "92", "by",
    "2027-01-31", "goal", "goals", "done", "top", "cap", "#praise", "#teamwork", "follow-up:2026-12-01",
    "schedule", "mon-fri", "09:30", "25:99", "questions", "pause", "resume", "skip", "now",
    "timezone", "Europe/Madrid", "Mars/Base", "weekly", "biweekly", "mon", "topic", "cancel",
    "ESC-1", "ESC-999999", "#12345", "https://help.example.com/t/1", "<@U0AGENT02|bo>",
    "<@U0LEAD01|lead>", "<@U0AGENT01|me>", "<#C0ESCAL01|esc>", "<!channel>", "<!here>",
    "<!everyone>", "<!subteam^S123|devs>", "*bold*", "_it_", "`code`", "```", "&amp;", "<", ">",
    "&", "\u0000", "\u202e", "\n", "\t", "💥", "ñandú", "x" * 3100, "team:Tier1", "team:Nope",
]
texts = st.one_of(
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.text(max_size=200),
    st.tuples(st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join), st.text(max_size=100)).map(" ".join),
    st.just("x" * 10_000),
    st.just(""),
)
LIVE = [c for c, *_ in COMMANDS]


@pytest.mark.parametrize("command", LIVE)
@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=texts, user=st.sampled_from(["U0LEAD01", "U0AGENT01", "U0OUTSIDE"]))
# What works (the stand-up and 1:1 commands' own forms, tried on every command) must too.
@example(text="schedule mon-fri 09:30 <#C0ESCAL01|esc> cutoff:90m", user="U0LEAD01")
@example(text="now", user="U0LEAD01")
@example(text="questions", user="U0LEAD01")
@example(text="<@U0AGENT02|bo> biweekly thu 15:00 lead:1h", user="U0LEAD01")
@example(text="topic <@U0AGENT02|bo> Career <!here> plan", user="U0LEAD01")
@example(text="cancel <@U0AGENT02|bo>", user="U0LEAD01")
@example(text="<@U0AGENT02|bo> 2026-12-01..2026-12-03 training <!channel>", user="U0LEAD01")
def test_any_text_gets_a_clear_private_answer(rig: BotRig, standin, command: str, text: str, user: str) -> None:  # type: ignore[no-untyped-def]
    if not getattr(rig, "_team_made", False):
        for uid in ("U0AGENT01", "U0AGENT02"):
            standin.add_user(uid)  # Slack knows the members (a stand-up reads their zones)
        rig.make_team()
        rig._team_made = True  # type: ignore[attr-defined]
    before = len(standin.responses)
    response = rig.command(command, text, user=user, channel="C0ESCAL01")
    rig.deliver()
    rig.settle()
    assert response.status_code == 200, response.text
    said = [response.text] + [json.dumps(r) for r in standin.responses[before:]]
    if response.text:
        body = response.json()
        assert body.get("response_type", "ephemeral") == "ephemeral"
    assert not any("error id" in s or "identificador de error" in s for s in said), said
    assert standin.rejected() == [], [(c.method, c.response) for c in standin.rejected()]
    assert standin.pings() == []
    assert all(not r["_problems"] for r in standin.responses)


# ----- modal fields -----------------------------------------------------------------------

field_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join),
    st.just("x" * 10_000),
    st.just(""),
    st.none(),
)


def select(value: str | None) -> dict:  # type: ignore[type-arg]
    option = {"text": {"type": "plain_text", "text": str(value)}, "value": value} if value is not None else None
    return {"type": "static_select", "selected_option": option}


def users(value: str | None) -> dict:  # type: ignore[type-arg]
    return {"type": "users_select", "selected_user": value}


def date_pick(value: str | None) -> dict:  # type: ignore[type-arg]
    return {"type": "datepicker", "selected_date": value}


def checks(values: list[str]) -> dict:  # type: ignore[type-arg]
    return {"type": "checkboxes", "selected_options": [{"value": v, "text": {"type": "plain_text", "text": v}} for v in values]}


choice = st.one_of(st.none(), st.sampled_from(["urgent", "high", "normal", "low", "billing", "technical", "other", "fixed", "refund", "no_action", "3", "0", "²", "1", "99999999999999999999"]), st.text(max_size=40))
who = st.one_of(st.none(), st.sampled_from(["U0AGENT01", "U0AGENT02", "U0LEAD01", "U0LEAD02", "U0OUTSIDE", "W0BAD"]), st.text(max_size=20))
when = st.one_of(st.none(), st.sampled_from(["2026-11-22", "2026-11-30", "2027-02-30", "yesterday"]), st.text(max_size=12))


MODALS = [
    "escalation.create", "escalation.resolve_modal", "escalation.reassign_modal",
    "coaching.note_modal", "standups.answer_modal", "standups.questions_modal",
    "oneonones.done_modal",
]


# Metadata ids that are not ids: the modal must still answer clearly.
bad_id = st.one_of(st.text(max_size=10), st.integers(), st.floats(), st.lists(st.integers(), max_size=2), st.booleans(), st.none())


def ritual_ids(rig: BotRig) -> dict[str, int]:
    """A 1:1 just reminded (LEAD01 with AGENT01, one open topic) and a stand-up started
    after it (AGENT01 is prompted): the ids their modals carry in private_metadata."""
    from supportbot.storage.models import Team
    from supportbot.storage.standups import StandupPrompt
    from tests.test_authorization import oneonone_reminded

    for uid in ("U0AGENT01", "U0AGENT02"):
        rig.standin.add_user(uid)
    meeting_id = oneonone_reminded(rig)  # the clock is now Tuesday 14:30
    rig.command("/standup", "schedule mon-fri 09:30", user="U0LEAD01", channel="C0ESCAL01")
    rig.command("/standup", "now", user="U0LEAD01", channel="C0ESCAL01")
    rig.deliver()
    with rig.rt.transaction(readonly=True) as session:
        return {
            "meeting_id": meeting_id,
            "prompt_id": session.exec(sql_select(StandupPrompt.id).where(StandupPrompt.user_id == "U0AGENT01")).one() or 0,
            "team_id": session.exec(sql_select(Team.id).where(Team.name == "Tier1")).one() or 0,
        }


@pytest.mark.parametrize("callback_id", MODALS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(a=field_text, b=field_text, c=field_text, d=field_text, sel1=choice, sel2=choice, person=who, day=when, meta=st.one_of(st.just("ok"), st.just(""), st.just("bad-id"), st.text(max_size=30)), bad=bad_id, user=st.sampled_from(["U0LEAD01", "U0AGENT01", "U0OUTSIDE"]))
def test_any_modal_input_gets_field_errors_or_a_record(rig: BotRig, standin, callback_id: str, a, b, c, d, sel1, sel2, person, day, meta, bad, user) -> None:  # type: ignore[no-untyped-def]
    if not getattr(rig, "_team_made", False):
        rig.make_team()
        rig.command("/escalate", "high Seed case", user="U0AGENT02", channel="C0ESCAL01")
        rig._ritual = ritual_ids(rig) if callback_id.startswith(("standups.", "oneonones.")) else {}  # type: ignore[attr-defined]
        rig._team_made = True  # type: ignore[attr-defined]
    ids: dict[str, int] = rig._ritual  # type: ignore[attr-defined]
    if callback_id.startswith(("standups.", "oneonones.")):
        key = {"standups.answer_modal": "prompt_id", "standups.questions_modal": "team_id", "oneonones.done_modal": "meeting_id"}[callback_id]
        metadata = {key: ids[key]} if meta == "ok" else {key: bad} if meta == "bad-id" else meta
    if callback_id == "standups.answer_modal":
        values = {"standups.q0": a, "standups.q1": b, "standups.blocker": c, "standups.mood": select(sel1)}
    elif callback_id == "standups.questions_modal":
        values = {"standups.questions": a, "standups.blocker_question": b}
    elif callback_id == "oneonones.done_modal":
        values = {"oneonones.notes": a, "oneonones.discussed": checks([x for x in (sel1, str(ids["meeting_id"])) if x]),
                  "oneonones.actions_done": checks([x for x in (sel2,) if x]), "oneonones.action_text": b,
                  "oneonones.action_owner": select(person), "oneonones.action_due": date_pick(day)}
    elif callback_id == "escalation.create":
        values = {"escalation.summary": a, "escalation.customer": b, "escalation.ticket": c, "escalation.tried": d, "escalation.severity": select(sel1), "escalation.category": select(sel2)}
        metadata = {"team": 1} if meta == "ok" else meta
    elif callback_id == "escalation.resolve_modal":
        values = {"escalation.note": a, "escalation.outcome": select(sel1)}
        metadata = {"id": 1} if meta == "ok" else meta
    elif callback_id == "escalation.reassign_modal":
        values = {"escalation.user": users(person)}
        metadata = {"id": 1} if meta == "ok" else meta
    else:
        values = {"coaching.agent": users(person), "coaching.note": a, "coaching.link": b, "coaching.tags": checks([x for x in (sel1, sel2) if x]), "coaching.follow_up": date_pick(day)}
        metadata = meta
    values = {k: v for k, v in values.items() if v is not None}
    response = rig.submit(callback_id, values, user=user, private_metadata=metadata)
    rig.deliver()
    assert response.status_code == 200
    if response.text:
        body = response.json()
        assert body.get("response_action") in ("errors", "update", "clear", None), body
        if body.get("response_action") == "errors":
            assert body["errors"] and all(isinstance(v, str) and v for v in body["errors"].values())
        assert "error id" not in response.text
    assert standin.rejected() == [], [(c.method, c.response) for c in standin.rejected()]
    assert standin.pings() == []
