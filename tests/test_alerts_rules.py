"""The alert rules on their own: when a spike is "far above", how a flagged ticket ends,
and the settings' parsing (the rig tests show the same through Slack)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from supportbot.bot import alerts
from supportbot.bot.errors import InvalidInput
from supportbot.storage import alerts as store

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def check(value: int, baseline: list[int], min_extra: int = 5) -> alerts.SpikeCheck:
    import statistics

    mean, sd = statistics.fmean(baseline), statistics.pstdev(baseline)
    return alerts.SpikeCheck("new", value, baseline, mean, sd, mean + 3 * sd, min_extra)


def test_far_above_needs_both_the_line_and_the_minimum_extra() -> None:
    assert check(10, [2, 2, 2, 2]).far_above  # line 2, 8 above the mean
    assert not check(6, [2, 2, 2, 2]).far_above  # over the line but only 4 above the mean
    assert check(6, [2, 2, 2, 2], min_extra=4).far_above
    # mean 4, sd 1.41: line 8.24
    assert not check(8, [2, 4, 6, 4]).far_above
    assert check(9, [2, 4, 6, 4]).far_above
    assert check(5, [0, 0, 0, 0]).far_above and not check(4, [0, 0, 0, 0]).far_above


def flagged(target: int = 60) -> store.SlaAlertTicket:
    return store.SlaAlertTicket(
        workspace_id="T1", team_id=1, post_id=1, ticket_row_id=1, ticket_ref="1",
        ticket_created_at=T0, target_minutes=target, flagged_at=T0 + timedelta(minutes=50),
    )


def ticket(**kw: object) -> SimpleNamespace:
    base = {"frt_seconds": None, "first_response_at": None, "solved_at": None, "status": "open", "created_at": T0}
    return SimpleNamespace(**{**base, **kw})


@pytest.mark.parametrize(
    ("state", "now_minutes", "expected"),
    [
        (ticket(), 55, None),
        (ticket(), 60, (store.BREACHED, None)),
        (ticket(frt_seconds=3000), 55, (store.ANSWERED, 3000)),
        (ticket(frt_seconds=3600), 70, (store.ANSWERED, 3600)),  # exactly on target counts as met
        (ticket(frt_seconds=3700), 70, (store.BREACHED, 3700)),
        (ticket(first_response_at=T0 + timedelta(minutes=58)), 65, (store.ANSWERED, 3480)),
        (ticket(status="Closed"), 55, (store.SOLVED, None)),
        (ticket(solved_at=T0 + timedelta(minutes=59)), 90, (store.SOLVED, None)),
        (ticket(solved_at=T0 + timedelta(minutes=61)), 90, (store.BREACHED, None)),
        (None, 55, (store.REMOVED, None)),
    ],
)
def test_how_a_flagged_ticket_ends(state: object, now_minutes: int, expected: object) -> None:
    assert alerts.outcome_of(flagged(), state, T0 + timedelta(minutes=now_minutes)) == expected


def test_settings_parsing() -> None:
    assert alerts.parse_alert_kinds("sla,spikes") == ["sla", "spikes"]
    assert alerts.parse_alert_kinds(" Spikes , sla ") == ["sla", "spikes"]
    assert alerts.parse_alert_kinds("none") == []
    for bad in ("", "sla,none", "slas", "all"):
        with pytest.raises(InvalidInput):
            alerts.parse_alert_kinds(bad)
    assert alerts.check_share(100) == 100
    for bad_share in (0, 101, -5):
        with pytest.raises(InvalidInput):
            alerts.check_share(bad_share)
