"""Sample data for `supportbot demo`, made through the same core functions the commands use
(teams, ticket import, escalations, kudos, coaching, stand-ups, 1:1s, time away), so every
feature has something to show. Deterministic: the same seed gives the same workspace."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from supportbot.bot import (
    away,
    coaching,
    escalations,
    ingest,
    kpis,
    kudos,
    oneonones,
    standups,
    teams,
)
from supportbot.bot.clock import FixedClock
from supportbot.bot.runtime import Runtime
from supportbot.bot.timeutil import zone
from supportbot.storage import escalations as esc_store
from supportbot.storage import teams as team_store


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str  # shown in the page's switcher
    tz: str
    locale: str = "en-US"


@dataclass(frozen=True)
class Channel:
    id: str
    name: str


@dataclass(frozen=True)
class TeamSpec:
    name: str
    language: str
    timezone: str
    leaders: tuple[str, ...]
    agents: tuple[str, ...]
    escalations: Channel
    digest: Channel
    general: Channel


PEOPLE: tuple[Person, ...] = (
    Person("U0ALICE01", "Alice Moreau", "Leader, Tier 1", "America/New_York"),
    Person("U0BEN0001", "Ben Okafor", "Second leader, Tier 1", "America/New_York"),
    Person("U0CARLA01", "Carla Diaz", "Agent, Tier 1", "America/New_York"),
    Person("U0DEV0001", "Dev Patel", "Agent, Tier 1", "America/Chicago"),
    Person("U0EMMA001", "Emma Lind", "Agent, Tier 1", "America/New_York"),
    Person("U0LUCIA01", "Lucía Fernández", "Líder, Soporte ES", "Europe/Madrid", "es-ES"),
    Person("U0MATEO01", "Mateo Ruiz", "Agente, Soporte ES", "Europe/Madrid", "es-ES"),
    Person("U0SOFIA01", "Sofía Gil", "Agente, Soporte ES", "Europe/Madrid", "es-ES"),
    Person("U0NORA001", "Nora Quinn", "Sales (in no team)", "Europe/London"),
)

TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec(
        "Tier 1", "en", "America/New_York",
        ("U0ALICE01", "U0BEN0001"), ("U0CARLA01", "U0DEV0001", "U0EMMA001"),
        Channel("C0T1ESCAL1", "tier1-escalations"), Channel("C0T1DIGST1", "tier1-digest"),
        Channel("C0T1TEAM01", "tier1"),
    ),
    TeamSpec(
        "Soporte ES", "es", "Europe/Madrid",
        ("U0LUCIA01",), ("U0MATEO01", "U0SOFIA01"),
        Channel("C0ESESCAL1", "soporte-escalaciones"), Channel("C0ESDIGST1", "soporte-resumen"),
        Channel("C0ESTEAM01", "soporte"),
    ),
)

OTHER_CHANNELS: tuple[Channel, ...] = (Channel("C0GENERAL1", "general"),)
TICKET_DAYS = 90


def channels() -> list[Channel]:
    out: list[Channel] = []
    for spec in TEAMS:
        out += [spec.general, spec.escalations, spec.digest]
    return out + list(OTHER_CHANNELS)


def seed(rt: Runtime, *, workspace_id: str, rng_seed: int = 7) -> None:
    """Create the sample workspace; `rt.clock` is "now" and history lies before it."""
    now = rt.clock.now()
    rng = random.Random(rng_seed)
    made: dict[str, Any] = {}
    with rt.transaction() as session:
        for spec in TEAMS:
            team = teams.create_team(
                session, workspace_id=workspace_id, name=spec.name, leaders=list(spec.leaders),
                members=list(spec.agents), escalation_channel=spec.escalations.id,
                digest_channel=spec.digest.id, timezone=spec.timezone, language=spec.language,
                now=now - timedelta(days=TICKET_DAYS + 1),
            )
            made[spec.name] = team
        for spec in TEAMS:
            kpis.set_target(session, team=made[spec.name], user_id=spec.leaders[0], metric="csat", value="90", now=now)
            kpis.set_target(session, team=made[spec.name], user_id=spec.leaders[0], metric="frt", value="60", now=now)
    ingest.import_rows(rt.transaction, workspace_id=workspace_id, rows=enumerate(_tickets(rng, now), 1), now=now)
    for spec in TEAMS:
        _team_history(rt, spec, made[spec.name].id, now)


def _tickets(rng: random.Random, now: datetime) -> Iterator[dict[str, Any]]:
    """About six tickets a working day per agent (two at weekends) over TICKET_DAYS days, the recent ones
    partly still open; response times and CSAT differ by agent so the KPIs tell a story."""
    n = 0
    for spec in TEAMS:
        tz = zone(spec.timezone)
        for agent_no, agent in enumerate(spec.agents):
            speed = 25 + 20 * agent_no  # minutes to first response, on average
            for days_ago in range(TICKET_DAYS, -1, -1):
                day = (now - timedelta(days=days_ago)).astimezone(tz).date()
                weekend = day.weekday() >= 5  # a lighter weekend shift: Monday's digest has data
                for _ in range(rng.randint(1, 3) if weekend else rng.randint(3, 9)):
                    n += 1
                    created = datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), tzinfo=tz)
                    if created >= now:
                        continue
                    frt = timedelta(minutes=max(2, rng.gauss(speed, speed / 2)))
                    solve = frt + timedelta(hours=rng.uniform(0.5, 30))
                    row: dict[str, Any] = {
                        "ticket_id": f"{spec.language.upper()}-{n}",
                        "created_at": created.isoformat(),
                        "agent_slack_id": agent,
                        "team": spec.name,
                        "channel": rng.choice(["email", "chat", "phone"]),
                        "priority": rng.choice(["low", "normal", "normal", "high"]),
                        "agent_replies": str(rng.randint(1, 6)),
                        "handle_time_seconds": str(rng.randint(240, 2400)),
                        "sla_target_minutes": "60",
                    }
                    if created + frt < now:
                        row["first_response_at"] = (created + frt).isoformat()
                    if created + solve < now:
                        row["solved_at"] = (created + solve).isoformat()
                        row["status"] = "solved"
                        if rng.random() < 0.6:
                            good = rng.random() < (0.95 - 0.07 * agent_no)
                            row["csat"] = rng.choice(["5", "4"]) if good else rng.choice(["1", "2", "3"])
                    else:
                        row["status"] = "open"
                    yield row


def _team(session: Any, team_id: int) -> Any:
    team = team_store.get_team(session=session, team_id=team_id)
    assert team is not None
    return team


def _team_history(rt: Runtime, spec: TeamSpec, team_id: int, now: datetime) -> None:
    lead, agents = spec.leaders[0], spec.agents
    es = spec.language == "es"

    def at(delta: timedelta) -> FixedClock:
        return FixedClock(now - delta)

    def escalate(ago: timedelta, severity: str, summary: str, reporter: str) -> int:
        with rt.transaction() as session:
            team = _team(session, team_id)
            new = escalations.prepare(
                session, team=team, reporter_id=reporter,
                draft=escalations.parse_quick(f"{severity} {summary}"), clock=at(ago),
            )
            (esc,) = escalations.save(session, [new], clock=at(ago))
            assert esc.id is not None
            return esc.id

    def act(escalation_id: int, ago: timedelta, what: str, actor: str, outcome: str = "", note: str = "") -> None:
        with rt.transaction() as session:
            esc = esc_store.get_escalation(session=session, escalation_id=escalation_id)
            assert esc is not None
            if what == "ack":
                escalations.acknowledge(session, esc, actor_id=actor, clock=at(ago))
            else:
                escalations.resolve(session, esc, actor_id=actor, outcome=outcome, note=note, clock=at(ago))

    # Escalations in each state: resolved, acknowledged, open past its deadline (the
    # scanner re-escalates it shortly after start), and open within its deadline.
    done = escalate(timedelta(days=3, hours=2), "high",
                    "Cliente cobrado dos veces #48213" if es else "Customer charged twice for March #48213", agents[0])
    act(done, timedelta(days=3, hours=1, minutes=40), "ack", lead)
    act(done, timedelta(days=3), "resolve", lead, "refund",
        "Reembolso del cargo duplicado" if es else "Refunded the duplicate charge; billing bug filed")
    acked = escalate(timedelta(hours=20), "normal",
                     "El envío lleva 10 días parado #48877" if es else "Shipment stuck in customs for 10 days #48877", agents[-1])
    act(acked, timedelta(hours=19), "ack", spec.leaders[-1])
    escalate(timedelta(hours=2), "urgent" if not es else "high",
             "Caída del inicio de sesión para un cliente grande" if es else "Enterprise customer locked out of SSO after renewal",
             agents[min(1, len(agents) - 1)])
    escalate(timedelta(minutes=10), "low",
             "Pregunta sobre la factura de abril #49120" if es else "Asks for a copy of the April invoice in PDF #49120", agents[0])

    with rt.transaction() as session:
        team = _team(session, team_id)
        today = now.astimezone(zone(team.timezone)).date()
        # Kudos over the last weeks (each through the daily cap, like /kudos).
        thanks_en = ["stayed late to close the outage backlog #ownership", "perfect handover notes on the SSO case #teamwork",
                     "calm and kind with a very upset customer #empathy", "found the root cause of the double charges #curiosity"]
        thanks_es = ["se quedó hasta cerrar la cola del incidente #compromiso", "notas de traspaso impecables #equipo",
                     "paciencia infinita con un cliente enfadado #empatía", "encontró la causa de los cobros dobles #curiosidad"]
        people = [*spec.leaders, *agents]
        for i, text in enumerate(thanks_es if es else thanks_en):
            giver = people[i % len(people)]
            receiver = agents[(i + 1) % len(agents)]
            if giver == receiver:
                receiver = spec.leaders[0]
            kudos.give(session, team=team, giver_id=giver, recipients=[receiver], text=text,
                       channel_id=spec.general.id, clock=at(timedelta(days=9 - 2 * i, hours=3)))
        # Coaching: notes (one with a follow-up tomorrow) and goals.
        note = ("Buen manejo del cliente VIP #praise" if es else "Great de-escalation on the VIP call #praise")
        coaching.add_note(session, team=team, author_id=lead, agent_id=agents[0], text=note, tags=["praise"],
                          now=now - timedelta(days=6))
        follow = ("Revisar tiempos de primera respuesta" if es else "Review first-response times together")
        coaching.add_note(session, team=team, author_id=lead, agent_id=agents[-1], text=follow, tags=["frt"],
                          now=now - timedelta(days=2), follow_up_on=today + timedelta(days=1))
        coaching.add_goal(session, team=team, author_id=lead, agent_id=agents[-1],
                          spec=coaching.parse_goal(f"frt <= 45 by {today + timedelta(days=30)}", today=today), now=now)
        coaching.add_goal(session, team=team, author_id=lead, agent_id=agents[0],
                          spec=coaching.parse_goal(
                              f'"{"Acompañar a un sénior en 5 llamadas" if es else "Shadow a senior on 5 calls"}" by {today + timedelta(days=21)}',
                              today=today),
                          now=now)
        # A stand-up on weekdays in the team channel, and a weekly 1:1 tomorrow.
        standups.set_schedule(session, team=team, leader_id=lead, days="mon-fri", at="09:30",
                              channel_id=spec.general.id, now=now)
        tomorrow = today + timedelta(days=1)
        oneonones.schedule(session, workspace_id=team.workspace_id, leader_id=lead, agent_id=agents[0],
                           cadence="weekly", weekday=tomorrow.weekday(), at="10:00", now=now)
        # Someone away next week (the escalation chain skips them while away).
        if len(spec.leaders) > 1:
            start = today + timedelta(days=7 - today.weekday())
            away.mark(session, workspace_id=team.workspace_id, actor_id=spec.leaders[1],
                      user_id=spec.leaders[1], start=start, end=start + timedelta(days=4),
                      note="Conference", now=now)
