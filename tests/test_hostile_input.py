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
