"""The App Home tab is published when a user opens it, in their team's language."""

from __future__ import annotations

import json

from tests.rig import BotRig


def test_home_tab_published_with_teams(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    rig.make_team(language="es")
    rig.event({"type": "app_home_opened", "user": "U0AGENT01", "channel": "D0AGENT01", "tab": "home", "event_ts": "1.2"})
    view = standin.home["U0AGENT01"]
    text = json.dumps(view, ensure_ascii=False)
    assert "Tus equipos" in text and "Tier1" in text
    assert standin.rejected() == []


def test_messages_tab_does_not_publish(rig: BotRig, standin) -> None:  # type: ignore[no-untyped-def]
    rig.event({"type": "app_home_opened", "user": "U0AGENT01", "channel": "D0AGENT01", "tab": "messages", "event_ts": "1.3"})
    assert standin.home == {}
