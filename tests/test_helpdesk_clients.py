"""The helpdesk clients against the stand-ins of Zendesk's and Freshdesk's APIs:
pagination, cursors and their expiry, rate limits (pacing, 429 + Retry-After), auth
failures, side-loads. Time is a fake clock shared by stand-in and client: waiting is
advancing it, so no test sleeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from supportbot.bot.helpdesk.freshdesk import FreshdeskClient
from supportbot.bot.helpdesk.http import AuthFailed
from supportbot.bot.helpdesk.zendesk import CursorExpired, ZendeskClient
from supportbot.bot.standin.freshdesk import API_KEY, FreshdeskStandIn
from supportbot.bot.standin.zendesk import EMAIL, TOKEN, ZendeskStandIn

T0 = 1_795_000_000.0  # 2026-11-18, a fixed "now" for the stand-ins


class FakeTime:
    """Wall and monotonic time in one: `sleep` advances it and is recorded."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def zendesk(fake: FakeTime) -> Iterator[ZendeskStandIn]:
    server = ZendeskStandIn(clock=fake.time).start()
    yield server
    server.stop()


@pytest.fixture
def freshdesk(fake: FakeTime) -> Iterator[FreshdeskStandIn]:
    server = FreshdeskStandIn(clock=fake.time, rate_limit=5).start()
    yield server
    server.stop()


def zclient(standin: ZendeskStandIn, fake: FakeTime, **kw) -> ZendeskClient:  # type: ignore[no-untyped-def]
    return ZendeskClient(standin.url, EMAIL, TOKEN, sleep=fake.sleep, monotonic=fake.time, **kw)


def fill_zendesk(standin: ZendeskStandIn, count: int) -> None:
    standin.add_group(1, "Tier1")
    standin.add_user(7, "ana@example.com")
    for i in range(1, count + 1):
        standin.put_ticket(i, created_at=T0 - 86400 + i, updated_at=T0 - 3600 + i, group_id=1, assignee_id=7, reply_minutes=5, replies=1)


def test_zendesk_pages_follow_the_cursor_to_the_end_of_the_stream(zendesk: ZendeskStandIn, fake: FakeTime) -> None:
    fill_zendesk(zendesk, 25)
    client = zclient(zendesk, fake, per_page=10)
    page = client.export(start_time=int(T0 - 86400))
    seen = [t["id"] for t in page.tickets]
    ends = [page.end_of_stream]
    while not page.end_of_stream:
        page = client.export(cursor=page.after_cursor)
        seen += [t["id"] for t in page.tickets]
        ends.append(page.end_of_stream)
    assert seen == list(range(1, 26)) and ends == [False, False, True]
    # side-loads: metric sets per ticket, the assignee and the group
    assert page.metric_sets[21]["reply_time_in_minutes"]["calendar"] == 5
    assert page.users[7]["email"] == "ana@example.com" and page.groups[1]["name"] == "Tier1"
    # a later change comes back through the last cursor, nothing else does
    zendesk.put_ticket(3, created_at=T0 - 86400, updated_at=T0 - 120, status="solved", solved_at=T0 - 120)
    again = client.export(cursor=page.after_cursor)
    assert [t["id"] for t in again.tickets] == [3] and again.end_of_stream


def test_zendesk_leaves_out_the_last_minute_and_refuses_a_recent_start(zendesk: ZendeskStandIn, fake: FakeTime) -> None:
    zendesk.put_ticket(1, created_at=T0 - 30, updated_at=T0 - 30)
    client = zclient(zendesk, fake)
    assert client.export(start_time=int(T0 - 3600)).tickets == []
    fake.now += 60
    assert [t["id"] for t in client.export(start_time=int(T0 - 3600)).tickets] == [1]
    with pytest.raises(Exception, match="Too recent start_time"):
        client.export(start_time=int(fake.now - 10))


def test_zendesk_client_paces_itself_to_ten_requests_a_minute(zendesk: ZendeskStandIn, fake: FakeTime) -> None:
    fill_zendesk(zendesk, 1)
    client = zclient(zendesk, fake)
    for _ in range(25):
        client.export(start_time=int(T0 - 86400))
    statuses = [h.status for h in zendesk.export_hits()]
    assert statuses == [200] * 25  # never provoked a 429
    times = [h.at for h in zendesk.export_hits()]
    assert all(times[i + 10] - times[i] >= 60 for i in range(len(times) - 10))
    assert fake.now - T0 >= 120


def test_zendesk_429_waits_out_retry_after_without_a_call_inside_the_window(zendesk: ZendeskStandIn, fake: FakeTime) -> None:
    fill_zendesk(zendesk, 1)
    client = zclient(zendesk, fake, per_minute=None)  # no pacing: the stand-in says when
    for _ in range(10):
        client.export(start_time=int(T0 - 86400))
        fake.now += 1
    page = client.export(start_time=int(T0 - 86400))  # 11th in the minute: 429, then waits
    assert [t["id"] for t in page.tickets] == [1]
    statuses = [h.status for h in zendesk.export_hits()]
    assert statuses[10] == 429 and statuses[11] == 200
    assert zendesk.early == []  # nothing was sent inside the Retry-After window
    assert fake.now - T0 >= 60


def test_zendesk_expired_cursor_and_bad_credentials(zendesk: ZendeskStandIn, fake: FakeTime) -> None:
    fill_zendesk(zendesk, 3)
    client = zclient(zendesk, fake, per_page=1)
    page = client.export(start_time=int(T0 - 86400))
    zendesk.expire_cursors()
    with pytest.raises(CursorExpired):
        client.export(cursor=page.after_cursor)
    fake.now += zendesk.cursor_ttl + 1
    page = client.export(start_time=int(T0 - 86400))
    fake.now += zendesk.cursor_ttl + 1
    with pytest.raises(CursorExpired):
        client.export(cursor=page.after_cursor)
    wrong = ZendeskClient(zendesk.url, EMAIL, "nope", sleep=fake.sleep, monotonic=fake.time)
    with pytest.raises(AuthFailed) as exc:
        wrong.export(start_time=int(T0 - 86400))
    assert exc.value.status == 401 and "Couldn't authenticate you" in str(exc.value)
    zendesk.forbid()
    with pytest.raises(AuthFailed) as exc:
        client.export(start_time=int(T0 - 86400))
    assert exc.value.status == 403
    assert [h.status for h in zendesk.export_hits()].count(401) == 1  # never retried


def test_zendesk_deleted_tickets_come_back_as_deleted(zendesk: ZendeskStandIn, fake: FakeTime) -> None:
    fill_zendesk(zendesk, 2)
    zendesk.delete_ticket(2, at=T0 - 100)
    page = zclient(zendesk, fake).export(start_time=int(T0 - 86400))
    assert {t["id"]: t["status"] for t in page.tickets} == {1: "open", 2: "deleted"}


def fclient(standin: FreshdeskStandIn, fake: FakeTime, key: str = API_KEY) -> FreshdeskClient:
    return FreshdeskClient(standin.url, key, sleep=fake.sleep, monotonic=fake.time)


def fill_freshdesk(standin: FreshdeskStandIn, count: int) -> None:
    for i in range(1, count + 1):
        standin.put_ticket(i, created_at=T0 - 86400 + i, updated_at=T0 - 3600 + i, first_responded_at=T0 - 80000)


def test_freshdesk_pages_by_link_header_with_stats(freshdesk: FreshdeskStandIn, fake: FakeTime) -> None:
    freshdesk.rate_limit = None
    fill_freshdesk(freshdesk, 250)
    client = fclient(freshdesk, fake)
    seen, page, more = [], 1, True
    while more:
        items, more = client.tickets(updated_since=_dt(T0 - 86400), page=page)
        seen += [t["id"] for t in items]
        page += 1
    assert seen == list(range(1, 251)) and page == 4
    assert items[0]["stats"]["first_responded_at"] is not None
    deleted, _more = client.tickets(updated_since=_dt(T0 - 86400), deleted=True)
    assert deleted == []
    freshdesk.delete_ticket(5)
    deleted, _more = client.tickets(updated_since=_dt(T0 - 86400), deleted=True)
    assert [t["id"] for t in deleted] == [5]


def test_freshdesk_holds_requests_when_the_budget_is_spent(freshdesk: FreshdeskStandIn, fake: FakeTime) -> None:
    fill_freshdesk(freshdesk, 1)
    client = fclient(freshdesk, fake)
    for _ in range(12):
        client.tickets(updated_since=_dt(T0 - 86400))
    hits = freshdesk.ticket_hits()
    assert [h.status for h in hits] == [200] * 12  # X-RateLimit-Remaining 0 -> wait, no 429
    assert freshdesk.early == []


def test_freshdesk_429_retry_after_and_errors(freshdesk: FreshdeskStandIn, fake: FakeTime) -> None:
    fill_freshdesk(freshdesk, 1)
    other = fclient(freshdesk, fake)
    for _ in range(5):  # someone else spends this minute's budget
        other.tickets(updated_since=_dt(T0 - 86400))
    client = fclient(freshdesk, fake)
    items, _more = client.tickets(updated_since=_dt(T0 - 86400))
    statuses = [h.status for h in freshdesk.ticket_hits()]
    assert statuses[-2:] == [429, 200] and items and freshdesk.early == []
    with pytest.raises(AuthFailed) as exc:
        fclient(freshdesk, fake, key="wrong").tickets(updated_since=_dt(T0 - 86400))
    assert exc.value.status == 401 and "invalid_credentials" in str(exc.value)
    freshdesk.forbid()
    with pytest.raises(AuthFailed) as exc:
        client.groups()
    assert exc.value.status == 403 and "access_denied" in str(exc.value)


def test_freshdesk_validation_error_shape(freshdesk: FreshdeskStandIn, fake: FakeTime) -> None:
    import requests

    response = requests.get(f"{freshdesk.url}/api/v2/tickets", params={"per_page": 101}, auth=(API_KEY, "X"), timeout=5)
    body = response.json()
    assert response.status_code == 400 and body["description"] == "Validation failed"
    assert body["errors"][0]["field"] == "per_page" and body["errors"][0]["code"] == "invalid_value"


def _dt(epoch: float):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC)
