"""Anonymity, checked in the database itself: after a pulse (while open and once closed),
no row anywhere ties an answer to a person, the members' answer keys are stored nowhere,
and no log line carries an answer."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, inspect, select, text

from supportbot.storage import pulse as store
from tests.rig import BotRig
from tests.test_pulse import MEMBERS, answer, buttons, close_current, open_now

COMMENTS = {m: f"comment-from-{i}-xyzzy" for i, m in enumerate(MEMBERS)}


def dump(rig: BotRig) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as text."""
    out: dict[str, list[dict[str, Any]]] = {}
    with rig.rt.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            table = Table(name, MetaData(), autoload_with=conn)
            out[name] = [dict(r._mapping) for r in conn.execute(select(table))]
    return out


def test_no_answer_row_can_be_tied_to_a_person(rig: BotRig, standin: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("slack_bolt", "slack_sdk", "slack"):  # as bot.logsetup keeps them in production
        caplog.set_level(logging.INFO, logger=name)
    rig.make_team(members=MEMBERS)
    open_now(rig)
    keys = {m: buttons(standin, m)[0]["k"] for m in MEMBERS}
    for i, member in enumerate(MEMBERS[:5]):
        answer(rig, member, buttons(standin, member)[0], mood=str(i + 1), workload=str(5 - i), enps=str(i * 2), comment=COMMENTS[member])
    # one member changes their answer
    answer(rig, MEMBERS[0], buttons(standin, MEMBERS[0])[0], mood="3", comment=COMMENTS[MEMBERS[0]] + "-changed")

    def check_rows(rows: dict[str, list[dict[str, Any]]]) -> None:
        # the answers table has values and the pulse, nothing about a person or a moment
        assert set(rows["pulse_answer"][0]) == {"key_hash", "pulse_id", "mood", "workload", "enps", "comment"}
        assert len(rows["pulse_answer"]) == 5
        for row in rows["pulse_answer"]:
            text = json.dumps(row, default=str)
            assert not any(m in text for m in (*MEMBERS, "U0LEAD01", "U0LEAD02"))
        # no other table holds an answer's text, and no table holds a member's key
        everything = json.dumps(rows, default=str)
        for key in keys.values():
            assert key not in everything
        for name, table_rows in rows.items():
            if name == "pulse_answer":
                continue
            text = json.dumps(table_rows, default=str)
            assert "xyzzy" not in text, name
        # who answered is a separate table that shares only the pulse id with answers
        respondent_cols = set(rows["pulse_respondent"][0])
        assert respondent_cols & set(rows["pulse_answer"][0]) == {"pulse_id"}
        assert "answered_at" not in respondent_cols
        assert sum(r["answered"] for r in rows["pulse_respondent"]) == 5

    open_rows = dump(rig)
    check_rows(open_rows)
    # while open, the stored hashes are of (key, user): without the key nothing matches
    hashes = {r["key_hash"] for r in open_rows["pulse_answer"]}
    assert {store.hash_key(keys[m], m) for m in MEMBERS[:5]} == hashes

    close_current(rig)
    closed_rows = dump(rig)
    check_rows(closed_rows)
    # sealed: the keys members hold no longer find anything, respondents rewritten at once
    sealed = {r["key_hash"] for r in closed_rows["pulse_answer"]}
    assert not sealed & hashes and all(h.startswith("sealed-") for h in sealed)
    assert all(r["sealed"] for r in closed_rows["pulse_respondent"])
    assert sorted(r["comment"] for r in closed_rows["pulse_answer"]) == sorted(
        [COMMENTS[MEMBERS[0]] + "-changed", *(COMMENTS[m] for m in MEMBERS[1:5])]
    )
    # the weekly post shows the comments, but nothing in it names who wrote them
    post = standin.posts("C0DIGEST1")[-1].text_everywhere()
    assert "xyzzy" in post and not any(m in post for m in MEMBERS)
    # logs: no answer, no key
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "xyzzy" not in logged and not any(k in logged for k in keys.values())


def test_sealing_shuffles_the_storage_order(rig: BotRig, standin: Any) -> None:
    """The storage order of sealed answers is random, not the order people answered in:
    over a few pulses, at least one comes out in a different order."""
    rig.make_team(members=MEMBERS)
    orders = []
    for _round in range(4):
        open_now(rig)
        for i, member in enumerate(MEMBERS[:5]):
            answer(rig, member, buttons(standin, member)[-1], comment=f"answer {i}")
        close_current(rig)
        rig.clock.advance(days=5)
    with rig.rt.engine.connect() as conn:
        physical = "rowid" if conn.dialect.name == "sqlite" else "ctid"
        query = text(f"SELECT comment FROM pulse_answer WHERE pulse_id = :p ORDER BY {physical}")  # noqa: S608
        for pulse_id in range(1, 5):
            orders.append([r[0] for r in conn.execute(query, {"p": pulse_id}).all()])
    answered_order = [f"answer {i}" for i in range(5)]
    assert all(sorted(o) == answered_order for o in orders)
    assert any(o != answered_order for o in orders)
