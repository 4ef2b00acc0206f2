"""Property tests: whatever anyone types after any slash command, the bot answers privately
and clearly (or stores a record), never crashes, never pings anyone, and never sends Slack
something it would reject."""

from __future__ import annotations

import importlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.manifest import COMMANDS
from tests.rig import BotRig

# Which handlers module serves each command (a command is tested once its module exists).
MODULE_OF = {
    "/escalate": "escalations", "/kpis": "kpis", "/coach": "coaching", "/kudos": "kudos",
    "/standup": "standups", "/oneonone": "oneonones", "/away": "away", "/supportbot": "supportbot",
}
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
LIVE = [c for c, *_ in COMMANDS if importlib.util.find_spec(f"handlers.{MODULE_OF[c]}") is not None]


@pytest.mark.parametrize("command", LIVE)
@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=texts, user=st.sampled_from(["U0LEAD01", "U0AGENT01", "U0OUTSIDE"]))
def test_any_text_gets_a_clear_private_answer(rig: BotRig, standin, command: str, text: str, user: str) -> None:  # type: ignore[no-untyped-def]
    if not getattr(rig, "_team_made", False):
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


choice = st.one_of(st.none(), st.sampled_from(["urgent", "high", "normal", "low", "billing", "technical", "other", "fixed", "refund", "no_action"]), st.text(max_size=40))
who = st.one_of(st.none(), st.sampled_from(["U0AGENT01", "U0AGENT02", "U0LEAD01", "U0LEAD02", "U0OUTSIDE", "W0BAD"]), st.text(max_size=20))
when = st.one_of(st.none(), st.sampled_from(["2026-11-22", "2026-11-30", "2027-02-30", "yesterday"]), st.text(max_size=12))


def modal_cases() -> list[str]:
    live = []
    if importlib.util.find_spec("handlers.escalations"):
        live += ["escalation.create", "escalation.resolve_modal", "escalation.reassign_modal"]
    if importlib.util.find_spec("handlers.coaching"):
        live += ["coaching.note_modal"]
    return live


@pytest.mark.parametrize("callback_id", modal_cases())
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(a=field_text, b=field_text, c=field_text, d=field_text, sel1=choice, sel2=choice, person=who, day=when, meta=st.one_of(st.just("ok"), st.just(""), st.text(max_size=30)), user=st.sampled_from(["U0LEAD01", "U0AGENT01", "U0OUTSIDE"]))
def test_any_modal_input_gets_field_errors_or_a_record(rig: BotRig, standin, callback_id: str, a, b, c, d, sel1, sel2, person, day, meta, user) -> None:  # type: ignore[no-untyped-def]
    if not getattr(rig, "_team_made", False):
        rig.make_team()
        rig.command("/escalate", "high Seed case", user="U0AGENT02", channel="C0ESCAL01")
        rig._team_made = True  # type: ignore[attr-defined]
    if callback_id == "escalation.create":
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
