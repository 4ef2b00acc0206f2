"""`/escalate` when nobody acknowledges: re-escalation along the chain, reminders, overdue,
away leaders, and replicas scanning at once."""

from __future__ import annotations

import threading

from supportbot.bot import escalations as policy
from supportbot.bot.standin.slack import SlackStandIn
from supportbot.handlers.escalations import Id
from tests.rig import BotRig
from tests.test_escalations import actions, esc, make_one


def thread_texts(standin: SlackStandIn, ts: str | None) -> list[str]:
    return [p.args["text"] for p in standin.posts("C0ESCAL01") if p.args.get("thread_ts") == ts]


def test_reescalation_walks_the_chain_then_rounds_then_overdue(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(settings={"max_rounds": 2})
    rig.command("/escalate", "urgent Checkout down for ACME", user="U0AGENT01")
    row = esc(rig)
    assert policy.check_deadlines(rig.rt) == 0  # not due yet
    rig.clock.advance(minutes=4, seconds=59)
    assert policy.check_deadlines(rig.rt) == 0

    rig.clock.advance(seconds=1)
    assert policy.check_deadlines(rig.rt) == 1
    assert policy.check_deadlines(rig.rt) == 0  # the same step never twice
    rig.deliver()
    assert len(standin.dms("U0LEAD02")) == 1 and len(standin.dms("U0LEAD01")) == 1
    [note] = thread_texts(standin, row.message_ts)
    assert "<@U0LEAD02>" in note and "5m" in note
    assert esc(rig).overdue is True
    assert len(standin.ok_calls("chat.update")) == 1  # the message now shows it is overdue
    assert "Overdue" in standin.ok_calls("chat.update")[0].text_everywhere()

    for round_no in (1, 2):
        rig.clock.advance(minutes=5)
        assert policy.check_deadlines(rig.rt) == 1
        rig.deliver()
        assert f"round {round_no} of 2" in thread_texts(standin, row.message_ts)[-1]
    assert len(standin.dms("U0LEAD01")) == 3 and len(standin.dms("U0LEAD02")) == 3

    rig.clock.advance(minutes=5)
    assert policy.check_deadlines(rig.rt) == 1
    rig.deliver()
    assert "marked overdue" in thread_texts(standin, row.message_ts)[-1]
    after = esc(rig)
    assert after.overdue and after.ack_deadline_at is None and after.status == "open"
    rig.clock.advance(hours=5)
    assert policy.check_deadlines(rig.rt) == 0
    assert len(thread_texts(standin, row.message_ts)) == 4
    assert actions(rig) == ["created", "re_escalated", "reminded", "reminded", "overdue"]
    # Still acknowledgeable; the overdue mark stays.
    rig.click(Id.ACK, {"id": row.id}, user="U0LEAD01")
    assert esc(rig).status == "acknowledged" and esc(rig).overdue
    assert standin.rejected() == []


def test_acknowledged_escalation_is_not_reescalated(rig: BotRig, standin: SlackStandIn) -> None:
    row = make_one(rig)
    rig.click(Id.ACK, {"id": row.id}, user="U0LEAD01")
    rig.clock.advance(hours=1)
    assert policy.check_deadlines(rig.rt) == 0
    rig.deliver()
    assert standin.dms("U0LEAD02") == []


def test_reescalation_alert_is_dropped_when_acknowledged_before_delivery(rig: BotRig, standin: SlackStandIn) -> None:
    row = make_one(rig)
    rig.clock.advance(minutes=5)
    standin.fail("chat.postMessage", "internal_error", times=2)  # the DM and the thread note
    assert policy.check_deadlines(rig.rt) == 1
    rig.click(Id.ACK, {"id": row.id}, user="U0LEAD01")
    rig.clock.advance(minutes=1)
    rig.deliver()
    assert standin.dms("U0LEAD02") == []


def test_two_replicas_scanning_at_once_take_each_step_once(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    for n in range(3):
        rig.command("/escalate", f"urgent Problem {n}", user="U0AGENT01")
    rig.clock.advance(minutes=5)
    done: list[int] = []
    threads = [threading.Thread(target=lambda: done.append(policy.check_deadlines(rig.rt))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(done) == 3
    rig.deliver()
    assert len(standin.dms("U0LEAD02")) == 3


def test_away_leader_is_skipped(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team(leaders=("U0LEAD01", "U0LEAD02", "U0LEAD03"))
    rig.command("/away", "2026-11-23..2026-11-25 conference", user="U0LEAD01")
    rig.command("/away", "<@U0LEAD02|l2> 2026-11-23 sick", user="U0LEAD01")
    rig.command("/escalate", "urgent Cannot refund", user="U0AGENT01")
    rig.deliver()
    assert standin.dms("U0LEAD01") == [] and len(standin.dms("U0LEAD03")) == 1
    rig.clock.advance(minutes=5)
    policy.check_deadlines(rig.rt)
    rig.deliver()
    assert len(standin.dms("U0LEAD03")) == 2  # round 1: only the leader who is here
    assert standin.dms("U0LEAD01") == [] and standin.dms("U0LEAD02") == []


def test_leader_back_from_away_is_in_the_chain_again(rig: BotRig, standin: SlackStandIn) -> None:
    rig.make_team()
    rig.command("/away", "2026-11-23 dentist", user="U0LEAD01")
    rig.command("/escalate", "urgent Cannot refund", user="U0AGENT01")
    rig.deliver()
    assert standin.dms("U0LEAD01") == [] and len(standin.dms("U0LEAD02")) == 1
    rig.clock.advance(days=1)
    rig.command("/escalate", "urgent Another one", user="U0AGENT01")
    rig.deliver()
    assert len(standin.dms("U0LEAD01")) == 1


def test_jobs_are_installed(rig: BotRig) -> None:
    from supportbot.bot.scheduler import Scheduler

    scheduler = Scheduler(rig.clock)
    policy.install_jobs(scheduler, rig.rt)
    assert "escalations.deadlines" in scheduler.job_ids()


