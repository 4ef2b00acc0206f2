"""`supportbot demo` without a browser: the sample workspace, the signed requests the page
turns into, and the time control, all through the real app on real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from supportbot.bot.cli import build_parser, main
from supportbot.bot.demo.server import Demo, _as_slack_text
from supportbot.bot.demo.signed import SlackRequests, sign
from supportbot.bot.demo.workspace import Msg


@pytest.fixture
def demo(database_url: str) -> Iterator[Demo]:
    running = Demo(port=0, database_url=database_url, pace_seconds=0).start()
    yield running
    running.stop()


def wait_for(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def messages(demo: Demo, channel: str, contains: str) -> list[Msg]:
    with demo.workspace.lock:
        return [m for m in demo.workspace.messages.values()
                if m.channel == channel and contains in json.dumps([m.text, m.blocks], ensure_ascii=False)]


def button(msg: Msg, action_id: str) -> dict[str, Any]:
    for block in msg.blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return {"type": "button", "action_id": action_id, "block_id": block.get("block_id", ""),
                        "value": element.get("value", ""), "text": element["text"]}
    raise AssertionError(f"no {action_id} button in {msg.text!r}")


def test_signature_is_what_slack_sdk_verifies() -> None:
    body = b"command=%2Fkpis&text=week"
    ts = int(time.time())
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(body, str(ts), sign("s3cret", ts, body))
    assert not verifier.is_valid(body, str(ts), sign("other", ts, body))


def test_typed_text_arrives_as_slack_escapes_it() -> None:
    assert _as_slack_text("@Carla Diaz & @dev <b> in #tier1 re #48213") == (
        "<@U0CARLA01|carla> &amp; <@U0DEV0001|dev> &lt;b&gt; in <#C0T1TEAM01|tier1> re #48213"
    )


def test_cli_registers_demo() -> None:
    args = build_parser().parse_args(["demo", "--port", "0"])
    assert args.port == 0 and args.database_url is None


def test_sample_workspace_shows_every_feature(demo: Demo) -> None:
    calls = demo.standin
    assert calls is not None
    # escalations in each state were posted to both teams' channels, and kudos too
    wait_for(lambda: messages(demo, "C0T1ESCAL1", "ESC-4") and messages(demo, "C0ESESCAL1", "ESC-8"))
    for state in ("Resolved", "Acknowledged", "Open"):
        assert messages(demo, "C0T1ESCAL1", state), state
    # kudos posts are paced like every post (one a second per channel), so they may come later
    wait_for(lambda: messages(demo, "C0T1DIGST1", "Kudos"), timeout=60)
    wait_for(lambda: messages(demo, "C0ESDIGST1", "Kudos para"), timeout=60)
    # /kpis reads the 90 days of imported tickets; /coach and /oneonone the seeded rows
    for line, expected in (("/kpis month", "CSAT"), ("/coach goals @Emma", "45"), ("/oneonone list", "<@U0CARLA01>")):
        assert demo.command("U0ALICE01", "C0T1TEAM01", line)["status"] == 200
        wait_for(lambda expected=expected: [m for m in messages(demo, "C0T1TEAM01", expected) if m.only_for == "U0ALICE01"])
    assert demo.command("U0LUCIA01", "C0ESTEAM01", "/kpis")["status"] == 200
    wait_for(lambda: [m for m in messages(demo, "C0ESTEAM01", "KPIs") if m.only_for == "U0LUCIA01"])
    assert calls.rejected() == [] and calls.pings() == []


def test_escalate_acknowledge_resolve_through_signed_requests(demo: Demo) -> None:
    assert demo.command("U0CARLA01", "C0T1TEAM01", "/escalate high Checkout fails for order #7788")["status"] == 200
    # the reporter's private answer; the channel post from the outbox
    wait_for(lambda: [m for m in messages(demo, "C0T1TEAM01", "ESC-") if m.only_for == "U0CARLA01"])
    post = wait_for(lambda: messages(demo, "C0T1ESCAL1", "Checkout fails"))[0]
    # someone in no team cannot acknowledge: a private answer, and the message is unchanged
    demo.click("U0NORA001", {"channel": post.channel, "ts": post.ts, "action": button(post, "escalation.ack")})
    wait_for(lambda: [m for m in demo.workspace.messages.values() if m.only_for == "U0NORA001"])
    assert post.edited == 0
    demo.click("U0ALICE01", {"channel": post.channel, "ts": post.ts, "action": button(post, "escalation.ack")})
    wait_for(lambda: post.edited and "Acknowledged" in json.dumps(post.blocks))
    demo.click("U0ALICE01", {"channel": post.channel, "ts": post.ts, "action": button(post, "escalation.resolve")})
    view = wait_for(lambda: (demo.workspace.modals.get("U0ALICE01") or [None])[-1])
    fixed = next(o for b in view["blocks"] if b.get("block_id") == "escalation.outcome" for o in b["element"]["options"] if o["value"] == "fixed")

    def state(note: str) -> dict[str, Any]:
        return {"values": {
            "escalation.outcome": {"value": {"type": "static_select", "selected_option": fixed}},
            "escalation.note": {"value": {"type": "plain_text_input", "value": note}},
        }}

    answer = demo.submit("U0ALICE01", view["id"], state("   "))
    assert answer["status"] == 200 and "escalation.note" in answer["errors"]
    assert demo.workspace.modals["U0ALICE01"], "the modal stays open with the error"
    answer = demo.submit("U0ALICE01", view["id"], state("Reset the customer's SSO link"))
    assert answer == {"status": 200, "errors": {}}
    assert demo.workspace.modals["U0ALICE01"] == []
    wait_for(lambda: "Resolved" in json.dumps(post.blocks))
    assert demo.standin is not None and demo.standin.rejected() == []


def test_requests_signed_with_another_secret_are_refused(demo: Demo) -> None:
    wrong = SlackRequests(events_url=demo.signed.events_url, signing_secret="not-the-secret",
                          workspace_id="T0TEST01", response_url_base=demo.signed.response_url_base)
    answer = wrong.command(user="U0ALICE01", user_name="alice", channel="C0T1TEAM01", channel_name="tier1",
                           command="/kpis", text="")
    assert answer.status == 401


def test_time_control_fires_the_digest_with_its_chart(demo: Demo) -> None:
    before = demo.clock.now()
    fired = demo.fire_next("digest")
    assert fired is not None and fired.at > before and demo.clock.now() >= fired.at
    assert fired.channel in ("C0T1DIGST1", "C0ESDIGST1")
    digest = wait_for(lambda: [m for m in messages(demo, fired.channel, "") if m.replies is not None and m.blocks and "KPI" in json.dumps(m.blocks)])
    chart = wait_for(lambda: [m for m in demo.workspace.messages.values() if m.files and m.channel == fired.channel], timeout=60)[0]
    assert chart.thread_ts in {m.ts for m in digest}
    assert demo.standin is not None
    assert demo.standin.uploads[chart.files[0]["id"]][:8] == b"\x89PNG\r\n\x1a\n"
    # the other firings have something to fire in the sample workspace
    # which team's stand-up comes first depends on the hour the demo clock started at
    # (its start is the real time): fire until Carla's, at most one per team
    for _ in range(3):
        fired = demo.fire_next("standup", "U0CARLA01")
        assert fired is not None
        if "U0CARLA01" in fired.people:
            break
        assert fired.channel != "D0CARLA01"  # not hers: the page shows the team's channel
    assert fired.channel == "D0CARLA01" and "U0CARLA01" in fired.people
    wait_for(lambda: demo.standin.dms("U0CARLA01"))
    for what in ("oneonone", "followup"):  # DMs to others: Nora (in no team) stays in her DM
        before = {uid: len(demo.standin.dms(uid)) for uid in ("U0ALICE01", "U0CARLA01", "U0LUCIA01", "U0MATEO01")}
        fired = demo.fire_next(what, "U0NORA001")
        assert fired is not None and fired.channel == "D0NORA001" and fired.people, what
        for uid in fired.people:
            wait_for(lambda uid=uid, before=before: len(demo.standin.dms(uid)) > before[uid])
    assert demo.fire_next("reescalation") is not None
    with pytest.raises(ValueError):
        demo.fire_next("lunch")


def test_home_tab_and_message_shortcut(demo: Demo) -> None:
    assert demo.open_home("U0LUCIA01")["status"] == 200
    home = wait_for(lambda: demo.workspace.home.get("U0LUCIA01"))
    assert "Soporte ES" in json.dumps(home, ensure_ascii=False)
    post = wait_for(lambda: messages(demo, "C0T1ESCAL1", "ESC-1"))[0]
    assert demo.shortcut("U0ALICE01", "coaching.log_note", post.channel, post.ts)["status"] == 200
    view = wait_for(lambda: (demo.workspace.modals.get("U0ALICE01") or [None])[-1])
    assert view["callback_id"].startswith("coaching.")


def test_a_taken_port_is_one_clear_error(demo: Demo, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.page_server is not None
    assert main(["demo", "--port", str(demo.page_server.port)]) == 2
    err = capsys.readouterr().err
    assert f"could not listen on 127.0.0.1:{demo.page_server.port}" in err and "Traceback" not in err
