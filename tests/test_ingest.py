"""Getting tickets in: the CSV import (generic and Zendesk) through the real CLI, bad rows
reported by line and skipped, re-imports changing nothing, and POST /api/tickets with
its token, per-field 422 errors and idempotent upserts."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from supportbot.bot import ingest
from supportbot.bot.cli import main
from supportbot.bot.standin.slack import WORKSPACE
from supportbot.storage import kpis as store
from supportbot.storage.db import make_engine, transaction
from tests.rig import BotRig

GENERIC = """ticket_id,created_at,first_response_at,solved_at,status,agent_slack_id,agent_email,team,channel,category,priority,csat,nps,handle_time_seconds,agent_replies,sla_target_minutes
A1,2026-11-20T09:00:00Z,2026-11-20T09:12:00Z,2026-11-20T11:00:00Z,solved,U0AGENT01,,,email,billing,normal,5,9,600,1,30
A2,2026-11-20 10:00,,,open,,,Tier1,chat,login,high,,,,,
A3,2026-11-20T10:00:00+01:00,2026-11-20T09:30:00Z,,open,U0AGENT02,,,web,,,good,,,,
B1,yesterday,,,open,,,,,,,,,,,
B2,2026-11-20T09:00:00Z,,,,,,,,,,7,,,,
,2026-11-20T09:00:00Z,,,,,,,,,,,,,,
B4,2026-11-20T09:00:00Z,2026-11-20T08:00:00Z,,,,,,,,,,11,,,
"""


def run_cli(argv: list[str], monkeypatch, database_url: str, capsys) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.chdir("/tmp")
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def tickets(database_url: str) -> dict[str, store.Ticket]:
    engine = make_engine(database_url)
    try:
        with transaction(engine) as session:
            from sqlmodel import select

            return {t.ticket_id: t for t in session.exec(select(store.Ticket)).all()}
    finally:
        engine.dispose()


def test_generic_csv_import_reports_bad_rows_and_is_idempotent(tmp_path, monkeypatch, database_url, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "tickets.csv"
    path.write_text(GENERIC, encoding="utf-8")
    code, out, _ = run_cli(["import", "tickets", str(path), "--workspace", WORKSPACE, "--quiet"], monkeypatch, database_url, capsys)
    assert code == 0
    assert "3 inserted, 0 updated, 0 unchanged, 4 rejected" in out
    assert "line 5: created_at: not an ISO 8601 time: 'yesterday'" in out
    assert "line 6: csat: csat must be between 1 and 5" in out
    assert "line 7: ticket_id: missing" in out
    assert "line 8:" in out and "first_response_at: earlier than created_at" in out and "nps" in out
    rows = tickets(database_url)
    a1, a2, a3 = rows["A1"], rows["A2"], rows["A3"]
    assert a1.frt_seconds == 720 and a1.csat == 5 and a1.csat_good is True and a1.sla_target_minutes == 30
    assert a2.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC) and a2.team_key == "tier1"
    assert a3.created_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC) and a3.frt_seconds == 1800
    assert a3.csat is None and a3.csat_good is True
    code, out, _ = run_cli(["import", "tickets", str(path), "--workspace", WORKSPACE, "--quiet"], monkeypatch, database_url, capsys)
    assert "0 inserted, 0 updated, 3 unchanged, 4 rejected" in out
    path.write_text(GENERIC.replace("A2,2026-11-20 10:00,,,open", "A2,2026-11-20 10:00,2026-11-20 10:05,,open"), encoding="utf-8")
    code, out, _ = run_cli(["import", "tickets", str(path), "--workspace", WORKSPACE, "--quiet"], monkeypatch, database_url, capsys)
    assert "0 inserted, 1 updated, 2 unchanged" in out
    assert tickets(database_url)["A2"].frt_seconds == 300


ZENDESK = """Id,Requester,Assignee,Assignee email,Group,Subject,Status,Priority,Via,Ticket type,Created at,Updated at,Solved at,Satisfaction Score,Replies,First reply time in minutes,Full resolution time in minutes
1001,Ann,Bo,bo@example.com,Tier1,Refund please,solved,normal,Mail,question,2026-11-20 09:00,2026-11-20 12:00,2026-11-20 12:00,Good,1,15,180
1002,Cy,Bo,bo@example.com,Tier1,Login,open,high,Web form,incident,2026-11-20 10:00,2026-11-20 10:00,,Unoffered,0,,
1003,Di,,,,Hm,solved,low,Chat,,not a date,,,,,,
"""


def test_zendesk_export_import(tmp_path, monkeypatch, database_url, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    path.write_text("\ufeff" + ZENDESK, encoding="utf-8")
    code, out, _ = run_cli(["import", "tickets", str(path), "--format", "zendesk", "--workspace", WORKSPACE, "--quiet"], monkeypatch, database_url, capsys)
    assert code == 0 and "2 inserted" in out and "1 rejected" in out and "line 4: created_at" in out
    rows = tickets(database_url)
    t = rows["1001"]
    assert t.frt_seconds == 15 * 60 and t.csat_good is True and t.agent_replies == 1
    assert t.channel == "Mail" and t.category == "question" and t.team_key == "tier1"
    assert t.agent_email == "bo@example.com" and t.agent_id is None
    assert t.solved_at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert rows["1002"].csat_good is None and rows["1002"].solved_at is None


def test_wrong_header_and_missing_file(tmp_path, monkeypatch, database_url, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    path.write_text("id,when\n1,2\n", encoding="utf-8")
    code, _, err = run_cli(["import", "tickets", str(path), "--workspace", WORKSPACE], monkeypatch, database_url, capsys)
    assert code == 2 and "lacks ticket_id, created_at" in err
    code, _, err = run_cli(["import", "tickets", str(tmp_path / "nope.csv"), "--workspace", WORKSPACE], monkeypatch, database_url, capsys)
    assert code == 2 and "no such file" in err


def test_import_streams_in_batches_with_constant_memory(database_url) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    lines = ["ticket_id,created_at"] + [f"T{i},2026-11-20T09:00:00Z" for i in range(2500)]
    batches: list[int] = []

    def factory():  # type: ignore[no-untyped-def]
        batches.append(1)
        return transaction(engine)

    report = ingest.import_rows(
        factory, workspace_id=WORKSPACE, rows=ingest.read_rows(io.StringIO("\n".join(lines)), "generic"),
        now=datetime(2026, 11, 21, tzinfo=UTC), batch=1000,
    )
    assert report.inserted == 2500 and len(batches) == 3
    engine.dispose()


def test_email_resolution_and_validation() -> None:
    row = ingest.normalize(
        {"ticket_id": "X", "created_at": "2026-11-20T09:00:00Z", "agent_email": "Bo@Example.com"},
        resolve_email=lambda email: "U0BO00001" if email == "bo@example.com" else None,
    )
    assert row["agent_id"] == "U0BO00001" and row["agent_email"] == "bo@example.com"
    with pytest.raises(ingest.RowError) as caught:
        ingest.normalize({"ticket_id": "X", "created_at": "2026-11-20", "agent_slack_id": "bob", "csat": "meh", "agent_replies": "1.5"})
    assert set(caught.value.errors) == {"agent_slack_id", "csat", "agent_replies"}


# ----- POST /api/tickets ------------------------------------------------------------------
TOKEN = "ingest-secret-token-0123"


@pytest.fixture
def api_rig(standin, database_url, clock):  # type: ignore[no-untyped-def]
    bot = BotRig(standin, database_url, clock, ingest_token=TOKEN)
    bot.make_team()
    yield bot
    bot.close()


def post(rig: BotRig, body, token: str | None = TOKEN, raw: bytes | None = None):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    return rig.http.post(f"{rig.url}/api/tickets", data=data, headers=headers, timeout=30)


def test_api_requires_the_token(api_rig: BotRig) -> None:
    ticket = {"ticket_id": "W1", "created_at": "2026-11-20T09:00:00Z"}
    assert post(api_rig, ticket, token=None).status_code == 401
    assert post(api_rig, ticket, token="wrong").status_code == 401
    assert post(api_rig, ticket, token=TOKEN + "x").status_code == 401


def test_api_unset_token_refuses_everything(rig: BotRig) -> None:
    rig.make_team()
    response = post(rig, {"ticket_id": "W1", "created_at": "2026-11-20T09:00:00Z"}, token="")
    assert response.status_code == 401


def test_api_upserts_idempotently_and_reports_field_errors(api_rig: BotRig) -> None:
    api_rig.standin.add_user("U0AGENT09", email="nine@example.com")
    tickets_in = [
        {"ticket_id": "W1", "created_at": "2026-11-20T09:00:00Z", "first_response_at": "2026-11-20T09:04:00Z", "csat": 4},
        {"ticket_id": "W2", "created_at": "2026-11-20T10:00:00Z", "agent_email": "nine@example.com", "nps": 10},
    ]
    response = post(api_rig, tickets_in)
    assert response.status_code == 200 and response.json() == {"ok": True, "inserted": 2, "updated": 0, "unchanged": 0}
    assert post(api_rig, tickets_in).json() == {"ok": True, "inserted": 0, "updated": 0, "unchanged": 2}
    assert post(api_rig, {**tickets_in[0], "csat": 5}).json()["updated"] == 1
    with api_rig.rt.transaction() as session:
        w2 = store.get_ticket(session=session, workspace_id=WORKSPACE, ticket_id="W2")
        assert w2 is not None and w2.agent_id == "U0AGENT09"
    bad = post(api_rig, [{"ticket_id": "W3", "created_at": "soon", "csat": 9, "colour": "red"}, {"created_at": "2026-11-20T09:00:00Z"}])
    assert bad.status_code == 422
    problems = bad.json()["problems"]
    assert problems[0]["index"] == 0 and set(problems[0]["errors"]) == {"created_at", "csat", "colour"}
    assert problems[1]["errors"] == {"ticket_id": "missing"}
    with api_rig.rt.transaction() as session:
        assert store.get_ticket(session=session, workspace_id=WORKSPACE, ticket_id="W3") is None
    assert post(api_rig, None, raw=b"{not json").status_code == 400
    assert post(api_rig, None, raw=b"42").status_code == 400
    assert post(api_rig, None, raw=b"[" + b"1," * 700_000 + b"1]").status_code == 413
